"""NVIDIA Dynamo with vLLM workers: a DynamoGraphDeployment (frontend plus aggregated or prefill/decode
workers) run by the Dynamo operator, which the cluster stack installs while such a workload is enabled."""
