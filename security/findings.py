"""Findings, the reviewed baseline that accepts some of them, and the judgement between the two.

A subject names what a finding is about, the same in every config:
- a Kubernetes object: Kind/namespace/name (Kind/name when it has no namespace), e.g. Deployment/inference/llama-8b;
- a Helm release the cluster stack installs: HelmChart/namespace/release; a patch: KubernetesPatch/namespace/type/name;
- a CloudFormation resource: Type.LogicalId without CDK's hash, e.g. AWS::Logs::LogGroup.NetworkFlowLogs.

A baseline entry's subject is a pattern matched part by part ('/' separates parts, and no wildcard crosses one); its
first part (the kind, or the resource type) and a Kubernetes namespace are literal. `labels` (globs over label values) and
`images` (globs every image of the object must match) narrow an entry to the objects its reason is true for.
`check` may list several ids (checkov and trivy often name one weakness twice), and `resources` several
{subject, labels, images} where one reason is true for each of them.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

import yaml

BASELINE = Path(__file__).resolve().parent / "baseline.yaml"
_WILDCARDS = set("*?[")


@dataclass(frozen=True)
class Finding:
    scanner: str
    check: str
    subject: str
    title: str
    where: str
    labels: tuple[tuple[str, str], ...] = ()
    """The Kubernetes object's labels, sorted."""
    images: tuple[str, ...] = ()
    """Every container image of the object (init and ephemeral containers too)."""


@dataclass(frozen=True)
class Accepted:
    """One resource pattern of a baseline entry, and the checks the entry accepts on it."""

    check: tuple[str, ...]
    """The same weakness as each scanner names it, e.g. ('CKV_AWS_158', 'AWS-0017'); check ids are unique across scanners."""
    subject: str
    reason: str
    labels: tuple[tuple[str, str], ...] = ()
    """Label globs the object must carry."""
    images: tuple[str, ...] = ()
    entry: int = 0
    """The baseline entry it comes from (several resources may share one entry and its reason)."""

    def covers(self, finding: Finding) -> bool:
        if finding.check not in self.check or not subject_matches(self.subject, finding.subject):
            return False
        carried = dict(finding.labels)
        if not all(key in carried and fnmatch.fnmatchcase(carried[key], glob) for key, glob in self.labels):
            return False
        if self.images and not (
            finding.images and all(any(fnmatch.fnmatchcase(image, glob) for glob in self.images) for image in finding.images)
        ):
            return False
        return True


def subject_matches(pattern: str, subject: str) -> bool:
    patterns, parts = pattern.split("/"), subject.split("/")
    return len(patterns) == len(parts) and all(fnmatch.fnmatchcase(part, glob) for glob, part in zip(patterns, parts))


def too_broad(subject: str) -> str:
    """Why a baseline subject would accept more than it can name ('' when it is specific enough)."""
    parts = subject.split("/")
    kind = parts[0].split(".", 1)[0] if len(parts) == 1 else parts[0]
    if _WILDCARDS & set(kind):
        return "its kind or resource type has a wildcard"
    if len(parts) == 1 and "." not in parts[0]:
        return "a CloudFormation subject is Type.LogicalId"
    if len(parts) >= 3 and _WILDCARDS & set(parts[1]):
        return "its namespace has a wildcard"
    if (len(parts) > 1 and all(part.strip("*") == "" for part in parts[1:])) or parts[-1].split(".")[-1].strip("*") == "":
        return "its name is only a wildcard"
    return ""


def _strings(value) -> tuple[str, ...]:
    return tuple(str(item) for item in value) if isinstance(value, list) else (str(value),)


def load_baseline(path: Path = BASELINE) -> list[Accepted]:
    entries = yaml.safe_load(path.read_text()) or []
    accepted = []
    for index, entry in enumerate(entries):
        resources = entry.get("resources") or (
            [{key: entry[key] for key in ("subject", "labels", "images") if key in entry}] if "subject" in entry else []
        )
        if not entry.get("check") or not resources or not str(entry.get("reason", "")).strip():
            raise SystemExit(f"{path}: entry {index} needs a check, a subject (or resources) and a reason")
        for resource in resources:
            broad = too_broad(str(resource.get("subject", "")))
            if broad and not resource.get("labels") and not resource.get("images"):
                raise SystemExit(
                    f"{path}: entry {index} ({resource.get('subject')}): {broad}; name the resources, or narrow it with labels or images"
                )
            labels = tuple(sorted((str(key), str(value)) for key, value in (resource.get("labels") or {}).items()))
            images = _strings(resource.get("images") or [])
            accepted.append(
                Accepted(_strings(entry["check"]), str(resource["subject"]), " ".join(str(entry["reason"]).split()), labels, images, index)
            )
    return accepted


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
