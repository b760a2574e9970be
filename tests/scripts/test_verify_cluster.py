import json
import threading
import subprocess
import sys
import types
from http.server import BaseHTTPRequestHandler, HTTPServer

import kubernetes.client
import kubernetes.config
import pytest
import urllib3
from kubernetes.client import models as m
from kubernetes.client.exceptions import ApiException

from scripts import verify_cluster as vc
from tests.helpers import REPO

# The pool an urllib3 error names; making one opens no connection.
POOL = urllib3.HTTPConnectionPool("kube-api.invalid")

HOST = "https://0123ABCD.gr7.us-west-2.eks.amazonaws.com"


def node(
    name,
    pool=None,
    itype="m7i.xlarge",
    gpus=None,
    efa=None,
    ready=True,
    ami="bottlerocket",
    efa_label=False,
    unschedulable=False,
    pressure=(),
    taints=(),
    created=None,
    extra_labels=None,
):
    labels = {
        "node.kubernetes.io/instance-type": itype,
        "llm-kit/pool": pool or "system",
        "llm-kit/ami-family": ami,
        "llm-kit/efa": str(efa_label).lower(),
        **(extra_labels or {}),
    }
    allocatable = {"cpu": "3920m"}
    if gpus is not None:
        allocatable["nvidia.com/gpu"] = str(gpus)
    if efa is not None:
        allocatable["vpc.amazonaws.com/efa"] = str(efa)
    ready_condition = m.V1NodeCondition(
        type="Ready",
        status="True" if ready else "False",
        reason="KubeletReady" if ready else "KubeletNotReady",
        message="ok" if ready else "container runtime network not ready",
    )
    conditions = [ready_condition] + [m.V1NodeCondition(type=kind, status="True") for kind in pressure]
    return m.V1Node(
        metadata=m.V1ObjectMeta(name=name, labels=labels, creation_timestamp=created),
        spec=m.V1NodeSpec(unschedulable=unschedulable or None, taints=list(taints) or None),
        status=m.V1NodeStatus(allocatable=allocatable, conditions=conditions),
    )


def daemonset(name, desired, ready):
    status = m.V1DaemonSetStatus(
        desired_number_scheduled=desired, number_ready=ready, current_number_scheduled=desired, number_misscheduled=0
    )
    spec = m.V1DaemonSetSpec(selector=m.V1LabelSelector(match_labels={"app": name}), template=m.V1PodTemplateSpec())
    return m.V1DaemonSet(metadata=m.V1ObjectMeta(name=name, namespace="kube-system"), spec=spec, status=status)


def deployment(replicas, available):
    spec = m.V1DeploymentSpec(
        replicas=replicas, selector=m.V1LabelSelector(match_labels={"app": "karpenter"}), template=m.V1PodTemplateSpec()
    )
    return m.V1Deployment(metadata=m.V1ObjectMeta(name="karpenter"), spec=spec, status=m.V1DeploymentStatus(available_replicas=available))


def nodepool(name, ready="True", ami="bottlerocket", efa=False, reason="Ready", message=""):
    labels = {"llm-kit/pool": name, "llm-kit/ami-family": ami, "llm-kit/efa": str(efa).lower()}
    return {
        "metadata": {"name": name},
        "spec": {"template": {"metadata": {"labels": labels}}},
        "status": {"conditions": [{"type": "Ready", "status": ready, "reason": reason, "message": message}]},
    }


def service(name, path: str | None = "/health", port_name: str | None = "http", port=8000, namespace="inference"):
    annotations = {"llm-kit/health-path": path} if path else {}
    metadata = m.V1ObjectMeta(name=name, namespace=namespace, labels={"llm-kit/workload": name}, annotations=annotations)
    return m.V1Service(metadata=metadata, spec=m.V1ServiceSpec(ports=[m.V1ServicePort(name=port_name, port=port)]))


def healthy_state():
    return types.SimpleNamespace(
        nodes=[
            node("ip-10-0-0-1", ready=True),
            node("ip-10-0-0-2", ready=True),
            node("ip-10-0-1-1", pool="gpu-l40s", itype="g6e.12xlarge", gpus=4, ami="al2023"),
            node("ip-10-0-2-1", pool="gpu-h100-efa", itype="p5.48xlarge", gpus=8, efa=32, efa_label=True),
        ],
        nodepools=[nodepool("gpu-l40s", ami="al2023"), nodepool("gpu-h100-efa", efa=True)],
        karpenter=deployment(2, 2),
        daemonsets=[daemonset("nvidia-device-plugin", 1, 1), daemonset("aws-efa-k8s-device-plugin", 1, 1), daemonset("aws-node", 4, 4)],
        services=[],
        proxy={},
        errors={},
        calls=[],
    )


@pytest.fixture
def state(monkeypatch):
    """Fake Kubernetes API classes over a mutable state; nothing talks to a server."""
    state = healthy_state()

    def maybe_fail(call):
        state.calls.append(call)
        if call in state.errors:
            raise state.errors[call]

    class Core:
        def __init__(self, api=None):
            pass

        def list_node(self, **_):
            maybe_fail("list_node")
            return m.V1NodeList(items=state.nodes)

        def list_service_for_all_namespaces(self, label_selector=None, **_):
            maybe_fail("list_service_for_all_namespaces")
            assert label_selector == "llm-kit/workload"
            return m.V1ServiceList(items=state.services)

        def connect_get_namespaced_service_proxy_with_path(self, name, namespace, path, **_):
            state.calls.append(f"proxy {namespace}/{name}/{path}")
            answer = state.proxy.get(name)
            if isinstance(answer, Exception):
                raise answer
            return answer or "ok"

    class Apps:
        def __init__(self, api=None):
            pass

        def read_namespaced_deployment(self, name, namespace, **_):
            maybe_fail("read_namespaced_deployment")
            assert (namespace, name) == ("kube-system", "karpenter")
            return state.karpenter

        def list_namespaced_daemon_set(self, namespace, **_):
            maybe_fail("list_namespaced_daemon_set")
            return m.V1DaemonSetList(items=state.daemonsets)

    class Custom:
        def __init__(self, api=None):
            pass

        def list_cluster_custom_object(self, group, version, plural, **_):
            maybe_fail("list_cluster_custom_object")
            assert (group, version, plural) == ("karpenter.sh", "v1", "nodepools")
            return {"items": state.nodepools}

    class Version:
        def __init__(self, api=None):
            pass

        def get_code(self, **_):
            maybe_fail("get_code")
            return m.VersionInfo(
                git_version="v1.35.2-eks-1",
                major="1",
                minor="35",
                build_date="",
                compiler="",
                git_commit="",
                git_tree_state="",
                go_version="",
                platform="",
            )

    monkeypatch.setattr(kubernetes.client, "CoreV1Api", Core)
    monkeypatch.setattr(kubernetes.client, "AppsV1Api", Apps)
    monkeypatch.setattr(kubernetes.client, "CustomObjectsApi", Custom)
    monkeypatch.setattr(kubernetes.client, "VersionApi", Version)
    fake_api = types.SimpleNamespace(configuration=types.SimpleNamespace(host=HOST))
    monkeypatch.setattr(kubernetes.config, "new_client_from_config", lambda config_file=None, context=None: fake_api)
    return state


def verify(*args):
    return vc.main(["--kubeconfig", "/dev/null", "--json", *args])


def results(capsys):
    body = json.loads(capsys.readouterr().out)
    return body, {(c["name"], c["status"]): c for c in body["checks"]}


def assert_row(rows, name, status, *fragments, fix=None):
    found = rows[(name, status)]
    for fragment in fragments:
        assert fragment in found["detail"], found
    if fix:
        assert fix in found["fix"], found


def test_healthy_cluster(state, capsys):
    assert vc.main(["--kubeconfig", "/dev/null", "--context", "prod"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"verify_cluster: server {HOST} (Kubernetes v1.35.2-eks-1), context prod\nCHECK")
    flat = " ".join(out.split())
    for fragment in (
        "nodes PASS 4 nodes Ready",
        "pool[gpu-h100-efa] PASS all GPUs and EFA devices advertised on 1 node",
        "pool[gpu-l40s] PASS all GPUs advertised on 1 node",
        "karpenter PASS 2 of 2 replicas available",
        "daemonset[nvidia-device-plugin] PASS nvidia-device-plugin: 1 of 1 pods ready",
        "daemonset[aws-efa-k8s-device-plugin] PASS aws-efa-k8s-device-plugin: 1 of 1 pods ready",
        "nodepool[gpu-l40s] PASS Ready",
        "nodepool[gpu-h100-efa] PASS Ready",
    ):
        assert fragment in flat
    assert out.rstrip().endswith("verify_cluster: 8 PASS, 0 FAIL, 0 WARN, 0 SKIP")


def test_nodes_not_ready_cordoned_or_missing(state, capsys):
    state.nodes[1] = node("ip-10-0-0-2", ready=False, pressure=("MemoryPressure",))
    state.nodes[0].spec.unschedulable = True
    assert verify() == 1
    body, rows = results(capsys)
    assert body["ok"] is False
    assert_row(
        rows,
        "nodes",
        "FAIL",
        "1 of 4 nodes not Ready: ip-10-0-0-2 (KubeletNotReady: container runtime network not ready; MemoryPressure)",
        fix="kubectl describe node NAME",
    )
    assert_row(rows, "nodes", "WARN", "cordoned (no new pods): ip-10-0-0-1", fix="kubectl uncordon NAME")

    state.nodes = []
    assert verify() == 1
    assert_row(results(capsys)[1], "nodes", "FAIL", "the cluster has no nodes", fix="aws eks describe-nodegroup")


def test_gpu_and_efa_resources_must_match_the_instance_table(state, capsys):
    state.nodes[2] = node("ip-10-0-1-1", pool="gpu-l40s", itype="g6e.12xlarge", gpus=0, ami="al2023")
    state.nodes[3] = node("ip-10-0-2-1", pool="gpu-h100-efa", itype="p5.48xlarge", gpus=8, efa=16, efa_label=True)
    state.nodes.append(node("ip-10-0-3-1", pool="gpu-new", itype="p9.96xlarge", gpus=16))
    assert verify() == 1
    _, rows = results(capsys)
    assert_row(
        rows, "pool[gpu-l40s]", "FAIL", "ip-10-0-1-1 (g6e.12xlarge) advertises 0 of 4 GPUs", fix="check the NVIDIA device plugin and driver"
    )
    assert_row(
        rows, "pool[gpu-h100-efa]", "FAIL", "ip-10-0-2-1 (p5.48xlarge) advertises 16 of 32 EFA devices", fix="aws-efa-k8s-device-plugin"
    )
    assert_row(
        rows,
        "pool[gpu-new]",
        "WARN",
        "instance types not in the kit's table, not checked: ip-10-0-3-1 (p9.96xlarge)",
        fix="core/instances.py",
    )


def test_pool_without_nodes_is_skipped(state, capsys):
    del state.nodes[3]
    assert verify() == 0
    assert_row(results(capsys)[1], "pool[gpu-h100-efa]", "SKIP", "no nodes running; Karpenter launches them when pods ask for GPUs")


@pytest.mark.parametrize(
    ("change", "status", "detail"),
    [
        (
            lambda s: s.errors.update(read_namespaced_deployment=ApiException(status=404, reason="Not Found")),
            "FAIL",
            "no deployment kube-system/karpenter",
        ),
        (lambda s: setattr(s, "karpenter", deployment(2, None)), "FAIL", "0 of 2 replicas available: no GPU node can launch"),
        (lambda s: setattr(s, "karpenter", deployment(2, 1)), "WARN", "1 of 2 replicas available"),
    ],
)
def test_karpenter_replicas(state, capsys, change, status, detail):
    change(state)
    verify()
    assert_row(results(capsys)[1], "karpenter", status, detail, fix="kubectl -n kube-system")


def test_device_plugins_missing_or_not_ready(state, capsys):
    state.daemonsets = [daemonset("aws-efa-k8s-device-plugin", 2, 1)]
    assert verify() == 1
    _, rows = results(capsys)
    assert_row(
        rows,
        "daemonset[nvidia-device-plugin]",
        "FAIL",
        "the cluster has AL2023 GPU pools but no nvidia-device-plugin DaemonSet in kube-system",
        fix="kubectl -n kube-system get ds",
    )
    assert_row(
        rows,
        "daemonset[aws-efa-k8s-device-plugin]",
        "FAIL",
        "aws-efa-k8s-device-plugin: 1 of 2 pods ready",
        fix="describe the pods that are not ready",
    )


def test_device_plugins_not_needed_on_bottlerocket_without_efa(state, capsys):
    state.nodes = state.nodes[:2]
    state.nodepools = [nodepool("gpu-l40s")]
    state.daemonsets = []
    assert verify() == 0
    _, rows = results(capsys)
    assert_row(rows, "daemonset[nvidia-device-plugin]", "SKIP", "no AL2023 GPU pools (Bottlerocket nodes run the NVIDIA plugin themselves)")
    assert_row(rows, "daemonset[aws-efa-k8s-device-plugin]", "SKIP", "no EFA pools")
    assert "list_namespaced_daemon_set" not in state.calls

    state.nodepools = []
    verify()
    assert_row(results(capsys)[1], "pools", "SKIP", "no GPU node pools and no GPU nodes")


def test_nodepools_not_ready_missing_or_absent(state, capsys):
    state.nodepools[1] = nodepool(
        "gpu-h100-efa", ready="False", efa=True, reason="NodeClassNotReady", message="EC2NodeClass gpu-h100-efa not ready"
    )
    assert verify() == 1
    assert_row(
        results(capsys)[1],
        "nodepool[gpu-h100-efa]",
        "FAIL",
        "not Ready (NodeClassNotReady: EC2NodeClass gpu-h100-efa not ready)",
        fix="kubectl get ec2nodeclasses",
    )

    state.nodepools = []
    verify()
    assert_row(
        results(capsys)[1], "nodepools", "WARN", "no Karpenter NodePools: nothing can launch GPU nodes", fix="add node_pools to the config"
    )

    state.errors["list_cluster_custom_object"] = ApiException(status=404, reason="Not Found")
    assert verify() == 1
    assert_row(results(capsys)[1], "nodepools", "FAIL", "the Karpenter CRDs are missing", fix="deploy the cluster stack")


def test_forbidden_listing_is_a_warning(state, capsys):
    state.errors["list_node"] = ApiException(status=403, reason="Forbidden")
    assert verify() == 0
    _, rows = results(capsys)
    assert_row(rows, "nodes", "WARN", "not checked: forbidden (Forbidden)", fix="RBAC read access")
    assert_row(rows, "pools", "WARN", "not checked: forbidden")


def test_other_api_errors_are_warnings(state, capsys):
    state.errors["read_namespaced_deployment"] = ApiException(status=500, reason="Internal Server Error")
    verify()
    assert_row(
        results(capsys)[1],
        "karpenter",
        "WARN",
        "not checked: the API answered 500 Internal Server Error",
        fix="check this by hand with kubectl",
    )


def test_request_timeout_is_a_warning(state, capsys):
    state.errors["list_namespaced_daemon_set"] = urllib3.exceptions.ReadTimeoutError(POOL, "/apis/apps/v1", "read timed out")
    assert verify() == 0
    assert_row(results(capsys)[1], "device-plugins", "WARN", "not checked: request failed", fix="--timeout")


@pytest.fixture
def http_server():
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/health" else 503)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args, **kwargs):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_endpoints(state, capsys, http_server):
    closed = HTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    dead = f"http://127.0.0.1:{closed.server_address[1]}/health"
    closed.server_close()

    code = verify(
        "--endpoint",
        f"llama={http_server}/health",
        "--endpoint",
        f"loading={http_server}/v1/models",
        "--endpoint",
        f"gone={dead}",
        "--timeout",
        "2",
    )

    assert code == 1
    _, rows = results(capsys)
    assert_row(rows, "endpoint[llama]", "PASS", f"GET {http_server}/health: 200 in ")
    assert_row(
        rows, "endpoint[loading]", "FAIL", f"GET {http_server}/v1/models answered 503", fix="a model that is still loading answers 503"
    )
    assert_row(rows, "endpoint[gone]", "FAIL", f"GET {dead} got no answer (", fix="check the URL")


def test_probe_services_through_the_api_proxy(state, capsys):
    state.services = [
        service("llama-8b"),
        service("triton", path="/v2/health/ready", port_name=None, port=8000),
        service("no-path", path=None),
    ]
    state.proxy["triton:8000"] = ApiException(status=503, reason="Service Unavailable")

    assert verify("--probe-services") == 1

    _, rows = results(capsys)
    assert_row(rows, "service[inference/llama-8b]", "PASS", "GET /health on port http: 200")
    assert_row(
        rows,
        "service[inference/triton]",
        "FAIL",
        "GET /v2/health/ready through the API server proxy answered 503 Service Unavailable",
        fix="kubectl -n inference get endpoints triton",
    )
    assert_row(rows, "service[inference/no-path]", "SKIP", "no llm-kit/health-path annotation")
    assert "proxy inference/llama-8b:http/health" in state.calls


def test_probe_services_without_workloads(state, capsys):
    assert verify("--probe-services") == 0
    assert_row(results(capsys)[1], "services", "WARN", "no Service has the label llm-kit/workload", fix="drop --probe-services")


def assert_exit_2(code, capsys, *fragments):
    out, err = capsys.readouterr()
    assert code == 2 and err.startswith("verify_cluster: error: ")
    assert json.loads(out)["ok"] is False
    for fragment in fragments:
        assert fragment in err


def test_api_server_unreachable(state, capsys):
    state.errors["get_code"] = urllib3.exceptions.MaxRetryError(POOL, "/version", ConnectionRefusedError("connection refused"))
    assert_exit_2(verify(), capsys, f"cannot reach the Kubernetes API at {HOST} (MaxRetryError)", "cluster.public_access_cidrs")


def test_api_server_rejects_the_credentials(state, capsys):
    state.errors["get_code"] = ApiException(status=401, reason="Unauthorized")
    assert_exit_2(verify(), capsys, f"{HOST} rejected the credentials (401)", "aws eks update-kubeconfig", "cluster.admin_principal_arns")


def test_api_server_answers_version_with_an_error(state, capsys):
    state.errors["get_code"] = ApiException(status=503, reason="Service Unavailable")
    assert_exit_2(
        verify(), capsys, f"{HOST} answered 503 Service Unavailable to GET /version", "check the context points at the kit's cluster"
    )


def test_missing_kubeconfig(tmp_path, capsys):
    code = vc.main(["--kubeconfig", str(tmp_path / "nope"), "--json"])
    assert_exit_2(code, capsys, f"cannot use kubeconfig {tmp_path / 'nope'}", "aws eks update-kubeconfig --region REGION --name CLUSTER")


def test_unknown_context(tmp_path, capsys):
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: dev\n"
        "clusters: [{name: dev, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "users: [{name: dev, user: {token: x}}]\n"
        "contexts: [{name: dev, context: {cluster: dev, user: dev}}]\n"
    )
    code = vc.main(["--kubeconfig", str(kubeconfig), "--context", "prod", "--json"])
    assert_exit_2(code, capsys, f"cannot use kubeconfig {kubeconfig} (context prod)", "--context")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--endpoint", "llama"], "is not NAME=URL with an http:// or https:// URL"),
        (["--endpoint", "llama=ftp://x"], "is not NAME=URL"),
        (["--timeout", "0"], "--timeout must be more than 0"),
    ],
)
def test_usage_errors(capsys, args, message):
    with pytest.raises(SystemExit) as exc:
        vc.main(args)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_the_tool_reads_the_kits_label_keys_without_loading_the_cdk_runtime():
    """verify_cluster runs where the kit was deployed from; it shares core's label keys and must stay light."""
    probe = (
        "import sys, scripts.verify_cluster as vc, scripts._cluster_checks as checks, core.labels as labels;"
        "assert checks.POOL_LABEL is labels.POOL_LABEL and vc.WORKLOAD_LABEL is labels.WORKLOAD_LABEL;"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('aws_cdk', 'cdk8s', 'jsii', 'constructs'));"
        "assert not heavy, heavy"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_burn_in_failed_stuck_and_running_nodes(state, capsys):
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    taint = m.V1Taint(key="llm-kit/burn-in", value="pending", effect="NoSchedule")
    p5 = {"pool": "gpu-h100-efa", "itype": "p5.48xlarge", "gpus": 8, "efa": 32, "efa_label": True, "taints": [taint]}
    failed = node("ip-10-0-2-2", **p5, unschedulable=True, extra_labels={"llm-kit/burn-in": "failed"})
    stuck = node("ip-10-0-2-3", **p5, created=now - timedelta(hours=2))
    running = node("ip-10-0-2-4", **p5, created=now - timedelta(minutes=5))
    state.nodes += [failed, stuck, running]
    assert verify() == 1
    rows = [row for row in results(capsys)[0]["checks"] if row["name"] == "burn-in"]
    assert [row["status"] for row in rows] == ["FAIL", "FAIL", "WARN"]
    assert "failed on ip-10-0-2-2" in rows[0]["detail"] and "GpuBurnInFailed" in rows[0]["fix"]
    assert "not finished after 30 minutes on ip-10-0-2-3" in rows[1]["detail"]
    assert "running on ip-10-0-2-4" in rows[2]["detail"]


def test_a_cluster_without_burn_in_shows_no_burn_in_row(state, capsys):
    assert verify() == 0
    assert not [row for row in results(capsys)[0]["checks"] if row["name"] == "burn-in"]
