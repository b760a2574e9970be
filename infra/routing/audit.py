"""The gateway's audit log in CloudWatch Logs: one record per request (team, model, tokens, status, latency).

The proxies write the record as a JSON access-log line on stdout (infra/routing/teams.py); a Fluent Bit DaemonSet
on the system nodes, where the proxies run, tails only the container logs of the kit's Gateway's proxies and ships
them to a log group the kit creates with the config's retention. The group is retained on destroy (an audit trail
outlives the cluster) under a name unique to each creation of the stack.

The kit writes the DaemonSet itself from the image aws/eks-charts' aws-for-fluent-bit chart 0.2.0 runs
(aws-for-fluent-bit 3.2.1, Fluent Bit v4.2.2), not the chart: its templates/clusterrole.yaml always grants
get/list/watch on nodes and nodes/proxy (with pods, pods/logs and namespaces) cluster-wide, with no value to turn it
off, and nodes/proxy reaches every kubelet's API. Here the shipper has no Kubernetes RBAC and no API token at all:
the kubernetes filter reads the pod, namespace and container from the tag (Use_Tag_For_Meta, which skips every API
and kubelet call: plugins/filter_kubernetes/kube_meta.c flb_kube_meta_init), and merges the JSON record under
`audit`. Fluent Bit takes EKS Pod Identity credentials since 4.0 (fluent/fluent-bit#10115).

What the shipper may touch: the container logs read-only (/var/log/pods and the /var/log/containers links, nothing
else of /var/log), its read position in a host directory of its own (/var/fluent-bit/state, so a restarted or
updated pod resumes where the last one stopped instead of skipping or repeating records), HTTPS to CloudWatch Logs
and the Pod Identity agent (its namespace denies everything else). It runs as root because both of those need it:
container log files are root's with mode 0640 and the state directory is created by the kubelet as root's; it keeps
no capability (so no DAC override: it can read and write only what root owns of its mounts), no privilege
escalation, a read-only root filesystem, and its HTTP server listens on 127.0.0.1 only, for its liveness check.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import get_args

import aws_cdk as cdk
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct, IDependable

from core.labels import PART_OF, SYSTEM_POOL_LABEL
from core.routing import GATEWAY_NAME, PROXY_NAMESPACE
from core.schema import LogRetentionDays
from core.images import IMAGES
from infra.cluster.helm import chart_namespace
from infra.cluster.platform_policies import Component, PlatformIsolation, aws_apis, component_policies
from infra.cluster.pod_identity import pod_identity_role
from infra.images import wiring as image_wiring
from infra.logs import per_deployment_name
from infra.interfaces import cluster_interface

NAMESPACE = "gateway-audit"
NAME = "gateway-audit-shipper"
SERVICE_ACCOUNT = NAME
LABELS = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/part-of": PART_OF}
TAG_PREFIX = "gateway."
# The tail input turns `gateway.*` into gateway.<path with / as .>; the kubernetes filter must strip exactly that
# much before it reads <pod>_<namespace>_<container>-<id>.log from the rest (kube_meta.c parse_regex_tag_data): with
# its default (kube.var.log.containers.) it would read a wrong pod name and leave every record unmerged.
KUBE_TAG_PREFIX = f"{TAG_PREFIX}var.log.containers."
STATE = "/var/fluent-bit/state"
HEALTH_PORT = 2020
# Kubernetes names a generated pod after at most 58 characters of its ReplicaSet's name (names.SimpleNameGenerator).
GENERATED_NAME_BASE = 58
RETENTION_DAYS: tuple[int, ...] = get_args(LogRetentionDays)


def proxy_deployment(gateway_namespace: str, gateway_name: str = GATEWAY_NAME) -> str:
    """The Deployment Envoy Gateway v1.8.3 runs a Gateway's proxies in: envoy-<namespace>-<name> cut to 48 characters,
    then the first 8 hex digits of sha256("<namespace>/<name>") (internal/infrastructure/kubernetes/proxy/resource.go
    ExpectedResourceHashedName, internal/utils/misc.go GetHashedName, which trims one trailing '-' after the cut)."""
    key = f"{gateway_namespace}/{gateway_name}"
    name = key.replace("/", "-")
    if len(name) > 48:
        name = name[:48].removesuffix("-")
    return f"envoy-{name}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"


def proxy_log_glob(gateway_namespace: str) -> str:
    """The log files of the `envoy` container of the kit's Gateway's proxy pods, and no other: not their
    shutdown-manager or AI Gateway sidecar, not the rate limiter, the controller or another Gateway's proxies.
    Container log files are named <pod>_<namespace>_<container>-<container id>.log."""
    pods = f"{proxy_deployment(gateway_namespace)}-"[:GENERATED_NAME_BASE]
    return f"/var/log/containers/{pods}*_{PROXY_NAMESPACE}_envoy-*.log"


def fluent_bit_conf(gateway_namespace: str, log_group_name: str, region: str) -> str:
    """Fluent Bit v4.2.2 classic configuration (the image reads /fluent-bit/etc/fluent-bit.conf)."""
    sections = [
        (
            "SERVICE",
            [
                ("Flush", "5"),
                ("Log_Level", "info"),
                ("Parsers_File", "/fluent-bit/parsers/parsers.conf"),
                ("HTTP_Server", "On"),
                ("HTTP_Listen", "127.0.0.1"),
                ("HTTP_Port", str(HEALTH_PORT)),
                ("Health_Check", "On"),
                ("HC_Errors_Count", "5"),
                ("HC_Retry_Failure_Count", "5"),
                ("HC_Period", "5"),
            ],
        ),
        (
            "INPUT",
            [
                ("Name", "tail"),
                ("Tag", f"{TAG_PREFIX}*"),
                ("Path", proxy_log_glob(gateway_namespace)),
                ("multiline.parser", "cri"),
                ("DB", f"{STATE}/gateway-audit.db"),
                # A file the position database does not know yet is read from its start (a proxy that logged before
                # the shipper ran); a known one resumes at its recorded offset.
                ("Read_from_Head", "On"),
                ("Mem_Buf_Limit", "5MB"),
                ("Skip_Long_Lines", "On"),
                ("Refresh_Interval", "10"),
            ],
        ),
        (
            "FILTER",
            [
                ("Name", "kubernetes"),
                ("Match", f"{TAG_PREFIX}*"),
                ("Kube_Tag_Prefix", KUBE_TAG_PREFIX),
                ("Use_Tag_For_Meta", "On"),
                ("Merge_Log", "On"),
                ("Merge_Log_Key", "audit"),
                ("Keep_Log", "Off"),
                ("Labels", "Off"),
                ("Annotations", "Off"),
                ("K8S-Logging.Parser", "Off"),
                ("K8S-Logging.Exclude", "Off"),
            ],
        ),
        (
            "OUTPUT",
            [
                ("Name", "cloudwatch_logs"),
                ("Match", f"{TAG_PREFIX}*"),
                ("region", region),
                ("log_group_name", log_group_name),
                ("log_stream_prefix", "proxy-"),
                # The kit owns the group and its retention; the shipper may only write streams into it.
                ("auto_create_group", "Off"),
            ],
        ),
    ]
    return "".join(f"[{name}]\n" + "".join(f"    {key} {value}\n" for key, value in entries) for name, entries in sections)


def shipper_objects(gateway_namespace: str, log_group_name: str, region: str) -> list[dict]:
    meta = {"name": NAME, "namespace": NAMESPACE, "labels": LABELS}
    host = [("pods", "/var/log/pods"), ("containers", "/var/log/containers")]
    pod = {
        "serviceAccountName": SERVICE_ACCOUNT,
        # No Kubernetes API at all; the Pod Identity token comes in its own projected volume.
        "automountServiceAccountToken": False,
        "nodeSelector": SYSTEM_POOL_LABEL,
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [
            {
                "name": "fluent-bit",
                "image": IMAGES["fluent-bit"].reference,
                "securityContext": {
                    "runAsUser": IMAGES["fluent-bit"].run_as,
                    "runAsNonRoot": False,
                    "privileged": False,
                    "allowPrivilegeEscalation": False,
                    "capabilities": {"drop": ["ALL"]},
                    "readOnlyRootFilesystem": True,
                },
                "resources": {"requests": {"cpu": "50m", "memory": "50Mi"}, "limits": {"memory": "250Mi"}},
                "livenessProbe": {
                    # curl is in the image since aws-for-fluent-bit 3.0.1; the health endpoint is on loopback only.
                    "exec": {"command": ["curl", "-fsS", "-o", "/dev/null", f"http://127.0.0.1:{HEALTH_PORT}/api/v1/health"]},
                    "initialDelaySeconds": 30,
                    "timeoutSeconds": 10,
                    "failureThreshold": 2,
                },
                "volumeMounts": [
                    {"name": "config", "mountPath": "/fluent-bit/etc/", "readOnly": True},
                    {"name": "state", "mountPath": STATE},
                    *({"name": name, "mountPath": path, "readOnly": True} for name, path in host),
                ],
            }
        ],
        "volumes": [
            {"name": "config", "configMap": {"name": NAME}},
            {"name": "state", "hostPath": {"path": STATE, "type": "DirectoryOrCreate"}},
            *({"name": name, "hostPath": {"path": path, "type": "Directory"}} for name, path in host),
        ],
    }
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta, "automountServiceAccountToken": False},
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": meta,
            "data": {"fluent-bit.conf": fluent_bit_conf(gateway_namespace, log_group_name, region)},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": meta,
            "spec": {
                "selector": {"matchLabels": LABELS},
                "updateStrategy": {"type": "RollingUpdate"},
                "template": {"metadata": {"labels": LABELS}, "spec": pod},
            },
        },
    ]


@dataclass(frozen=True, kw_only=True)
class GatewayAuditProps:
    """The audit log group, and the Fluent Bit DaemonSet that ships the Gateway proxies' access log into it."""

    cluster: eks.Cluster
    """The cluster the shipper runs in."""
    cluster_name: str
    """The kit's name, in the log group's name."""
    retention_days: int
    """Days CloudWatch keeps the audit log (gateway.audit.log_retention_days)."""
    after: IDependable
    """The system nodes the shipper runs on."""
    gateway_namespace: str = "inference"
    """The namespace of the kit's Gateway object (the workloads namespace): its proxies' pod names derive from it.
    Default: "inference", as storage.workloads_namespace has it."""

    def __post_init__(self) -> None:
        if self.retention_days not in RETENTION_DAYS:
            raise ValueError(
                f"GatewayAuditProps.retention_days: got {self.retention_days}; a CloudWatch Logs retention"
                f" ({', '.join(map(str, RETENTION_DAYS))}) is allowed; pick one of them"
            )


class GatewayAudit(Construct):
    """The retained audit log group, the shipper's Pod Identity role, and the shipper in its own namespace."""

    def __init__(self, scope: Construct, construct_id: str, props: GatewayAuditProps) -> None:
        super().__init__(scope, construct_id)
        cluster = props.cluster
        self.log_group = logs.CfnLogGroup(
            self,
            "Logs",
            log_group_name=per_deployment_name(f"/llm-kit/{props.cluster_name}/gateway-audit", self),
            retention_in_days=props.retention_days,
        )
        self.log_group.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        # The group's ARN attribute ends in ":*", which already covers its streams.
        stream_arns = self.log_group.attr_arn
        self.role = pod_identity_role(
            self,
            "ShipperRole",
            description="Gateway audit log shipper: write streams of the audit log group",
            cluster=cluster_interface(cluster),
            namespace=NAMESPACE,
            service_accounts=(SERVICE_ACCOUNT,),
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                resources=[stream_arns],
            )
        )
        association = eks.CfnPodIdentityAssociation(
            self,
            "Association",
            cluster_name=cluster.cluster_name,
            namespace=NAMESPACE,
            service_account=SERVICE_ACCOUNT,
            role_arn=self.role.role_arn,
        )
        # Privileged for Pod Security: reading the nodes' container logs takes hostPath volumes. The namespace holds
        # the shipper alone, and none of its pods calls the Kubernetes API.
        namespace = chart_namespace(cluster, NAMESPACE, "privileged", api_for_every_pod=False)
        network = PlatformIsolation.of(cluster)
        # Its flows first: HTTPS to CloudWatch Logs (public or the interface endpoint) and the Pod Identity agent.
        policies = component_policies(NAMESPACE, [Component("shipper", LABELS, egress=aws_apis(network))]) if network else []
        objects = shipper_objects(props.gateway_namespace, self.log_group.ref, cdk.Stack.of(self).region)
        self.shipper = cluster.add_manifest("GatewayAuditShipper", *policies, *image_wiring.objects(cluster, objects))
        self.shipper.node.add_dependency(namespace, props.after, association, self.log_group)
