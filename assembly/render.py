"""Print workloads of a config as Kubernetes YAML, for copy-and-customize or `kubectl apply -f -`.

python -m assembly.render [--config my.yaml] [--blueprint vllm] [--workload NAME]
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from assembly.cli_config import CONFIG_HELP, load_or_report  # noqa: E402
from assembly.kit import KIT  # noqa: E402
from blueprints.common.objects import new_app, to_yaml  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=os.environ.get("KIT_PROG", "python -m assembly.render"), description="Print the workloads of a config as Kubernetes YAML."
    )
    parser.add_argument("--config", help=CONFIG_HELP)
    parser.add_argument("--blueprint", choices=sorted(KIT.by_name), help="only workloads of this blueprint")
    parser.add_argument("--workload", help="only this workload, enabled or not (default: every enabled one)")
    args = parser.parse_args(argv)
    config = load_or_report(args.config)
    if config is None:
        return 2
    chosen = [
        w
        for w in config.workloads
        if (args.blueprint is None or KIT.blueprint_of(w).name == args.blueprint)
        and (w.name == args.workload if args.workload else w.enabled)
    ]
    if not chosen:
        names = [w.name for w in config.workloads if args.blueprint is None or KIT.blueprint_of(w).name == args.blueprint]
        kind = f"{args.blueprint} workload" if args.blueprint else "workload"
        what = f"no {kind} named '{args.workload}'" if args.workload else f"no enabled {kind}"
        print(f"{what} in the config (its {kind}s: {', '.join(names) or 'none'})", file=sys.stderr)
        return 2
    app = new_app()
    platform = KIT.platform(config)
    documents = [obj for workload in chosen for obj in KIT.blueprint_of(workload).render(app, workload, platform).to_json()]
    sys.stdout.write(to_yaml(documents))
    return 0


if __name__ == "__main__":
    sys.exit(main())
