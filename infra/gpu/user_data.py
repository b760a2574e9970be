"""Node user data rendered from Jinja2 templates: Bottlerocket TOML and AL2023 nodeadm MIME."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2

from infra.gpu.pool_props import ImagePullProps

_TEMPLATES = Path(__file__).parent / "templates"
MIME_BOUNDARY = "LLMKIT"

# The open-files limit of nodeadm's default containerd base runtime spec (awslabs/amazon-eks-ami v20260724,
# nodeadm/internal/containerd/base-runtime-spec.json). A NodeConfig's rlimits list replaces the default's whole,
# so an EFA node repeats it.
AL2023_DEFAULT_NOFILE = (65536, 1048576)

EFA_LOCKED_MEMORY_BYTES = 2**53
"""RLIMIT_MEMLOCK for containers on AL2023 EFA nodes: 8 PiB, more than any instance has, so in effect unlimited.

Not RLIM_INFINITY (2**64-1), which Bottlerocket writes into its own spec: nodeadm merges the base runtime spec through
map[string]interface{} (nodeadm/internal/util/merge.go, called from internal/containerd/base_runtime_spec.go), so every
number becomes a float64 and goes back out in Go's shortest form. 2**64-1 comes back as 18446744073709552000, which no
longer decodes into the OCI spec's uint64 (POSIXRlimit): containerd's CRI cannot load the spec and the node never gets
Ready. 2**53 is the largest power of two that every float64 carries exactly. The AMI's own default spec sets no
memlock limit at all (containers inherit containerd's), too little for EFA's registered memory."""


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )


def bottlerocket_settings(pull: ImagePullProps) -> str:
    return _environment().get_template("bottlerocket.toml.j2").render(pull=pull)


def al2023_node_config(pull: ImagePullProps | None, *, efa: bool) -> str:
    """pull None: leave image pulls to the AMI's defaults (managed node groups)."""
    return (
        _environment()
        .get_template("al2023.mime.j2")
        .render(pull=pull, efa=efa, boundary=MIME_BOUNDARY, nofile=AL2023_DEFAULT_NOFILE, memlock=EFA_LOCKED_MEMORY_BYTES)
    )
