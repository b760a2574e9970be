"""Grafana dashboard JSON (schema 39) from the definitions in panels.py; deterministic, so the committed files can be checked."""

from __future__ import annotations

import json

from infra.observability.dashboards.panels import Dashboard, Panel

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
_HEIGHT = 8


def _target(query, ref: str, kind: str) -> dict:
    target = {"datasource": DATASOURCE, "expr": query.expr, "legendFormat": query.legend, "refId": ref}
    if query.instant:
        target |= {"instant": True, "range": False, "format": "table" if kind == "table" else "time_series"}
    return target


def _panel(panel: Panel, panel_id: int, x: int, y: int) -> dict:
    return {
        "id": panel_id,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {"h": _HEIGHT, "w": panel.width, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True}} if panel.kind == "timeseries" else {},
        "targets": [_target(query, chr(ord("A") + index), panel.kind) for index, query in enumerate(panel.queries)],
    }


def _variables(dashboard: Dashboard) -> list[dict]:
    out = [{"name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus", "current": {}, "hide": 0}]
    for name, query in dashboard.variables:
        out.append(
            {
                "name": name,
                "label": name,
                "type": "query",
                "datasource": DATASOURCE,
                "query": {"query": query, "refId": name},
                "definition": query,
                "includeAll": True,
                "allValue": ".*",
                "multi": True,
                "refresh": 2,
                "current": {},
                "hide": 0,
            }
        )
    return out


def dashboard_json(dashboard: Dashboard) -> dict:
    panels, x, y = [], 0, 0
    for panel_id, panel in enumerate(dashboard.panels, start=1):
        if x + panel.width > 24:
            x, y = 0, y + _HEIGHT
        panels.append(_panel(panel, panel_id, x, y))
        x += panel.width
    return {
        "uid": dashboard.uid,
        "title": dashboard.title,
        "description": dashboard.description,
        "tags": ["llm-kit"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "refresh": "1m",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": _variables(dashboard)},
        "annotations": {"list": []},
        "panels": panels,
    }


def render(dashboard: Dashboard) -> str:
    return json.dumps(dashboard_json(dashboard), indent=2, sort_keys=True) + "\n"
