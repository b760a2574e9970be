"""The config layer: the typed model of the YAML file (every key but the workloads, which the blueprints type),
its checks, and what it says about the platform in core terms. Imports only core."""
