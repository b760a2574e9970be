"""The GPU data plane: instance facts, EFA layouts, Karpenter, node pools, capacity blocks, node bootstrap."""
