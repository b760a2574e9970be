"""The workloads namespace and team namespaces are never one that Kubernetes or the kit's platform owns."""

import pytest

from core.namespaces import RESERVED
from tests.helpers import assert_rejected, write_config
from assembly.kit import KIT


@pytest.mark.parametrize("namespace", ["kube-system", "kueue-system", "monitoring", "default"])
def test_the_workloads_namespace_is_not_a_system_or_platform_one(tmp_path, namespace):
    assert namespace in RESERVED
    assert_rejected(
        tmp_path,
        {"storage": {"workloads_namespace": namespace}},
        ["storage.workloads_namespace", "a namespace Kubernetes or the kit's platform owns", f"got: '{namespace}'", "fix:"],
    )


def test_a_namespace_of_the_workloads_own_is_accepted(tmp_path):
    assert KIT.load(write_config(tmp_path, {"storage": {"workloads_namespace": "serving"}})).storage.workloads_namespace == "serving"
