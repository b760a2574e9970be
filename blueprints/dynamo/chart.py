"""NVIDIA Dynamo serving vLLM: one DynamoGraphDeployment, plus a Service and budget for its frontend."""

from __future__ import annotations

import cdk8s
from constructs import Construct

from blueprints.common import objects
from blueprints.context import Placement
from blueprints.dynamo import components
from blueprints.dynamo.components import BLUEPRINT, FRONTEND_PORT
from blueprints.dynamo.params import DynamoWorkload

# The CRD serves v1alpha1 (deprecated, with a warning on every apply) and v1beta1, its storage version.
# v1beta1 is what the operator reconciles without conversion, and what the manifests are validated against.
API_VERSION = "nvidia.com/v1beta1"


class DynamoChart(cdk8s.Chart):
    def __init__(self, scope: Construct, construct_id: str, *, workload: DynamoWorkload, placement: Placement) -> None:
        super().__init__(scope, construct_id, namespace=placement.namespace, disable_resource_name_hashes=True)
        name = workload.name
        graph = [components.frontend(workload, placement)]
        graph += [components.worker(workload, placement, role) for role in workload.role_replicas()]
        objects.api_object(
            self,
            "graph",
            api_version=API_VERSION,
            kind="DynamoGraphDeployment",
            name=name,
            labels_=objects.labels(name, BLUEPRINT),
            body={"spec": {"backendFramework": "vllm", "components": graph}},
        )
        # The operator creates <name>-frontend too; this Service gives every blueprint the same address: <name>:8000.
        frontend = components.role_selector(name, "frontend")
        objects.service(self, name, BLUEPRINT, frontend, [{"name": "http", "port": FRONTEND_PORT, "targetPort": FRONTEND_PORT}], health_path="/health")
        objects.disruption_budget(self, name, BLUEPRINT, frontend, workload.frontend_replicas)
