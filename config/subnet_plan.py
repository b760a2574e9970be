"""The subnet plan lives in core (config checks it, infra builds it); these names stay importable from config."""

from core.subnet_plan import CONTROL_PLANE_PREFIX, PUBLIC_PREFIX, LayoutError, Role, SubnetPlan, Zone, plan_subnets

__all__ = ["CONTROL_PLANE_PREFIX", "PUBLIC_PREFIX", "LayoutError", "Role", "SubnetPlan", "Zone", "plan_subnets"]
