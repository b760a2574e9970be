"""CDK entry point (`cdk synth`, `cdk deploy`): reads the config named by -c config=, KIT_CONFIG or config/default.yaml."""

import json
import os
import sys

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from assembly.app import build_app  # noqa: E402
from assembly.kit import KIT, resolve_config_path  # noqa: E402
from core.issues import ConfigError  # noqa: E402


def main() -> int:
    context = json.loads(os.environ.get("CDK_CONTEXT_JSON") or "{}")
    try:
        config = KIT.load(resolve_config_path(context.get("config")))
    except ConfigError as err:
        print(err.render(), file=sys.stderr)
        return 2
    build_app(config).synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
