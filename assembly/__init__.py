"""The assembly: the one layer that sees both the CDK stacks (infra) and the blueprints.

It types the config's workloads with the registered blueprints, runs every check, gathers what the enabled
workloads require of the cluster, renders them, and builds the CDK app; the main job and `cdk synth` start here.
"""
