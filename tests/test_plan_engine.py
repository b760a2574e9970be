"""The plan's engine on small hand-written assemblies: replacement from the resource schemas (nested create-only
paths, tokens, references across stacks), renames, the kubectl provider's resources, acknowledgements."""

from __future__ import annotations

import json

import pytest

from assembly.plan_diff import MAY, NONE, REPLACE, UNKNOWN
from assembly.plan_engine import build
from assembly.plan_schema import Schemas
from tests.plan_fixtures import helm, manifest, resource, write_assembly


@pytest.fixture(scope="module")
def schemas():
    return Schemas("us-west-2")


def plan(tmp_path, old: dict, new: dict, acks=(), schemas=None, upgrades=None):
    base = write_assembly(tmp_path / "base", old)
    fresh = write_assembly(tmp_path / "new", new)
    return build(base, fresh, list(acks), schemas=schemas, upgrades=upgrades)


def one(result, logical_id):
    [change] = [c for c in result.cfn.changes if c.logical_id == logical_id]
    return change


def vpc(cidr: str) -> dict:
    return resource("AWS::EC2::VPC", {"CidrBlock": cidr})


def test_the_schemas_say_which_properties_force_replacement(schemas):
    assert ("CidrBlock",) in schemas.get("AWS::EC2::VPC").create_only
    assert ("KubernetesNetworkConfig", "ServiceIpv4Cidr") in schemas.get("AWS::EKS::Cluster").create_only
    assert ("Version",) not in schemas.get("AWS::EKS::Cluster").create_only
    assert schemas.get("AWS::S3::Bucket").name_properties == ("BucketName",)
    assert schemas.get("AWS::EKS::Nodegroup").name_properties == ("NodegroupName",)
    assert schemas.get("Custom::Anything") is None


def test_a_changed_create_only_property_replaces_and_names_itself(tmp_path, schemas):
    result = plan(
        tmp_path, {"net": {"Resources": {"Vpc": vpc("10.0.0.0/16")}}}, {"net": {"Resources": {"Vpc": vpc("10.1.0.0/16")}}}, schemas=schemas
    )
    change = one(result, "Vpc")
    assert change.replacement == REPLACE
    assert "CidrBlock changed (10.0.0.0/16 -> 10.1.0.0/16): create-only" in change.reasons
    [gate] = result.gates
    assert "CidrBlock" in gate.message and "--ack net/Vpc" in gate.message
    assert result.exit_code == 1


def test_an_acknowledged_replacement_passes_and_a_stray_ack_is_reported(tmp_path, schemas):
    old, new = {"net": {"Resources": {"Vpc": vpc("10.0.0.0/16")}}}, {"net": {"Resources": {"Vpc": vpc("10.1.0.0/16")}}}
    for ack in ("Vpc", "net/Vpc", "net/Vpc/Resource"):
        assert plan(tmp_path / ack.replace("/", "_"), old, new, acks=[ack], schemas=schemas).exit_code == 0, ack
    stray = plan(tmp_path / "stray", old, new, acks=["net", "Other"], schemas=schemas)
    assert stray.exit_code == 1, "a whole stack is not an acknowledgement of one resource"
    assert stray.unused_acks == ["net", "Other"]


def test_a_nested_create_only_path_replaces_only_when_it_changes(tmp_path, schemas):
    def cluster(cidr, logging):
        return {
            "eks": {
                "Resources": {
                    "Cluster": resource(
                        "AWS::EKS::Cluster",
                        {
                            "Name": "c",
                            "RoleArn": "arn:aws:iam::1:role/r",
                            "ResourcesVpcConfig": {"SubnetIds": ["s"]},
                            "KubernetesNetworkConfig": {"ServiceIpv4Cidr": cidr},
                            "Logging": logging,
                        },
                    )
                }
            }
        }

    in_place = plan(tmp_path / "a", cluster("172.20.0.0/16", {"x": 1}), cluster("172.20.0.0/16", {"x": 2}), schemas=schemas)
    assert one(in_place, "Cluster").replacement == NONE
    assert one(in_place, "Cluster").changed == ["Logging.x"]
    replaced = plan(tmp_path / "b", cluster("172.20.0.0/16", {}), cluster("10.100.0.0/16", {}), schemas=schemas)
    assert one(replaced, "Cluster").replacement == REPLACE
    assert any(reason.startswith("KubernetesNetworkConfig/ServiceIpv4Cidr changed") for reason in one(replaced, "Cluster").reasons)
    # And the cluster keeps its fixed Name, which CloudFormation cannot replace.
    assert any("fixed name" in reason for reason in replaced.cfn.blocked)


def test_a_create_only_property_given_by_another_token_may_replace(tmp_path, schemas):
    def subnet(vpc_ref):
        return {
            "net": {
                "Resources": {
                    "A": vpc("10.0.0.0/16"),
                    "B": vpc("10.1.0.0/16"),
                    "S": resource("AWS::EC2::Subnet", {"VpcId": {"Ref": vpc_ref}, "CidrBlock": "10.0.0.0/24"}),
                }
            }
        }

    change = one(plan(tmp_path, subnet("A"), subnet("B"), schemas=schemas), "S")
    assert change.replacement == MAY
    assert "may replace: depends on B" in change.reasons[0]


def test_replacement_follows_references_within_a_stack_and_blocks_an_export_in_use(tmp_path, schemas):
    def stacks(cidr):
        return {
            "net": {
                "Resources": {"Vpc": vpc(cidr), "S": resource("AWS::EC2::Subnet", {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.0.0.0/24"})},
                "Outputs": {"SubnetOut": {"Value": {"Ref": "S"}, "Export": {"Name": "net:Subnet"}}},
            },
            "data": {
                "Resources": {
                    "Fs": resource("AWS::FSx::FileSystem", {"FileSystemType": "LUSTRE", "SubnetIds": [{"Fn::ImportValue": "net:Subnet"}]})
                }
            },
        }

    result = plan(tmp_path, stacks("10.0.0.0/16"), stacks("10.0.0.0/15"), schemas=schemas)
    subnet, fs = one(result, "S"), one(result, "Fs")
    assert subnet.action == "follow" and subnet.replacement == REPLACE and "VpcId refers to Vpc, which is replaced" in subnet.reasons
    assert fs.action == "follow" and fs.replacement == REPLACE and "SubnetIds refers to S, which is replaced" in fs.reasons
    assert any("export net:Subnet changes" in reason and "data imports it" in reason for reason in result.cfn.blocked)
    assert {gate.keys[0] for gate in result.gates} == {"Vpc", "S", "Fs"}


def test_a_renamed_construct_is_a_removal_and_an_addition_and_a_fixed_name_collides(tmp_path, schemas):
    bucket = resource("AWS::S3::Bucket", {"BucketName": "models-1"}, DeletionPolicy="Retain")
    result = plan(tmp_path, {"s": {"Resources": {"OldBucket": bucket}}}, {"s": {"Resources": {"NewBucket": bucket}}}, schemas=schemas)
    removed, added = one(result, "OldBucket"), one(result, "NewBucket")
    assert removed.action == "remove" and added.action == "add"
    assert any("looks renamed or moved to s/NewBucket" in note for note in removed.notes)
    assert any("takes the BucketName models-1 that s/OldBucket/Resource holds" in reason for reason in result.cfn.blocked)
    assert result.exit_code == 1


def test_custom_resources_are_unknown_except_the_kubectl_providers(tmp_path, schemas):
    def stacks(value):
        return {
            "c": {
                "Resources": {
                    "Mine": resource("Custom::Thing", {"ServiceToken": "arn", "Value": value}),
                    "Objects": manifest(
                        [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "m", "namespace": "n"}, "data": {"v": value}}]
                    ),
                }
            }
        }

    result = plan(tmp_path, stacks("1"), stacks("2"), schemas=schemas)
    assert one(result, "Mine").replacement == UNKNOWN
    objects = one(result, "Objects")
    assert objects.replacement == NONE and "kubectl apply" in objects.notes[0]
    [obj] = result.kube.objects
    assert (obj.ident, obj.action, obj.changed) == ("ConfigMap/n/m", "modify", ["data.v"])


def configmap(name: str, namespace: str = "n") -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace}}


@pytest.mark.parametrize("prune", [True, False])
def test_a_changed_object_name_is_a_delete_and_a_create(tmp_path, schemas, prune):
    result = plan(
        tmp_path,
        {"c": {"Resources": {"O": manifest([configmap("a")], prune)}}},
        {"c": {"Resources": {"O": manifest([configmap("b")], prune)}}},
        schemas=schemas,
    )
    [obj] = result.kube.objects
    assert obj.action == "recreate" and obj.ident == "ConfigMap/n/b"
    assert ("--prune deletes the old one" in obj.notes[0]) is prune
    assert ("the old one stays in the cluster" in obj.notes[0]) is not prune


def test_deleting_a_node_pool_or_a_namespace_needs_an_acknowledgement(tmp_path, schemas):
    pool = {"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": "gpu"}, "spec": {}}
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}
    old, new = {"c": {"Resources": {"O": manifest([pool, ns])}}}, {"c": {"Resources": {"O": manifest([])}}}
    result = plan(tmp_path / "a", old, new, schemas=schemas)
    assert sorted(gate.keys[0] for gate in result.gates) == ["Namespace/team", "NodePool/gpu"]
    assert plan(tmp_path / "b", old, new, acks=["NodePool/gpu", "Namespace/team"], schemas=schemas).exit_code == 0


def test_an_immutable_field_change_is_refused_before_kubectl_fails(tmp_path, schemas):
    def deployment(app):
        return {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "d", "namespace": "n"},
            "spec": {"selector": {"matchLabels": {"app": app}}, "template": {"metadata": {"labels": {"app": app}}}},
        }

    result = plan(
        tmp_path,
        {"c": {"Resources": {"O": manifest([deployment("a")])}}},
        {"c": {"Resources": {"O": manifest([deployment("b")])}}},
        schemas=schemas,
    )
    [obj] = result.kube.objects
    assert obj.refused is not None and "spec.selector is immutable on a Deployment" in obj.refused
    assert result.exit_code == 1


def test_an_ec2_node_class_change_drifts_its_pools_nodes_under_their_budgets(tmp_path, schemas):
    def objects(alias):
        node_class = {
            "apiVersion": "karpenter.k8s.aws/v1",
            "kind": "EC2NodeClass",
            "metadata": {"name": "gpu"},
            "spec": {"amiSelectorTerms": [{"alias": alias}]},
        }
        pool = {
            "apiVersion": "karpenter.sh/v1",
            "kind": "NodePool",
            "metadata": {"name": "gpu"},
            "spec": {
                "template": {"spec": {"nodeClassRef": {"name": "gpu"}}},
                "disruption": {
                    "budgets": [{"nodes": "10%"}, {"nodes": "0", "schedule": "0 8 * * mon-fri", "duration": "10h", "reasons": ["Drifted"]}]
                },
            },
        }
        return {"c": {"Resources": {"O": manifest([node_class, pool])}}}

    result = plan(tmp_path, objects("bottlerocket@v1.65.0"), objects("bottlerocket@v1.66.0"), schemas=schemas)
    [obj] = result.kube.objects
    assert obj.kind == "EC2NodeClass"
    assert (
        "Karpenter drifts every node of this class: NodePool gpu: at most 10% node(s) at a time, at most 0 node(s) at a time for Drifted "
        "during '0 8 * * mon-fri' for 10h" in obj.notes
    )
    assert result.exit_code == 0


def test_a_chart_bump_says_how_its_crds_are_upgraded(tmp_path, schemas):
    def charts(karpenter, keda):
        return {"c": {"Resources": {"K": helm("karpenter", karpenter), "E": helm("keda", keda)}}}

    result = plan(tmp_path, charts("1.14.1", "2.20.2"), charts("1.15.0", "2.21.0"), schemas=schemas)
    by_chart = {chart.chart: chart for chart in result.kube.charts}
    assert any("Helm does not upgrade CRDs in crds/" in note and "karpenter-crd" in note for note in by_chart["karpenter"].notes)
    assert any("CRDs are templates" in note for note in by_chart["keda"].notes)
    assert all(change.replacement == NONE for change in result.cfn.changes)


def test_a_renamed_release_leaves_the_old_one_installed(tmp_path, schemas):
    result = plan(
        tmp_path,
        {"c": {"Resources": {"K": helm("kueue", "0.19.2", release="kueue")}}},
        {"c": {"Resources": {"K": helm("kueue", "0.19.2", release="queues")}}},
        schemas=schemas,
    )
    [chart] = result.kube.charts
    assert any("never uninstalls the old one" in note for note in chart.notes)


def test_a_stack_the_app_dropped_is_left_as_it_is(tmp_path, schemas):
    result = plan(
        tmp_path, {"a": {"Resources": {"Vpc": vpc("10.0.0.0/16")}}, "b": {"Resources": {}}}, {"b": {"Resources": {}}}, schemas=schemas
    )
    assert result.cfn.stacks_left == ["a"] and result.cfn.changes == [] and result.exit_code == 0


def test_the_manifest_parses_around_tokens(tmp_path, schemas):
    joined = {
        "Fn::Join": [
            "",
            [
                '[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"m","namespace":"n"},"data":{"bucket":"',
                {"Ref": "Bucket"},
                '","s":"',
                {"Fn::Select": [0, ["a"]]},
                '"}}]',
            ],
        ]
    }
    body = manifest([])
    body["Properties"]["Manifest"] = joined
    changed = json.loads(json.dumps(body))
    changed["Properties"]["Manifest"]["Fn::Join"][1][1] = {"Ref": "OtherBucket"}
    result = plan(tmp_path, {"c": {"Resources": {"O": body}}}, {"c": {"Resources": {"O": changed}}}, schemas=schemas)
    [obj] = result.kube.objects
    assert obj.changed == ["data.bucket"]
