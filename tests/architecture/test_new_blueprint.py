"""A new blueprint is one folder plus one registration line: proven on a copy of the kit, through the main job."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml

from tests.blueprints import test_examples as EXAMPLE_TESTS
from tests.helpers import REPO, default_config_data, kubernetes_objects

ECHO = '''"""A throwaway blueprint: one ConfigMap that says hello, and a controller it asks the cluster for."""

from __future__ import annotations

from typing import Literal

from blueprints.common import objects
from blueprints.common.params import WorkloadParams
from blueprints.contract import Blueprint
from core.issues import ConfigIssue
from core.requirements import ControllerChart, ControllerFlows, Requirements
from core.versions import HelmPin

# The controller's pods, and the port its admission webhook serves the API server on (read at the pinned version).
OPERATOR_FLOWS = ControllerFlows(read_at="1.0.0", pods={"app.kubernetes.io/name": "echo-operator"}, webhook_ports=(9443,))


class EchoWorkload(WorkloadParams):
    blueprint: Literal["echo"]
    greeting: str = "hello"


class Echo(Blueprint[EchoWorkload]):
    params = EchoWorkload

    @property
    def example(self):
        return EchoWorkload(name="example-echo", blueprint="echo")

    def checks(self, workload, platform):
        return [ConfigIssue("greeting", "must not shout", value=workload.greeting)] if workload.greeting.isupper() else []

    def requirements(self, workload, platform):
        pin = HelmPin("https://charts.example.com", "1.0.0")
        return Requirements(controllers=(ControllerChart("echo-operator", "echo", pin, "echo", "echo-system", flows=(OPERATOR_FLOWS,)),))

    def render(self, scope, workload, platform):
        chart = objects.new_chart(scope, workload.name, platform.namespace)
        labels = objects.labels(workload.name, self.name)
        body = {"data": {"say": workload.greeting}}
        objects.api_object(chart, "greeting", api_version="v1", kind="ConfigMap", name=workload.name, labels_=labels, body=body)
        return chart


BLUEPRINT = Echo()
'''


GPU_SERVER = '''"""A throwaway GPU blueprint: one `vllm serve` pod on the pinned vLLM image, with the kit's engine arguments."""

from __future__ import annotations

from typing import Literal

from blueprints.common import objects, pod_scheduling, probes, resources
from blueprints.common.identity import server_identity
from blueprints.common.k8s_types import Container, PodSpec, ServicePort
from blueprints.common.model_source import model_mount
from blueprints.common.params import GpuWorkloadParams, KvOffloadable
from blueprints.common.vllm_args import VllmEngine, engine_args
from blueprints.contract import VLLM_SERVE, GpuBlueprint
from core.images import IMAGES


class TinyServerWorkload(VllmEngine, GpuWorkloadParams):
    blueprint: Literal["tiny-server"]
    capabilities = (KvOffloadable,)

    def gpus_per_pod(self) -> int:
        return self.tensor_parallel_size


class TinyServer(GpuBlueprint[TinyServerWorkload]):
    params = TinyServerWorkload
    serves_openai = True
    engine_command = VLLM_SERVE  # its server's args go to vLLM's own parser in ./kit contracts
    image_key = "vllm"
    images = ("vllm",)

    @property
    def example(self):
        return TinyServerWorkload.model_validate(
            {
                "name": "example-tiny-server",
                "blueprint": "tiny-server",
                "node_pool": "gpu-l40s",
                "instance_type": "g6e.2xlarge",
                "model": {"type": "s3", "uri": "s3://{bucket}/models/meta-llama/Llama-3.1-8B-Instruct/"},
                "max_model_len": 8192,
            }
        )

    def engine_command_lines(self, workload, placement):
        model = model_mount(workload.model, server_identity(self.image_key).hf_home)
        return [[model.location, "--port", str(self.port), *engine_args(workload, model, workload.public_model_name)]]

    def chart(self, scope, workload, placement):
        chart = objects.new_chart(scope, workload.name, placement.namespace)
        identity = server_identity(self.image_key, workload.run_as_user)
        model = model_mount(workload.model, identity.hf_home)
        gpus = workload.gpus_per_pod()
        shm_volume, shm_mount = resources.shm(resources.shm_gib(placement.instance, gpus, workload.shm_size_gib))
        [args] = self.engine_command_lines(workload, placement)
        container: Container = {
            "name": "server",
            "image": workload.image or IMAGES[self.image_key].reference,
            "args": args,
            "ports": [{"name": "http", "containerPort": self.port}],
            "env": [*identity.env(), *model.env],
            "resources": resources.container_resources(
                placement, gpus, workload.memory_gib_per_gpu, shm_size_gib=workload.shm_size_gib, efa=False
            ),
            "volumeMounts": [shm_mount, *identity.mounts(), *model.mounts],
            "securityContext": identity.security_context(),
            **probes.http_probes(port="http", ready_path="/health", startup_minutes=placement.startup_minutes),
        }
        selector = objects.selector_labels(workload.name)
        pod: PodSpec = {
            "serviceAccountName": placement.model_reader_service_account,
            **identity.pod_fields(),
            "containers": [container],
            "volumes": [shm_volume, *identity.volumes(), *model.volumes],
            **pod_scheduling.gpu_scheduling(placement, selector),
        }
        objects.server_deployment(chart, workload.name, self.name, replicas=workload.replicas, pod=pod, pod_annotations={})
        ports: list[ServicePort] = [{"name": "http", "port": self.port, "targetPort": "http"}]
        objects.service(chart, workload.name, self.name, selector, ports, health_path="/health")
        return chart


BLUEPRINT = TinyServer()
'''


def _digests(root) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()}


def _tracked_copy(target):
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    for name in files:
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


@pytest.mark.e2e
def test_a_blueprint_added_with_one_folder_and_one_line_renders_through_the_workloads_stack(tmp_path):
    kit = _added(tmp_path, "echo", ECHO, "ECHO")

    data = default_config_data()
    data["workloads"].append({"name": "hello", "blueprint": "echo", "greeting": "bonjour"})
    config = kit / "echo.yaml"
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    out = tmp_path / "out"
    run = _synth_on(kit, config, out)
    assert run.returncode == 0, run.stderr
    assert "hello                        echo" in run.stdout

    # Each workload's objects sit in a nested stack of the workloads stack.
    [nested] = [p for p in (out / "cdk.out").glob("llmkitworkloadsWorkloadhello*.nested.template.json")]
    workloads = json.loads(nested.read_text())
    manifests = [
        r["Properties"]["Manifest"] for r in workloads["Resources"].values() if r["Type"] == "Custom::AWSCDK-EKS-KubernetesResource"
    ]
    assert any('"say":"bonjour"' in json.dumps(m, separators=(",", ":")).replace('\\"', '"') for m in manifests)
    [hello, isolation] = yaml.safe_load_all((out / "dist" / "hello" / "manifest.yaml").read_text())
    assert (hello["kind"], hello["data"], hello["metadata"]["namespace"]) == ("ConfigMap", {"say": "bonjour"}, "inference")
    # A blueprint that declares no traffic gets a policy that admits none for its pods.
    assert isolation["kind"] == "NetworkPolicy" and (isolation["spec"]["ingress"], isolation["spec"]["egress"]) == ([], [])
    assert (out / "charts" / "hello" / "Chart.yaml").exists()
    cluster = json.loads((out / "cdk.out" / "llm-kit-cluster.template.json").read_text())
    charts = {
        r["Properties"]["Chart"]: r["Properties"] for r in cluster["Resources"].values() if r["Type"] == "Custom::AWSCDK-EKS-HelmChart"
    }
    assert charts["echo"]["Namespace"] == "echo-system"
    # Its declared flows become the controller's policy in that namespace: the API server on the webhook port.
    policies = [o for objects in kubernetes_objects(cluster).values() for o in objects if o["kind"] == "NetworkPolicy"]
    [operator] = [p for p in policies if (p["metadata"]["name"], p["metadata"]["namespace"]) == ("echo", "echo-system")]
    assert operator["spec"]["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "echo-operator"}}
    assert [rule["ports"] for rule in operator["spec"]["ingress"]] == [[{"protocol": "TCP", "port": 9443}]]

    data["workloads"][-1]["greeting"] = "HELLO"
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    refused = subprocess.run(
        [sys.executable, "-m", "assembly.synth", "--config", str(config), "--outdir", str(out / "again")],
        cwd=kit,
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 2 and "workloads[1].greeting" in refused.stderr and "must not shout" in refused.stderr


def _synth_on(kit, config, out, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The main job on the copy, as ./kit synth runs it, into out/{cdk.out,dist,charts}."""
    folders = [arg for name in ("outdir", "dist", "charts") for arg in (f"--{name}", str(out / ("cdk.out" if name == "outdir" else name)))]
    command = [sys.executable, "-m", "assembly.synth", "--config", str(config), *folders]
    return subprocess.run(command, cwd=kit, capture_output=True, text=True, env=env)


def _without(kit, package: str) -> None:
    """The copy without a blueprint folder of that name, should this kit already have one (this very throwaway, added
    to try the promise by hand): the test then adds it to the kit as it was before."""
    folder = kit / "blueprints" / package
    if folder.exists():
        shutil.rmtree(folder)
        registry = kit / "blueprints" / "registry.py"
        lines = registry.read_text().splitlines(keepends=True)
        registry.write_text("".join(line for line in lines if not line.startswith(f"from blueprints.{package} import ")))


def _added(tmp_path, package: str, source: str, constant: str):
    """A copy of the kit with one new blueprint folder and one registry line, and proof that nothing else changed."""
    kit = tmp_path / "kit"
    _tracked_copy(kit)
    _without(kit, package)
    before = _digests(kit)
    (kit / "blueprints" / package).mkdir()
    (kit / "blueprints" / package / "__init__.py").write_text(source)
    registry = kit / "blueprints" / "registry.py"
    lines = registry.read_text().splitlines(keepends=True)
    last = max(i for i, line in enumerate(lines) if line.startswith("from blueprints.") and "import BLUEPRINT as" in line)
    lines.insert(last + 1, f"from blueprints.{package} import BLUEPRINT as {constant}\n")
    registry.write_text("".join(lines))
    changed = {name for name, digest in _digests(kit).items() if before.get(name) != digest}
    assert changed == {"blueprints/registry.py", f"blueprints/{package}/__init__.py"}
    return kit


@pytest.mark.e2e
def test_a_gpu_blueprint_added_with_one_folder_and_one_line_is_checked_synthesized_and_covered_by_the_example_test(tmp_path):
    kit = _added(tmp_path, "tiny_server", GPU_SERVER, "TINY_SERVER")
    # The copy has no ../shared beside it: it is told where the CRD schemas are, where this clone has them.
    env = {**os.environ, **({"KIT_MANIFEST_VALIDATOR": str(EXAMPLE_TESTS.VALIDATOR)} if EXAMPLE_TESTS.VALIDATOR.is_file() else {})}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, *args], cwd=kit, capture_output=True, text=True, env=env)

    # The type checker ./kit test runs accepts it, as it would in the kit's own tree.
    pyright = REPO / "node_modules" / ".bin" / "pyright"
    assert pyright.is_file(), f"{pyright} is missing: ./kit test installs it (package.json)"
    typed = subprocess.run(
        [str(pyright), "--pythonpath", sys.executable, "blueprints/tiny_server", "blueprints/registry.py"],
        cwd=kit,
        capture_output=True,
        text=True,
    )
    assert typed.returncode == 0, typed.stdout[-3000:]

    # The shared example test covers it with no test of its own: checks, strict validation, pod security, capabilities.
    tested = run(
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-n",
        "0",
        "tests/blueprints/test_examples.py",
        "-k",
        "tiny-server or contract_checks",
    )
    assert tested.returncode == 0, tested.stdout[-3000:]
    assert "5 passed" in tested.stdout  # the four per-blueprint tests for tiny-server, and the contract sources' test

    written = run(
        "-c",
        "from pathlib import Path; from assembly.examples import write_example; from blueprints.tiny_server import BLUEPRINT; "
        "print(write_example(BLUEPRINT, Path('.')))",
    )
    assert written.returncode == 0, written.stderr
    config = kit / written.stdout.strip()
    checked = run("-m", "assembly.check", "--config", str(config))
    assert checked.returncode == 0, checked.stdout + checked.stderr

    out = tmp_path / "out"
    synth = _synth_on(kit, config, out, env)
    assert synth.returncode == 0, synth.stderr
    [deployment, service, policy] = [o for o in yaml.safe_load_all((out / "dist" / "example-tiny-server" / "manifest.yaml").read_text())]
    assert (deployment["kind"], service["kind"], policy["kind"]) == ("Deployment", "Service", "NetworkPolicy")
    [server] = deployment["spec"]["template"]["spec"]["containers"]
    assert server["resources"]["limits"]["nvidia.com/gpu"] == "1" and "--max-model-len" in server["args"]

    # The contract checks give its server's arguments, as rendered, to vLLM's own parser.
    collected = run(
        "-c",
        "import json, sys; from contracts.collect import _entries, engine_commands; from assembly.kit import KIT; "
        "import yaml; objects = list(yaml.safe_load_all(open(sys.argv[1]))); out = {'vllm_serve': []}; "
        "_entries('copy', objects, out, engine_commands(KIT.blueprints)); print(json.dumps(out['vllm_serve']))",
        str(out / "dist" / "example-tiny-server" / "manifest.yaml"),
    )
    assert collected.returncode == 0, collected.stderr
    [entry] = json.loads(collected.stdout)
    assert entry["args"] == server["args"]

    # A wrong engine setting is refused like any vLLM workload's, before anything is written.
    data = yaml.safe_load(config.read_text())
    data["workloads"][-1]["tensor_parallel_size"] = 2
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    refused = run("-m", "assembly.check", "--config", str(config))
    assert refused.returncode != 0 and "workloads[1]" in refused.stdout + refused.stderr
