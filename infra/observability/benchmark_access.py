"""Pod Identity of the benchmark Jobs (each runs as a service account named after its workload): read datasets and
tokenizer files, write results.

Only on the model bucket, and only its datasets/ (read), models/ (read, for tokenizer files) and benchmarks/ (write) prefixes.
"""

from __future__ import annotations

from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct

from blueprints.benchmark.params import DATASETS_PREFIX, RESULTS_PREFIX
from infra import nag
from infra.cluster.pod_identity import pod_identity_role
from infra.config.model import KitConfig
from infra.storage.refs import StorageRefs


def benchmark_statements(storage: StorageRefs) -> list[iam.PolicyStatement]:
    bucket = storage.bucket_arn
    prefixes = [DATASETS_PREFIX, RESULTS_PREFIX, storage.models_prefix]
    return [
        iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket], conditions={"StringLike": {"s3:prefix": [f"{p}*" for p in prefixes]}}),
        iam.PolicyStatement(actions=["s3:GetObject"], resources=[f"{bucket}/{p}*" for p in prefixes]),
        iam.PolicyStatement(actions=["s3:PutObject"], resources=[f"{bucket}/{RESULTS_PREFIX}*"]),
    ]


class BenchmarkAccess(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: KitConfig, cluster: eks.ICluster, service_accounts: list[str]) -> None:
        super().__init__(scope, construct_id)
        storage = StorageRefs.from_config(config)
        self.role = pod_identity_role(self, "Role", description=f"Benchmark Jobs of {config.name}: read datasets and tokenizers, write results")
        for statement in benchmark_statements(storage):
            self.role.add_to_policy(statement)
        reasons = {
            DATASETS_PREFIX: "Read-only: datasets uploaded under the datasets/ prefix at any time.",
            storage.models_prefix: "Read-only: tokenizer files next to model weights under the model prefix.",
            RESULTS_PREFIX: "Each run writes new report objects under benchmarks/<workload>/<timestamp>/ (and checks whether they exist).",
        }
        for prefix, reason in reasons.items():
            nag.acknowledge(self.role, "IAM5", reason, finding="Resource::" + nag.finding_text(self, f"{storage.bucket_arn}/{prefix}*"))
        for account in service_accounts:
            eks.CfnPodIdentityAssociation(
                self,
                f"Association-{account}",
                cluster_name=cluster.cluster_name,
                namespace=config.storage.workloads_namespace,
                service_account=account,
                role_arn=self.role.role_arn,
            )
