"""Burn-in thresholds no healthy node can reach, or that judge nothing, are rejected with the key, the limit and a fix."""

import pytest

from assembly.kit import KIT
from tests.helpers import assert_rejected, default_config_data, write_config


def _pool(burn_in, **fields):
    return {"name": "p", "instance_types": ["p5.48xlarge"], "gpu_limit": 8, "efa": True, "burn_in": burn_in, **fields}


CASES = [
    pytest.param(
        _pool({"min_bus_bandwidth_gb_s": 900}),
        [
            "node_pools[0].burn_in.min_bus_bandwidth_gb_s",
            "published to reach (480 GB/s)",
            "got: 900",
            "up to 528 GB/s",
            "bidirectional link rates",
            "296 GB/s",
        ],
        id="nvlink-spec-figure-as-bus-bandwidth",
    ),
    pytest.param(
        _pool({"min_bus_bandwidth_gb_s": 300}, instance_types=["p4d.24xlarge"]),
        ["node_pools[0].burn_in.min_bus_bandwidth_gb_s", "a100", "up to 253 GB/s"],
        id="a100-above-its-published-bus-bandwidth",
    ),
    pytest.param(
        _pool({"min_efa_bus_bandwidth_gb_s": 400}),
        ["node_pools[0].burn_in.min_efa_bus_bandwidth_gb_s", "p5.48xlarge", "50 GB/s", "got: 400", "up to 55 GB/s", "not Gbps", "25 GB/s"],
        id="efa-gbps-figure-as-gb-per-second",
    ),
    pytest.param(
        _pool({"min_efa_bus_bandwidth_gb_s": 10}, instance_types=["p4d.24xlarge"]),
        ["node_pools[0].burn_in.min_efa_bus_bandwidth_gb_s", "p4d.24xlarge", "6.25 GB/s", "up to 6.88 GB/s"],
        id="efa-above-p4d-line-rate",
    ),
    pytest.param(
        _pool({"min_efa_bus_bandwidth_gb_s": 20}, efa=False),
        ["node_pools[0].burn_in.min_efa_bus_bandwidth_gb_s", "the pool has no EFA", "set efa: true"],
        id="efa-threshold-without-efa",
    ),
    pytest.param(
        _pool({"all_reduce": False, "min_bus_bandwidth_gb_s": 300}),
        ["node_pools[0].burn_in.all_reduce", "min_bus_bandwidth_gb_s would judge nothing", "set all_reduce: true"],
        id="threshold-without-all-reduce",
    ),
    pytest.param(
        _pool({"min_bus_bandwidth_gb_s": 100}, instance_types=["p5.4xlarge"], gpu_limit=1),
        ["node_pools[0].burn_in.min_bus_bandwidth_gb_s", "has one GPU", "DCGM diagnostic alone"],
        id="threshold-on-one-gpu-nodes",
    ),
]


@pytest.mark.parametrize(("pool", "expected"), CASES)
def test_bad_burn_in_is_explained(tmp_path, pool, expected):
    assert_rejected(tmp_path, {"node_pools": [pool]}, expected)


def test_reachable_thresholds_are_accepted(tmp_path):
    pool = _pool({"min_bus_bandwidth_gb_s": 450, "min_efa_bus_bandwidth_gb_s": 40})
    config = KIT.load(write_config(tmp_path, {"node_pools": [*default_config_data()["node_pools"], pool]}))
    burn_in = config.node_pools[-1].burn_in
    assert burn_in is not None and burn_in.min_efa_bus_bandwidth_gb_s == 40
