"""The floor the kit is measured against: a bare aws-cdk-lib app with cdk-nag.

VPC, EKS v2 cluster with a kubectl provider, one managed node group, the AwsSolutions
pack on the app, and the acknowledgments it needs to pass. Run: python -m benchmarks.bare_app OUTDIR
"""

import json
import os
import sys

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk  # noqa: E402
from aws_cdk import aws_ec2 as ec2  # noqa: E402
from aws_cdk import aws_eks_v2 as eks  # noqa: E402
from aws_cdk.lambda_layer_kubectl_v35 import KubectlV35Layer  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402

MANAGED_POLICIES = (
    "AmazonEKSClusterPolicy",
    "service-role/AWSLambdaBasicExecutionRole",
    "service-role/AWSLambdaVPCAccessExecutionRole",
    "AmazonEC2ContainerRegistryReadOnly",
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
)


def main(outdir: str) -> None:
    app = cdk.App(outdir=outdir, analytics_reporting=False)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    stack = cdk.Stack(app, "Bare", env=cdk.Environment(region="us-west-2"))
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
    vpc.add_flow_log("FlowLog")
    cluster = eks.Cluster(
        stack,
        "Cluster",
        version=eks.KubernetesVersion.of("1.35"),
        vpc=vpc,
        default_capacity=0,
        default_capacity_type=eks.DefaultCapacityType.NODEGROUP,
        kubectl_provider_options=eks.KubectlProviderOptions(kubectl_layer=KubectlV35Layer(stack, "Kubectl")),
    )
    cluster.add_nodegroup_capacity("Nodes", instance_types=[ec2.InstanceType("m7i.large")], min_size=1)
    handler = cluster.node.find_child("KubectlProvider").node.find_child("Handler")
    condition = next(child for child in handler.node.children if isinstance(child, cdk.CfnCondition))
    public_ecr = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly"]]}
    function = handler.node.default_child
    assert isinstance(function, cdk.CfnElement), "the kubectl handler is a Lambda function construct with its CfnFunction"
    findings = [f"IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{name}]" for name in MANAGED_POLICIES]
    findings += [
        "IAM4[Policy::"
        + json.dumps({"Fn::If": [stack.get_logical_id(condition), public_ecr, {"Ref": "AWS::NoValue"}]}, separators=(",", ":"))
        + "]",
        f"IAM5[Resource::<{stack.get_logical_id(function)}.Arn>:*]",
        "L1",
        "EKS1",
        "EKS2",
    ]
    for finding in findings:
        cdk.Validations.of(stack).acknowledge(
            cdk.Acknowledgment(id=f"AwsSolutions::AwsSolutions-{finding}", reason="baseline app for the synth benchmark")
        )
    app.synth()


if __name__ == "__main__":
    main(sys.argv[1])
