"""Pod-spec pieces written once and used by every blueprint."""
