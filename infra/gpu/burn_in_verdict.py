"""The burn-in's last step on a new GPU node: read what the checks left in /results and judge the node.

Runs in the cluster (a plain Python image, standard library only) after the DCGM diagnostic and, where the pool asks,
the NCCL all-reduce have run as init containers, each leaving its exit code and output. Passed: label the node
passed and lift the burn-in taint. Failed: label it failed, cordon it, keep the taint, and record an Event on the
node with the reasons. Then wait: the label takes the node out of the DaemonSet, which removes this pod.

Environment: NODE_NAME; MIN_BUS_BANDWIDTH_NVLINK and MIN_BUS_BANDWIDTH_EFA (GB/s; empty: the run must succeed,
with no threshold); RESULTS (default /results).
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.error import HTTPError

try:
    from core.burn_in import FAILED, PASSED, RESULT_LABEL, TAINT_KEY
    from infra.gpu.kube_api import Api
except ImportError:  # in the cluster, the files sit side by side
    from burn_in import FAILED, PASSED, RESULT_LABEL, TAINT_KEY  # type: ignore[no-redef]
    from kube_api import Api  # type: ignore[no-redef]

# DCGM's "Deployment" tests check the node's setup (persistence mode, for one), not the GPUs' health.
ADVISORY_CATEGORIES = ("deployment",)


def failed_tests(document) -> list[tuple[str, str]]:
    """(category, test) of every failed result in a `dcgmi diag -j` report: categories hold tests, tests hold
    results with a status (DCGM 3 and 4 nest them under a top-level object or list; any depth is searched)."""
    found = []
    if isinstance(document, dict):
        if "category" in document and isinstance(document.get("tests"), list):
            for test in document["tests"]:
                results = test.get("results") or [] if isinstance(test, dict) else []
                if any(str(result.get("status", "")).lower() == "fail" for result in results if isinstance(result, dict)):
                    found.append((str(document["category"]), str(test.get("name", "?"))))
        else:
            for value in document.values():
                found += failed_tests(value)
    elif isinstance(document, list):
        for item in document:
            found += failed_tests(item)
    return found


def dcgm_failures(rc: int, report: str) -> list[str]:
    """Failed tests outside the advisory categories. A non-zero exit without any failed test in a readable report
    (a crash, no GPU visible) is a failure in itself; one explained by advisory tests alone is not."""
    try:
        failed = failed_tests(json.loads(report)) if report.strip() else []
    except json.JSONDecodeError:
        failed = []
    failures = [f"dcgm {category}: {test}" for category, test in failed if category.lower() not in ADVISORY_CATEGORIES]
    if rc != 0 and not failed:
        failures.append(f"dcgmi diag exited {rc} without a failed test in its report")
    return failures


def all_reduce_failures(rc: int | None, bandwidth: str | None, minimum: float | None) -> list[str]:
    if rc is None:
        return []  # the pool runs no all-reduce
    if rc != 0:
        return [f"all_reduce_perf exited {rc}"]
    try:
        measured = float(bandwidth or "")
    except ValueError:
        return ["all_reduce_perf printed no average bus bandwidth"]
    if minimum is not None and measured < minimum:
        return [f"all-reduce bus bandwidth {measured:.1f} GB/s is below {minimum:.1f} GB/s"]
    return []


ALL_REDUCES = ("nvlink", "efa")
"""The all-reduce runs a pool may make: over the node's GPU fabric, and forced over EFA."""


def judge(results: Path, minimums: dict[str, float | None]) -> list[str]:
    def read(name: str) -> str | None:
        path = results / name
        return path.read_text().strip() if path.exists() else None

    dcgm_rc = read("dcgm.rc")
    failures = dcgm_failures(int(dcgm_rc), read("dcgm.json") or "") if dcgm_rc is not None else ["the DCGM diagnostic left no result"]
    for run in ALL_REDUCES:
        rc = read(f"{run}.rc")
        failures += [
            f"{run}: {failure}"
            for failure in all_reduce_failures(int(rc) if rc is not None else None, read(f"{run}.busbw"), minimums.get(run))
        ]
    return failures


JSON_PATCH = "application/json-patch+json"
ATTEMPTS = 5
"""Reads and writes of the node before giving up (the pod then restarts and judges again)."""


def _pointer(*parts: str) -> str:
    """A JSON pointer (RFC 6901): '~' and '/' inside a part are escaped."""
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def pass_patch(node: dict) -> list[dict]:
    """A JSON patch (RFC 6902) that labels the node passed and removes the burn-in taint by its index, each removal
    guarded by a `test` of the exact taint read: a taint list changed since the read (a taint added before it, one
    removed) fails the test, the API server answers 422 and nothing is written. A taint appended after it is kept."""
    labels = node.get("metadata", {}).get("labels")
    label = {"op": "add", "path": _pointer("metadata", "labels", RESULT_LABEL), "value": PASSED}
    patch = [label] if labels is not None else [{"op": "add", "path": "/metadata/labels", "value": {RESULT_LABEL: PASSED}}]
    taints = node.get("spec", {}).get("taints") or []
    for index in reversed(range(len(taints))):  # from the end, so earlier indices stay valid
        if taints[index].get("key") == TAINT_KEY:
            path = _pointer("spec", "taints", str(index))
            patch += [{"op": "test", "path": path, "value": taints[index]}, {"op": "remove", "path": path}]
    return patch


def fail_patch() -> dict:
    """A merge patch: a label and a field, no list, so nothing written by others since can be lost."""
    return {"metadata": {"labels": {RESULT_LABEL: FAILED}}, "spec": {"unschedulable": True}}


def apply_verdict(api: Api, node_name: str, failures: list[str], now: datetime) -> list[dict] | dict:
    """Patch the node (and record an Event when it failed); returns the node patch last sent."""
    path = f"/api/v1/nodes/{node_name}"
    attempt = 0
    while True:  # left by a break or by raising: each attempt reads the node afresh
        attempt += 1
        node = api.call("GET", path)
        if failures:
            patch: list[dict] | dict = fail_patch()
            api.call("PATCH", path, patch)
            break
        patch = pass_patch(node)
        try:
            api.call("PATCH", path, patch, content_type=JSON_PATCH)
            break
        except HTTPError as error:
            # 422: a `test` failed (the taints changed since the read); 409: a conflicting write. Read again.
            if error.code not in (409, 422) or attempt == ATTEMPTS:
                raise
            print(f"node {node_name} changed while it was judged ({error.code}); reading it again", flush=True)
    if failures:
        stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"generateName": "gpu-burn-in-", "namespace": "default"},
            "involvedObject": {"apiVersion": "v1", "kind": "Node", "name": node_name, "uid": node.get("metadata", {}).get("uid", "")},
            "type": "Warning",
            "reason": "GpuBurnInFailed",
            "message": "; ".join(failures)[:1000],
            "source": {"component": "llm-kit-gpu-burn-in", "host": node_name},
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
        }
        api.call("POST", "/api/v1/namespaces/default/events", event, content_type="application/json")
    return patch


def main() -> int:
    node_name = os.environ["NODE_NAME"]
    minimums = {run: float(value) if (value := os.environ.get(f"MIN_BUS_BANDWIDTH_{run.upper()}")) else None for run in ALL_REDUCES}
    failures = judge(Path(os.environ.get("RESULTS", "/results")), minimums)
    print(f"burn-in of {node_name}: " + ("passed" if not failures else "FAILED: " + "; ".join(failures)), flush=True)
    try:
        apply_verdict(Api.in_cluster(), node_name, failures, datetime.now(UTC))
    except Exception as error:  # the pod restarts and judges again
        print(f"burn-in verdict not recorded: {error}", file=sys.stderr, flush=True)
        return 1
    while True:  # the label removes the node from the DaemonSet, which then deletes this pod
        time.sleep(3600)


if __name__ == "__main__":
    raise SystemExit(main())
