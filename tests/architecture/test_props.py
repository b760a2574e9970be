"""Constructs build from their props alone, in a bare stack: no config file, no other stack."""

from __future__ import annotations

import dataclasses
import json
from ipaddress import IPv4Network

import aws_cdk as cdk
import pytest
from aws_cdk import aws_eks_v2 as eks
from aws_cdk.assertions import Template
from aws_cdk.lambda_layer_kubectl_v35 import KubectlV35Layer

from infra.gpu.karpenter import Karpenter, KarpenterProps
from infra.network.vpc import SingleZoneVpc, SingleZoneVpcProps
from infra.storage.bucket import ModelBucket, ModelBucketProps
from tests.helpers import helm_values, unvalidated_app


def _stack() -> cdk.Stack:
    return cdk.Stack(unvalidated_app(), "Bare", env=cdk.Environment(account="111122223333", region="us-west-2"))


def test_props_are_frozen_with_documented_defaults():
    props = SingleZoneVpcProps(az_id="usw2-az2", control_plane_az_id="usw2-az1")
    assert (props.vpc_cidr, props.node_subnet_prefix, props.nat_gateways, props.flow_logs_retention_days) == (
        IPv4Network("10.0.0.0/16"),
        17,
        1,
        90,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        props.nat_gateways = 0


def test_a_vpc_from_props_alone():
    stack = _stack()
    SingleZoneVpc(
        stack,
        "Vpc",
        SingleZoneVpcProps(
            az_id="usw2-az2",
            control_plane_az_id="usw2-az1",
            vpc_cidr=IPv4Network("10.8.0.0/20"),
            node_subnet_prefix=21,
            nat_gateways=0,
            flow_logs_retention_days=None,
        ),
    )
    template = Template.from_stack(stack)
    subnets = template.find_resources("AWS::EC2::Subnet")
    assert sorted(s["Properties"]["AvailabilityZoneId"] for s in subnets.values()) == [
        "usw2-az1",
        "usw2-az1",
        "usw2-az2",
        "usw2-az2",
        "usw2-az2",
    ]
    template.resource_count_is("AWS::EC2::NatGateway", 0)
    template.resource_count_is("AWS::EC2::FlowLog", 0)


def test_a_bucket_from_props_alone():
    stack = _stack()
    ModelBucket(stack, "Models", ModelBucketProps(bucket_name="acme-models", access_logs=False))
    template = Template.from_stack(stack)
    [bucket] = template.find_resources("AWS::S3::Bucket").values()
    assert bucket["Properties"]["BucketName"] == "acme-models" and bucket["DeletionPolicy"] == "Retain"


def test_karpenter_from_props_alone():
    stack = _stack()
    cluster = eks.Cluster(
        stack,
        "Cluster",
        version=eks.KubernetesVersion.V1_35,
        kubectl_provider_options=eks.KubectlProviderOptions(kubectl_layer=KubectlV35Layer(stack, "Layer")),
    )
    Karpenter(stack, "Karpenter", KarpenterProps(cluster=cluster, cluster_name="bare", replicas=1, node_repair=False))
    template = Template.from_stack(stack)
    [chart] = template.find_resources("Custom::AWSCDK-EKS-HelmChart").values()
    values = json.loads(helm_values(chart["Properties"]["Values"]))
    assert values["replicas"] == 1 and values["settings"]["featureGates"]["nodeRepair"] is False
    [queue] = template.find_resources("AWS::SQS::Queue").values()
    assert queue["Properties"]["QueueName"] == "bare-karpenter"
