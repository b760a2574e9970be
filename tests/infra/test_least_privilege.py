"""Least privilege and re-creatable stacks, read back from the synthesized templates."""

import json
import re

import pytest

from tests.helpers import helm_charts, helm_values, only, resources, synth, write_config


def _statements(policy: dict) -> list[dict]:
    return policy["Properties"]["PolicyDocument"]["Statement"]


@pytest.mark.e2e
def test_interruption_queue_accepts_only_the_kits_own_rules(cluster_template):
    [policy] = resources(cluster_template, "AWS::SQS::QueuePolicy").values()
    rules = set(resources(cluster_template, "AWS::Events::Rule"))
    senders = [s for s in _statements(policy) if s["Effect"] == "Allow"]
    assert len(senders) == len(rules) == 5
    for statement in senders:
        assert "sqs:SendMessage" in statement["Action"]
        # Every statement names one of the kit's own EventBridge rules: no other rule, in any account, can send.
        source = statement["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::GetAtt"][0]
        assert source in rules and statement["Principal"] == {"Service": "events.amazonaws.com"}


@pytest.mark.e2e
def test_kubectl_handler_cannot_read_private_images(cluster_template):
    roles = resources(cluster_template, "AWS::IAM::Role")
    [handler] = [role for name, role in roles.items() if "KubectlProviderHandler" in name]
    attached = json.dumps(handler["Properties"]["ManagedPolicyArns"])
    assert "AmazonEC2ContainerRegistryReadOnly" not in attached
    assert "AWSLambdaVPCAccessExecutionRole" in attached


@pytest.mark.e2e
def test_pods_on_system_nodes_cannot_reach_the_node_role(cluster_template):
    data = only(cluster_template, "AWS::EC2::LaunchTemplate")["Properties"]["LaunchTemplateData"]
    assert data["MetadataOptions"] == {"HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 1, "HttpTokens": "required"}
    values = json.loads(helm_values(helm_charts(cluster_template)["karpenter"]["Properties"]["Values"]))
    # Karpenter would otherwise ask the metadata service, out of reach at hop limit 1, for its region.
    assert {"name": "AWS_REGION", "value": "us-west-2"} in values["controller"]["env"]


@pytest.mark.e2e
def test_control_plane_logs_have_the_configured_retention_and_go_with_the_stack(cluster_template):
    [(name, group)] = [(n, g) for n, g in resources(cluster_template, "AWS::Logs::LogGroup").items() if "ControlPlaneLogs" in n]
    assert (group["Properties"]["LogGroupName"], group["Properties"]["RetentionInDays"]) == ("/aws/eks/llm-kit/cluster", 365)
    assert group["DeletionPolicy"] == "Delete"
    [cluster_name] = resources(cluster_template, "AWS::EKS::Cluster")
    assert name in cluster_template["Resources"][cluster_name]["DependsOn"]


@pytest.mark.e2e
def test_log_retention_comes_from_the_config(tmp_path):
    templates = synth(write_config(tmp_path, {"cluster": {"log_retention_days": 30}}), tmp_path / "out")
    groups = resources(templates["llm-kit-cluster"], "AWS::Logs::LogGroup")
    assert [g["Properties"]["RetentionInDays"] for n, g in groups.items() if "ControlPlaneLogs" in n] == [30]


def _literal_names(resource: dict) -> list[str]:
    return [value for key, value in resource.get("Properties", {}).items() if key.endswith("Name") and isinstance(value, str)]


@pytest.mark.parametrize("stack", ["llm-kit-cluster", "llm-kit-workloads"])
@pytest.mark.e2e
def test_replaceable_stacks_retain_nothing_with_a_fixed_name(default_templates, stack):
    """A retained resource whose name is fixed makes the next deploy after a destroy fail with 'already exists'."""
    retained = {
        name: _literal_names(body)
        for name, body in default_templates[stack]["Resources"].items()
        if body.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate") and _literal_names(body)
    }
    assert retained == {}


@pytest.mark.e2e
def test_prometheus_log_group_is_retained_under_a_name_new_to_each_stack(cluster_template):
    [group] = [g for n, g in resources(cluster_template, "AWS::Logs::LogGroup").items() if "Amp" in n]
    assert group["DeletionPolicy"] == "Retain"
    separator, parts = group["Properties"]["LogGroupName"]["Fn::Join"]
    assert parts[0] == "/aws/vendedlogs/prometheus/llm-kit-"
    # The last segment of the stack ID: a UUID CloudFormation draws for each creation of the stack.
    assert parts[1] == {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}


# EKS Pod Identity: every role the kit creates trusts only its own service accounts, namespace and cluster.


def _pod_identity_bindings(template: dict) -> dict[str, set[tuple[str, str]]]:
    """Role logical id -> {(namespace, service account)} of every association naming it (standalone or an add-on's)."""
    bindings: dict[str, set[tuple[str, str]]] = {}
    for association in resources(template, "AWS::EKS::PodIdentityAssociation").values():
        props = association["Properties"]
        bindings.setdefault(props["RoleArn"]["Fn::GetAtt"][0], set()).add((props["Namespace"], props["ServiceAccount"]))
    addon_namespaces = {
        "vpc-cni": "kube-system",
        "aws-ebs-csi-driver": "kube-system",
        "aws-mountpoint-s3-csi-driver": "kube-system",
        "amazon-cloudwatch-observability": "amazon-cloudwatch",
    }
    for addon in resources(template, "AWS::EKS::Addon").values():
        for item in addon["Properties"].get("PodIdentityAssociations", []):
            namespace = addon_namespaces[addon["Properties"]["AddonName"]]
            bindings.setdefault(item["RoleArn"]["Fn::GetAtt"][0], set()).add((namespace, item["ServiceAccount"]))
    return bindings


def _assert_pod_identity_roles_are_scoped(template: dict) -> int:
    [cluster_id] = resources(template, "AWS::EKS::Cluster")
    bindings = _pod_identity_bindings(template)
    checked = 0
    for name, role in resources(template, "AWS::IAM::Role").items():
        [statement] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        if statement["Principal"] != {"Service": "pods.eks.amazonaws.com"}:
            continue
        assert statement["Action"] == ["sts:AssumeRole", "sts:TagSession"], name
        condition = statement["Condition"]["StringEquals"]
        # Only the request tags the EKS user guide documents for Pod Identity role trust.
        assert set(condition) == {
            "aws:RequestTag/eks-cluster-arn",
            "aws:RequestTag/kubernetes-namespace",
            "aws:RequestTag/kubernetes-service-account",
        }, name
        assert condition["aws:RequestTag/eks-cluster-arn"] == {"Fn::GetAtt": [cluster_id, "Arn"]}, name
        assert name in bindings, f"{name} trusts Pod Identity but no association names it"
        namespaces = {namespace for namespace, _ in bindings[name]}
        assert [condition["aws:RequestTag/kubernetes-namespace"]] == sorted(namespaces), name
        assert sorted(condition["aws:RequestTag/kubernetes-service-account"]) == sorted(account for _, account in bindings[name]), name
        checked += 1
    return checked


@pytest.mark.e2e
def test_every_pod_identity_role_trusts_only_its_own_accounts_in_this_cluster(cluster_template):
    # vpc-cni, the EBS and S3 CSI drivers, the model reader, Karpenter at least.
    assert _assert_pod_identity_roles_are_scoped(cluster_template) >= 5


@pytest.mark.e2e
def test_the_cloudwatch_agents_pod_identity_role_is_scoped_too(tmp_path):
    overrides = {"observability": {"metrics": "cloudwatch"}}
    templates = synth(write_config(tmp_path, overrides), tmp_path / "out")
    cluster = templates["llm-kit-cluster"]
    assert _assert_pod_identity_roles_are_scoped(cluster) >= 6
    [agent] = [r for n, r in resources(cluster, "AWS::IAM::Role").items() if "AgentRole" in n]
    condition = agent["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["StringEquals"]
    assert (condition["aws:RequestTag/kubernetes-namespace"], condition["aws:RequestTag/kubernetes-service-account"]) == (
        "amazon-cloudwatch",
        ["cloudwatch-agent"],
    )


def test_a_pod_identity_role_must_name_its_service_accounts():
    from infra.cluster.pod_identity import trust_conditions

    with pytest.raises(ValueError, match="names no service account"):
        trust_conditions("arn", "ns", [])


# The kubectl provider's functions log to groups the stack owns.


@pytest.mark.e2e
def test_kubectl_provider_functions_log_to_groups_with_the_clusters_retention(cluster_template):
    groups = {name: group for name, group in resources(cluster_template, "AWS::Logs::LogGroup").items() if "KubectlProvider" in name}
    assert sorted(g["Properties"]["LogGroupName"] for g in groups.values()) == [
        "/aws/lambda/llm-kit-kubectl-handler",
        "/aws/lambda/llm-kit-kubectl-provider",
    ]
    assert all(g["Properties"]["RetentionInDays"] == 365 and g["DeletionPolicy"] == "Delete" for g in groups.values())
    functions = resources(cluster_template, "AWS::Lambda::Function")
    assert len(functions) == 2
    for function in functions.values():
        group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert group in groups and group in function["DependsOn"]


# The gateway's audit log shipper.


def _fluent_bit_sections(conf: str) -> dict[str, dict[str, str]]:
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for line in conf.splitlines():
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
        elif line.strip():
            key, value = line.split(None, 1)
            current[key] = value
    return sections


def _tail_tag(tag: str, path: str) -> str:
    """Fluent Bit v4.2.2 in_tail tag_compose: the file's path in place of '*', '/' as '.', no two dots in a row."""
    raw = tag.replace("*", path).replace("/", ".")
    return re.sub(r"\.{2,}", ".", raw)


# filter_kubernetes/kube_regex.h KUBE_TAG_TO_REGEX (v4.2.2), in Python's spelling.
KUBE_TAG = re.compile(
    r"(?P<pod_name>[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)_(?P<namespace_name>[^_]+)_(?P<container_name>.+)-(?P<docker_id>[a-z0-9]{64})\.log$"
)


def test_the_audit_shippers_kubernetes_filter_reads_the_pod_from_its_own_tag():
    from infra.routing.audit import fluent_bit_conf, proxy_deployment

    sections = _fluent_bit_sections(fluent_bit_conf("inference", "group", "us-west-2"))
    tail, kube = sections["INPUT"], sections["FILTER"]
    path = f"/var/log/containers/{proxy_deployment('inference')}-5d8f7c9b4-x2k9q_envoy-gateway-system_envoy-{'ab' * 32}.log"
    tag = _tail_tag(tail["Tag"], path)
    assert kube["Match"] == tail["Tag"] and tag.startswith(kube["Kube_Tag_Prefix"])
    found = KUBE_TAG.search(tag[len(kube["Kube_Tag_Prefix"]) :])
    assert found is not None, tag
    assert (found["pod_name"], found["namespace_name"], found["container_name"]) == (
        f"{proxy_deployment('inference')}-5d8f7c9b4-x2k9q",
        "envoy-gateway-system",
        "envoy",
    )
    # The chart's default prefix would have left the pod name wrong, and every record unmerged.
    assert not tag.startswith("kube.var.log.containers.")
    # No API or kubelet call for metadata; the record's JSON merged under "audit", the raw line dropped.
    assert (kube["Use_Tag_For_Meta"], kube["Merge_Log"], kube["Merge_Log_Key"], kube["Keep_Log"]) == ("On", "On", "audit", "Off")
    service = sections["SERVICE"]
    assert (service["HTTP_Server"], service["HTTP_Listen"]) == ("On", "127.0.0.1")
    assert tail["DB"].startswith("/var/fluent-bit/state/")
    assert sections["OUTPUT"]["auto_create_group"] == "Off"


def test_the_audit_shipper_has_no_rbac_no_token_and_reads_the_logs_read_only():
    from infra.routing.audit import shipper_objects

    objects = shipper_objects("inference", "group", "us-west-2")
    assert {o["kind"] for o in objects} == {"ServiceAccount", "ConfigMap", "DaemonSet"}
    [daemon_set] = [o for o in objects if o["kind"] == "DaemonSet"]
    pod = daemon_set["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False and "hostNetwork" not in pod
    [container] = pod["containers"]
    security = container["securityContext"]
    assert (
        security["capabilities"] == {"drop": ["ALL"]}
        and security["allowPrivilegeEscalation"] is False
        and security["readOnlyRootFilesystem"] is True
    )
    assert security["privileged"] is False
    host_paths = {v["name"]: v["hostPath"]["path"] for v in pod["volumes"] if "hostPath" in v}
    assert sorted(host_paths.values()) == ["/var/fluent-bit/state", "/var/log/containers", "/var/log/pods"]
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    writable = sorted(host_paths[name] for name in host_paths if not mounts[name].get("readOnly"))
    assert writable == ["/var/fluent-bit/state"]
    # The liveness check reaches the health endpoint on loopback (the kubelet could not reach 127.0.0.1).
    assert "http://127.0.0.1:2020/api/v1/health" in container["livenessProbe"]["exec"]["command"]
    assert "ports" not in container
