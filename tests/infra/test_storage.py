"""Storage: the S3 model bucket, FSx for Lustre in the node zone, the CSI drivers, and model-source config."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import kubernetes_validate
import pytest
from aws_cdk.assertions import Match, Template
from pydantic import TypeAdapter, ValidationError

from infra import nag
from assembly.app import build_app
from assembly.kit import KIT
from core.model_sources import FsxSource, HfSource, ModelSource, S3Source
from infra.stacks.storage import StorageStack
from infra.storage.in_cluster import S3_CSI_ADDON
from infra.storage.manifests import storage_manifests
from tests.helpers import assert_rejected, only, resources, subnet_of, unvalidated_app, write_config

PRIMARY = "usw2-az2"
STORAGE = {
    "fsx": {
        "enabled": True,
        "storage_capacity_gib": 2400,
        "throughput_per_unit_storage": 500,
        "import_policy": ["NEW", "CHANGED"],
        "export": True,
    }
}


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory):
    """One synth for the module: the whole app with FSx on (the cluster stack holds the in-cluster storage)."""
    folder = tmp_path_factory.mktemp("storage")
    config = KIT.load(write_config(folder, {"storage": STORAGE}))
    app = build_app(config, outdir=str(folder / "out"))
    storage_stack = app.node.find_child("llm-kit-storage")
    assembly = app.synth()
    templates = {stack.stack_name: stack.template for stack in assembly.stacks}
    return {"config": config, "assembly": assembly, "templates": templates, "storage_stack": storage_stack, "out": folder / "out"}


@pytest.fixture(scope="module")
def templates(synthesized):
    return synthesized["templates"]


@pytest.fixture(scope="module")
def storage(templates):
    return Template.from_json(templates["llm-kit-storage"])


def _file_system(templates):
    return only(templates["llm-kit-storage"], "AWS::FSx::FileSystem")


@pytest.mark.e2e
def test_file_system_lives_in_the_node_subnet_of_the_primary_zone(templates):
    [subnet_ref] = _file_system(templates)["Properties"]["SubnetIds"]
    subnet = subnet_of(templates, subnet_ref)["Properties"]
    assert subnet["AvailabilityZoneId"] == PRIMARY
    assert {"Key": "llm-kit/subnet-role", "Value": "nodes"} in subnet["Tags"]
    node_group = only(templates["llm-kit-cluster"], "AWS::EKS::Nodegroup")["Properties"]
    assert subnet_ref in node_group["Subnets"]


@pytest.mark.e2e
def test_file_system_is_persistent_2_lz4_with_the_configured_throughput(storage):
    storage.has_resource_properties(
        "AWS::FSx::FileSystem",
        {
            "FileSystemType": "LUSTRE",
            "StorageType": "SSD",
            "StorageCapacity": 2400,
            "LustreConfiguration": Match.object_like(
                {
                    "DeploymentType": "PERSISTENT_2",
                    "DataCompressionType": "LZ4",
                    "PerUnitStorageThroughput": 500,
                    "AutomaticBackupRetentionDays": 0,
                }
            ),
        },
    )


@pytest.mark.e2e
def test_data_repository_association_links_the_path_to_the_model_prefix(templates):
    template = templates["llm-kit-storage"]
    link = only(template, "AWS::FSx::DataRepositoryAssociation")["Properties"]
    assert link["FileSystemPath"] == "/models"
    [bucket_id] = resources(template, "AWS::S3::Bucket").keys() - _log_bucket_ids(template)
    assert link["DataRepositoryPath"] == {"Fn::Join": ["", ["s3://", {"Ref": bucket_id}, "/models/"]]}
    assert link["FileSystemId"] == {"Ref": next(iter(resources(template, "AWS::FSx::FileSystem")))}
    assert link["S3"]["AutoImportPolicy"]["Events"] == ["NEW", "CHANGED"]
    assert link["S3"]["AutoExportPolicy"]["Events"] == ["NEW", "CHANGED", "DELETED"]
    assert link["BatchImportMetaDataOnCreate"] is True


def _log_bucket_ids(template) -> set[str]:
    return {
        body["Properties"]["LoggingConfiguration"]["DestinationBucketName"]["Ref"]
        for body in resources(template, "AWS::S3::Bucket").values()
        if "LoggingConfiguration" in body["Properties"]
    }


@pytest.mark.e2e
def test_model_bucket_is_private_encrypted_versioned_and_logged(templates, storage):
    template = templates["llm-kit-storage"]
    [log_id] = _log_bucket_ids(template)
    [model_id] = resources(template, "AWS::S3::Bucket").keys() - {log_id}
    model = template["Resources"][model_id]["Properties"]
    assert model["BucketName"] == {"Fn::Join": ["", ["llm-kit-models-", {"Ref": "AWS::AccountId"}, "-us-west-2"]]}
    for bucket_id in (model_id, log_id):
        props = template["Resources"][bucket_id]["Properties"]
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in (
            "AES256",
            "aws:kms",
        )
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
        assert props["PublicAccessBlockConfiguration"] == dict.fromkeys(
            ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True
        )
        storage.has_resource_properties(
            "AWS::S3::BucketPolicy",
            {
                "Bucket": {"Ref": bucket_id},
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [Match.object_like({"Effect": "Deny", "Action": "s3:*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                    )
                },
            },
        )
    assert model["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": log_id}


@pytest.mark.e2e
def test_data_stores_are_retained(templates):
    template = templates["llm-kit-storage"]
    for kind in ("AWS::S3::Bucket", "AWS::FSx::FileSystem"):
        for name, body in resources(template, kind).items():
            assert (body.get("DeletionPolicy"), body.get("UpdateReplacePolicy")) == ("Retain", "Retain"), name
    assert "Custom::S3AutoDeleteObjects" not in json.dumps(template)


def _lustre_rules(template):
    """(direction, peer, from, to) of every rule on the FSx security group, inline or separate."""
    [(group_id, group)] = resources(template, "AWS::EC2::SecurityGroup").items()
    rules = set()
    for direction, key in (("in", "SecurityGroupIngress"), ("out", "SecurityGroupEgress")):
        for rule in group["Properties"].get(key, []):
            rules.add((direction, rule["CidrIp"], rule["FromPort"], rule["ToPort"]))
    self_ref = {"Fn::GetAtt": [group_id, "GroupId"]}
    for direction, kind, peer in (
        ("in", "AWS::EC2::SecurityGroupIngress", "SourceSecurityGroupId"),
        ("out", "AWS::EC2::SecurityGroupEgress", "DestinationSecurityGroupId"),
    ):
        for rule in resources(template, kind).values():
            props = rule["Properties"]
            assert props["GroupId"] == self_ref and props[peer] == self_ref and props["IpProtocol"] == "tcp"
            rules.add((direction, "self", props["FromPort"], props["ToPort"]))
    return rules


@pytest.mark.e2e
def test_security_group_opens_lustre_ports_to_the_vpc_and_between_servers(templates):
    expected = {(d, peer, lo, hi) for d in ("in", "out") for peer in ("10.0.0.0/16", "self") for lo, hi in ((988, 988), (1018, 1023))}
    assert _lustre_rules(templates["llm-kit-storage"]) == expected
    [group] = _file_system(templates)["Properties"]["SecurityGroupIds"]
    assert group["Fn::GetAtt"][1] == "GroupId"


@pytest.mark.e2e
def test_storage_and_cluster_stacks_do_not_wait_for_each_other(synthesized, templates):
    artifacts = json.loads((synthesized["out"] / "manifest.json").read_text())["artifacts"]

    def stacks_before(name):
        return [dep for dep in artifacts[name].get("dependencies", []) if not dep.endswith(".assets")]

    assert stacks_before("llm-kit-storage") == ["llm-kit-network"]
    assert "llm-kit-storage" not in stacks_before("llm-kit-cluster")
    assert "llm-kit-cluster" not in json.dumps(templates["llm-kit-storage"])


@pytest.mark.e2e
def test_csi_addons_and_model_reader_use_pod_identity_with_prefix_read_only(templates):
    cluster = templates["llm-kit-cluster"]
    addons = {body["Properties"]["AddonName"]: body["Properties"] for body in resources(cluster, "AWS::EKS::Addon").values()}
    assert "aws-fsx-csi-driver" in addons and "PodIdentityAssociations" not in addons["aws-fsx-csi-driver"]
    [s3_csi] = addons[S3_CSI_ADDON]["PodIdentityAssociations"]
    assert s3_csi["ServiceAccount"] == "s3-csi-driver-sa"
    [association] = [
        a["Properties"]
        for a in resources(cluster, "AWS::EKS::PodIdentityAssociation").values()
        if a["Properties"]["Namespace"] == "inference"
    ]
    assert association["ServiceAccount"] == "model-reader"
    for role_arn in (s3_csi["RoleArn"], association["RoleArn"]):
        role_id = role_arn["Fn::GetAtt"][0]
        [policy] = [
            p["Properties"] for p in resources(cluster, "AWS::IAM::Policy").values() if p["Properties"]["Roles"] == [{"Ref": role_id}]
        ]
        statements = policy["PolicyDocument"]["Statement"]
        assert {s["Action"] for s in statements} == {"s3:ListBucket", "s3:GetObject"}
        listing = next(s for s in statements if s["Action"] == "s3:ListBucket")
        assert listing["Condition"] == {"StringLike": {"s3:prefix": ["models/", "models/*"]}}
        objects = next(s for s in statements if s["Action"] == "s3:GetObject")
        assert json.dumps(objects["Resource"]).endswith('"-us-west-2/models/*"]]}')


@pytest.mark.e2e
def test_kubernetes_objects_are_valid_and_point_at_the_storage(synthesized):
    stack = synthesized["storage_stack"]
    config = synthesized["config"]
    objects = storage_manifests(config.name, config.storage.workloads_namespace, stack.refs)
    for obj in objects:
        kubernetes_validate.validate(obj, "1.35", strict=True)
    kinds = [(o["kind"], o["metadata"]["name"]) for o in objects]
    assert kinds == [
        ("ServiceAccount", "model-reader"),
        ("PersistentVolume", "inference-models-s3"),
        ("PersistentVolumeClaim", "models-s3"),
        ("PersistentVolume", "inference-models-fsx"),
        ("PersistentVolumeClaim", "models-fsx"),
    ]
    s3_volume, fsx_volume = objects[1]["spec"], objects[3]["spec"]
    assert s3_volume["csi"]["driver"] == "s3.csi.aws.com"
    assert s3_volume["mountOptions"] == ["read-only", "allow-other", "region us-west-2", "prefix models/"]
    assert stack.resolve(s3_volume["csi"]["volumeAttributes"]["bucketName"]) == {
        "Fn::Join": ["", ["llm-kit-models-", {"Ref": "AWS::AccountId"}, "-us-west-2"]]
    }
    assert fsx_volume["csi"]["driver"] == "fsx.csi.aws.com"
    assert stack.resolve(fsx_volume["csi"]["volumeHandle"]) == {
        "Ref": next(iter(resources(synthesized["templates"]["llm-kit-storage"], "AWS::FSx::FileSystem")))
    }
    assert set(stack.resolve(fsx_volume["csi"]["volumeAttributes"])) == {"dnsname", "mountname"}
    assert fsx_volume["capacity"] == {"storage": "2400Gi"}


@pytest.mark.e2e
def test_cfn_lint_passes_on_the_storage_template(synthesized):
    template = synthesized["out"] / "llm-kit-storage.template.json"
    result = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), str(template)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_existing_vpc_mode_imports_the_network_in_the_storage_stack(tmp_path):
    existing = {
        "vpc_id": "vpc-0123456789abcdef0",
        "cidr": "10.20.0.0/16",
        "node_subnet_ids": ["subnet-0aaaaaaaaaaaaaaaa"],
        "control_plane_subnet_ids": ["subnet-0bbbbbbbbbbbbbbbb", "subnet-0cccccccccccccccc"],
        "control_plane_subnet_cidrs": ["10.20.240.0/28", "10.20.240.16/28"],
    }
    config = KIT.load(write_config(tmp_path, {"network": {"existing_vpc": existing}, "storage": STORAGE}))
    app = unvalidated_app(outdir=str(tmp_path / "out"))
    nag.enable_checks(app)
    stack = StorageStack(app, "storage", config=config, network=None, env=cdk.Environment(region=config.region))
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::FSx::FileSystem", {"SubnetIds": ["subnet-0aaaaaaaaaaaaaaaa"]})
    template.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {
            "VpcId": "vpc-0123456789abcdef0",
            "SecurityGroupIngress": Match.array_with([Match.object_like({"CidrIp": "10.20.0.0/16", "FromPort": 988})]),
        },
    )


@pytest.mark.e2e
def test_existing_bucket_without_fsx_needs_no_storage_stack(tmp_path):
    config = KIT.load(write_config(tmp_path, {"storage": {"model_bucket": {"existing_bucket_name": "acme-llm-models"}}}))
    assert not config.storage.owns_resources
    assert build_app(config).node.try_find_child("llm-kit-storage") is None


@pytest.mark.parametrize(
    ("storage", "expected"),
    [
        pytest.param(
            {"fsx": {"enabled": True, "storage_capacity_gib": 3000}},
            [
                "storage.fsx.storage_capacity_gib",
                "1200 GiB, 2400 GiB, then steps of 2400 GiB",
                "got: 3000",
                "1200 or a multiple of 2400",
                "fix: use 2400 or 4800",
            ],
            id="capacity-not-a-persistent-2-size",
        ),
        pytest.param(
            {"fsx": {"enabled": True, "throughput_per_unit_storage": 200}},
            ["storage.fsx.throughput_per_unit_storage", "got: 200", "125, 250, 500 or 1000"],
            id="throughput-not-a-persistent-2-value",
        ),
        pytest.param(
            {"model_bucket": {"existing_bucket_name": "My_Models..bucket"}},
            [
                "storage.model_bucket.existing_bucket_name",
                "not a valid S3 bucket name",
                "lower-case letters",
                "two adjacent dots",
                "got: 'My_Models..bucket'",
                "fix:",
            ],
            id="bad-bucket-name",
        ),
        pytest.param(
            {"model_bucket": {"create": False}},
            ["storage.model_bucket.create", "no existing bucket is named", "existing_bucket_name"],
            id="no-bucket-at-all",
        ),
        pytest.param(
            {"model_bucket": {"create": True, "existing_bucket_name": "acme-llm-models"}},
            ["storage.model_bucket.create", "asks for a new bucket while existing_bucket_name names one"],
            id="create-and-existing",
        ),
        pytest.param(
            {"fsx": {"enabled": True, "automatic_backup_retention_days": 7}},
            [
                "storage.fsx.automatic_backup_retention_days",
                "does not back up file systems linked to an S3 data repository",
                "link_to_bucket: false",
            ],
            id="backups-of-a-linked-file-system",
        ),
        pytest.param(
            {"fsx": {"enabled": True, "import_policy": ["NEW", "NEW"]}},
            ["storage.fsx.import_policy", "lists an event twice"],
            id="import-event-twice",
        ),
        pytest.param(
            {"models_prefix": "models"},
            ["storage.models_prefix", "got: 'models'", "ending with '/'"],
            id="prefix-without-slash",
        ),
    ],
)
def test_bad_storage_config_is_explained(tmp_path, storage, expected):
    assert_rejected(tmp_path, {"storage": storage}, expected)


SOURCES = TypeAdapter(ModelSource)


def test_model_sources_parse_by_type():
    s3 = SOURCES.validate_python({"type": "s3", "uri": "s3://acme-llm-models/models/meta-llama/Llama-3.1-8B-Instruct"})
    assert isinstance(s3, S3Source) and (s3.bucket, s3.key_prefix) == ("acme-llm-models", "models/meta-llama/Llama-3.1-8B-Instruct/")
    fsx = SOURCES.validate_python({"type": "fsx", "sub_path": "models/meta-llama/Llama-3.1-8B-Instruct"})
    assert isinstance(fsx, FsxSource) and fsx.claim_name == "models-fsx"
    hf = SOURCES.validate_python({"type": "hf", "repo_id": "meta-llama/Llama-3.1-8B-Instruct", "token_secret_name": "hf-token"})
    assert isinstance(hf, HfSource) and hf.revision == "main"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"type": "s3", "uri": "https://acme-llm-models.s3.amazonaws.com/models/x"}, "must start with s3://"),
        ({"type": "s3", "uri": "s3://Acme_Models/models/x"}, "bucket 'Acme_Models' is not a valid S3 bucket name"),
        ({"type": "s3", "uri": "s3://acme-llm-models/"}, "names a bucket but no model folder"),
        ({"type": "s3", "uri": "s3://acme-llm-models/models//x"}, "empty path segment"),
        ({"type": "fsx", "sub_path": "/models/x"}, "drop the leading '/'"),
        ({"type": "fsx", "sub_path": "models/../secrets"}, "without '..'"),
        ({"type": "hf", "repo_id": "just-a-name"}, "String should match pattern"),
        ({"type": "gcs", "uri": "gs://bucket/x"}, "'s3', 'fsx', 'hf'"),
        ({"type": "s3", "uri": "s3://acme-llm-models/m/", "revision": "main"}, "Extra inputs are not permitted"),
    ],
)
def test_bad_model_sources_are_rejected_with_a_reason(source, message):
    with pytest.raises(ValidationError) as caught:
        SOURCES.validate_python(source)
    assert message in str(caught.value)
