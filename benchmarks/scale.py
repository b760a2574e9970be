"""A config at the scale the kit must carry: 200 workloads on 30 node pools (python -m benchmarks.scale OUT.yaml)."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from config.loader import DEFAULT_CONFIG

BLUEPRINT_CYCLE = ("vllm", "triton")


def scale_config(workloads: int = 200, pools: int = 30) -> dict:
    """The default config with `pools` GPU pools (each with its own taint and label) and `workloads` servers over them."""
    data = yaml.safe_load(DEFAULT_CONFIG.read_text())
    data["node_pools"] = [
        {
            "name": f"pool-{index:02d}",
            "instance_types": ["g6e.2xlarge", "g6e.12xlarge"],
            "capacity_types": ["on-demand", "spot"],
            "gpu_limit": 64,
            "labels": {"team": f"team-{index:02d}"},
            "taints": [{"key": f"team-{index:02d}", "value": "dedicated"}],
        }
        for index in range(pools)
    ]
    data["workloads"] = [
        {
            "name": f"model-{index:03d}",
            "blueprint": BLUEPRINT_CYCLE[index % len(BLUEPRINT_CYCLE)],
            "node_pool": f"pool-{index % pools:02d}",
            "instance_type": "g6e.2xlarge",
            "model": {"type": "hf", "repo_id": f"org/model-{index:03d}"},
            "replicas": 2,
        }
        for index in range(workloads)
    ]
    return data


def main(argv: list[str]) -> int:
    Path(argv[0]).write_text(yaml.safe_dump(scale_config(), sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
