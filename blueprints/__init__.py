"""cdk8s blueprints for inference workloads; each folder is one blueprint a team can copy and adapt."""

# The config model imports the blueprint registry; loading the config package first lets any blueprints module be imported on its own.
import infra.config  # noqa: E402, F401
