"""Grafana dashboards shipped as files in docs/dashboards/, generated from one definition (panels.py)."""

from __future__ import annotations

from pathlib import Path

from infra.observability.dashboards.grafana import render
from infra.observability.dashboards.panels import DASHBOARDS

DASHBOARD_DIR = Path(__file__).resolve().parents[3] / "docs" / "dashboards"


def rendered() -> dict[str, str]:
    """{file name: JSON text} of every dashboard."""
    return {f"{dashboard.uid.removeprefix('llm-kit-')}.json": render(dashboard) for dashboard in DASHBOARDS}


def write(folder: Path = DASHBOARD_DIR) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in rendered().items():
        path = folder / name
        path.write_text(text)
        written.append(path)
    return written
