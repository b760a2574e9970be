"""What the plan knows beyond the resource schemas: which resources hold state or outlive a deploy, and what the
EKS kubectl provider's handler does with an update (aws-cdk-lib 2.275)."""

from __future__ import annotations

# Replacing or deleting one of these loses data, addresses or a running fleet: the plan stops unless acknowledged.
STATEFUL = {
    "AWS::EKS::Cluster": "the EKS cluster (every node, add-on and Kubernetes object in it)",
    "AWS::EKS::Nodegroup": "a managed node group (its nodes are drained and replaced)",
    "AWS::FSx::FileSystem": "the FSx file system and the data on it",
    "AWS::FSx::DataRepositoryAssociation": "the FSx link to S3 (a new one re-imports the prefix)",
    "AWS::S3::Bucket": "an S3 bucket and its objects",
    "AWS::KMS::Key": "a KMS key (data encrypted under the old key needs it)",
    "AWS::EC2::VPC": "the VPC and everything in it",
    "AWS::EC2::Subnet": "a subnet (every interface in it: nodes, endpoints, FSx)",
    "AWS::EC2::EIP": "an Elastic IP (the NAT gateway's public address, which others may allow-list)",
    "AWS::ECR::Repository": "an ECR repository and its images",
    "AWS::EFS::FileSystem": "an EFS file system and its data",
    "AWS::DynamoDB::Table": "a DynamoDB table and its items",
    "AWS::SecretsManager::Secret": "a secret (its value is lost with it)",
    "AWS::APS::Workspace": "the Prometheus workspace and its metrics history",
}
RETAINING_POLICIES = ("Retain", "RetainExceptOnCreate", "Snapshot")


def stateful(resource_type: str, body: dict) -> str | None:
    """Why replacing this resource matters, or None. Whatever the kit keeps on destroy counts as long-lived."""
    if resource_type in STATEFUL:
        return STATEFUL[resource_type]
    if body.get("DeletionPolicy") in RETAINING_POLICIES or body.get("UpdateReplacePolicy") in RETAINING_POLICIES:
        return f"a retained {resource_type} (the kit keeps it on destroy)"
    return None


def retained(body: dict) -> bool:
    return body.get("DeletionPolicy") in RETAINING_POLICIES


# The aws-eks-v2 kubectl provider. Its handler (aws-cdk-lib 2.275, lib/aws-eks-v2/lib/kubectl-handler/, copied into
# cdk.out as an asset: index.py, apply/__init__.py, helm/__init__.py) returns no physical id, and the provider
# framework (custom-resources/lib/provider-framework/runtime/framework.js: defaultPhysicalResourceId) then keeps the
# old one on Update: CloudFormation updates these resources in place, it never replaces them.
KUBECTL_MANIFEST = "Custom::AWSCDK-EKS-KubernetesResource"
KUBECTL_HELM = "Custom::AWSCDK-EKS-HelmChart"
KUBECTL_TYPES = (KUBECTL_MANIFEST, KUBECTL_HELM, "Custom::AWSCDK-EKS-KubernetesPatch", "Custom::AWSCDK-EKS-KubernetesObjectValue")
HANDLER_SOURCE = "aws-cdk-lib 2.275 aws-eks-v2 kubectl-handler"
IN_PLACE_KUBECTL = {
    KUBECTL_MANIFEST: (
        "updated in place: the kubectl handler runs `kubectl apply` with the new manifest (with --prune on the resource's own label)"
    ),
    KUBECTL_HELM: "updated in place: the kubectl handler runs `helm upgrade --install` of the release",
    "Custom::AWSCDK-EKS-KubernetesPatch": "updated in place: the kubectl handler applies the new patch",
    "Custom::AWSCDK-EKS-KubernetesObjectValue": "updated in place: the kubectl handler reads the object again",
}
# A changed ServiceToken points the resource at another function; what CloudFormation does then is not in the handler.
UNKNOWN_CUSTOM = "unknown: a custom resource's own handler decides what an update does"


def attribute_is_stable(attribute: str) -> bool:
    """Identifiers and ARNs of a resource updated in place stay as they are; other attributes (a launch template's
    LatestVersionNumber, an endpoint) may change with the update, and the schema does not say which do."""
    return attribute.endswith(("Arn", "Id", "Name", "Identifier")) or attribute in ("Arn", "Id", "GroupId")
