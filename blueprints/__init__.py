"""cdk8s blueprints for inference workloads; each folder is one blueprint a team can copy and adapt."""
