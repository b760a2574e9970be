"""The registry cache a cluster's charts and manifests use, set once per cluster by its stack.

The cluster stack calls `use(cluster, cache)` first; install_chart (infra/cluster/helm.py) merges `chart_values`
into every chart's values, and the stacks pass their own manifests through `objects`. A cluster with no cache set
(tests that build one construct alone) pulls as written.
"""

from __future__ import annotations

import copy

from constructs import IConstruct

from core.registry_cache import RegistryCache, rewrite_objects
from infra.images.chart_images import chart_values

_CACHES: dict[str, RegistryCache] = {}


def use(cluster: IConstruct, cache: RegistryCache) -> None:
    _CACHES[cluster.node.path] = cache


def cache_of(cluster: IConstruct) -> RegistryCache | None:
    return _CACHES.get(cluster.node.path)


def objects(cluster: IConstruct, items: list[dict]) -> list[dict]:
    cache = cache_of(cluster)
    return items if cache is None else rewrite_objects(items, cache)


def values(cluster: IConstruct, chart: str, given: dict) -> dict:
    """The chart's values with its images pointed at the cache; what the caller set wins nowhere an image is named."""
    cache = cache_of(cluster)
    if cache is None:
        return given
    return _merge(copy.deepcopy(given), chart_values(chart, cache))


def _merge(base: dict, extra: dict) -> dict:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
    return base
