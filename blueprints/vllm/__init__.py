"""vLLM OpenAI-compatible server: Deployment, Service, PodDisruptionBudget, optional autoscaler."""
