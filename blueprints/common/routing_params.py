"""Workload keys for the request path: the gateway route, the endpoint picker and autoscaling on serving signals."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from core.schema import StrictModel


class EndpointPicker(StrictModel):
    """The Gateway API Inference Extension's endpoint picker in front of the workload's pods (an InferencePool):
    each request goes to the replica with the best weighted score."""

    prefix_cache_weight: Annotated[int, Field(ge=0, le=100)] = 3
    """Weight of the prefix-cache scorer: prefer the replica that already holds the prompt's leading blocks."""
    kv_cache_weight: Annotated[int, Field(ge=0, le=100)] = 2
    """Weight of the KV-cache utilisation scorer: prefer the replica with the most free KV cache."""
    queue_weight: Annotated[int, Field(ge=0, le=100)] = 2
    """Weight of the queue scorer: prefer the replica with the fewest waiting requests."""

    @model_validator(mode="after")
    def _some_weight(self) -> EndpointPicker:
        if not (self.prefix_cache_weight or self.kv_cache_weight or self.queue_weight):
            raise ValueError("every scorer weight is 0, so the picker would choose at random; give at least one a positive weight")
        return self


class Routing(StrictModel):
    gateway: bool = True
    """Route the workload's model name through the kit's Gateway (gateway: in the config)."""
    endpoint_picker: EndpointPicker | None = EndpointPicker()
    """KV- and prefix-aware routing through an InferencePool and its endpoint picker."""
    fallback: str | None = None
    """A gateway.bedrock model the gateway sends requests to when this workload fails or answers 429/5xx. Envoy AI
    Gateway cannot fail over from an InferencePool, so with a fallback the route goes to the workload's Service
    (round-robin) and endpoint_picker must be null."""


ScalingSignal = Literal["requests_waiting", "kv_cache_usage", "time_to_first_token"]


class Autoscaling(StrictModel):
    """KEDA scales the workload's replicas on vLLM's own metrics, read from the kit's metrics backend."""

    min_replicas: Annotated[int, Field(ge=0, le=100)] = 1
    """Replicas kept however idle. 0 is refused: nothing holds a request while the first replica starts."""
    max_replicas: Annotated[int, Field(ge=1, le=100)] = 4
    signal: ScalingSignal = "requests_waiting"
    """requests_waiting: requests queued per replica (vllm:num_requests_waiting); kv_cache_usage: share of the KV cache
    in use per replica (vllm:kv_cache_usage_perc); time_to_first_token: the workload's p90 time to first token."""
    target: Annotated[float, Field(gt=0)] = 5
    """The signal's target: requests per replica, a share between 0 and 1, or seconds (time_to_first_token: 0.01 to
    30, so 500 ms is 0.5)."""
    scale_up_seconds: Annotated[int, Field(ge=0, le=3600)] = 60
    """How long the signal must stay above target before replicas are added (a GPU node takes minutes to come)."""
    scale_down_seconds: Annotated[int, Field(ge=60, le=3600)] = 900
    """How long the signal must stay below target before a replica goes (at most an hour: the HorizontalPodAutoscaler
    API refuses a longer stabilization window)."""
    fallback_replicas: Annotated[int, Field(ge=1, le=100)] | None = None
    """Replicas to run at least while KEDA cannot read the signal (the metrics backend fails or answers nothing);
    the count never drops while KEDA is blind. Default: min_replicas, which holds the current count."""

    @model_validator(mode="after")
    def _bounds(self) -> Autoscaling:
        if self.min_replicas > self.max_replicas:
            raise ValueError(
                f"min_replicas ({self.min_replicas}) is above max_replicas ({self.max_replicas}); raise max_replicas or lower min_replicas"
            )
        if self.fallback_replicas is not None and not self.min_replicas <= self.fallback_replicas <= self.max_replicas:
            raise ValueError(
                f"fallback_replicas ({self.fallback_replicas}) is outside min_replicas..max_replicas "
                f"({self.min_replicas}..{self.max_replicas}); pick a count between them, or leave it out to hold the current count"
            )
        if self.signal == "kv_cache_usage" and self.target >= 1:
            raise ValueError(f"kv_cache_usage is a share of the cache: target must be below 1 (e.g. 0.7), not {self.target}")
        return self
