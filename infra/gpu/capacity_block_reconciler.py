"""Runs in the cluster every few minutes: each capacity-block NodePool gets the node count its block calls for now.

Ships as a ConfigMap beside core/capacity_block_schedule.py and runs on a plain Python image (standard library
only). BLOCKS (JSON) lists {pool, start, end, instances, drain_minutes_before_end}; the program reads each pool's
replicas through the NodePool's scale subresource and patches it where it differs. Karpenter then launches the
nodes into the block, or drains and deletes them (respecting PodDisruptionBudgets, up to the node's
terminationGracePeriod). Idempotent: a missed run is made up by the next.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime

try:
    from core.capacity_block_schedule import desired_nodes
    from infra.gpu.kube_api import Api
except ImportError:  # in the cluster, the files sit side by side
    from capacity_block_schedule import desired_nodes  # type: ignore[no-redef]
    from kube_api import Api  # type: ignore[no-redef]

SCALE = "/apis/karpenter.sh/v1/nodepools/{name}/scale"


def reconcile(blocks: list[dict], api: Api, now: datetime) -> list[str]:
    """Patch every pool whose replicas differ from its block's; one line per pool says what it did."""
    lines = []
    for block in blocks:
        want = desired_nodes(
            datetime.fromisoformat(block["start"]),
            datetime.fromisoformat(block["end"]),
            block["instances"],
            block["drain_minutes_before_end"],
            now,
        )
        path = SCALE.format(name=block["pool"])
        have = api.call("GET", path).get("spec", {}).get("replicas", 0)
        if have == want:
            lines.append(f"{block['pool']}: {have} nodes, as the block wants at {now.isoformat()}")
            continue
        api.call("PATCH", path, {"spec": {"replicas": want}})
        lines.append(f"{block['pool']}: {have} -> {want} nodes at {now.isoformat()} (block {block['start']} .. {block['end']})")
    return lines


def main() -> int:
    blocks = json.loads(os.environ["BLOCKS"])
    failed = False
    try:
        for line in reconcile(blocks, Api.in_cluster(), datetime.now(UTC)):
            print(line, flush=True)
    except Exception as error:  # report and let the CronJob's next run try again
        print(f"capacity-block reconciler: {error}", file=sys.stderr, flush=True)
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
