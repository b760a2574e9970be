"""The batch lane as an Indexed Job: one index per input file, `vllm run-batch` between a fetch from S3 and an upload.

The Job's name carries a digest of its spec (Job templates are immutable): a changed batch is a new Job, an
unchanged one is not re-run by every deploy. Under Kueue the Job is admitted whole at batch priority; when real-time
serving preempts it, Kueue suspends it, and on resumption the indexes already completed are not run again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from blueprints.common import objects, pod_scheduling, resources
from blueprints.common.identity import server_identity
from blueprints.common.k8s_types import Container, JobSpec, PodSpec
from blueprints.common.model_source import ModelMount, model_mount
from blueprints.common.placement import Placement
from blueprints.common.vllm_args import engine_args
from blueprints.vllm_batch.params import BATCH_PREFIX, VllmBatchWorkload
from core.images import IMAGES

if TYPE_CHECKING:
    import cdk8s
    from constructs import Construct

BLUEPRINT = "vllm-batch"
IMAGE_KEY = "vllm"
PROGRAM = "/program"
IO = Path(__file__).with_name("batch_io.py")
FIXED_ARGS = ("-i", "/work/input.jsonl", "-o", "/work/output.jsonl", "--output-tmp-dir", "/work/tmp")
"""`vllm run-batch`'s own arguments in run.sh; the container's args follow them."""
COMMAND = ("bash", f"{PROGRAM}/run.sh")
"""The container's command: run.sh fetches the inputs, runs `vllm run-batch` and puts the results."""
RUN = """set -euo pipefail
mkdir -p /work/tmp
python3 {program}/batch_io.py fetch
vllm run-batch {fixed} "$@"
python3 {program}/batch_io.py put
"""


def results_prefix(bucket: str, workload: str) -> str:
    return f"s3://{bucket}/{BATCH_PREFIX}{workload}/results/"


def run_batch_args(workload: VllmBatchWorkload, location: str, model: ModelMount) -> list[str]:
    """What follows `vllm run-batch -i ... -o ...`: the model and the engine, as `vllm serve` gets them."""
    return ["--model", location, *engine_args(workload, model, workload.public_model_name)]


def vllm_batch_chart(scope: Construct, workload: VllmBatchWorkload, placement: Placement, bucket: str) -> cdk8s.Chart:
    chart = objects.new_chart(scope, workload.name, placement.namespace)
    name = workload.name
    labels = objects.labels(name, BLUEPRINT, "batch")
    identity = server_identity(IMAGE_KEY, workload.run_as_user)
    model = model_mount(workload.model, identity.hf_home)
    shm_volume, shm_mount = resources.shm(resources.shm_gib(placement.instance, workload.gpus_per_pod(), workload.shm_size_gib, 0))
    inputs = list(workload.inputs)
    files = {"batch_io.py": IO.read_text(), "run.sh": RUN.format(program=PROGRAM, fixed=" ".join(FIXED_ARGS))}
    container: Container = {
        "name": "batch",
        "image": workload.image or IMAGES["vllm"].reference,
        "command": list(COMMAND),
        "args": run_batch_args(workload, model.location, model),
        "env": [
            {"name": "INPUTS", "value": json.dumps(inputs)},
            {"name": "OUTPUT_PREFIX", "value": results_prefix(bucket, name)},
            {"name": "AWS_REGION", "value": placement.region},
            *identity.env(),
            *model.env,
        ],
        "resources": resources.container_resources(
            placement, workload.gpus_per_pod(), workload.memory_gib_per_gpu, shm_size_gib=workload.shm_size_gib, efa=False
        ),
        "volumeMounts": [
            shm_mount,
            {"name": "work", "mountPath": "/work"},
            {"name": "program", "mountPath": PROGRAM, "readOnly": True},
            *identity.mounts(),
            *model.mounts,
        ],
        "securityContext": identity.security_context(),
    }
    # A batch run is judged by throughput, not latency: its CPU is capped at its request, so neighbours keep theirs.
    container["resources"]["limits"]["cpu"] = container["resources"]["requests"]["cpu"]
    # Its own service account: read its inputs and the weights, write its results.
    versioned = objects.job_account_and_files(chart, name, BLUEPRINT, labels, files, container)
    pod: PodSpec = {
        "serviceAccountName": name,
        **identity.pod_fields(),
        "restartPolicy": "Never",
        "containers": [container],
        "volumes": [
            shm_volume,
            {"name": "work", "emptyDir": {}},
            {"name": "program", "configMap": {"name": versioned}},
            *identity.volumes(),
            *model.volumes,
        ],
        **pod_scheduling.gpu_scheduling(placement, objects.selector_labels(name)),
    }
    spec: JobSpec = {
        "completionMode": "Indexed",
        "completions": len(inputs),
        "parallelism": min(workload.replicas, len(inputs)),
        # Each file gets two more tries of its own; one bad file does not stop the others.
        "backoffLimitPerIndex": 2,
        "ttlSecondsAfterFinished": workload.keep_finished_hours * 3600,
        "template": {"metadata": {"labels": labels}, "spec": pod},
    }
    objects.api_object(chart, "job", api_version="batch/v1", kind="Job", name=versioned, labels_=labels, body={"spec": spec})
    return chart
