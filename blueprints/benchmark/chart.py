"""A benchmark as a Kubernetes Job: inference-perf loads another workload's Service from a CPU node in the same
zone and writes its reports to s3://<model bucket>/benchmarks/<target>/<timestamp>/.

The Job's name carries a digest of its spec: a changed benchmark is a new Job (Job templates are immutable),
and an unchanged one is not re-run by every deploy.
"""

from __future__ import annotations

from pathlib import Path

from typing import TYPE_CHECKING

import yaml

from blueprints.benchmark.config import WORK_DIR, load_config
from blueprints.benchmark.params import BenchmarkWorkload
from blueprints.benchmark.target import BenchmarkTarget
from blueprints.common import objects
from blueprints.common.identity import server_identity
from blueprints.common.k8s_types import Container, EnvVar, JobSpec, PodSpec
from core.labels import ZONE_ID_LABEL
from core.images import IMAGES

if TYPE_CHECKING:
    import cdk8s
    from constructs import Construct

BLUEPRINT = "benchmark"
CONFIG_DIR = "/etc/benchmark"
RUNNER = Path(__file__).with_name("runner.py")


def container(workload: BenchmarkWorkload, target: BenchmarkTarget) -> Container:
    env = {
        "CONFIG_TEMPLATE": f"{CONFIG_DIR}/config.yml",
        "WORK_DIR": WORK_DIR,
        "HOME": WORK_DIR,
        "HF_HOME": f"{WORK_DIR}/hf",
        "AWS_REGION": target.region,
    }
    if workload.dataset:
        env["DATASET_URI"] = workload.dataset
    if target.tokenizer_uri:
        env["TOKENIZER_URI"] = target.tokenizer_uri
    variables: list[EnvVar] = [{"name": key, "value": value} for key, value in env.items()]
    if target.hf_token_secret:
        variables.append({"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": target.hf_token_secret, "key": "HF_TOKEN"}}})
    size = {"cpu": str(workload.cpu), "memory": f"{workload.memory_gib}Gi"}
    return {
        "name": "inference-perf",
        "image": workload.image or IMAGES["inference-perf"].reference,
        "command": ["python3", f"{CONFIG_DIR}/run.py"],
        "env": variables,
        "resources": {"requests": size, "limits": size},
        "volumeMounts": [{"name": "config", "mountPath": CONFIG_DIR, "readOnly": True}, {"name": "work", "mountPath": WORK_DIR}],
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": IMAGES["inference-perf"].run_as,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }


def benchmark_chart(scope: Construct, workload: BenchmarkWorkload, target: BenchmarkTarget) -> cdk8s.Chart:
    chart = objects.new_chart(scope, workload.name, target.namespace)
    name = workload.name
    labels = objects.labels(name, BLUEPRINT, "load-generator")
    files = {"config.yml": yaml.safe_dump(load_config(workload, target), sort_keys=False), "run.py": RUNNER.read_text()}
    runner = container(workload, target)
    versioned = objects.job_account_and_files(chart, name, BLUEPRINT, labels, files, runner)
    pod: PodSpec = {
        "serviceAccountName": name,
        **server_identity("inference-perf").pod_fields(),
        "restartPolicy": "Never",
        # Same zone as the servers: the numbers then exclude cross-zone hops. No GPU toleration, so CPU nodes only.
        "nodeSelector": {ZONE_ID_LABEL: target.az_id},
        "containers": [runner],
        "volumes": [{"name": "config", "configMap": {"name": versioned}}, {"name": "work", "emptyDir": {}}],
    }
    spec: JobSpec = {
        # A failed run is a result to read, not something to retry against a loaded server.
        "backoffLimit": 0,
        "ttlSecondsAfterFinished": workload.keep_finished_hours * 3600,
        "template": {"metadata": {"labels": labels}, "spec": pod},
    }
    objects.api_object(
        chart,
        "job",
        api_version="batch/v1",
        kind="Job",
        name=versioned,
        labels_=labels,
        annotations={"llm-kit/target": f"{target.service}.{target.namespace}:{target.port}"},
        body={"spec": spec},
    )
    return chart
