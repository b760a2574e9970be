"""scripts/rollout.py on synthetic series: a local server answers the Prometheus query API on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from infra.observability.metrics_catalog import VLLM
from scripts import rollout
from tests.helpers import write_config
from tests.observability.promql import metric_names

L8 = {"type": "s3", "uri": "s3://{bucket}/models/meta-llama/Llama-3.1-8B-Instruct/"}
HEALTHY = {"requests": 5000, "errors": 2, "ttft_p90_seconds": 0.40, "tokens_per_second": 900.0, "speed": 45.0}


class Store:
    """Answers each query the script sends with the value set for its model and signal; records what it was sent."""

    def __init__(self, values: dict[str, dict[str, float | str | None]], window: int = 30):
        self.answers = {rollout.queries(model, window)[key]: value for model, signals in values.items() for key, value in signals.items()}
        self.seen: list[tuple[str, dict[str, str]]] = []
        self.paths: list[str] = []
        self.status = 200

    def handler(self):
        store = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                url = urllib.parse.urlparse(self.path)
                query = urllib.parse.parse_qs(url.query)["query"][0]
                store.seen.append((query, dict(self.headers.items())))
                store.paths.append(url.path)
                if store.status != 200 or not url.path.endswith("/api/v1/query"):
                    self.send_response(store.status if store.status != 200 else 404)
                    self.end_headers()
                    self.wfile.write(b'{"status": "error", "errorType": "internal", "error": "boom"}')
                    return
                value = store.answers.get(query)
                result = [] if value is None else [{"metric": {}, "value": [1700000000, str(value)]}]
                body = json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args, **kwargs):
                pass

        return Handler


@pytest.fixture
def serve():
    servers = []

    def start(store: Store) -> str:
        server = ThreadingHTTPServer(("127.0.0.1", 0), store.handler())
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def config(tmp_path, weight: int = 10, **thresholds) -> str:
    workloads = [
        {
            "name": "chat",
            "blueprint": "vllm",
            "node_pool": "gpu-l40s",
            "model": L8,
            "max_model_len": 8192,
            "routing": {},
            "rollout": {"next": "chat-v2", "weight": weight, "thresholds": thresholds},
        },
        {"name": "chat-v2", "blueprint": "vllm", "node_pool": "gpu-l40s", "model": L8, "max_model_len": 8192, "routing": {}},
    ]
    return str(write_config(tmp_path, {"workloads": workloads}))


def run(capsys, tmp_path, url: str, *extra: str, weight: int = 10, **thresholds) -> tuple[int, str]:
    code = rollout.main(["--config", config(tmp_path, weight, **thresholds), "--prometheus-url", url, *extra])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_every_query_reads_the_kits_vllm_metric_names():
    for expr in rollout.queries("chat", 30).values():
        assert metric_names(expr) <= VLLM.names(), expr


def test_a_healthy_next_version_is_promoted_one_step(serve, tmp_path, capsys):
    store = Store({"chat": HEALTHY, "chat-v2": {**HEALTHY, "requests": 600, "ttft_p90_seconds": 0.44, "speed": 43.0}})
    code, out = run(capsys, tmp_path, serve(store))
    assert code == 0 and "chat -> chat-v2: PROMOTE" in out
    assert "p90 TTFT 1.10 x (at most 1.2 x), speed 0.96 x (at least 0.9 x)" in out
    assert "change: set workloads[0].rollout.weight: 25, then deploy" in out
    assert {query for query, _ in store.seen} == set(store.answers)  # five signals of each version, nothing else


@pytest.mark.parametrize(
    ("next_version", "expected"),
    [
        ({"errors": 40}, "ended 6.67% of its requests in an engine error, above 1.00%"),
        ({"ttft_p90_seconds": 0.9}, "p90 time to first token 0.900 s is 2.25 x chat's 0.400 s, above 1.2 x"),
        ({"speed": 30.0}, "generates 30.0 tokens/s per running request, 0.67 x chat's 45.0, below 0.9 x"),
    ],
    ids=["errors", "ttft", "speed"],
)
def test_a_worse_next_version_is_rolled_back(serve, tmp_path, capsys, next_version, expected):
    store = Store({"chat": HEALTHY, "chat-v2": {**HEALTHY, "requests": 600, **next_version}})
    code, out = run(capsys, tmp_path, serve(store))
    assert code == 1 and "ROLL BACK" in out and expected in out
    assert "change: set workloads[0].rollout.weight: 0" in out


def test_thresholds_come_from_the_config(serve, tmp_path, capsys):
    store = Store({"chat": HEALTHY, "chat-v2": {**HEALTHY, "ttft_p90_seconds": 0.9}}, window=60)
    code, out = run(capsys, tmp_path, serve(store), max_ttft_p90_ratio=3.0, window_minutes=60)
    assert code == 0 and "at most 3 x" in out


@pytest.mark.parametrize(
    ("next_version", "expected"),
    [
        ({"requests": 50}, "too few requests in 30 minutes: 'chat-v2' finished 50, 200 needed each; wait for more traffic"),
        ({"ttft_p90_seconds": "NaN"}, "no value yet for 'chat-v2' ttft_p90_seconds"),
        ({"speed": None}, "no value yet for 'chat-v2' speed"),
    ],
    ids=["few-requests", "nan", "empty"],
)
def test_too_little_to_judge_holds(serve, tmp_path, capsys, next_version, expected):
    store = Store({"chat": HEALTHY, "chat-v2": {**HEALTHY, **next_version}})
    code, out = run(capsys, tmp_path, serve(store))
    assert code == 3 and "HOLD" in out and expected in out and "change: none yet" in out


def test_errors_still_roll_back_while_a_signal_is_missing(serve, tmp_path, capsys):
    store = Store({"chat": HEALTHY, "chat-v2": {**HEALTHY, "errors": 500, "speed": None}})
    code, out = run(capsys, tmp_path, serve(store))
    assert code == 1 and "engine error" in out


def test_at_full_weight_a_promote_retires_the_old_version(serve, tmp_path, capsys):
    store = Store({"chat": HEALTHY, "chat-v2": HEALTHY})
    code, out = run(capsys, tmp_path, serve(store), weight=100)
    assert code == 0 and "retire 'chat'" in out and "served_model_name: chat on 'chat-v2'" in out


def test_json_output_carries_both_versions(serve, tmp_path, capsys):
    store = Store({"chat": HEALTHY, "chat-v2": {**HEALTHY, "requests": 600}})
    code, out = run(capsys, tmp_path, serve(store), "--json")
    (verdict,) = json.loads(out)
    assert code == 0 and verdict["decision"] == "promote" and verdict["next"]["requests"] == 600 and verdict["current"]["model"] == "chat"


def test_a_failing_store_or_none_at_all_is_a_usage_error(serve, tmp_path, capsys):
    store = Store({})
    store.status = 500
    code, out = run(capsys, tmp_path, serve(store))
    assert code == 2 and "answered HTTP 500" in out
    code, out = run(capsys, tmp_path, "http://127.0.0.1:9")
    assert code == 2 and "cannot reach the metrics store" in out


def test_amp_queries_are_signed_for_aps(serve, monkeypatch):
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    store = Store({"chat": HEALTHY})
    query = rollout.http_query(serve(store) + "/workspaces/ws-1/", rollout.sigv4("us-west-2", None))
    assert query(rollout.queries("chat", 30)["requests"]) == 5000
    assert store.paths[-1] == "/workspaces/ws-1/api/v1/query"
    signed = store.seen[-1][1]
    assert "Credential=AKIDEXAMPLE/" in signed["Authorization"] and "/us-west-2/aps/aws4_request" in signed["Authorization"]
    assert rollout._region_of("https://aps-workspaces.eu-central-1.amazonaws.com/workspaces/ws-1/") == "eu-central-1"
