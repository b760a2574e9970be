"""The kit's alert rules, defined once and rendered for AMP (rule groups namespace) and for a PrometheusRule."""

from infra.observability.rules.definitions import AlertRule, AlertRuleThresholds, alert_rules, rule_groups, rules_yaml

__all__ = ["AlertRule", "AlertRuleThresholds", "alert_rules", "rule_groups", "rules_yaml"]
