"""Capacity-block pools follow their block: a CronJob that sets each static NodePool's node count every 5 minutes.

The data plane creates the NodePool without nodes and no deploy applies its count again (data_plane.py, _static_pool):
the reconciler alone moves it, up at the block's start, down at its drain point; a pool created mid-block gets its
nodes at the next run. Its account may read and scale only these pools.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Sequence

from core import capacity_block_schedule
from core.labels import PART_OF, SYSTEM_POOL_LABEL
from core.images import IMAGES
from infra.cluster.rbac import account_with_cluster_role
from infra.gpu import capacity_block_reconciler, kube_api
from infra.gpu.pool_props import NodePoolProps

NAMESPACE = "capacity-blocks"
NAME = "capacity-block-reconciler"
SCHEDULE = "*/5 * * * *"
"""Every 5 minutes: a block's edge is met within 5 minutes (the drain point leaves 20 minutes of slack by default)."""


def blocks_env(pools: Sequence[NodePoolProps]) -> list[dict]:
    """The reconciler's BLOCKS: each capacity-block pool's name and window (capacity_block_reconciler.py reads it)."""
    return [
        {
            "pool": pool.name,
            "start": block.start.isoformat(),
            "end": block.end.isoformat(),
            "instances": block.instances,
            "drain_minutes_before_end": block.drain_minutes_before_end,
        }
        for pool in pools
        if (block := pool.capacity_block) is not None
    ]


def scheduler_objects(pools: Sequence[NodePoolProps]) -> list[dict]:
    """The reconciler's account, program and CronJob; nothing where no pool follows a block."""
    blocks = blocks_env(pools)
    if not blocks:
        return []
    labels = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/part-of": PART_OF}
    meta = {"name": NAME, "namespace": NAMESPACE, "labels": labels}
    pod = {
        "serviceAccountName": NAME,
        "restartPolicy": "OnFailure",
        "nodeSelector": SYSTEM_POOL_LABEL,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": IMAGES["python"].run_as,
            "runAsGroup": IMAGES["python"].run_as,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [
            {
                "name": "reconciler",
                "image": IMAGES["python"].reference,
                "command": ["python", "/program/capacity_block_reconciler.py"],
                "env": [{"name": "BLOCKS", "value": json.dumps(blocks)}, {"name": "PYTHONDONTWRITEBYTECODE", "value": "1"}],
                "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}},
                "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": True},
                "volumeMounts": [{"name": "program", "mountPath": "/program", "readOnly": True}],
            }
        ],
        "volumes": [{"name": "program", "configMap": {"name": NAME}}],
    }
    return [
        *account_with_cluster_role(
            NAME,
            NAMESPACE,
            labels,
            [
                {
                    "apiGroups": ["karpenter.sh"],
                    "resources": ["nodepools/scale"],
                    "resourceNames": [b["pool"] for b in blocks],
                    "verbs": ["get", "patch"],
                }
            ],
        ),
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": meta,
            "data": {
                "capacity_block_reconciler.py": inspect.getsource(capacity_block_reconciler),
                "capacity_block_schedule.py": inspect.getsource(capacity_block_schedule),
                "kube_api.py": inspect.getsource(kube_api),
            },
        },
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": meta,
            "spec": {
                "schedule": SCHEDULE,
                "timeZone": "Etc/UTC",
                "concurrencyPolicy": "Forbid",
                "startingDeadlineSeconds": 240,
                "successfulJobsHistoryLimit": 1,
                "failedJobsHistoryLimit": 3,
                "jobTemplate": {
                    "spec": {"backoffLimit": 2, "activeDeadlineSeconds": 240, "template": {"metadata": {"labels": labels}, "spec": pod}}
                },
            },
        },
    ]
