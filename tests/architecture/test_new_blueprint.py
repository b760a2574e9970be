"""A new blueprint is one folder plus one registration line: proven on a copy of the kit, through the main job."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys

import pytest
import yaml

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

    def checks(self, workload, platform):
        return [ConfigIssue("greeting", "must not shout", value=workload.greeting)] if workload.greeting.isupper() else []

    def requirements(self, workload, platform):
        return Requirements(controllers=(ControllerChart("echo-operator", "echo", HelmPin("https://charts.example.com", "1.0.0"), "echo", "echo-system", flows=(OPERATOR_FLOWS,)),))

    def render(self, scope, workload, platform):
        chart = objects.new_chart(scope, workload.name, platform.namespace)
        objects.api_object(chart, "greeting", api_version="v1", kind="ConfigMap", name=workload.name, labels_=objects.labels(workload.name, self.name), body={"data": {"say": workload.greeting}})
        return chart


BLUEPRINT = Echo()
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
    kit = tmp_path / "kit"
    _tracked_copy(kit)
    before = _digests(kit)
    (kit / "blueprints" / "echo").mkdir()
    (kit / "blueprints" / "echo" / "__init__.py").write_text(ECHO)
    registry = kit / "blueprints" / "registry.py"
    lines = registry.read_text().splitlines(keepends=True)
    last = max(i for i, line in enumerate(lines) if line.startswith("from blueprints.") and "import BLUEPRINT as" in line)
    lines.insert(last + 1, "from blueprints.echo import BLUEPRINT as ECHO\n")
    registry.write_text("".join(lines))
    changed = {name for name, digest in _digests(kit).items() if before.get(name) != digest}
    assert changed == {"blueprints/registry.py", "blueprints/echo/__init__.py"}

    data = default_config_data()
    data["workloads"].append({"name": "hello", "blueprint": "echo", "greeting": "bonjour"})
    config = kit / "echo.yaml"
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    out = tmp_path / "out"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "assembly.synth",
            "--config",
            str(config),
            "--outdir",
            str(out / "cdk.out"),
            "--dist",
            str(out / "dist"),
            "--charts",
            str(out / "charts"),
        ],
        cwd=kit,
        capture_output=True,
        text=True,
    )
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
