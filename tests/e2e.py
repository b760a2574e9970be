"""The e2e mark kept honest: a test that synthesizes an app in the test process without the mark fails, and says so.

`./kit test -m "not e2e"` is the inner loop (docs/performance.md); it stays fast only while every test that synthesizes
a whole app carries the mark, on itself or on its module (pytestmark). Fixtures count: a fixture that synthesizes
runs in the setup of the first test that asks for it, so that test needs the mark. A test that runs a synth in a
subprocess (`./kit synth`, the CDK CLI) cannot be seen from here and is marked by hand.
"""

from __future__ import annotations

import aws_cdk as cdk
import pytest

_unmarked: list[str] = []  # the node id of the test being set up or run, while it is not marked e2e
_synth = cdk.App.synth


def _guarded_synth(self: cdk.App, *args, **kwargs):
    if _unmarked:
        pytest.fail(
            f"{_unmarked[0]} synthesizes a whole app but is not marked e2e: add @pytest.mark.e2e to it (or "
            "pytestmark = pytest.mark.e2e to its module) so that `./kit test -m 'not e2e'` stays the fast loop",
            pytrace=False,
        )
    return _synth(self, *args, **kwargs)


cdk.App.synth = _guarded_synth


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    _unmarked[:] = [] if item.get_closest_marker("e2e") else [item.nodeid]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    _unmarked[:] = []
