"""CRDs published only as a release manifest: applied in the cluster by a one-off kubectl Job, then waited for.

The Job's account may create CustomResourceDefinitions and update only the ones the bundle names; the pod runs
the kubectl image's own binary with no shell, as a non-root user, and is deleted an hour after it finishes.
The cluster stack finishes only once every named CRD exists, so the workloads stack never applies an object of a
kind the API server does not know yet.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_eks_v2 as eks
from constructs import Construct, IDependable

from core.requirements import CrdBundle
from core.versions import IMAGES
from infra.cluster.rbac import account_with_cluster_role

NAMESPACE = "kube-system"


def bundle_objects(bundle: CrdBundle) -> list[dict]:
    name = f"crd-bundle-{bundle.name}"
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "llm-serving-kit"}
    crds = "customresourcedefinitions"
    group = "apiextensions.k8s.io"
    return [
        # create cannot be limited by name (the object does not exist yet); everything else can.
        *account_with_cluster_role(
            name,
            NAMESPACE,
            labels,
            [
                {"apiGroups": [group], "resources": [crds], "verbs": ["create"]},
                {"apiGroups": [group], "resources": [crds], "resourceNames": list(bundle.crds), "verbs": ["get", "patch", "update"]},
            ],
        ),
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels},
            "spec": {
                "backoffLimit": 6,
                "ttlSecondsAfterFinished": 3600,
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "serviceAccountName": name,
                        "restartPolicy": "OnFailure",
                        "securityContext": {"runAsNonRoot": True, "runAsUser": 65534, "seccompProfile": {"type": "RuntimeDefault"}},
                        "volumes": [{"name": "tmp", "emptyDir": {}}],
                        "containers": [
                            {
                                "name": "apply",
                                "image": IMAGES["kubectl"],
                                "args": ["apply", "--server-side", "--force-conflicts", "-f", bundle.url],
                                # kubectl keeps its discovery cache under HOME.
                                "env": [{"name": "HOME", "value": "/tmp"}],
                                "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
                                "securityContext": {
                                    "allowPrivilegeEscalation": False,
                                    "capabilities": {"drop": ["ALL"]},
                                    "readOnlyRootFilesystem": True,
                                },
                            }
                        ],
                    },
                },
            },
        },
    ]


@dataclass(frozen=True)
class CrdBundlesProps:
    cluster: eks.Cluster
    bundles: tuple[CrdBundle, ...]
    after: IDependable
    """Nodes to run the Job on."""


class CrdBundles(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: CrdBundlesProps) -> None:
        super().__init__(scope, construct_id)
        self.ready: list[IDependable] = []
        for bundle in props.bundles:
            job = eks.KubernetesManifest(self, f"Apply-{bundle.name}", cluster=props.cluster, manifest=bundle_objects(bundle), overwrite=True)
            job.node.add_dependency(props.after)
            for crd in bundle.crds:
                # Reads the CRD back, retrying until it exists or the timeout passes (then the stack fails and rolls back).
                value = eks.KubernetesObjectValue(
                    self,
                    f"Wait-{crd}",
                    cluster=props.cluster,
                    object_type="customresourcedefinition",
                    object_name=crd,
                    json_path=".metadata.name",
                    timeout=cdk.Duration.minutes(10),
                )
                value.node.add_dependency(job)
                self.ready.append(value)
