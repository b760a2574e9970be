"""Node-pool configs that would fail on AWS or waste paid capacity are rejected with a fix."""

import pytest

from assembly.kit import KIT
from core.issues import ConfigError
from tests.helpers import assert_rejected, write_config


def _pool(**fields):
    return {"name": "p", "instance_types": ["p5.48xlarge"], "gpu_limit": 8, **fields}


CASES = [
    pytest.param(
        _pool(instance_types=["g6e.2xlarge"], efa=True),
        ["node_pools[0].efa", "EFA is not available on g6e.2xlarge", "set efa: false"],
        id="efa-on-type-without-efa",
    ),
    pytest.param(
        _pool(capacity_reservations={"ids": ["cr-0123456789abcdef0"]}),
        ["node_pools[0].capacity_reservations", "cannot launch into them", "add 'reserved' to capacity_types"],
        id="reservation-without-reserved",
    ),
    pytest.param(
        _pool(capacity_types=["reserved"]),
        ["node_pools[0].capacity_types", "'reserved' needs the reservations"],
        id="reserved-without-reservation",
    ),
    pytest.param(
        _pool(capacity_types=["reserved"], capacity_reservations={"ids": ["cr-0123456789abcdef0"], "tags": {"team": "ml"}}),
        ["needs exactly one of ids or tags"],
        id="reservation-ids-and-tags",
    ),
    pytest.param(
        _pool(instance_types=["p9.96xlarge"]), ["node_pools[0].instance_types", "no facts", "core/instances.py"], id="unknown-instance-type"
    ),
    pytest.param(
        _pool(instance_types=["p5.48xlarge", "p4d.24xlarge"]),
        ["mixes GPU models (a100, h100)", "one pool per GPU model"],
        id="mixed-gpu-models",
    ),
    pytest.param(
        _pool(
            capacity_types=["reserved"],
            capacity_reservations={"ids": ["cr-0123456789abcdef0"]},
            disruption={"consolidation_policy": "WhenEmptyOrUnderutilized"},
        ),
        ["node_pools[0].disruption", "never consolidates or expires"],
        id="consolidating-reserved-capacity",
    ),
    pytest.param(
        _pool(ami_family="al2023", ami_version="v1.65.0"),
        ["node_pools[0].ami_version", "is not a al2023 release", "v<YYYYMMDD>"],
        id="ami-version-of-other-family",
    ),
    pytest.param(_pool(name="system"), ["reserved for the system node group"], id="pool-named-system"),
    pytest.param(
        _pool(disruption={"protected_windows": [{"schedule": "0 8 * * *", "duration": "600s"}]}),
        ["node_pools[0].disruption.protected_windows[0].duration", "600s"],
        id="budget-duration-in-seconds",
    ),
    pytest.param(
        _pool(capacity_types=["on-demand", "preemptible"]),
        ["node_pools[0].capacity_types[1]", "'on-demand', 'spot' or 'reserved'"],
        id="unknown-capacity-type",
    ),
]


@pytest.mark.parametrize(("pool", "expected"), CASES)
def test_bad_pool_is_explained(tmp_path, pool, expected):
    assert_rejected(tmp_path, {"node_pools": [pool]}, expected)


def test_duplicate_names_across_pools_and_capacity_blocks(tmp_path):
    block = {"name": "p", "instance_type": "p5.48xlarge", "reservation_id": "cr-0123456789abcdef0", "size": 2}
    with pytest.raises(ConfigError) as caught:
        KIT.load(write_config(tmp_path, {"node_pools": [_pool()], "capacity_block_node_groups": [block]}))
    assert "used more than once" in caught.value.render()


def test_capacity_block_group_on_type_without_efa(tmp_path):
    block = {"name": "b", "instance_type": "g6e.2xlarge", "reservation_id": "cr-0123456789abcdef0", "size": 1, "efa": True}
    with pytest.raises(ConfigError) as caught:
        KIT.load(write_config(tmp_path, {"capacity_block_node_groups": [block]}))
    assert "capacity_block_node_groups[0].efa" in caught.value.render()


WINDOW = {"schedule": "0 8 * * mon-fri", "duration": "10h"}


@pytest.mark.parametrize(
    ("pool", "expected"),
    [
        (
            {"disruption": {"protected_windows": [WINDOW], "expire_after": "168h"}},
            ["node_pools[0].disruption.expire_after", "expiry is forceful", "got: '168h'", "fix: remove expire_after"],
        ),
        (
            {"ami_family": "al2023", "image_pull": {"max_concurrent_downloads_per_image": 32, "concurrent_download_chunk_size": "8mb"}},
            [
                "node_pools[0].image_pull",
                "never reach an AL2023 node",
                "concurrent_download_chunk_size, max_concurrent_downloads_per_image",
                "ami_family: bottlerocket",
            ],
        ),
        (
            {"ami_family": "al2023", "image_pull": {"prepulled_images_snapshot_id": "snap-0123456789abcdef0"}},
            ["node_pools[0].image_pull.prepulled_images_snapshot_id", "Bottlerocket data-volume snapshot"],
        ),
        (
            {"ami_version": "v1.40.2"},
            ["node_pools[0].ami_version", "older than Bottlerocket v1.46.0", "SOCI's image store on the EBS volume"],
        ),
    ],
)
def test_pool_settings_that_would_not_do_what_they_say_are_refused(tmp_path, pool, expected):
    base = {"name": "p", "instance_types": ["g6e.12xlarge"], "gpu_limit": 8}
    assert_rejected(tmp_path, {"node_pools": [{**base, **pool}], "workloads": []}, expected)


def test_al2023_pool_with_nodeadms_own_values_is_accepted(tmp_path):
    pull = {"max_concurrent_downloads_per_image": 20, "concurrent_download_chunk_size": "16mb"}
    config = KIT.load(
        write_config(
            tmp_path,
            {
                "node_pools": [
                    {"name": "p", "instance_types": ["g6e.12xlarge"], "gpu_limit": 8, "ami_family": "al2023", "image_pull": pull}
                ],
                "workloads": [],
            },
        )
    )
    assert config.node_pools[0].image_pull.max_concurrent_downloads_per_image == 20
