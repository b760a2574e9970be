"""Every blueprint the kit knows: one import line each.

Adding a blueprint: a new folder whose package exports BLUEPRINT (an instance of a blueprints.contract.Blueprint
subclass), and one line below. Their order here is the order of the config reference and of `./kit blueprints`.
"""

from __future__ import annotations

from blueprints.contract import Blueprint

from blueprints.vllm import BLUEPRINT as VLLM
from blueprints.triton import BLUEPRINT as TRITON
from blueprints.vllm_multinode import BLUEPRINT as VLLM_MULTINODE
from blueprints.dynamo import BLUEPRINT as DYNAMO
from blueprints.ray_serve import BLUEPRINT as RAY_SERVE
from blueprints.vllm_batch import BLUEPRINT as VLLM_BATCH
from blueprints.benchmark import BLUEPRINT as BENCHMARK

BLUEPRINTS: tuple[Blueprint, ...] = tuple(value for value in dict(globals()).values() if isinstance(value, Blueprint))
