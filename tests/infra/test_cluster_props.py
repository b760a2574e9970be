"""The cluster constructs' props refuse what their types cannot: each check names the field, the value and the fix."""

from __future__ import annotations

from typing import Any, cast

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from constructs import Construct, IDependable

from core.requirements import ControllerChart, CrdBundle, PinnedFile, S3Access
from core.versions import HelmPin
from infra.cluster.addons import ManagedAddonsProps
from infra.cluster.control_plane import ControlPlaneProps
from infra.cluster.controllers import ControllersProps
from infra.cluster.crd_bundles import CrdBundlesProps
from infra.cluster.efa import EfaSecurityGroupProps
from infra.cluster.platform_policies import PlatformIsolation, PlatformIsolationProps, PlatformNetwork
from infra.cluster.system_nodes import SystemNodesProps
from infra.cluster.workload_access import WorkloadAccessProps
from infra.network.refs import NetworkRefs
from infra.storage.refs import StorageRefs

# Validation reads none of the CDK objects a props record carries: stand-ins keep these tests off the jsii runtime.
CLUSTER = cast(eks.Cluster, object())
ICLUSTER = cast(eks.ICluster, object())
NETWORK = cast(NetworkRefs, object())
AFTER = cast(IDependable, object())
STORAGE = cast(StorageRefs, object())


def _chart(name: str, after: tuple[str, ...] = ()) -> ControllerChart:
    return ControllerChart(name=name, chart=name, pin=HelmPin("https://charts.example", "1.0.0"), release=name, namespace=name, after=after)


def _access(role: str, service_account: str) -> S3Access:
    return S3Access(role=role, description="reads models", service_account=service_account, read_prefixes=("models/",))


def _control_plane(**overrides: Any) -> ControlPlaneProps:
    return ControlPlaneProps(**{"cluster_name": "kit", "network": NETWORK, **overrides})


def _system_nodes(**overrides: Any) -> SystemNodesProps:
    return SystemNodesProps(**{"cluster": CLUSTER, "network": NETWORK, "nodegroup_name": "kit-system", **overrides})


def test_defaults_pass_their_own_checks():
    control_plane, nodes = _control_plane(), _system_nodes()
    assert (control_plane.kubernetes_version, control_plane.log_retention_days, len(control_plane.logging)) == ("1.35", 365, 5)
    assert (nodes.min_size, nodes.desired_size, nodes.max_size, nodes.disk_size_gib) == (2, 2, 4, 100)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"cluster_name": ""}, r"ControlPlaneProps\.cluster_name: got ''"),
        ({"kubernetes_version": "1.29"}, r"ControlPlaneProps\.kubernetes_version: got '1\.29'; one of \['1\.34', '1\.35'\]"),
        ({"logging": ("api", "kubelet")}, r"ControlPlaneProps\.logging: got \['kubelet'\]"),
        ({"log_retention_days": 100}, r"ControlPlaneProps\.log_retention_days: got 100; one of CloudWatch's retention values"),
        ({"public_access_cidrs": ("203.0.113.7/24",)}, r"ControlPlaneProps\.public_access_cidrs: got '203\.0\.113\.7/24'"),
    ],
)
def test_control_plane_props_refuse(overrides: dict[str, Any], message: str):
    with pytest.raises(ValueError, match=message):
        _control_plane(**overrides)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"nodegroup_name": ""}, r"SystemNodesProps\.nodegroup_name: got ''"),
        ({"instance_types": ()}, r"SystemNodesProps\.instance_types: got \(\)"),
        ({"min_size": 3}, r"SystemNodesProps: got min_size 3, desired_size 2, max_size 4"),
        ({"min_size": 0, "desired_size": 0}, r"1 <= min_size <= desired_size <= max_size"),
        ({"desired_size": 5}, r"desired_size 5, max_size 4"),
        ({"disk_size_gib": 8}, r"SystemNodesProps\.disk_size_gib: got 8; at least 20"),
    ],
)
def test_system_nodes_props_refuse(overrides: dict[str, Any], message: str):
    with pytest.raises(ValueError, match=message):
        _system_nodes(**overrides)


def test_managed_addons_props_refuse_an_empty_version():
    ManagedAddonsProps(cluster=CLUSTER, addon_versions={"vpc-cni": "v1.20.4-eksbuild.1"})
    with pytest.raises(ValueError, match=r"ManagedAddonsProps\.addon_versions: got an empty version for \['coredns'\]"):
        ManagedAddonsProps(cluster=CLUSTER, addon_versions={"coredns": ""})


def test_controllers_props_refuse_a_repeat_and_an_unknown_predecessor():
    ControllersProps(cluster=CLUSTER, charts=(_chart("lws"), _chart("kueue", after=("lws",))), after=AFTER)
    with pytest.raises(ValueError, match=r"ControllersProps\.charts: got \['lws'\] more than once"):
        ControllersProps(cluster=CLUSTER, charts=(_chart("lws"), _chart("lws")), after=AFTER)
    with pytest.raises(ValueError, match=r"controller kueue is installed after \['lws'\], which no enabled workload requires"):
        ControllersProps(cluster=CLUSTER, charts=(_chart("kueue", after=("lws",)),), after=AFTER)


def test_crd_bundles_props_refuse_a_repeat():
    bundle = CrdBundle(name="gateway-api", files=(PinnedFile(url="https://example.com/crds.yaml", sha256="0" * 64),), crds=("x.y",))
    CrdBundlesProps(cluster=CLUSTER, bundles=(bundle,), after=AFTER)
    with pytest.raises(ValueError, match=r"CrdBundlesProps\.bundles: got \['gateway-api'\] more than once"):
        CrdBundlesProps(cluster=CLUSTER, bundles=(bundle, bundle), after=AFTER)


def test_workload_access_props_refuse_a_blank_namespace_and_a_service_account_twice():
    shared_role = (_access("reader", "vllm"), _access("reader", "benchmark"))
    WorkloadAccessProps(cluster=ICLUSTER, storage=STORAGE, namespace="inference", accesses=shared_role)
    with pytest.raises(ValueError, match=r"WorkloadAccessProps\.namespace: got ''"):
        WorkloadAccessProps(cluster=ICLUSTER, storage=STORAGE, namespace="", accesses=shared_role)
    with pytest.raises(ValueError, match=r"WorkloadAccessProps\.accesses: got service accounts \['vllm'\] more than once"):
        WorkloadAccessProps(cluster=ICLUSTER, storage=STORAGE, namespace="inference", accesses=(_access("a", "vllm"), _access("b", "vllm")))


def test_efa_props_refuse_a_blank_cluster_name():
    with pytest.raises(ValueError, match=r"EfaSecurityGroupProps\.cluster_name: got ''"):
        EfaSecurityGroupProps(vpc=cast(ec2.IVpc, object()), cluster_name="")


def test_platform_isolation_is_found_only_under_its_own_id():
    network = PlatformNetwork(api_server=("172.20.0.1/32",), control_plane=("10.0.0.0/28",), vpc_cidr="10.0.0.0/16")
    cluster = Construct(cdk.App(), "Cluster")
    assert PlatformIsolation.of(cluster) is None
    with pytest.raises(ValueError, match=r"PlatformIsolation: got construct_id 'Isolation'"):
        PlatformIsolation(cluster, "Isolation", PlatformIsolationProps(network=network))
    PlatformIsolation(cluster, PlatformIsolation.ID, PlatformIsolationProps(network=network))
    assert PlatformIsolation.of(cluster) == network


def test_crd_bundles_props_refuse_a_name_too_long_for_its_jobs_pods():
    files = (PinnedFile(url="https://example.com/crds.yaml", sha256="0" * 64),)
    longest = "x" * 41  # crd-bundle- (11) + 41 + "-" + 10 digest characters = 63, a label value's limit
    CrdBundlesProps(cluster=CLUSTER, bundles=(CrdBundle(name=longest, files=files, crds=("x.y",)),), after=AFTER)
    with pytest.raises(ValueError, match=r"CrdBundlesProps\.bundles: got names \['x{42}'\]; at most 41 characters"):
        CrdBundlesProps(cluster=CLUSTER, bundles=(CrdBundle(name=longest + "x", files=files, crds=("x.y",)),), after=AFTER)
