from __future__ import annotations

import pytest

# The guard that fails a test synthesizing a whole app without the e2e mark (tests/e2e.py).
from tests.e2e import pytest_runtest_setup, pytest_runtest_teardown  # noqa: F401
from tests.helpers import DEFAULT_CONFIG, synth


@pytest.fixture(scope="session")
def default_out(tmp_path_factory):
    return tmp_path_factory.mktemp("default-synth")


@pytest.fixture(scope="session")
def default_templates(default_out):
    """The default config, synthesized once for the whole session."""
    return synth(DEFAULT_CONFIG, default_out)


@pytest.fixture(scope="session")
def network_template(default_templates):
    return default_templates["llm-kit-network"]


@pytest.fixture(scope="session")
def cluster_template(default_templates):
    return default_templates["llm-kit-cluster"]
