"""NVIDIA Triton Inference Server with the vLLM backend: model repository ConfigMap, Deployment, Service, PodDisruptionBudget."""
