"""Node user data rendered from Jinja2 templates: Bottlerocket TOML and AL2023 nodeadm MIME."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2

from config.node_pools import ImagePull

_TEMPLATES = Path(__file__).parent / "templates"
MIME_BOUNDARY = "LLMKIT"


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


def bottlerocket_settings(pull: ImagePull) -> str:
    return _environment().get_template("bottlerocket.toml.j2").render(pull=pull)


def al2023_node_config(pull: ImagePull | None, *, efa: bool) -> str:
    """pull None: leave image pulls to the AMI's defaults (managed node groups)."""
    return _environment().get_template("al2023.mime.j2").render(pull=pull, efa=efa, boundary=MIME_BOUNDARY)
