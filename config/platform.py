"""What the config says about the platform, in the core layer's terms: GPU capacities and the Platform facts."""

from __future__ import annotations

from ipaddress import IPv4Network

from core.burn_in import TAINT as BURN_IN_TAINT
from core.capacity import GpuCapacity, NodeTaint
from core.instances import known
from core.naming import kit_bucket_name
from core.isolation import SCRAPER_NAMESPACES, SCRAPER_PODS, NetworkFacts, cidr_peer, namespace_peer
from core.routing import RoutingFacts
from core.kueue_facts import SchedulingFacts, has_topology_labels
from core.platform import ACCOUNT_PLACEHOLDER, Platform, StorageFacts
from config.model import PlatformConfig
from config.node_pools import CapacityBlockNodeGroup, NodePool
from core.subnet_plan import LayoutError, plan_subnets
from config.images import registry_cache
from core.versions import AMI_VERSIONS


def instance_store_raid(pool: NodePool) -> bool:
    """Karpenter stripes the instance store and puts the kubelet's directory on it, unless a pre-pulled image
    snapshot must stay visible on the data volume (infra/gpu/node_pool_manifests.py)."""
    local = all(facts.local_nvme_gb > 0 for facts in map(known, pool.instance_types) if facts is not None)
    prepulled = pool.ami_family == "bottlerocket" and pool.image_pull.prepulled_images_snapshot_id is not None
    return local and not prepulled


def pool_capacity(pool: NodePool, zone_id: str) -> GpuCapacity:
    return GpuCapacity(
        name=pool.name,
        provisioner="karpenter",
        instance_types=tuple(pool.instance_types),
        capacity_types=tuple(pool.capacity_types),
        ami_family=pool.ami_family,
        efa=pool.efa,
        zone_id=zone_id,
        max_gpus=pool.gpu_limit,
        extra_labels=dict(pool.labels),
        extra_taints=tuple(NodeTaint(t.key, t.value, t.effect) for t in pool.taints),
        weight=pool.weight,
        reservation_ids=tuple(pool.capacity_reservations.ids) if pool.capacity_reservations else (),
        config_key=f"node_pools[{pool.name}]",
        parallel_pull=pool.image_pull.soci_parallel_pull,
        instance_store=instance_store_raid(pool),
        chain=pool.chain,
        startup_taints=(NodeTaint(BURN_IN_TAINT["key"], BURN_IN_TAINT["value"], BURN_IN_TAINT["effect"]),) if pool.burn_in else (),
        block_window=(block.start, block.end, block.drain_minutes_before_end) if (block := pool.capacity_block) else None,
        ami_version=pool.ami_version or AMI_VERSIONS[pool.ami_family],
    )


def chain_order(pools: list[NodePool]) -> list[NodePool]:
    """A chain's pools, most preferred first: capacity blocks (static nodes, always filled first), then by weight."""
    return sorted(pools, key=lambda pool: (pool.capacity_block is None, -(pool.weight or 0)))


def chain_capacities(config: PlatformConfig, pools: dict[str, GpuCapacity]) -> dict[str, GpuCapacity]:
    """One GpuCapacity per capacity chain, spanning its pools (the checks make them alike)."""
    chains: dict[str, list[NodePool]] = {}
    for pool in config.node_pools:
        if pool.chain:
            chains.setdefault(pool.chain, []).append(pool)
    found = {}
    for name, members in chains.items():
        ordered = [pools[pool.name] for pool in chain_order(members)]
        first = ordered[0]
        found[name] = GpuCapacity(
            name=name,
            provisioner="chain",
            instance_types=first.instance_types,
            capacity_types=tuple(dict.fromkeys(kind for member in ordered for kind in member.capacity_types)),
            ami_family=first.ami_family,
            efa=first.efa,
            zone_id=first.zone_id,
            max_gpus=sum(member.max_gpus for member in ordered),
            extra_taints=first.extra_taints,
            config_key=f"node_pools[chain={name}]",
            parallel_pull=all(member.parallel_pull for member in ordered),
            instance_store=all(member.instance_store for member in ordered),
            members=tuple(member.name for member in ordered),
            ami_version=first.ami_version,
        )
    return found


def node_group_capacity(group: CapacityBlockNodeGroup, zone_id: str) -> GpuCapacity:
    instance = known(group.instance_type)
    return GpuCapacity(
        name=group.name,
        provisioner="capacity-block-node-group",
        instance_types=(group.instance_type,),
        capacity_types=("reserved",),
        ami_family="bottlerocket" if group.ami_type.startswith("BOTTLEROCKET") else "al2023",
        efa=group.efa,
        zone_id=zone_id,
        max_gpus=group.size * (instance.gpus if instance else 0),
        extra_labels=dict(group.labels),
        reservation_ids=(group.reservation_id,),
        fixed_nodes=group.size,
        config_key=f"capacity_block_node_groups[{group.name}]",
        # Managed node groups keep the AMI's image-pull defaults.
        parallel_pull=False,
    )


def capacities(config: PlatformConfig) -> dict[str, GpuCapacity]:
    """Every GPU capacity by name, Karpenter pools first, in config order."""
    zone = config.placement.az_id
    found = [pool_capacity(pool, zone) for pool in config.node_pools]
    found += [node_group_capacity(group, zone) for group in config.capacity_block_node_groups]
    return {capacity.name: capacity for capacity in found}


def all_capacities(config: PlatformConfig) -> dict[str, GpuCapacity]:
    """Every GPU capacity a workload or a queue may name: pools, capacity-block node groups and chains."""
    pools = capacities(config)
    return pools | chain_capacities(config, pools)


def model_bucket_for_pods(config: PlatformConfig) -> str:
    """The model bucket as a pod names it; '{account}' where the config leaves the account to the credentials."""
    existing = config.storage.model_bucket.existing_bucket_name
    return existing or kit_bucket_name(config.name, config.account or ACCOUNT_PLACEHOLDER, config.region)


def platform(config: PlatformConfig) -> Platform:
    storage = config.storage
    known = all_capacities(config)
    return Platform(
        name=config.name,
        region=config.region,
        account=config.account,
        az_id=config.placement.az_id,
        namespace=storage.workloads_namespace,
        capacities=known,
        storage=StorageFacts(
            bucket_name=model_bucket_for_pods(config),
            creates_bucket=storage.model_bucket.creates_bucket,
            models_prefix=storage.models_prefix,
            fsx_enabled=storage.fsx.enabled,
            fsx_capacity_gib=storage.fsx.storage_capacity_gib,
            fsx_throughput_mb_s=storage.fsx.storage_capacity_gib / 1024 * storage.fsx.throughput_per_unit_storage,
            fsx_file_system_path=storage.fsx.file_system_path,
        ),
        network=network_facts(config),
        routing=RoutingFacts(
            gateway_listener_port=443 if config.gateway.certificate_arn else 80,
            metrics_backend=config.observability.metrics,
            scrape_interval_seconds=config.observability.scrape_interval_seconds,
            teams=tuple((team.name, tuple(team.models)) for team in config.gateway.teams),
            bedrock=tuple((model.name, model.model_id) for model in config.gateway.bedrock),
        ),
        scheduling=scheduling_facts(config, known),
        registry=registry_cache(config),
    )


def topology_capacities(config: PlatformConfig, capacities: dict[str, GpuCapacity]) -> frozenset[str]:
    """Fixed capacities (capacity-block node groups, capacity-block pools outside chains) whose nodes carry EC2's
    network topology labels: only there can Kueue place a group by topology, as it counts existing nodes only."""
    fixed = [c for c in capacities.values() if c.standing_nodes and not c.chain]
    return frozenset(c.name for c in fixed if all(has_topology_labels(t) for t in c.instance_types))


def scheduling_facts(config: PlatformConfig, capacities: dict[str, GpuCapacity]) -> SchedulingFacts:
    settings = config.scheduling
    return SchedulingFacts(
        teams=tuple((team.name, tuple(team.gpus)) for team in settings.teams),
        topology_capacities=topology_capacities(config, capacities),
        topology_level=settings.topology_level,
        pods_ready_timeout_minutes=settings.pods_ready_timeout_minutes,
    )


def service_cidr(vpc_cidr: IPv4Network) -> IPv4Network:
    """The cluster's Service range. The kit names none (infra/cluster/control_plane.py sets no
    kubernetesNetworkConfig, a create-only property), so EKS picks it: 10.100.0.0/16 or 172.20.0.0/16 (EKS user
    guide, create-cluster), the latter for a VPC in 10.0.0.0/8, which is how the EKS AMI's bootstrap.sh derives the
    cluster DNS address from the VPC's CIDR (awslabs/amazon-eks-ami templates/al2/runtime/bootstrap.sh)."""
    return IPv4Network("172.20.0.0/16") if vpc_cidr.subnet_of(IPv4Network("10.0.0.0/8")) else IPv4Network("10.100.0.0/16")


def kubernetes_service_ip(vpc_cidr: IPv4Network) -> str:
    """The `kubernetes` Service's address: the first of the Service range."""
    return f"{service_cidr(vpc_cidr).network_address + 1}/32"


def control_plane_cidrs(config: PlatformConfig) -> list[str]:
    """Where the EKS endpoint's interfaces and the AMP scraper's live (infra/observability/amp.py gives the scraper the
    cluster's subnets): the kit's /28 control-plane subnets, or an existing VPC's, by the ranges the config names
    (config/network_checks.py requires them while policies are enforced; only without policies, where nothing reads
    this, does it fall back to the VPC)."""
    network = config.network
    if network.existing_vpc is not None:
        return [str(cidr) for cidr in network.existing_vpc.control_plane_subnet_cidrs or [network.existing_vpc.cidr]]
    try:
        plans = plan_subnets(network.vpc_cidr, network.node_subnet_prefix)
    except LayoutError:
        return [str(network.vpc_cidr)]  # the config checks report the layout; nothing is synthesized
    return [str(plan.cidr) for plan in plans if plan.role == "control_plane"]


def network_facts(config: PlatformConfig) -> NetworkFacts:
    policies = config.cluster.network_policies
    vpc_cidr = config.network.existing_vpc.cidr if config.network.existing_vpc else config.network.vpc_cidr
    planes = control_plane_cidrs(config)
    backend = config.observability.metrics
    if backend == "amp":
        scrapers = tuple(cidr_peer(cidr) for cidr in planes)
    elif backend in SCRAPER_NAMESPACES:
        pods = SCRAPER_PODS.get(backend)
        scrapers = ({**namespace_peer(SCRAPER_NAMESPACES[backend]), **({"podSelector": {"matchLabels": pods}} if pods else {})},)
    else:
        scrapers = ()
    return NetworkFacts(
        enforced=policies.enabled,
        serving_from_namespaces=tuple(policies.serving_from_namespaces),
        metrics_from=scrapers,
        api_server=(kubernetes_service_ip(vpc_cidr), *planes),
        vpc_cidr=str(vpc_cidr),
        service_cidr=str(service_cidr(vpc_cidr)),
    )
