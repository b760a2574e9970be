"""A short, readable account of what a synth produced."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from assembly.deploy_time import describe as describe_deploy
from assembly.deploy_time import plan_assembly
from assembly.image_summary import image_lines
from assembly.kit import KIT, KitConfig
from assembly.next_steps import what_next
from assembly.size import fit_report
from blueprints.contract import GpuBlueprint
from config.model import PlatformConfig
from config.platform import capacities, chain_capacities
from core.capacity import GpuCapacity


def render_summary(config: KitConfig, config_path: Path, outdir: Path, dist: Path, charts: Path, seconds: float, delivery=None) -> str:
    manifest = json.loads((outdir / "manifest.json").read_text())
    lines = [f"Synthesized {config.name} from {config_path} in {seconds:.1f}s"]
    lines.append(
        f"  zone       {config.placement.az_id} (nodes, GPUs, storage); control plane also in {config.placement.control_plane_az_id}"
    )
    lines.append("  stacks")
    for name, artifact in sorted(manifest["artifacts"].items()):
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        template = json.loads((outdir / artifact["properties"]["templateFile"]).read_text())
        types = Counter(resource["Type"] for resource in template.get("Resources", {}).values())
        top = ", ".join(f"{count} {kind.split('::')[-1]}" for kind, count in types.most_common(4))
        lines.append(f"    {name:<28} {sum(types.values()):>4} resources ({top}, ...)")
    nodes = config.cluster.system_nodes
    lines.append("  node pools")
    lines.append(f"    {'system (managed)':<28} {'/'.join(nodes.instance_types)}, {nodes.min_size}-{nodes.max_size} nodes")
    pools = capacities(config)
    for capacity in pools.values():
        lines.append(f"    {capacity.title:<28} {capacity.describe()}")
    for chain in chain_capacities(config, pools).values():
        steps = [
            f"{name} ({_capacity(pools[name])}{f', weight {pools[name].weight}' if pools[name].weight else ''})" for name in chain.members
        ]
        lines.append(f"    {chain.title:<28} {' -> '.join(steps)}; up to {chain.max_gpus} GPUs")
    if config.scheduling.teams:
        lines.append(
            "  queues     Kueue; "
            + "; ".join(
                f"{team.name}: " + ", ".join(f"{gpus} GPUs on {name}" for name, gpus in team.gpus.items())
                for team in config.scheduling.teams
            )
        )
    enabled = [w for w in config.workloads if w.enabled]
    lines.append("  workloads" + ("  none enabled" if not enabled else ""))
    memory, fit_warnings = fit_report(config)
    platform = KIT.platform(config) if enabled else None
    for workload in enabled:
        lines.append(f"    {workload.name:<28} {KIT.summary(workload)} -> {dist}/{workload.name}/")
        blueprint = KIT.blueprint_of(workload)
        if platform is not None and isinstance(blueprint, GpuBlueprint):
            placement = blueprint.placement(workload, platform)
            budget = blueprint.cold_start(workload, platform, placement)
            lines.append(f"    {'':<28} cold start {budget.describe()}; startup probe allows {placement.startup_minutes} min")
            lines.append(f"    {'':<28} GPU memory {memory[workload.name]}")
    disabled = [w.name for w in config.workloads if not w.enabled]
    if disabled:
        lines.append(f"    disabled: {', '.join(disabled)}")
    observability = config.observability
    lines += image_lines(config, outdir, dist)
    lines.append(
        f"  metrics    {observability.metrics}; DCGM exporter {'on' if observability.runs_dcgm_exporter else 'off'}; alerts "
        f"{'on' if observability.loads_alerts else 'off'}"
    )
    lines.append(f"  cdk-nag    {_nag_status(outdir)}")
    deploy = describe_deploy(plan_assembly(outdir))
    lines.append(f"  deploy     {deploy[0]}")
    lines += [f"             {line}" for line in deploy[1:]]
    lines.append(f"  output     {outdir}/ (CloudFormation), {dist}/ (manifests), {charts}/ (Helm charts)")
    lines += what_next(config, config_path, delivery)
    lines += [f"  warning    {warning}" for warning in warnings(config) + fit_warnings]
    return "\n".join(lines)


def _capacity(pool: GpuCapacity) -> str:
    """How a pool of a chain is bought: a capacity block's window, or its capacity types."""
    return "block window" if pool.block_window else "+".join(pool.capacity_types)


def warnings(config: PlatformConfig) -> list[str]:
    """What the config allows but a team will regret, said once per synth."""
    found = []
    cluster = config.cluster
    if not cluster.admin_principal_arns:
        reach = (
            "the API endpoint is private (no public_access_cidrs), so kubectl must also run inside the VPC"
            if not cluster.public_access_cidrs
            else "kubectl from outside needs one of them"
        )
        found.append(
            "no cluster.admin_principal_arns: only the role CloudFormation deployed with is cluster admin, and no person can "
            f"reach the cluster; {reach}. Add your team's IAM roles under cluster.admin_principal_arns (docs/deploy.md)"
        )
    return found


def _nag_status(outdir: Path) -> str:
    report_path = outdir / "validation-report.json"
    if not report_path.exists():
        return "no report written"
    report = json.loads(report_path.read_text())
    parts = []
    for plugin in report.get("pluginReports", []):
        open_count = sum(len(v["violatingConstructs"]) for v in plugin.get("violations", []))
        acknowledged = sum(len(v["violatingConstructs"]) for v in plugin.get("suppressedViolations", []))
        parts.append(f"{plugin['pluginName']}: {plugin['conclusion']}, {open_count} open, {acknowledged} acknowledged with reasons")
    return "; ".join(parts)
