"""Which instance types and parallel shapes hold a model: ./kit size MODEL [--max-model-len N] [--concurrency C]

MODEL is a name the kit knows (config/models.yaml, written by scripts/stage_model.py, or the table of well-known
models in core/model_catalog.py) or the path of a config.json. Every instance type of core/instances.py is tried
at each tensor-parallel size its GPUs allow and, on EFA types, across 2 to 4 nodes (pipeline stages); a shape is
listed when its weights and C requests of max_model_len fit, as vLLM 0.30.0 counts memory (core/model_fit.py).
Each shape is priced per GPU-hour from the on-demand list prices of core/prices.py (dated; us-east-1, us-east-2
and us-west-2) or, with --config, from the pools that set gpu_hour_usd, and the list is cheapest first; shapes
without a price follow, fewest GPUs first.

The same module gives the synth summary and `./kit check` the fit of each enabled workload (fit_report).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from assembly.kit import KIT
from blueprints.common import model_fit
from blueprints.contract import GpuBlueprint
from core.docstrings import first_line
from core.instances import INSTANCE_TYPES
from core.model_catalog import KNOWN, local_models, lookup_name
from core.model_fit import Fit, Gpu, ModelFacts, Serving, fit, from_config_json, parallel_problem
from core.prices import PRICES_DATED, instance_hour_usd

MULTI_NODE = (2, 3, 4)


@dataclass(frozen=True)
class Option:
    instance_types: tuple[str, ...]
    gpu: str
    node_gpus: int
    tensor_parallel: int
    nodes: int
    fit: Fit
    usd_per_hour: float | None = None

    @property
    def gpus(self) -> int:
        return self.tensor_parallel * self.nodes

    @property
    def shape(self) -> str:
        return f"TP {self.tensor_parallel}" + (f" x {self.nodes} nodes (PP {self.nodes})" if self.nodes > 1 else "")


def options(facts: ModelFacts, serving: Serving, concurrency: int = 1, prices: dict[str, float] | None = None) -> list[Option]:
    """Every shape on every known instance type that holds the weights and `concurrency` full-length requests."""
    prices = prices or {}
    found: list[Option] = []
    for name, instance in INSTANCE_TYPES.items():
        gpu = Gpu(instance.gpu, instance.gpu_memory_mib)
        shapes = [(tp, 1) for tp in (1, 2, 4, 8) if tp <= instance.gpus and instance.gpus % tp == 0]
        if instance.efa and instance.gpus == 8:
            shapes += [(8, nodes) for nodes in MULTI_NODE]
        smallest_nodes = None
        for tp, nodes in shapes:
            if nodes > 1 and smallest_nodes is not None:
                break  # a single node already holds it, or a smaller group does
            candidate = replace(serving, tensor_parallel=tp, pipeline_parallel=nodes)
            if parallel_problem(facts, candidate) is not None:
                continue
            result = fit(facts, gpu, candidate)
            if result.fits_sequence and result.sequences >= concurrency:
                price = prices.get(name)
                found.append(Option((name,), instance.gpu, instance.gpus, tp, nodes, result, None if price is None else price * tp * nodes))
                smallest_nodes = smallest_nodes or nodes
    return _grouped(found)


def _grouped(found: list[Option]) -> list[Option]:
    """Instance types with the same GPU model give the same answer for a shape: one row for them, named by the
    cheapest (else the smallest); then cheapest (or fewest GPUs, then the least memory per GPU) first."""
    rows: dict[tuple, Option] = {}
    found = sorted(
        found, key=lambda o: (o.usd_per_hour is None, o.usd_per_hour or 0, o.node_gpus, INSTANCE_TYPES[o.instance_types[0]].vcpus)
    )
    for option in found:
        key = (option.gpu, option.fit.gpu.memory_mib, option.tensor_parallel, option.nodes)
        if key in rows:
            rows[key] = replace(rows[key], instance_types=rows[key].instance_types + option.instance_types)
        else:
            rows[key] = option
    return sorted(
        rows.values(), key=lambda o: (o.usd_per_hour is None, o.usd_per_hour or 0, o.gpus, o.fit.gpu.memory_mib, o.instance_types[0])
    )


def resolve(model: str) -> ModelFacts | None:
    """A catalog name, or the path of a config.json (its folder's name names the model)."""
    path = Path(model)
    if path.is_file():
        return from_config_json(path.parent.name or path.stem, json.loads(path.read_text()), source=str(path))
    return lookup_name(model)


def prices_from(config_path: str | None, region: str = "us-east-1") -> dict[str, float]:
    """Per GPU-hour, by instance type: the list price over the instance's GPUs (core/prices.py), replaced by the
    gpu_hour_usd of a config's pools that set it (the config's region then)."""
    config = KIT.load(config_path) if config_path else None
    region = config.region if config is not None else region
    found: dict[str, float] = {}
    for name, instance in INSTANCE_TYPES.items():
        price = instance_hour_usd(name, region)
        if price is not None:
            found[name] = price / instance.gpus
    for pool in config.node_pools if config is not None else ():
        if pool.gpu_hour_usd:
            for instance_type in pool.instance_types:
                found[instance_type] = pool.gpu_hour_usd
    return found


def smallest(rows: list[Option]) -> list[Option]:
    """The first row of each GPU model, rows being sorted: the cheapest shape, else the fewest GPUs."""
    seen: set = set()
    kept = []
    for row in rows:
        key = (row.gpu, row.fit.gpu.memory_mib)
        if key not in seen:
            seen.add(key)
            kept.append(row)
    return kept


def render(facts: ModelFacts, serving: Serving, concurrency: int, rows: list[Option]) -> str:
    length = serving.max_model_len or facts.max_position_embeddings
    quant = serving.quantization or facts.quantization or facts.dtype
    attention = f"MLA latent {facts.kv_lora_rank}+{facts.qk_rope_head_dim}" if facts.mla else f"{facts.kv_heads} KV heads"
    lines = [
        f"{facts.name}: {facts.parameters() / 1e9:.1f}B parameters, {quant}, "
        f"{facts.layers} layers, {attention} ({facts.source or 'given'}); "
        f"max_model_len {length:,}, at least {concurrency} request{'s' if concurrency > 1 else ''} of it at once, "
        f"gpu_memory_utilization {serving.gpu_memory_utilization:g}"
    ]
    if not rows:
        lines.append("  no instance type of the kit holds it this way: lower --max-model-len or --concurrency, or try --quantization fp8")
        return "\n".join(lines)
    lines.append(f"  {'instance type':<34} {'GPUs':<10} {'shape':<22} {'weights/GPU':>11} {'KV/GPU':>8} {'full-length':>11} {'$/hour':>8}")
    for row in rows:
        names = row.instance_types[0] + (f" (+{len(row.instance_types) - 1} more)" if len(row.instance_types) > 1 else "")
        price = f"{row.usd_per_hour:8.2f}" if row.usd_per_hour is not None else f"{'?':>8}"
        gpus = f"{row.gpus} x {row.gpu}"
        lines.append(
            f"  {names:<34} {gpus:<10} {row.shape:<22} {row.fit.weights_gib:9.1f} "
            f"G {row.fit.kv_gib:6.1f} G {row.fit.sequences:10.1f}x {price}"
        )
    if all(row.usd_per_hour is None for row in rows):
        lines.append("  no prices for this region: pass --config with node pools that set gpu_hour_usd to order by cost")
    else:
        lines.append(f"  $/hour: the shape's GPUs at on-demand list prices of {PRICES_DATED} (core/prices.py) or the config's gpu_hour_usd")
    return "\n".join(lines)


def fit_report(config) -> tuple[dict[str, str], list[str]]:
    """For the summary and ./kit check: each enabled GPU workload's fit in one line, and the warnings."""
    platform = KIT.platform(config)
    lines: dict[str, str] = {}
    warnings: list[str] = []
    for workload in config.workloads:
        blueprint = KIT.blueprint_of(workload)
        if not workload.enabled or not isinstance(blueprint, GpuBlueprint):
            continue
        fits = blueprint.model_fits(workload, blueprint.placement(workload, platform))
        lines[workload.name] = model_fit.describe(fits)
        warnings += model_fit.warnings(workload.name, fits)
    return lines, warnings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./kit size", description=first_line(__doc__))
    parser.add_argument("model", nargs="?", help="a model name the kit knows, or the path of a config.json")
    parser.add_argument("--max-model-len", type=int, help="tokens of one request (default: the model's own)")
    parser.add_argument("--concurrency", type=int, default=1, help="requests of max_model_len that must fit at once (default 1)")
    parser.add_argument("--gpu-memory-utilization", type=float, default=0.9, help="as the workload key (default 0.9)")
    parser.add_argument("--quantization", choices=["fp8", "awq", "gptq", "compressed-tensors"], help="as the workload key")
    parser.add_argument("--kv-cache-dtype", default="auto", help="as vLLM's flag, e.g. fp8")
    parser.add_argument("--config", help="a kit config whose node pools price their GPUs (gpu_hour_usd), in its region")
    parser.add_argument("--region", default="us-east-1", help="the region of the list prices without --config (default us-east-1)")
    parser.add_argument("--all", action="store_true", help="every shape that fits, not only the fewest GPUs per GPU model")
    parser.add_argument("--list", action="store_true", help="list the models the kit knows")
    parser.add_argument("--json", action="store_true", help="print the shapes as JSON")
    args = parser.parse_args(argv)
    if args.list or not args.model:
        names = sorted({*KNOWN, *(facts.name for facts, _ in local_models())}, key=str.lower)
        print("\n".join(names))
        return 0 if args.list else 64
    facts = resolve(args.model)
    if facts is None:
        print(
            f"size: no facts for '{args.model}': name one of `./kit size --list`, "
            "stage it with scripts/stage_model.py, or pass the path of its config.json",
            file=sys.stderr,
        )
        return 2
    if args.concurrency < 1 or (args.max_model_len is not None and args.max_model_len < 1) or not 0 < args.gpu_memory_utilization <= 1:
        print("size: --concurrency and --max-model-len must be at least 1, --gpu-memory-utilization between 0 and 1", file=sys.stderr)
        return 2
    serving = Serving(
        gpu_memory_utilization=args.gpu_memory_utilization,
        max_model_len=args.max_model_len,
        quantization=args.quantization,
        kv_cache_dtype=args.kv_cache_dtype,
    )
    rows = options(facts, serving, args.concurrency, prices_from(args.config, args.region))
    rows = rows if args.all else smallest(rows)
    if args.json:
        print(json.dumps([
            {"instance_types": list(r.instance_types), "gpus": r.gpus, "tensor_parallel_size": r.tensor_parallel, "nodes": r.nodes,
             "weights_gib_per_gpu": round(r.fit.weights_gib, 2), "kv_cache_gib_per_gpu": round(r.fit.kv_gib, 2),
             "full_length_requests": round(r.fit.sequences, 2), "usd_per_hour": r.usd_per_hour}
            for r in rows
        ], indent=2))  # fmt: skip
    else:
        print(render(facts, serving, args.concurrency, rows))
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
