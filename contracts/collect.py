"""Gather what the kit hands each program, from every config it ships: python -m contracts.collect OUT.json

Runs in the kit's own environment. Each entry names where it came from (config, workload, object, container) so a
check that fails points at the config to fix. The objects are the rendered workloads (the same ones `cdk deploy`,
dist/ and charts/ get); the rules are the ones the metrics backend loads.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from collections.abc import Iterable, Mapping
from typing import Any

from assembly.app import render_workloads
from assembly.examples import write_example
from assembly.kit import KIT
from config.loader import DEFAULT_CONFIG
from blueprints.common import vllm_flags
from blueprints.common.routing import PICKER_LABEL
from blueprints.contract import Blueprint, EngineCommand, GpuBlueprint
from contracts.gpu_showback_scenario import rule_test as gpu_rule_test
from contracts.scaler_scenario import rule_test as scaler_rule_test
from contracts.showback_scenario import Served, rule_test
from core.labels import BLUEPRINT_LABEL
from infra.observability.dashboards.panels import DASHBOARDS
from infra.observability.metrics_catalog import VLLM
from infra.observability.rules import rules_yaml
from infra.stacks.observability_props import alert_rule_thresholds

REPO = Path(__file__).resolve().parents[1]
CONTRACT_CONFIGS = Path(__file__).resolve().parent / "configs"
VLLM_PARSERS = {"serve": "vllm_serve", "run-batch": "vllm_run_batch"}
"""The entries each vLLM command's parser reads (contracts/checks/test_vllm_serve.py, test_vllm_flags.py)."""


def engine_commands(blueprints: Iterable[Blueprint]) -> dict[str, EngineCommand]:
    """{blueprint name: how its containers start vLLM} for the blueprints that declare it (Blueprint.engine_command):
    their containers' arguments go to that command's parser, whatever the blueprint is called."""
    return {blueprint.name: blueprint.engine_command for blueprint in blueprints if blueprint.engine_command is not None}


def configs() -> list[Path]:
    """The default, every example, and the contract configs (variants no shipped config exercises)."""
    return [DEFAULT_CONFIG, *sorted((REPO / "config" / "examples").glob("*.yaml")), *sorted(CONTRACT_CONFIGS.glob("*.yaml"))]


def example_configs(folder: Path) -> list[tuple[str, Path]]:
    """Each registered blueprint's example workload in the default config, written into folder: a blueprint added to
    the registry has its command lines read by the programs without a config of its own (assembly/examples.py)."""
    return [(f"example {blueprint.name}", write_example(blueprint, folder)) for blueprint in KIT.blueprints]


def _pod_templates(obj: dict) -> list[tuple[str, dict]]:
    """(role, pod spec) of every pod an object makes, however its kind nests them."""
    kind, spec = obj["kind"], obj.get("spec", {})
    if kind in ("Deployment", "Job"):
        return [("pod", spec["template"]["spec"])]
    if kind == "LeaderWorkerSet":
        group = spec["leaderWorkerTemplate"]
        return [("leader", group["leaderTemplate"]["spec"]), ("worker", group["workerTemplate"]["spec"])]
    if kind == "DynamoGraphDeployment":
        return [(component["name"], component["podTemplate"]["spec"]) for component in spec["components"]]
    return []


def _entries(source: str, objects: list[dict], out: dict[str, list], engines: Mapping[str, EngineCommand] | None = None) -> None:
    """Each object's entries, named after source; engines: engine_commands of the blueprints (default: the kit's)."""
    engines = engine_commands(KIT.blueprints) if engines is None else engines
    for obj in objects:
        blueprint = obj["metadata"].get("labels", {}).get(BLUEPRINT_LABEL)
        where = f"{source}: {obj['kind']}/{obj['metadata']['name']}"
        if obj["kind"] == "ConfigMap" and blueprint == "triton":
            data = obj["data"]
            out["triton"].append({"where": where, "config_pbtxt": data["config.pbtxt"], "model_json": json.loads(data["model.json"])})
        if obj["kind"] == "ConfigMap" and blueprint == "benchmark":
            out["inference_perf"].append({"where": where, "config_yml": obj["data"]["config.yml"]})
        if obj["kind"] == "ScaledObject":
            for trigger in obj["spec"]["triggers"]:
                query = trigger["metadata"]["query"]
                out["promql"].append({"where": where, "expr": query})
                scaler = scaler_rule_test(query, trigger["metricType"], float(trigger["metadata"]["threshold"]))
                out["scaler_tests"].append({"where": where, "expr": query, **scaler})
        if obj["kind"] == "RayService":
            # Ray Serve's own schema and Ray Serve LLM's LLMConfig read the Serve config (contracts/checks/test_ray_serve.py).
            out["ray_serve"].append(
                {"where": where, "serve_config": obj["spec"]["serveConfigV2"], "ray_version": obj["spec"]["rayClusterConfig"]["rayVersion"]}
            )
        if PICKER_LABEL in obj["metadata"].get("labels", {}):
            continue  # the endpoint picker (a Go program, its flags are its chart's), not a model server
        for role, pod in _pod_templates(obj):
            for container in pod["containers"]:
                _container(f"{where} {role}/{container['name']}", engines.get(blueprint or ""), container, out)


def _container(where: str, engine: EngineCommand | None, container: dict[str, Any], out: dict[str, list]) -> None:
    """engine: how the containers of the object's blueprint start vLLM, if they do."""
    command, args = container.get("command", []), container.get("args", [])
    # The variables the streamer reads from the process environment (runai-model-streamer's RUNAI_STREAMER_*).
    streamer_env = {e["name"]: e["value"] for e in container.get("env", []) if e["name"].startswith("RUNAI_STREAMER") and "value" in e}
    if engine is not None and command == list(engine.container_command):
        # `vllm <subcommand>` gets what the command puts first (vllm-batch's run.sh: its files), then the container's args.
        entry = {"where": where, "image": container["image"], "args": [*engine.leading_args, *args], "env": streamer_env}
        out[VLLM_PARSERS[engine.subcommand]].append(entry)
    elif command == ["python3", "-m", "dynamo.vllm"]:
        out["dynamo_worker"].append({"where": where, "image": container["image"], "args": args})
    elif command == ["python3", "-m", "dynamo.frontend"]:
        out["dynamo_frontend"].append({"where": where, "image": container["image"], "args": args})


def _pod_read_share(config, name: str) -> float | None:
    """Copies of the checkpoint the kit's cold-start model (core/cold_start.py) says one pod of the workload reads."""
    [workload] = [w for w in config.workloads if w.name == name]
    blueprint = KIT.blueprint_of(workload)
    if not isinstance(blueprint, GpuBlueprint):
        return None
    return blueprint.cold_start(workload, KIT.platform(config)).read_share


def _flag_names(out: dict[str, list]) -> list[dict]:
    """How the kit's extra_args check reads flag names (blueprints/common/vllm_flags.py), for every flag of every vLLM
    command line it writes, in each spelling vLLM accepts: the vLLM environment checks that vLLM reads them alike."""
    found = []
    for command, kind in VLLM_PARSERS.items():
        for entry in out[kind]:
            kit = vllm_flags.kit_flags([entry["args"]])
            spellings = {}
            for flag in kit:
                if flag == vllm_flags.MODEL and command == "serve":
                    continue  # the positional model
                bare = flag[2:]
                for variant in (flag, "--" + bare.replace("-", "_"), flag + "=1", flag + ".x", "--no-" + bare, flag[:-1]):
                    spellings[variant] = vllm_flags.resolved(variant, kit)
            spellings.update({alias: vllm_flags.resolved(alias, kit) for alias in vllm_flags.SHORT_FLAGS})
            found.append(
                {
                    "where": entry["where"],
                    "command": command,
                    "kit_flags": sorted(kit),
                    "spellings": spellings,
                    "short_flags": vllm_flags.SHORT_FLAGS,
                }
            )
    return found


def collect() -> dict[str, list]:
    out: dict[str, list] = {
        "vllm_serve": [],
        "dynamo_worker": [],
        "dynamo_frontend": [],
        "triton": [],
        "inference_perf": [],
        "prometheus_rules": [],
        "promql": [],
        "vllm_metrics": [],
        "rule_tests": [],
        "vllm_run_batch": [],
        "scaler_tests": [],
        "ray_serve": [],
    }
    # The endpoint picker reads these from every replica too (llm-d-router's vLLM engine config).
    picker = {"vllm:num_requests_waiting", "vllm:num_requests_running", "vllm:kv_cache_usage_perc", "vllm:cache_config_info"}
    out["vllm_metrics"].append({"where": "metrics catalogue and endpoint picker", "names": sorted(VLLM.names() | picker)})
    for dashboard in DASHBOARDS:
        for panel in dashboard.panels:
            for query in panel.queries:
                # Grafana fills the template variables before the query reaches Prometheus.
                expr = query.expr.replace("$workload", ".*").replace("$__range", "1h")
                out["promql"].append({"where": f"dashboard {dashboard.uid}: {panel.title}", "expr": expr})
    for path in configs():
        _collect_config(str(path.relative_to(REPO)), KIT.load(path), out)
    with tempfile.TemporaryDirectory() as folder:
        for (source, path), blueprint in zip(example_configs(Path(folder)), KIT.blueprints, strict=True):
            # Only the example's own objects: the rest of the default config is read above.
            _collect_config(source, KIT.load(path), out, only=blueprint.example.name)
    out["vllm_flag_names"] = _flag_names(out)
    return out


def _collect_config(source: str, config, out: dict[str, list], only: str | None = None) -> None:
    """One config's workloads and rules, each entry named after where it came from (source); only: that workload's
    objects and nothing else."""
    for workload, objects in render_workloads(config).items():
        if only is not None and workload != only:
            continue
        before = {kind: len(items) for kind, items in out.items()}
        _entries(f"{source} {workload}", objects, out)
        share = _pod_read_share(config, workload)
        for kind in ("vllm_serve", "vllm_run_batch"):
            for entry in out[kind][before[kind] :]:
                entry["kit_pod_read_share"] = share
    if only is not None:
        return
    if config.observability.loads_alerts:
        out["prometheus_rules"].append(
            {"where": f"{source} alert rules", "yaml": rules_yaml(alert_rule_thresholds(config.observability.thresholds))}
        )
    if config.gateway.teams or config.gateway.bedrock:
        served = [Served(model=w.public_model_name, workload=w.name, gpus=w.replicas * w.gpus_per_pod()) for w in KIT.routed(config)]
        out["rule_tests"].append({"where": f"{source} showback rules", **rule_test(config.gateway, served)})
    if config.scheduling.teams:
        out["rule_tests"].append({"where": f"{source} GPU showback rules", **gpu_rule_test(config)})


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m contracts.collect OUT.json", file=sys.stderr)
        return 64
    emitted = collect()
    Path(argv[0]).write_text(json.dumps(emitted, indent=1, sort_keys=True))
    counts = ", ".join(f"{len(items)} {kind}" for kind, items in emitted.items())
    print(f"contracts: collected {counts}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
