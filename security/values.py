"""The kit's own checks of what the scanners cannot read: third-party charts' values, and patches.

The third-party charts the cluster stack installs (Karpenter, the device plugins, the exporters, the controllers)
are fetched by the kubectl provider at deploy time; nothing here can download them, so their templates, and the
defaults in them, are not rendered or scanned. What the kit itself decides is the Values it passes, so these are
read as data: any key a chart's values can use to turn on privilege (securityContext's privileged, privilege
escalation, added capabilities, a root user; host namespaces; hostPath volumes) and every image reference the
values set. A chart without a pinned version, a local chart the output lacks, and a patch of a pod-bearing object
are findings too: the scan could not check what would run.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from security.embedded import Patch, Release
from security.findings import Finding

SCANNER = "kit"
_HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")
# kubectl's resource types whose objects carry a pod template (core and the kit's controllers' CRDs).
_POD_BEARING = (
    "pods",
    "deployments",
    "daemonsets",
    "statefulsets",
    "replicasets",
    "jobs",
    "cronjobs",
    "leaderworkersets",
    "dynamographdeployments",
)


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """(key path, key, value) of every key in nested values."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}" if path else str(key)
            yield here, str(key), value
            yield from _walk(value, here)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _walk(item, f"{path}[{index}]")


def image_reference(value: Any) -> str:
    """An image a values key sets: 'registry/repo:tag' as written, or the parts charts split it into."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("repository"), str):
        registry = value.get("registry")
        name = f"{registry}/{value['repository']}" if registry else value["repository"]
        if value.get("digest"):
            return f"{name}@{value['digest']}"
        return f"{name}:{value['tag']}" if value.get("tag") else name
    return ""


def pinned(image: str) -> bool:
    if "@sha256:" in image:
        return True
    name, _, tag = image.rpartition(":")
    return bool(name) and "/" not in tag and tag not in ("", "latest")


def check_values(release: Release) -> list[Finding]:
    found: list[tuple[str, str]] = []
    images = []
    for path, key, value in _walk(release.values):
        if key == "privileged" and value is True:
            found.append(("KIT-PRIVILEGED", f"{path}: true runs a privileged container"))
        elif key in _HOST_NAMESPACES and value is True:
            found.append(("KIT-HOST-NAMESPACE", f"{path}: true shares the node's {key.removeprefix('host')} namespace"))
        elif key == "allowPrivilegeEscalation" and value is True:
            found.append(("KIT-PRIVILEGE-ESCALATION", f"{path}: true"))
        elif (key == "runAsUser" and value == 0) or (key == "runAsNonRoot" and value is False):
            found.append(("KIT-ROOT-USER", f"{path}: {value!r} runs as root"))
        elif key == "add" and path.endswith("capabilities.add") and value:
            found.append(("KIT-ADDED-CAPABILITIES", f"{path}: {value}"))
        elif key == "hostPath" and value:
            found.append(("KIT-HOST-PATH", f"{path} mounts a node path"))
        elif key == "image" and (image := image_reference(value)):
            images.append(image)
            if not pinned(image):
                found.append(("KIT-UNPINNED-IMAGE", f"{path}: {image} names no tag or digest (or 'latest')"))
    if not release.local and not release.version:
        found.append(
            ("KIT-UNPINNED-CHART", f"chart {release.chart} from {release.repository} has no version: each deploy may install another")
        )
    if release.local and not release.chart:
        found.append(("KIT-CHART-NOT-STAGED", "the local chart's asset is not in the output, so it could not be scanned"))
    where = f"{release.origin} Values"
    return [Finding(SCANNER, check, release.subject, title, where, images=tuple(images)) for check, title in found]


def check_patch(patch: Patch) -> list[Finding]:
    """A patch's result is only known in the cluster; one that changes a pod template escapes every check here."""
    kind = patch.resource_name.split("/", 1)[0].split(".", 1)[0]
    if kind not in _POD_BEARING:
        return []
    title = f"patches {patch.resource_name}, an object with a pod template; the result cannot be scanned"
    return [Finding(SCANNER, "KIT-PATCHED-POD-SPEC", f"KubernetesPatch/{patch.namespace}/{patch.resource_name}", title, str(patch.origin))]
