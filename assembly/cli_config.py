"""The config a command line names, loaded the one way every command does: `--config`, else $KIT_CONFIG, else
config/default.yaml; a config with issues has them printed to stderr, and the command exits 2."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from assembly.kit import KIT, KitConfig, resolve_config_path
from core.issues import ConfigError

CONFIG_HELP = "config file (default: $KIT_CONFIG, else config/default.yaml)"


def load_or_report(given: str | Path | None, now: datetime | None = None) -> KitConfig | None:
    """The checked config, or None once its issues are on stderr (the caller then returns 2)."""
    try:
        return KIT.load(resolve_config_path(given), now=now)
    except ConfigError as err:
        print(err.render(), file=sys.stderr)
        return None
