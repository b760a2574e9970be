"""Workloads stack: the model-storage objects and every enabled workload's objects, applied through the cluster's kubectl provider.

Its own lifecycle: redeploying or removing a model never touches the cluster or the storage.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_eks_v2 as eks
from constructs import Construct

from config.model import PlatformConfig
from core.isolation import PodSecurityLevel
from config.platform import network_facts
from config.platform import platform as platform_facts
from core.model_sources import ACCOUNT_FIELD
from core.placeholders import fill
from core.registry_cache import rewrite_objects
from config.images import registry_cache
from core.routing import AMP_QUERY_URL
from infra.cluster.namespace import workloads_namespace
from infra.scheduling.kueue import local_queue
from infra.routing.gateway import gateway_objects
from infra.stacks.routing_props import gateway_settings
from infra.routing.redis_auth import add_redis_password
from infra.storage.manifests import storage_manifests
from infra.storage.refs import StorageRefs

# aws-cdk-lib refuses a stack description over 512 characters (CloudFormation itself allows 1,024 bytes).
DESCRIPTION_LIMIT = 512


def describe(kit_name: str, workloads: list[str]) -> str:
    """Every workload by name while that fits CloudFormation's limit; else a count and the first names that fit."""
    full = f"{kit_name}: model storage objects and {', '.join(workloads) or 'no workloads'}"
    if len(full) <= DESCRIPTION_LIMIT:
        return full
    shown: list[str] = []
    for name in workloads:
        candidate = f"{kit_name}: model storage objects and {len(workloads)} workloads ({', '.join([*shown, name])}, ...)"
        if len(candidate) > DESCRIPTION_LIMIT:
            break
        shown.append(name)
    return f"{kit_name}: model storage objects and {len(workloads)} workloads ({', '.join(shown)}, ...)"


class WorkloadsStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PlatformConfig,
        cluster: eks.ICluster,
        storage: StorageRefs,
        workloads: dict[str, list[dict]],
        pod_security: PodSecurityLevel = "restricted",
        gateway: bool = False,
        metrics_query_url: str | None = None,
        queued_teams: tuple[str, ...],
        **kwargs,
    ) -> None:
        """workloads: {workload name: its rendered Kubernetes objects}; pod_security: the level the namespace enforces;
        gateway: write the kit's Gateway; metrics_query_url: the AMP workspace, filled into the autoscalers' queries;
        queued_teams: the teams whose queues the kit's own workloads name, each a LocalQueue here."""
        super().__init__(scope, construct_id, description=describe(config.name, list(workloads)), **kwargs)
        namespace = config.storage.workloads_namespace
        labels = {"app.kubernetes.io/part-of": config.name}
        isolate = config.cluster.network_policies.enabled
        # Only the queues the kit's own workloads join: a team's people submit in the team's namespaces, whose pods
        # the model servers do not admit (Kueue and its ClusterQueues come with the cluster stack).
        teams = queued_teams
        base_objects = workloads_namespace(namespace, labels, pod_security=pod_security, isolate=isolate, queued=bool(teams))
        base_objects += [local_queue(team, namespace) for team in teams]
        base_objects += storage_manifests(config.name, namespace, storage)
        if gateway:
            routing = platform_facts(config).routing
            base_objects += gateway_objects(
                namespace,
                labels,
                gateway_settings(config.gateway),
                vpc_cidr=network_facts(config).vpc_cidr,
                region=config.region,
                teams_for=routing.teams_for,
                isolate=isolate,
            )
        base_objects = rewrite_objects(base_objects, registry_cache(config, account=config.account or cdk.Aws.ACCOUNT_ID))
        base = eks.KubernetesManifest(self, "ModelStorage", cluster=cluster, manifest=base_objects, overwrite=True)
        self.redis_password = add_redis_password(self, cluster, config.name) if gateway else None
        self.manifests: dict[str, eks.KubernetesManifest] = {}
        for name, objects in workloads.items():
            # One nested stack per workload keeps every template far below CloudFormation's 1 MB at any number of
            # workloads, and a workload's objects never move between templates when others come and go.
            nested = cdk.NestedStack(self, f"Workload-{name}", description=f"{config.name}: workload {name}")
            if metrics_query_url is not None:
                objects = fill(objects, AMP_QUERY_URL, metrics_query_url)
            # Model URIs (and the benchmark's bucket) may name the account as {account}: the kit's bucket carries it.
            objects = fill(objects, ACCOUNT_FIELD, config.account or cdk.Aws.ACCOUNT_ID)
            manifest = eks.KubernetesManifest(nested, "Objects", cluster=cluster, manifest=objects, overwrite=True)
            nested.node.add_dependency(base)
            self.manifests[name] = manifest
