"""Regenerate docs/dashboards/*.json: python -m infra.observability.dashboards"""

from infra.observability.dashboards import write

for path in write():
    print(path)
