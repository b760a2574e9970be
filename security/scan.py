"""Scan everything the kit deploys with checkov and trivy, and fail on any finding the reviewed baseline does not name.

    python -m security.scan OUTPUT [OUTPUT ...]

Each OUTPUT is a folder the synth wrote (a cloud assembly, a dist/ of manifests, charts/, or a folder holding them).
security/stage.py lays each out as one file per Kubernetes object: the manifests, the kit's charts, and the objects
the CloudFormation templates carry inside aws-eks-v2's manifest resources; checkov and trivy read that and the
templates. Third-party charts cannot be downloaded here: their Values are checked as data (security/values.py) and
their templates are listed as not rendered. The scanners run from their own environment
(contracts/locks/scanners.txt, cached like the contract environments) and offline: checkov with --skip-download,
trivy with its built-in checks. security/baseline.yaml accepts findings by scanner, check and subject, each with
its reason (security/findings.py).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from contracts.environments import Environment, ensure
from core.docstrings import first_paragraph
from security import stage as staging
from security.embedded import Unrenderable
from security.findings import BASELINE, Accepted, Finding, judge, load_baseline
from security.values import check_patch, check_values

__all__ = ["BASELINE", "Accepted", "Finding", "judge", "load_baseline", "main", "parse_checkov", "parse_trivy", "scan"]

SCANNERS = Environment("scanners", checks=())
# CDK appends an 8-character hash to logical IDs; subjects drop it so the baseline survives construct moves.
_CDK_HASH = re.compile(r"[0-9A-F]{8}$")


def cfn_subject(resource: str) -> str:
    kind, _, logical_id = resource.partition(".")
    return f"{kind}.{_CDK_HASH.sub('', logical_id)}"


def _finding(stage: staging.Stage, scanner: str, check: str, title: str, path: str, cfn_resource: str = "") -> Finding:
    """A finding named by what it is about. A path outside the stage keeps its finding, under a subject no baseline
    entry may name."""
    located = staging.locate(stage, path)
    if located.startswith("cloudformation/"):
        where = stage.where.get(located, located)
        return Finding(scanner, check, cfn_subject(cfn_resource) if cfn_resource else f"file/{where}", title, where)
    subject, where = staging.owner(stage, located)
    labels, images = stage.context.get(located, ((), ()))
    return Finding(scanner, check, subject or f"file/{path}", title, where, labels, images)


def parse_checkov(report: dict | list, stage: staging.Stage) -> list[Finding]:
    findings = []
    for part in report if isinstance(report, list) else [report]:
        cloudformation = part.get("check_type") == "cloudformation"
        for failed in part.get("results", {}).get("failed_checks", []):
            resource = failed["resource"] if cloudformation else ""
            findings.append(_finding(stage, "checkov", failed["check_id"], failed["check_name"], failed["file_path"], resource))
    return findings


def parse_trivy(report: dict, stage: staging.Stage) -> list[Finding]:
    findings = []
    for result in report.get("Results") or []:
        target = result["Target"]
        located = staging.locate(stage, target)
        for item in result.get("Misconfigurations") or []:
            resource = ""
            if located.startswith("cloudformation/"):
                cause = item.get("CauseMetadata") or {}
                resource = staging.cfn_resource(stage, located, int(cause.get("StartLine") or 0))
            findings.append(_finding(stage, "trivy", item["ID"], item.get("Message") or item.get("Title", ""), target, resource))
    return findings


def run_scanners(root: Path, python: Path) -> tuple[dict | list, dict]:
    """checkov's and trivy's JSON reports on a stage."""
    checkov = [str(python), "-m", "checkov.main", "-d", str(root), "--framework", "cloudformation", "kubernetes", "--skip-path", "helm"]
    run = subprocess.run([*checkov, "-o", "json", "--quiet", "--compact", "--skip-download"], capture_output=True, text=True)
    if run.returncode not in (0, 1) or not run.stdout.strip():
        raise SystemExit(f"checkov failed on {root} ({run.returncode}):\n{run.stderr[-2000:]}")
    checkov_report = json.loads(run.stdout)
    run = subprocess.run(
        [str(python.parent / "trivy"), "config", "--skip-check-update", "--quiet", "-f", "json", str(root)], capture_output=True, text=True
    )
    if run.returncode != 0:
        raise SystemExit(f"trivy failed on {root} ({run.returncode}):\n{run.stderr[-2000:]}")
    return checkov_report, json.loads(run.stdout)


Runner = Callable[[Path], tuple[dict | list, dict]]


def scan(output: Path, runner: Runner, scratch: Path) -> tuple[list[Finding], staging.Stage]:
    """Every finding on one output folder: the kit's own checks, then checkov's and trivy's (runner) on the stage."""
    try:
        stage = staging.build(output, scratch / "stage")
    except Unrenderable as err:
        raise SystemExit(f"scan: {output}: {err}") from None
    findings = [finding for release in stage.releases for finding in check_values(release)]
    findings += [finding for patch in stage.patches for finding in check_patch(patch)]
    checkov_report, trivy_report = runner(stage.root)
    rendered = {staging.locate(stage, result["Target"]) for result in trivy_report.get("Results") or []}
    # trivy reports every file it rendered, passed or not; a chart with none failed to render (a `required` value).
    stage.unrendered = [chart for chart in stage.charts if not any(target.startswith(f"{chart}/") for target in rendered)]
    return findings + parse_checkov(checkov_report, stage) + parse_trivy(trivy_report, stage), stage


def _origin(finding: Finding) -> str:
    if finding.scanner == "kit":
        return "in chart values or patches"
    if finding.where.endswith(".json"):
        return "on CloudFormation resources"
    return "on objects inside templates" if " " in finding.where else "on manifests and charts"


def describe(output: Path, stage: staging.Stage, findings: list[Finding]) -> str:
    objects = stage.objects
    by_origin = Counter(_origin(finding) for finding in findings)
    return (
        f"scan: {output}: {objects['manifests']} manifest objects, {objects['charts']} chart templates, "
        f"{objects['templates']} objects inside templates, {len(stage.releases)} Helm releases, {len(stage.patches)} patches; "
        f"{len(findings)} findings (" + ", ".join(f"{count} {origin}" for origin, count in sorted(by_origin.items())) + ")"
    )


def installed_scanners() -> Runner:
    python = ensure(SCANNERS)
    return lambda root: run_scanners(root, python)


def main(argv: list[str] | None = None, runner: Runner | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m security.scan", description=first_paragraph(__doc__))
    parser.add_argument("outputs", nargs="+", type=Path, help="folders the synth wrote")
    args = parser.parse_args(argv)
    baseline = load_baseline()
    runner = runner or installed_scanners()
    findings: list[Finding] = []
    unrendered: set[str] = set()
    patches: set[str] = set()
    failed: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="kit-scan-") as scratch:
        for index, output in enumerate(args.outputs):
            print(f"scan: checkov and trivy over {output} ({index + 1}/{len(args.outputs)})", file=sys.stderr, flush=True)
            found, stage = scan(output.resolve(), runner, Path(scratch) / str(index))
            print(describe(output, stage, found))
            findings += found
            unrendered |= {f"{r.chart} {r.version}" for r in stage.releases if not r.local}
            failed |= {chart.rsplit("/", 1)[-1] for chart in stage.unrendered}
            patches |= {patch.resource_name for patch in stage.patches}
    new, unused = judge(findings, baseline)
    entries = {accepted.entry for accepted in baseline}
    used = {accepted.entry for accepted in baseline if accepted not in unused}
    print(
        f"scan: {len(findings)} findings in {len(args.outputs)} outputs, "
        f"{len(findings) - len(new)} accepted by {len(used)} of {len(entries)} baseline entries"
    )
    if unrendered:
        print(
            "scan: charts not rendered, their Values checked only (third-party "
            f"charts cannot be fetched here): {', '.join(sorted(unrendered))}"
        )
    if failed:
        print(
            "scan: trivy could not render these charts with their default values, "
            f"so only their objects in dist/ were scanned: {', '.join(sorted(failed))}"
        )
    if patches:
        print(f"scan: patched in the cluster, result not scanned: {', '.join(sorted(patches))}")
    idle: dict[int, list[Accepted]] = {}
    for accepted in unused:
        idle.setdefault(accepted.entry, []).append(accepted)
    for index, parts in idle.items():
        subjects = ", ".join(dict.fromkeys(part.subject for part in parts))
        print(f"scan: baseline entry {index} ({'/'.join(parts[0].check)}) covers nothing here on: {subjects}", file=sys.stderr)
    if new:
        print(
            f"scan: {len(set(new))} findings are not in security/baseline.yaml; fix them, or add an entry with the reason:", file=sys.stderr
        )
        for finding in sorted(set(new), key=lambda f: (f.scanner, f.check, f.subject, f.where)):
            print(f"  - {finding.scanner} {finding.check} [{finding.subject}] {finding.title} ({finding.where})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
