"""Inference workloads as cdk8s charts, one folder per blueprint, each a team can copy and adapt.

Beside the config layer and above core: blueprints import core only (never config, never infra). What a
blueprint declares is in contract.py; the registry lists them; the assembly types, checks and renders them.
"""
