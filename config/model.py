"""The root of the config model, every key but the workloads.

The workloads are typed by the blueprints, which this layer does not know: the assembly extends
PlatformConfig with a `workloads` list of the registered blueprints' parameters (assembly.kit.KitConfig).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from config.cluster import ClusterSettings
from config.gateway import Gateway
from config.images import Images
from config.gpu_queues import Scheduling
from config.network import Network, PlacementSettings
from config.node_pools import CapacityBlockNodeGroup, KarpenterSettings, NodePool
from config.observability import ObservabilitySettings
from config.pipeline import Pipeline
from config.storage import Storage
from core.schema import StrictModel


class PlatformConfig(StrictModel):
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,22}[a-z0-9]$", examples=["llm-kit"])]
    """Prefix of the stack names and the EKS cluster name: lower-case letters, digits and dashes, 3 to 24 characters."""
    region: Annotated[str, Field(pattern=r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$", examples=["us-west-2"])]
    """AWS region of every stack."""
    account: Annotated[str | None, Field(pattern=r"^\d{12}$")] = None
    """AWS account ID. Leave empty to deploy to the account of the credentials in use."""
    tags: dict[Annotated[str, Field(min_length=1, max_length=128)], Annotated[str, Field(max_length=256)]] = {}
    """Tags put on every resource."""
    placement: PlacementSettings
    """Where the data plane lives: one zone, named by AZ ID."""
    network: Network = Network()
    """The VPC: created by the kit, or an existing one named by IDs."""
    cluster: ClusterSettings = ClusterSettings()
    """The EKS control plane and its system node group."""
    storage: Storage = Storage()
    """Model weights: the S3 bucket, the optional FSx for Lustre file system and who may read them."""
    karpenter: KarpenterSettings = KarpenterSettings()
    """The Karpenter controller that launches the GPU nodes."""
    node_pools: list[NodePool] = []
    """GPU node pools, each one Karpenter NodePool and EC2NodeClass in placement.az_id."""
    capacity_block_node_groups: list[CapacityBlockNodeGroup] = []
    """Managed node groups that run a fixed capacity block (the alternative to a reserved Karpenter pool)."""
    gateway: Gateway = Gateway()
    """The entry point of the workloads that set routing.gateway (docs/routing.md)."""
    scheduling: Scheduling = Scheduling()
    """GPU queues per team with quotas, gang admission and priorities, under Kueue (docs/capacity.md)."""
    observability: ObservabilitySettings = ObservabilitySettings()
    """Metrics, GPU telemetry, alerts: an AMP workspace and managed scraper by default."""
    pipeline: Pipeline = Pipeline()
    """Optional: deploy through a CDK Pipelines CodePipeline rather than `cdk deploy`."""
    images: Images = Images()
    """Where nodes pull images from, and the images the kit builds (docs/images.md)."""
