"""Least privilege and re-creatable stacks, read back from the synthesized templates."""

import json

import pytest

from tests.helpers import helm_charts, helm_values, only, resources, synth, write_config


def _statements(policy: dict) -> list[dict]:
    return policy["Properties"]["PolicyDocument"]["Statement"]


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


def test_kubectl_handler_cannot_read_private_images(cluster_template):
    roles = resources(cluster_template, "AWS::IAM::Role")
    [handler] = [role for name, role in roles.items() if "KubectlProviderHandler" in name]
    attached = json.dumps(handler["Properties"]["ManagedPolicyArns"])
    assert "AmazonEC2ContainerRegistryReadOnly" not in attached
    assert "AWSLambdaVPCAccessExecutionRole" in attached


def test_pods_on_system_nodes_cannot_reach_the_node_role(cluster_template):
    data = only(cluster_template, "AWS::EC2::LaunchTemplate")["Properties"]["LaunchTemplateData"]
    assert data["MetadataOptions"] == {"HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 1, "HttpTokens": "required"}
    values = json.loads(helm_values(helm_charts(cluster_template)["karpenter"]["Properties"]["Values"]))
    # Karpenter would otherwise ask the metadata service, out of reach at hop limit 1, for its region.
    assert {"name": "AWS_REGION", "value": "us-west-2"} in values["controller"]["env"]


def test_control_plane_logs_have_the_configured_retention_and_go_with_the_stack(cluster_template):
    [(name, group)] = [(n, g) for n, g in resources(cluster_template, "AWS::Logs::LogGroup").items() if "ControlPlaneLogs" in n]
    assert (group["Properties"]["LogGroupName"], group["Properties"]["RetentionInDays"]) == ("/aws/eks/llm-kit/cluster", 365)
    assert group["DeletionPolicy"] == "Delete"
    [cluster_name] = resources(cluster_template, "AWS::EKS::Cluster")
    assert name in cluster_template["Resources"][cluster_name]["DependsOn"]


def test_log_retention_comes_from_the_config(tmp_path):
    templates = synth(write_config(tmp_path, {"cluster": {"log_retention_days": 30}}), tmp_path / "out")
    groups = resources(templates["llm-kit-cluster"], "AWS::Logs::LogGroup")
    assert [g["Properties"]["RetentionInDays"] for n, g in groups.items() if "ControlPlaneLogs" in n] == [30]


def _literal_names(resource: dict) -> list[str]:
    return [value for key, value in resource.get("Properties", {}).items() if key.endswith("Name") and isinstance(value, str)]


@pytest.mark.parametrize("stack", ["llm-kit-cluster", "llm-kit-workloads"])
def test_replaceable_stacks_retain_nothing_with_a_fixed_name(default_templates, stack):
    """A retained resource whose name is fixed makes the next deploy after a destroy fail with 'already exists'."""
    retained = {
        name: _literal_names(body)
        for name, body in default_templates[stack]["Resources"].items()
        if body.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate") and _literal_names(body)
    }
    assert retained == {}


def test_prometheus_log_group_is_retained_under_a_name_new_to_each_stack(cluster_template):
    [group] = [g for n, g in resources(cluster_template, "AWS::Logs::LogGroup").items() if "Amp" in n]
    assert group["DeletionPolicy"] == "Retain"
    separator, parts = group["Properties"]["LogGroupName"]["Fn::Join"]
    assert parts[0] == "/aws/vendedlogs/prometheus/llm-kit-"
    # The last segment of the stack ID: a UUID CloudFormation draws for each creation of the stack.
    assert parts[1] == {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}


# The kubectl provider's functions log to groups the stack owns.


def test_kubectl_provider_functions_log_to_groups_with_the_clusters_retention(cluster_template):
    groups = {name: group for name, group in resources(cluster_template, "AWS::Logs::LogGroup").items() if "KubectlProvider" in name}
    assert sorted(g["Properties"]["LogGroupName"] for g in groups.values()) == ["/aws/lambda/llm-kit-kubectl-handler", "/aws/lambda/llm-kit-kubectl-provider"]
    assert all(g["Properties"]["RetentionInDays"] == 365 and g["DeletionPolicy"] == "Delete" for g in groups.values())
    functions = resources(cluster_template, "AWS::Lambda::Function")
    assert len(functions) == 2
    for function in functions.values():
        group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert group in groups and group in function["DependsOn"]
