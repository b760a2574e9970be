"""The emitted entries (from contracts.collect) as test parameters: one test per invocation, named by where it came from.

These modules run inside the contract environments, which hold the programs but not the kit: they read only the
collected JSON, whose path is in KIT_CONTRACTS_EMITTED.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

# What LeaderWorkerSet injects and the kubelet fills into $(VAR) references: the values one real pod gets.
KUBELET_VARIABLES = {"LWS_LEADER_ADDRESS": "model-group-0.model-group.inference", "LWS_WORKER_INDEX": "1", "LWS_GROUP_SIZE": "3"}


def emitted() -> dict[str, list[dict]]:
    return json.loads(Path(os.environ["KIT_CONTRACTS_EMITTED"]).read_text())


def kubelet_expanded(args: list[str]) -> list[str]:
    out = []
    for arg in args:
        for name, value in KUBELET_VARIABLES.items():
            arg = arg.replace(f"$({name})", value)
        assert "$(" not in arg, f"{arg!r} references a variable the kubelet would leave unexpanded"
        out.append(arg)
    return out


def pytest_generate_tests(metafunc):
    """A test with an argument named after a kind of entry (vllm_serve, triton, ...) runs once per entry."""
    entries = emitted()
    for kind, items in entries.items():
        if kind in metafunc.fixturenames:
            metafunc.parametrize(kind, items, ids=[item["where"] for item in items])


@pytest.fixture(scope="session")
def all_emitted() -> dict[str, list[dict]]:
    return emitted()
