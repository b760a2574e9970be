"""CRDs published without a chart: fetched, checked against pinned SHA-256 digests, applied by a one-off Job, then
waited for.

The Job runs in a namespace of its own (crd-bundles), which denies everything but DNS, the Kubernetes API and, for
the Job's pods, HTTPS out of the VPC to fetch the files. Its first container (the pinned Python image, the standard
library program crd_fetch.py) downloads each file and keeps it only if its digest is the pinned one; the second runs
the kubectl image's own binary, with no shell, on those files alone. Both run as a non-root user without
capabilities on read-only root filesystems; the pod is deleted an hour after it finishes. The Job's name ends in a
digest of its spec: a Job's pod template is immutable, so new pins or images make a new Job, and the old one is
pruned with the manifest, where an apply over it would be refused. The account may create
CustomResourceDefinitions and update only the ones the bundle names. The cluster stack finishes only once every
named CRD exists, so the workloads stack never applies an object of a kind the API server does not know yet.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_eks_v2 as eks
from constructs import Construct, IDependable

from core.labels import PART_OF
from core.requirements import CrdBundle
from core.images import IMAGES
from infra.cluster import crd_fetch
from infra.cluster.helm import chart_namespace
from infra.cluster.platform_policies import Component, PlatformIsolation, PlatformNetwork, component_policies, outside_vpc_https
from infra.cluster.rbac import account_with_cluster_role
from infra.images import wiring as image_wiring
from infra.interfaces import cluster_interface

NAMESPACE = "crd-bundles"
JOB_PREFIX = "crd-bundle-"
DIGEST_CHARS = 10
"""Hex digits of the Job spec's SHA-256 in the Job's name: a changed Job is a new one (its pod template is immutable)."""
TOKEN = re.compile(r"\$\{Token\[[^\]]*\]\}")
"""A CDK token's string form in a manifest, e.g. ${Token[AWS.AccountId.8]}."""
BUNDLE = "/bundle"
_CONTAINER_SECURITY = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": True}


def _runs_as(image_key: str) -> dict:
    """A container's security context: the user its image record says the kit runs it as, and nothing more."""
    user = IMAGES[image_key].run_as
    return {**_CONTAINER_SECURITY, "runAsUser": user, "runAsGroup": user}


def _job_template(name: str, labels: dict[str, str], files: list[dict[str, str]]) -> dict:
    """The Job's pod: fetch and check the pinned files (Python), then apply them (kubectl), each as its image's user."""
    return {
        "metadata": {"labels": labels},
        "spec": {
            "serviceAccountName": name,
            "restartPolicy": "OnFailure",
            "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            "volumes": [
                {"name": "program", "configMap": {"name": name}},
                {"name": "bundle", "emptyDir": {}},
                {"name": "tmp", "emptyDir": {}},
            ],
            "initContainers": [
                {
                    "name": "fetch",
                    "image": IMAGES["python"].reference,
                    "command": ["python", "/program/crd_fetch.py"],
                    "env": [
                        {"name": "FILES", "value": json.dumps(files)},
                        {"name": "OUT", "value": BUNDLE},
                        {"name": "PYTHONDONTWRITEBYTECODE", "value": "1"},
                    ],
                    "volumeMounts": [
                        {"name": "program", "mountPath": "/program", "readOnly": True},
                        {"name": "bundle", "mountPath": BUNDLE},
                    ],
                    "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}},
                    "securityContext": _runs_as("python"),
                }
            ],
            "containers": [
                {
                    "name": "apply",
                    "image": IMAGES["kubectl"].reference,
                    "args": ["apply", "--server-side", "--force-conflicts", "-f", BUNDLE],
                    # kubectl keeps its discovery cache under HOME.
                    "env": [{"name": "HOME", "value": "/tmp"}],
                    "volumeMounts": [
                        {"name": "bundle", "mountPath": BUNDLE, "readOnly": True},
                        {"name": "tmp", "mountPath": "/tmp"},
                    ],
                    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
                    "securityContext": _runs_as("kubectl"),
                }
            ],
        },
    }


def _job_named_by_spec(objects: list[dict]) -> list[dict]:
    """The Job named after a digest of its spec as the cluster gets it: images already rewritten, and a CDK token
    (the account in a cache's host) counted by kind, since its number changes with unrelated constructs.

    A Job's pod template is immutable: a changed one (new pins, images, users, a cache turned on) is a new Job under a
    new name, and the manifest's prune deletes the old one, instead of a kubectl apply the API server refuses."""
    for obj in objects:
        if obj["kind"] == "Job":
            spec = TOKEN.sub("${Token}", json.dumps(obj["spec"], sort_keys=True))
            obj["metadata"]["name"] += "-" + hashlib.sha256(spec.encode()).hexdigest()[:DIGEST_CHARS]
    return objects


def bundle_objects(
    bundle: CrdBundle, network: PlatformNetwork | None = None, images: Callable[[list[dict]], list[dict]] = lambda items: items
) -> list[dict]:
    """network: the cluster's PlatformNetwork; with it, the NetworkPolicy that lets the Job's pods fetch the files.
    images: the cluster's image rewrite (infra/images/wiring.py), applied before the Job is named after its spec."""
    name = f"{JOB_PREFIX}{bundle.name}"
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": PART_OF}
    crds = "customresourcedefinitions"
    group = "apiextensions.k8s.io"
    files = [{"url": file.url, "sha256": file.sha256} for file in bundle.files]
    policies = component_policies(NAMESPACE, [Component(name, labels, egress=(outside_vpc_https(network),))]) if network else []
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels},
        "spec": {
            "backoffLimit": 6,
            "ttlSecondsAfterFinished": 3600,
            "template": _job_template(name, labels, files),
        },
    }
    objects = [
        *policies,
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
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels},
            "data": {"crd_fetch.py": inspect.getsource(crd_fetch)},
        },
        job,
    ]
    return _job_named_by_spec(images(objects))


@dataclass(frozen=True, kw_only=True)
class CrdBundlesProps:
    """The CRD bundles the enabled workloads require, applied by a Job each, and what the Jobs wait for."""

    cluster: eks.Cluster
    """The cluster the CRDs are applied to."""
    bundles: tuple[CrdBundle, ...]
    """The bundles (core.requirements), each once by name; none: the construct adds nothing."""
    after: IDependable
    """Nodes to run the Job on."""

    def __post_init__(self) -> None:
        names = [bundle.name for bundle in self.bundles]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"CrdBundlesProps.bundles: got {twice} more than once; each bundle once; merge the requirements")
        too_long = [name for name in names if len(f"{JOB_PREFIX}{name}-") + DIGEST_CHARS > 63]
        if too_long:
            raise ValueError(
                f"CrdBundlesProps.bundles: got names {too_long}; at most {63 - len(JOB_PREFIX) - 1 - DIGEST_CHARS} characters, "
                "since the Job's name (crd-bundle-<name>-<digest>) is a label value of its pods; shorten the bundle's name"
            )


class CrdBundles(Construct):
    """A Job per bundle that fetches its pinned CRD files and applies them, and a wait on each CRD it holds."""

    def __init__(self, scope: Construct, construct_id: str, props: CrdBundlesProps) -> None:
        super().__init__(scope, construct_id)
        self.ready: list[IDependable] = []
        if not props.bundles:
            return
        namespace = chart_namespace(props.cluster, NAMESPACE, "restricted")
        network = PlatformIsolation.of(props.cluster)
        for bundle in props.bundles:
            job = eks.KubernetesManifest(
                self,
                f"Apply-{bundle.name}",
                cluster=cluster_interface(props.cluster),
                manifest=bundle_objects(bundle, network, images=lambda items: image_wiring.objects(props.cluster, items)),
                overwrite=True,
            )
            job.node.add_dependency(props.after, namespace)
            for crd in bundle.crds:
                # Reads the CRD back, retrying until it exists or the timeout passes (then the stack fails and rolls back).
                value = eks.KubernetesObjectValue(
                    self,
                    f"Wait-{crd}",
                    cluster=cluster_interface(props.cluster),
                    object_type="customresourcedefinition",
                    object_name=crd,
                    json_path=".metadata.name",
                    timeout=cdk.Duration.minutes(10),
                )
                value.node.add_dependency(job)
                self.ready.append(value)
