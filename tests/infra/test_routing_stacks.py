"""The gateway's controllers, the InferencePool CRD, KEDA's access to AMP and the Gateway itself, from the stacks."""

import json
from pathlib import Path

import pytest

from tests.helpers import helm_charts, helm_values, kubernetes_objects, nested_templates, resources, synth

pytestmark = pytest.mark.e2e  # every test here reads whole synthesized apps

EXAMPLE = Path("config/examples/gateway-two-models.yaml")


@pytest.fixture(scope="module")
def stacks(tmp_path_factory):
    out = tmp_path_factory.mktemp("gateway") / "out"
    return synth(EXAMPLE, out), out


def test_envoy_gateway_is_configured_for_envoy_ai_gateway_and_inference_pools(stacks):
    templates, _ = stacks
    charts = helm_charts(templates["llm-gw-cluster"])
    eg = charts["gateway-helm"]["Properties"]
    assert (eg["Repository"], eg["Version"], eg["Namespace"]) == (
        "oci://docker.io/envoyproxy/gateway-helm",
        "v1.8.3",
        "envoy-gateway-system",
    )
    manager = json.loads(helm_values(eg["Values"]))["config"]["envoyGateway"]["extensionManager"]
    assert manager["backendResources"] == [{"group": "inference.networking.k8s.io", "kind": "InferencePool", "version": "v1"}]
    assert manager["service"]["fqdn"] == {"hostname": "ai-gateway-controller.envoy-ai-gateway-system.svc.cluster.local", "port": 1063}
    ai = charts["ai-gateway-helm"]
    # The AI gateway controller comes after its CRDs and after Envoy Gateway, whose extension it is.
    assert {charts["ai-gateway-crds-helm"]["id"], charts["gateway-helm"]["id"]} <= set(ai["DependsOn"])
    assert charts["keda"]["Properties"]["Version"] == "2.20.2"


def test_the_inference_pool_crd_is_applied_from_its_release_and_waited_for(stacks):
    templates, _ = stacks
    cluster = templates["llm-gw-cluster"]
    objects = [o for items in kubernetes_objects(cluster).values() for o in items]
    [job] = [o for o in objects if o["kind"] == "Job"]
    [fetch] = job["spec"]["template"]["spec"]["initContainers"]
    files = json.loads(next(e["value"] for e in fetch["env"] if e["name"] == "FILES"))
    base = "https://raw.githubusercontent.com/kubernetes-sigs/gateway-api-inference-extension/v1.6.0/config/crd/bases"
    assert [f["url"] for f in files] == [
        f"{base}/inference.networking.k8s.io_inferencepools.yaml",
        f"{base}/inference.networking.x-k8s.io_inferencepoolimports.yaml",
    ]
    [container] = job["spec"]["template"]["spec"]["containers"]
    assert container["args"][-1] == "/bundle" and job["metadata"]["namespace"] == "crd-bundles"
    [role] = [o for o in objects if o["kind"] == "ClusterRole" and o["metadata"]["name"].startswith("crd-bundle")]
    assert role["rules"][1]["resourceNames"] == [
        "inferencepools.inference.networking.k8s.io",
        "inferencepoolimports.inference.networking.x-k8s.io",
    ]
    waits = resources(cluster, "Custom::AWSCDK-EKS-KubernetesObjectValue")
    assert sorted(w["Properties"]["ObjectName"] for w in waits.values()) == [
        "inferencepoolimports.inference.networking.x-k8s.io",
        "inferencepools.inference.networking.k8s.io",
    ]


def test_keda_may_query_the_workspace_and_nothing_else(stacks):
    templates, _ = stacks
    cluster = templates["llm-gw-cluster"]
    [association] = [
        a["Properties"]
        for a in resources(cluster, "AWS::EKS::PodIdentityAssociation").values()
        if a["Properties"]["ServiceAccount"] == "keda-operator"
    ]
    assert association["Namespace"] == "keda"
    role_id = association["RoleArn"]["Fn::GetAtt"][0]
    [policy] = [p["Properties"] for p in resources(cluster, "AWS::IAM::Policy").values() if {"Ref": role_id} in p["Properties"]["Roles"]]
    [statement] = policy["PolicyDocument"]["Statement"]
    assert "aps:QueryMetrics" in statement["Action"]
    assert statement["Resource"]["Fn::GetAtt"][1] == "Arn" and "Workspace" in statement["Resource"]["Fn::GetAtt"][0]


def test_keda_starts_only_after_its_pod_identity_association_exists(stacks):
    """Pod Identity hands credentials only to pods started after the association: KEDA's chart waits for it."""
    templates, _ = stacks
    cluster = templates["llm-gw-cluster"]
    [association_id] = [
        key
        for key, a in resources(cluster, "AWS::EKS::PodIdentityAssociation").items()
        if a["Properties"]["ServiceAccount"] == "keda-operator"
    ]
    keda = helm_charts(cluster)["keda"]
    assert association_id in keda["DependsOn"]
    values = json.loads(helm_values(keda["Properties"]["Values"]))
    [policy, binding] = values["extraObjects"]
    assert (policy["kind"], binding["spec"]["policyName"]) == ("ValidatingAdmissionPolicy", policy["metadata"]["name"])


def test_the_gateway_is_an_internal_nlb_open_to_the_vpc(stacks):
    templates, _ = stacks
    objects = [o for items in kubernetes_objects(templates["llm-gw-workloads"]).values() for o in items]
    [gateway] = [o for o in objects if o["kind"] == "Gateway"]
    annotations = gateway["spec"]["infrastructure"]["annotations"]
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-internal"] == "true"
    assert annotations["service.beta.kubernetes.io/load-balancer-source-ranges"] == "10.0.0.0/16"
    assert gateway["spec"]["listeners"] == [
        {"name": "http", "protocol": "HTTP", "port": 80, "allowedRoutes": {"namespaces": {"from": "Same"}}}
    ]


def test_autoscalers_get_the_workspace_address_at_deploy(stacks):
    _, out = stacks
    for name, template in nested_templates(out).items():
        text = json.dumps(template)
        assert "{amp-query-url}" not in text, name
        if "ScaledObject" in text:
            assert "aps-workspaces.us-west-2.amazonaws.com/workspaces/" in text


def test_a_tls_gateway_listens_where_the_nlb_terminates(tmp_path):
    from infra.routing.gateway import gateway_objects
    from infra.routing.settings import GatewaySettings

    cert = "arn:aws:acm:us-west-2:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
    settings = GatewaySettings(scheme="internet-facing", source_cidrs=("198.51.100.0/24",), certificate_arn=cert)
    gateway = next(
        o
        for o in gateway_objects("inference", {}, settings, vpc_cidr="10.0.0.0/16", region="us-west-2", teams_for=lambda m: ())
        if o["kind"] == "Gateway"
    )
    annotations = gateway["spec"]["infrastructure"]["annotations"]
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-ssl-cert"] == cert
    assert annotations["service.beta.kubernetes.io/load-balancer-source-ranges"] == "198.51.100.0/24"
    assert "service.beta.kubernetes.io/aws-load-balancer-internal" not in annotations
    assert gateway["spec"]["listeners"][0]["port"] == 443
