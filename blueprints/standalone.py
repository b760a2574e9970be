"""Render one blueprint's workloads from a config file as YAML on stdout, for copy-and-customize.

    python -m blueprints.vllm --config my.yaml [--workload NAME]
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import cdk8s  # noqa: E402

from blueprints.render import build_chart  # noqa: E402
from infra.config import ConfigError, load_config, resolve_config_path  # noqa: E402


def main(blueprint: str, argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m blueprints.{blueprint.replace('-', '_')}", description=f"Print the {blueprint} workloads of a config as YAML.")
    parser.add_argument("--config", help="config file (default: $KIT_CONFIG, else config/default.yaml)")
    parser.add_argument("--workload", help="only this workload (default: every enabled one of this blueprint)")
    args = parser.parse_args(argv)
    try:
        config = load_config(resolve_config_path(args.config))
    except ConfigError as err:
        print(err.render(), file=sys.stderr)
        return 2
    chosen = [w for w in config.workloads if w.blueprint == blueprint and (w.name == args.workload if args.workload else w.enabled)]
    if not chosen:
        names = [w.name for w in config.workloads if w.blueprint == blueprint]
        what = f"no {blueprint} workload named '{args.workload}'" if args.workload else f"no enabled {blueprint} workload"
        print(f"{what} in the config (its {blueprint} workloads: {', '.join(names) or 'none'})", file=sys.stderr)
        return 2
    app = cdk8s.App()
    documents = [obj for workload in chosen for obj in build_chart(app, config, workload).to_json()]
    sys.stdout.write(cdk8s.Yaml.stringify(*documents))
    return 0
