"""A cold-start budget: how long a new replica takes from an empty node to serving, part by part.

    node launch -> image pull -> weight load -> engine warm-up (torch.compile, CUDA graphs) -> ready

The startup probe starts with the container, so its window covers the weights and the warm-up (with margin);
node launch and the image pull come before and only add to the time a scale-out takes. In a group of several
nodes the leader's probe also covers its last worker arriving. The figures are a model (docs/performance.md states
it and what it is calibrated on): the image sizes in their records (core/images.py), rates that are assumptions for the
instance sizes the kit targets. Checked on CHECKED_ON.

Weights are counted as the bytes each pod (one node of a group) really reads: vLLM 0.30.0 loads every file of the
checkpoint in every pod whatever its pipeline stage, and the S3 streamer reads it once per rank unless its
distributed mode shares it out (core/streamer.py).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from core.images import image
from core.streamer import StreamerLoad

CHECKED_ON = "2026-11-29"

# Effective pull rates, MB/s, into one node: containerd's default (three layers at a time, serial unpack) and the
# SOCI snapshotter's parallel pull and unpack (Bottlerocket) / nodeadm's FastImagePull (AL2023).
PULL_MB_S = {"parallel": 400.0, "default": 120.0}
# Weight load rates, MB/s, into one pod. The Run:ai streamer reads S3 ranges concurrently (about 60 MB/s per
# stream; each rank of a server runs its own `concurrency` streams) up to what one pod's network takes; FSx for
# Lustre serves its per-TiB throughput to all its clients at once, bursting higher; the Hub goes through the NAT gateway.
S3_STREAM_MB_S_PER_READER = 60.0
POD_NETWORK_MB_S = 4000.0
HUB_MB_S = 150.0
FSX_BURST = 2.0
# Engine start: process, CUDA context, torch.compile and CUDA graph capture (about the same on every GPU of a pod),
# plus a little per GB each GPU holds (profiling the KV cache, moving the weights in).
WARMUP_SECONDS = 90
WARMUP_SECONDS_PER_GB_PER_GPU = 0.5
NODE_LAUNCH_SECONDS = 240
PROBE_MARGIN = 1.5
PROBE_SLACK_MINUTES = 5

# Bytes per parameter by dtype or quantization, to size weights from a name such as Llama-3.1-8B.
BYTES_PER_PARAM = {"fp8": 1.0, "awq": 0.55, "gptq": 0.55, "compressed-tensors": 1.0}
_PARAMS = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)[bB](?![a-zA-Z])")


def image_gb(key: str) -> float:
    """The compressed size of an image, from its record; registration gives every GPU blueprint's images one."""
    size = image(key).size_gb
    if size is None:
        raise ValueError(f"image {key!r}: its record has no size_gb; the cold-start model needs one; record its compressed size")
    return size


def weights_gb_from_name(name: str, quantization: str | None) -> float | None:
    """The weights' size from a parameter count in the model's name (8B, 70B, 405b); None when none is there."""
    found = _PARAMS.findall(name)
    if not found:
        return None
    params = max(float(value) for value in found)
    return round(params * BYTES_PER_PARAM.get(quantization or "", 2.0), 1)


@dataclass(frozen=True)
class WeightSource:
    kind: str
    """s3, fsx or hf."""
    label: str = ""
    """How the summary names it."""
    streams: int = 16
    """S3 streamer concurrency, per rank."""
    fsx_mb_s: float = 0.0
    """The file system's baseline throughput (capacity TiB x per-TiB throughput)."""

    def rate_mb_s(self, readers: int = 1, pods: int = 1) -> float:
        """Into one pod, while `readers` processes in it stream at once and `pods` pods of one group load together."""
        if self.kind == "s3":
            return min(readers * self.streams * S3_STREAM_MB_S_PER_READER, POD_NETWORK_MB_S)
        if self.kind == "fsx":
            return min(self.fsx_mb_s * FSX_BURST / pods, POD_NETWORK_MB_S)
        return HUB_MB_S


@dataclass(frozen=True)
class Budget:
    node_seconds: int
    image_seconds: int
    weights_seconds: int | None
    warmup_seconds: int
    source: str = ""
    pod_read_gb: float | None = None
    """What one pod reads from the source: the checkpoint times read_share."""
    read_share: float = 1.0
    """Copies of the checkpoint one pod reads (S3 without distributed streaming: one per rank)."""
    join_seconds: int = 0
    """How much later than the leader the last pod of a group may start: its own node launch and image pull."""

    @property
    def in_container_seconds(self) -> int | None:
        """What the startup probe must wait for: the group's last pod arriving, the weights and the warm-up."""
        return None if self.weights_seconds is None else self.join_seconds + self.weights_seconds + self.warmup_seconds

    @property
    def total_seconds(self) -> int | None:
        inside = self.in_container_seconds
        return None if inside is None else self.node_seconds + self.image_seconds + inside

    def probe_minutes(self) -> int | None:
        inside = self.in_container_seconds
        return None if inside is None else math.ceil(inside * PROBE_MARGIN / 60) + PROBE_SLACK_MINUTES

    def describe(self) -> str:
        def m(seconds: int) -> str:
            return f"{seconds // 60}m{seconds % 60:02d}s"

        if self.weights_seconds is None:
            weights = "weights ? (set model_size_gib)"
        else:
            copies = "" if self.read_share == 1 else f", {self.read_share:g} x the checkpoint"
            weights = f"weights {m(self.weights_seconds)} ({self.pod_read_gb:g} GB a pod{copies}) from {self.source}"
        parts = [f"node {m(self.node_seconds)}" if self.node_seconds else "node ready", f"image {m(self.image_seconds)}"]
        parts += [f"last node of the group {m(self.join_seconds)}"] if self.join_seconds else []
        parts += [weights, f"warm-up {m(self.warmup_seconds)}"]
        total = f" = {m(self.total_seconds)}" if self.total_seconds is not None else ""
        return " + ".join(parts) + total


def budget(
    *,
    image_gb: float,
    parallel_pull: bool,
    weights_gb: float | None,
    source: WeightSource,
    node_launch: bool,
    gpus: int = 1,
    nodes: int = 1,
    efa: bool = False,
) -> Budget:
    """weights_gb: the whole checkpoint; gpus: GPUs (ranks) of one pod; nodes: pods of one group, one per node, whose
    GPUs share the weights between them (pipeline stages); efa: whether the group's nodes talk over EFA."""
    image = round(image_gb * 1000 / PULL_MB_S["parallel" if parallel_pull else "default"])
    node = NODE_LAUNCH_SECONDS if node_launch else 0
    load = StreamerLoad(ranks_per_pod=gpus, nodes=nodes, efa=efa)
    # Other sources are read once per pod: the page cache (FSx) or the download (Hub) serves all its ranks.
    share = load.pod_share() if source.kind == "s3" else 1.0
    pod_read = None if weights_gb is None else round(weights_gb * share, 1)
    weights = None if pod_read is None else round(pod_read * 1000 / source.rate_mb_s(readers=load.readers_per_pod, pods=nodes))
    warmup = round(WARMUP_SECONDS + WARMUP_SECONDS_PER_GB_PER_GPU * (weights_gb or 0) / (gpus * nodes))
    join = node + image if nodes > 1 else 0
    return Budget(
        node_seconds=node,
        image_seconds=image,
        weights_seconds=weights,
        warmup_seconds=warmup,
        source=source.label,
        pod_read_gb=pod_read,
        read_share=share,
        join_seconds=join,
    )
