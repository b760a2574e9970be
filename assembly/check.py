"""Check a config without building anything: python -m assembly.check [--config PATH]

Loads no CDK and no jsii runtime, so a rejected config is reported in well under a second; `./kit synth` runs it
before the synth. Exit 0 with a one-line confirmation, 2 with every problem.
"""

from __future__ import annotations

import argparse
import sys

from assembly.kit import KIT, resolve_config_path
from core.issues import ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assembly.check", description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="config file (default: $KIT_CONFIG, else config/default.yaml)")
    args, _ = parser.parse_known_args(argv)  # the synth's own options pass through untouched
    path = resolve_config_path(args.config).resolve()
    try:
        config = KIT.load(path)
    except ConfigError as err:
        print(err.render(), file=sys.stderr)
        return 2
    workloads = sum(1 for w in config.workloads if w.enabled)
    print(f"config ok: {path} ({config.name} in {config.region}, {len(config.node_pools) + len(config.capacity_block_node_groups)} GPU pools, {workloads} enabled workloads)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
