"""The part of the synth summary that says what happens next: what it costs, what the gateway enforces, where the KV
cache lives, what a destroy keeps, and the commands to run, with this config's own names."""

from __future__ import annotations

import shlex
from pathlib import Path

from assembly.delivery import Delivery
from assembly.kit import KIT, KitConfig
from blueprints.chart_values import UNKNOWN_VALUES
from blueprints.common.params import GpuWorkloadParams, KvOffloadable
from blueprints.contract import GpuBlueprint
from config.model import PlatformConfig
from config.platform import capacities
from core import prices
from core.instances import known
from core.model_sources import ACCOUNT_FIELD, FsxSource, HfSource, S3Source
from core.naming import kit_bucket_name

INDENT = " " * 13
GATEWAY_NAMESPACE, GATEWAY_NAME = "envoy-gateway-system", "llm-gateway"


def section(label: str, lines: list[str]) -> list[str]:
    return [f"  {label:<10} {line}" if index == 0 else f"{INDENT}{line}" for index, line in enumerate(lines)]


def money(value: float) -> str:
    return f"${value:,.0f}" if value >= 100 else f"${value:,.2f}"


def what_next(config: KitConfig, config_path: Path, delivery: Delivery | None = None) -> list[str]:
    """delivery: the synth's (the account it resolved, what dist/ still needs); None where nothing was delivered."""
    account = delivery.account if delivery is not None else None
    lines = []
    waiting = {name: missing for name, missing in (delivery.unknowns if delivery is not None else {}).items() if missing}
    if waiting:
        tokens = sorted({fact.token for missing in waiting.values() for fact in missing})
        lines += section(
            "dist",
            [
                f"not ready to apply as is: {', '.join(waiting)} (they hold {', '.join(tokens)}; see dist/<workload>/README.md)",
                *(
                    [f"the account: add account: to {_shown(config_path)}, or run ./kit synth --resolve-account with your credentials"]
                    if ACCOUNT_FIELD in tokens
                    else []
                ),
                f"the charts take them as values ({', '.join(UNKNOWN_VALUES[token] for token in tokens)}) "
                "and refuse to render without them",
            ],
        )
    lines += section("cost", cost_lines(config))
    gateway = gateway_lines(config)
    if gateway:
        lines += section("gateway", gateway)
    kv = kv_lines(config)
    if kv:
        lines += section("kv cache", kv)
    lines += section("destroy", destroy_lines(config, account))
    lines += section("next", next_commands(config, config_path, account))
    return lines


# --- cost ----------------------------------------------------------------------------------------------------------


def always_on(config: KitConfig) -> list[tuple[str, float | None]]:
    """(item, USD per month; None where the table has no price for the region) of what runs with no workload at all."""
    hour, region = prices.HOURS_PER_MONTH, config.region
    nodes = config.cluster.system_nodes
    system_type = nodes.instance_types[0]
    system_price = prices.instance_hour_usd(system_type, region)
    items: list[tuple[str, float | None]] = [
        ("EKS control plane", prices.EKS_CLUSTER_HOUR_USD * hour),
        (f"{nodes.desired_size} x {system_type} system nodes", None if system_price is None else nodes.desired_size * system_price * hour),
        (
            f"{nodes.desired_size} x {nodes.disk_size_gib} GiB gp3 node volumes",
            nodes.desired_size * nodes.disk_size_gib * prices.GP3_GIB_MONTH_USD,
        ),
        ("KMS key (cluster secrets)", prices.KMS_KEY_MONTH_USD),
    ]
    network = config.network
    if network.existing_vpc is None:
        if network.nat_gateways:
            items.append((f"{network.nat_gateways} NAT gateway (+ $0.045/GB)", network.nat_gateways * prices.NAT_GATEWAY_HOUR_USD * hour))
        if network.interface_endpoints:
            count = len(network.interface_endpoints)
            items.append((f"{count} interface endpoints, one zone (+ $0.01/GB)", count * prices.INTERFACE_ENDPOINT_HOUR_USD * hour))
    if KIT.routed(config) or config.gateway.bedrock:
        items.append(("gateway load balancer (+ capacity units)", prices.NLB_HOUR_USD * hour))
    fsx = config.storage.fsx
    if fsx.enabled:
        rate = prices.FSX_LUSTRE_GIB_MONTH_USD.get(fsx.throughput_per_unit_storage)
        items.append(
            (
                f"FSx for Lustre {fsx.storage_capacity_gib} GiB at {fsx.throughput_per_unit_storage} MB/s/TiB",
                None if rate is None else rate * fsx.storage_capacity_gib,
            )
        )
    for capacity in capacities(config).values():
        # Static on-demand or spot nodes run whether used or not; bought capacity (blocks, reservations) is priced
        # by what was paid for it, below.
        if capacity.fixed_nodes and not capacity.reserved and capacity.block_window is None and capacity.instance_types:
            price = _node_hour(config, capacity, capacity.instance_types[0])
            items.append(
                (
                    f"{capacity.name}: {capacity.fixed_nodes} x {capacity.instance_types[0]} kept running",
                    None if price is None else capacity.fixed_nodes * price * hour,
                )
            )
    return items


def _node_hour(config: PlatformConfig, capacity, instance_type: str) -> float | None:
    """A node's hour: the pool's own gpu_hour_usd times its GPUs where the config gives it, else the list price."""
    own = _gpu_hour_usd(config, capacity.name)
    facts = _facts(instance_type)
    if own and facts is not None:
        return own * facts.gpus
    return prices.instance_hour_usd(instance_type, config.region)


def cost_lines(config: KitConfig) -> list[str]:
    items = always_on(config)
    known = sum(value for _, value in items if value is not None)
    unpriced = [name for name, value in items if value is None]
    parts = ", ".join(f"{name} {money(value)}" for name, value in items if value is not None)
    lines = [f"always on ~{money(known)}/month: {parts}" + (f"; not priced: {', '.join(unpriced)}" if unpriced else "")]
    lines.append(
        f"list prices, on demand: instances of {prices.PRICES_DATED} (core/prices.py), services of {prices.SERVICES_DATED}; "
        "data transfer, logs, metrics and S3 storage come on top"
    )
    for capacity in capacities(config).values():
        gpus = {t: f for t in capacity.instance_types if (f := _facts(t)) is not None and f.gpus}
        own = _gpu_hour_usd(config, capacity.name)
        if own:
            lines.append(
                f"{capacity.name}: ${own:g} per GPU-hour (your gpu_hour_usd); up "
                f"to {capacity.max_gpus} GPUs = {money(own * capacity.max_gpus)}/h"
            )
            continue
        if capacity.block_window is not None or "reserved" in capacity.capacity_types:
            lines.append(
                f"{capacity.name}: capacity bought ahead ({'/'.join(capacity.capacity_types)}), "
                "paid whether used or not; set gpu_hour_usd to price it"
            )
            continue
        priced = [(t, p, f.gpus) for t, f in gpus.items() if (p := prices.instance_hour_usd(t, config.region)) is not None]
        if not priced:
            lines.append(
                f"{capacity.name}: no list price for {'/'.join(capacity.instance_types)} in {config.region}; set the pool's gpu_hour_usd"
            )
            continue
        per_gpu = [p / n for _, p, n in priced]
        shown = ", ".join(f"{t} {money(p)}/h" for t, p, _ in priced[:4]) + (", ..." if len(priced) > 4 else "")
        spot = " on demand (spot: less, and it varies)" if "spot" in capacity.capacity_types else ""
        low, high = min(per_gpu), max(per_gpu)
        gpu_range = f"${low:.2f}" if abs(high - low) < 0.005 else f"${low:.2f}-${high:.2f}"
        lines.append(
            f"{capacity.name}: {gpu_range} per GPU-hour{spot} ({shown}); nothing while "
            f"idle, up to {capacity.max_gpus} GPUs = {money(high * capacity.max_gpus)}/h"
        )
    for workload, gpus, pool, instance_type in _standing_gpus(config):
        # The pool's own price, else the gateway's blended one for the models it routes, else the list price.
        own = _gpu_hour_usd(config, pool) or (config.gateway.gpu_hour_usd if workload in {w.name for w in KIT.routed(config)} else None)
        listed = prices.instance_hour_usd(instance_type, config.region)
        facts = _facts(instance_type)
        price = own or (listed / facts.gpus if listed is not None and facts is not None and facts.gpus else None)
        plural = "s" if gpus > 1 else ""
        if price is None:
            lines.append(f"{workload} keeps {gpus} GPU{plural} on {pool} ({instance_type}); not priced: set the pool's gpu_hour_usd")
        else:
            whose = ", your gpu_hour_usd" if own else ""
            lines.append(
                f"{workload} keeps {gpus} GPU{plural} on {pool} ({instance_type}{whose}): ~{money(price * gpus)}/h, "
                f"~{money(price * gpus * prices.HOURS_PER_MONTH)}/month while deployed"
            )
    return lines


def _facts(instance_type: str):
    return known(instance_type)


def _gpu_hour_usd(config: PlatformConfig, pool: str) -> float | None:
    """The GPU-hour price the pool's owner set; a capacity-block node group has none to set."""
    return next((source.gpu_hour_usd for source in config.node_pools if source.name == pool), None)


def _standing_gpus(config: KitConfig) -> list[tuple[str, int, str, str]]:
    found = []
    platform = KIT.platform(config)
    for workload in KIT.enabled(config):
        blueprint = KIT.blueprint_of(workload)
        if not isinstance(blueprint, GpuBlueprint):
            continue
        standing = blueprint.standing(workload)
        placement = blueprint.placement(workload, platform)
        if standing.gpus:
            found.append((workload.name, standing.gpus, placement.pool, placement.instance_type))
    return found


# --- gateway, KV cache, destroy --------------------------------------------------------------------------------------


def gateway_lines(config: KitConfig) -> list[str]:
    gateway = config.gateway
    routed = KIT.routed(config)
    if not routed and not gateway.bedrock:
        return []
    scheme = f"{gateway.scheme} load balancer, {'HTTPS' if gateway.certificate_arn else 'HTTP'}"
    lines = [f"{GATEWAY_NAME} ({scheme}): models {', '.join([w.public_model_name for w in routed] + [m.name for m in gateway.bedrock])}"]
    for model in gateway.bedrock:
        lines.append(
            f"Bedrock {model.name} -> {model.model_id} "
            f"(${model.input_usd_per_million:g}/${model.output_usd_per_million:g} per million tokens in/out)"
        )
    if not gateway.teams:
        lines.append("no teams: every caller reaches every routed model without a key; add gateway.teams for keys and budgets")
    for team in gateway.teams:
        budget = (
            ", ".join(part for part in (_tokens(team.tokens_per_minute, "minute"), _tokens(team.tokens_per_day, "day")) if part)
            or "no token budget"
        )
        lines.append(f"team {team.name}: {', '.join(team.models)}; {budget}")
    return lines


def _tokens(count: int | None, per: str) -> str:
    if not count:
        return ""
    shown = f"{count / 1e6:g}M" if count >= 1e6 else f"{count / 1e3:g}k" if count >= 1e3 else str(count)
    return f"{shown} tokens/{per}"


def kv_lines(config: KitConfig) -> list[str]:
    lines = []
    for workload in KIT.enabled(config):
        offload = workload.kv_offload if isinstance(workload, KvOffloadable) else None
        if offload is None:
            continue
        tiers = ["GPU memory", f"{offload.cpu_gib} GiB host memory"]
        if offload.nvme is not None:
            tiers.append(f"{offload.nvme.size_gib} GiB node NVMe")
        if offload.fsx is not None:
            tiers.append(f"{offload.fsx.size_gib} GiB on FSx ({offload.fsx.directory}, shared by its replicas)")
        lines.append(f"{workload.name}: {' -> '.join(tiers)}")
    return lines


def destroy_lines(config: PlatformConfig, account: str | None = None) -> list[str]:
    storage = config.storage
    kept = []
    if storage.model_bucket.creates_bucket:
        kept.append(f"the model bucket {_bucket(config, account)} and its access-log bucket")
    if storage.fsx.enabled:
        kept.append("the FSx for Lustre file system")
    if config.network.existing_vpc is None and config.network.flow_logs.enabled:
        kept.append("the VPC flow-log group")
    kept.append("the KMS key of the cluster's secrets")
    return [f"./kit destroy keeps {', '.join(kept)}: delete them by hand when no longer needed (docs/deploy.md#destroy)"]


# --- next commands ----------------------------------------------------------------------------------------------------


def _bucket(config: PlatformConfig, account: str | None) -> str:
    existing = config.storage.model_bucket.existing_bucket_name
    return existing or kit_bucket_name(config.name, account or config.account or "<account>", config.region)


def next_commands(config: KitConfig, config_path: Path, account: str | None) -> list[str]:
    path = shlex.quote(_shown(config_path))
    account = account or config.account
    steps = [
        f"KIT_CONFIG={path} ./kit bootstrap   # once per account and region: aws://{account or '<your account>'}/{config.region}",
        f".venv/bin/python -m scripts.preflight --config {path}   # zones, offerings, quotas, bootstrap",
    ]
    bucket = _bucket(config, account)
    platform = KIT.platform(config)
    for workload in KIT.enabled(config):
        source = workload.model if isinstance(workload, GpuWorkloadParams) else None
        if isinstance(source, S3Source):
            uri = source.in_bucket(platform.storage.bucket_name).uri.replace(ACCOUNT_FIELD, account or "<account>")
            target_bucket, _, key = uri.removeprefix("s3://").partition("/")
            prefix, _, name = key.rstrip("/").partition("/")
            steps.append(
                f".venv/bin/python -m scripts.stage_model --bucket {target_bucket} "
                f"--prefix {prefix} --name {name} --source <folder with the weights>"
                f"   # {workload.name}'s weights (or --hf-model <repo id> to download it from the Hub first)"
            )
        elif isinstance(source, FsxSource):
            steps.append(
                f"# {workload.name} reads {source.sub_path} on FSx: stage it into "
                f"s3://{bucket}/{config.storage.models_prefix.strip('/')}/ (the file system's data repository)"
            )
        elif isinstance(source, HfSource) and source.token_secret_name:
            steps.append(
                f"kubectl -n {config.storage.workloads_namespace} create secret "
                f"generic {source.token_secret_name} --from-literal=HF_TOKEN=<token>"
                f"   # {workload.name}'s Hub token, after the deploy"
            )
    steps.append(f"KIT_CONFIG={path} ./kit deploy")
    public = ", ".join(str(cidr) for cidr in config.cluster.public_access_cidrs)
    endpoint = f"public to {public}" if public else "private: run it inside the VPC"
    steps.append(f"aws eks update-kubeconfig --region {config.region} --name {config.name}   # kubectl; the endpoint is {endpoint}")
    if config.gateway.teams:
        steps.append(f".venv/bin/python -m scripts.team_keys sync --config {path}   # one API key per team, shown once")
    steps += _calls(config, platform)
    if not KIT.enabled(config):
        steps.append("no workload is enabled: add one under workloads: (docs/blueprints.md), then ./kit synth again")
    numbered, index = [], 0
    for step in steps:
        if step.startswith("#"):
            numbered.append(step)
        else:
            index += 1
            numbered.append(f"{index}. {step}")
    return numbered


def _calls(config: KitConfig, platform) -> list[str]:
    found = []
    routed = {w.name for w in KIT.routed(config)}
    namespace = config.storage.workloads_namespace
    for workload in KIT.enabled(config):
        endpoint = platform.endpoints.get(workload.name)
        if endpoint is None or not endpoint.serves_openai:
            continue
        body = f'\'{{"model": "{endpoint.model_name}", "messages": [{{"role": "user", "content": "Hello"}}]}}\''
        if workload.name in routed:
            scheme = "https" if config.gateway.certificate_arn else "http"
            key = ' -H "Authorization: Bearer $KEY"' if config.gateway.teams else ""
            found.append(
                f"curl {scheme}://<gateway address>/v1/chat/completions{key} -H 'content-type: application/json' -d {body}"
                f"   # address: kubectl -n {GATEWAY_NAMESPACE} get service -l gateway.envoyproxy.io/owning-gateway-name={GATEWAY_NAME}"
            )
        else:
            found.append(
                f"kubectl -n {namespace} port-forward service/{endpoint.service} 8000:{endpoint.port} & "
                f"curl localhost:8000/v1/chat/completions -H 'content-type: application/json' -d {body}"
            )
    return found


def _shown(path: Path) -> str:
    """The config's path as the user would type it: relative to the kit's folder where it lies inside."""
    kit = Path(__file__).resolve().parents[1]
    try:
        return str(path.resolve().relative_to(kit))
    except ValueError:
        return str(path)
