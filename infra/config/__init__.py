"""The kit's one source of truth: a YAML file read into a typed, validated model."""

from infra.config.errors import ConfigError, ConfigIssue
from infra.config.loader import DEFAULT_CONFIG, load_config, resolve_config_path
from infra.config.model import KitConfig

__all__ = [
    "DEFAULT_CONFIG",
    "ConfigError",
    "ConfigIssue",
    "KitConfig",
    "load_config",
    "resolve_config_path",
]
