"""The kit's base layer: facts and types every other layer shares. No CDK, no cdk8s.

Label keys, instance facts, naming rules, model source types, the GPU capacity concept,
what a blueprint may ask of the cluster, and the config-issue type.
"""
