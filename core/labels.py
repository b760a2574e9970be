"""Label, annotation and taint keys the kit writes and selects on, spelled once.

Node labels: every GPU node carries POOL_LABEL, ACCELERATOR_LABEL, EFA_LABEL and AMI_FAMILY_LABEL, whether
Karpenter or a capacity-block node group launched it (core.capacity.GpuCapacity.node_labels). The system
node group carries POOL_LABEL=system. Workload objects carry WORKLOAD_LABEL and BLUEPRINT_LABEL.
"""

from __future__ import annotations

from core.naming import SYSTEM_POOL

PREFIX = "llm-kit/"
POOL_LABEL = "llm-kit/pool"
# Every node of the pools of one capacity chain: workloads that name the chain select on it.
CHAIN_LABEL = "llm-kit/capacity"
ACCELERATOR_LABEL = "llm-kit/accelerator"
EFA_LABEL = "llm-kit/efa"
AMI_FAMILY_LABEL = "llm-kit/ami-family"
KIT_NAME_TAG = "llm-kit/name"

WORKLOAD_LABEL = "llm-kit/workload"
BLUEPRINT_LABEL = "llm-kit/blueprint"
HEALTH_PATH_ANNOTATION = "llm-kit/health-path"
PART_OF = "llm-serving-kit"

# Well-known labels set by Kubernetes, EKS and Karpenter.
ZONE_ID_LABEL = "topology.k8s.aws/zone-id"
INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type"
KARPENTER_CAPACITY_TYPE_LABEL = "karpenter.sh/capacity-type"
EKS_CAPACITY_TYPE_LABEL = "eks.amazonaws.com/capacityType"

GPU_RESOURCE = "nvidia.com/gpu"
EFA_RESOURCE = "vpc.amazonaws.com/efa"
GPU_TAINT = {"key": GPU_RESOURCE, "effect": "NoSchedule"}
SYSTEM_POOL_LABEL = {POOL_LABEL: SYSTEM_POOL}
