"""Scan what the kit writes with checkov and trivy, and fail on any finding the reviewed baseline does not name.

    python -m security.scan OUTPUT [OUTPUT ...]

Each OUTPUT is a folder the synth wrote (a cloud assembly, a dist/ of manifests, or a folder holding both). The
scanners run from their own environment (contracts/locks/scanners.txt, cached like the contract environments) and
offline: checkov with --skip-download, trivy with its built-in checks. security/baseline.yaml lists every accepted
finding by scanner, check and subject, each with the reason it is accepted for this kit.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml

from contracts.environments import Environment, ensure

HERE = Path(__file__).resolve().parent
BASELINE = HERE / "baseline.yaml"
SCANNERS = Environment("scanners", checks=())
# CDK appends an 8-character hash to logical IDs; subjects drop it so the baseline survives construct moves.
_CDK_HASH = re.compile(r"[0-9A-F]{8}$")
# Stack templates by role, whatever the kit's name: llm-kit-cluster.template.json -> cluster.
_STACK_ROLE = re.compile(r"-(network|storage|cluster|workloads|pipeline)\.template\.json$")


@dataclass(frozen=True)
class Finding:
    scanner: str
    check: str
    subject: str
    """What the finding is about, stable across configs: 'AWS::Logs::LogGroup.ControlPlaneControlPlaneLogs',
    'Deployment.inference.llama-8b', 'cluster template'."""
    title: str
    where: str


@dataclass(frozen=True)
class Accepted:
    scanner: str
    check: str
    subject: str
    """A glob over Finding.subject."""
    reason: str

    def covers(self, finding: Finding) -> bool:
        return (self.scanner, self.check) == (finding.scanner, finding.check) and fnmatch.fnmatchcase(finding.subject, self.subject)


def load_baseline(path: Path = BASELINE) -> list[Accepted]:
    entries = yaml.safe_load(path.read_text()) or []
    accepted = []
    for index, entry in enumerate(entries):
        missing = {"scanner", "check", "subject", "reason"} - set(entry)
        if missing or not str(entry.get("reason", "")).strip():
            raise SystemExit(f"{path}: entry {index} needs scanner, check, subject and a reason (missing: {sorted(missing) or ['reason']})")
        accepted.append(Accepted(entry["scanner"], entry["check"], entry["subject"], entry["reason"]))
    return accepted


def cfn_subject(resource: str) -> str:
    kind, _, logical_id = resource.partition(".")
    return f"{kind}.{_CDK_HASH.sub('', logical_id)}"


def template_subject(path: str) -> str:
    found = _STACK_ROLE.search(path)
    if found:
        return f"{found.group(1)} template"
    return "nested template" if path.endswith(".nested.template.json") else Path(path).name


def manifest_subject(target: str) -> str:
    """dist/<workload>/manifest.yaml and charts/<workload>/templates/<object>.yaml both name the workload."""
    parts = Path(target).parts
    return f"manifest {parts[1] if len(parts) > 2 else Path(target).parent.name or target}"


def parse_checkov(report: dict | list) -> list[Finding]:
    findings = []
    for part in report if isinstance(report, list) else [report]:
        framework = part.get("check_type", "")
        for failed in part.get("results", {}).get("failed_checks", []):
            resource = failed["resource"]
            subject = cfn_subject(resource) if framework == "cloudformation" else resource
            findings.append(Finding("checkov", failed["check_id"], subject, failed["check_name"], failed["file_path"]))
    return findings


def parse_trivy(report: dict) -> list[Finding]:
    findings = []
    for result in report.get("Results") or []:
        target = result["Target"]
        subject = template_subject(target) if target.endswith(".json") else manifest_subject(target)
        for item in result.get("Misconfigurations") or []:
            findings.append(Finding("trivy", item["ID"], subject, item["Title"], target))
    return findings


def scan(folder: Path, python: Path) -> list[Finding]:
    bin_dir = python.parent
    findings = []
    templates = any(folder.rglob("*.template.json"))
    manifests = any(folder.rglob("*.yaml"))
    frameworks = [name for name, present in (("cloudformation", templates), ("kubernetes", manifests)) if present]
    if frameworks:
        command = [str(python), "-m", "checkov.main", "-d", str(folder), "--framework", *frameworks, "-o", "json", "--quiet", "--compact", "--skip-download"]
        run = subprocess.run(command, capture_output=True, text=True)
        if run.returncode not in (0, 1) or not run.stdout.strip():
            raise SystemExit(f"checkov failed on {folder} ({run.returncode}):\n{run.stderr[-2000:]}")
        findings += parse_checkov(json.loads(run.stdout))
    run = subprocess.run([str(bin_dir / "trivy"), "config", "--skip-check-update", "--quiet", "-f", "json", str(folder)], capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"trivy failed on {folder} ({run.returncode}):\n{run.stderr[-2000:]}")
    findings += parse_trivy(json.loads(run.stdout))
    return findings


def judge(findings: list[Finding], baseline: list[Accepted]) -> tuple[list[Finding], list[Accepted]]:
    """The findings no entry covers, and the entries that cover nothing."""
    used: set[Accepted] = set()
    new = []
    for finding in findings:
        covering = [entry for entry in baseline if entry.covers(finding)]
        used.update(covering)
        if not covering:
            new.append(finding)
    return new, [entry for entry in baseline if entry not in used]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m security.scan", description=__doc__.split("\n\n")[0])
    parser.add_argument("outputs", nargs="+", type=Path, help="folders the synth wrote")
    args = parser.parse_args(argv)
    python = ensure(SCANNERS)
    baseline = load_baseline()
    findings = [finding for folder in args.outputs for finding in scan(folder, python)]
    new, unused = judge(findings, baseline)
    by_check: dict[tuple[str, str], int] = defaultdict(int)
    for finding in findings:
        by_check[(finding.scanner, finding.check)] += 1
    print(f"scan: {len(findings)} findings in {len(args.outputs)} outputs, {len(findings) - len(new)} accepted by {len(baseline) - len(unused)} baseline entries")
    for entry in unused:
        print(f"scan: baseline entry covers nothing here: {entry.scanner} {entry.check} {entry.subject}", file=sys.stderr)
    if new:
        print(f"scan: {len(new)} findings are not in security/baseline.yaml; fix them, or add an entry with the reason:", file=sys.stderr)
        for finding in sorted(set(new), key=lambda f: (f.scanner, f.check, f.subject)):
            print(f"  - {finding.scanner} {finding.check} [{finding.subject}] {finding.title} ({finding.where})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
