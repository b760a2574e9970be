"""One model across several nodes: vLLM on a Ray cluster per LeaderWorkerSet group (tensor parallel in a node, pipeline across nodes)."""
