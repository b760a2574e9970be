"""The Run:ai model streamer as vLLM drives it: what the kit tells the loader, and how many bytes each pod reads.

Read in vLLM v0.30.0 (and v0.27.1, Triton's, identical) `vllm/model_executor/model_loader/runai_streamer_loader.py`
and `weight_utils.runai_safetensors_weights_iterator`, and in runai-model-streamer 0.15.7 to 0.16.1 (the versions
vLLM 0.30.0's image can carry: its Dockerfile installs `runai-model-streamer[s3,gcs,azure]>=0.15.7`, 0.16.1 being the
newest when v0.30.0 was released; `distributed_streamer/` is the same in all of them):

- Every rank (one process per GPU of the server, TP x PP of them) streams every safetensors file of the checkpoint
  unless `--model-loader-extra-config` says `"distributed": true` (default off). Pipeline stages do not skip the
  files of other stages.
- With `distributed`, the loader streams to the rank's GPU and the streamer splits the tensors between the ranks of
  a group, reads only its share and broadcasts it to the others (NCCL). The group is the ranks of one host by
  default (`socket.gethostname()`, one pod here): each pod still reads the whole checkpoint once. With
  `RUNAI_STREAMER_DIST_GLOBAL=1` the group is every rank of every node, and a pod reads 1/nodes of it; the rest
  crosses between the nodes, which is only worth it where that network is EFA (the streamer's own docs leave the
  choice to "the communication speed between the nodes").
- With one rank (or torch.distributed not initialised) the streamer falls back to plain streaming; in the default
  `RUNAI_STREAMER_DIST=auto` it also falls back unless the process group's backend is nccl, which is vLLM's on CUDA.
- The loader accepts exactly `distributed` (bool), `concurrency` (int > 0, RUNAI_STREAMER_CONCURRENCY: reading
  threads per rank) and `memory_limit` (int >= -1); any other key raises.
"""

from __future__ import annotations

from dataclasses import dataclass

GLOBAL_GROUP_ENV = "RUNAI_STREAMER_DIST_GLOBAL"


def distributed(ranks: int) -> bool:
    """Whether a server of `ranks` processes (TP x PP) should share the reading: only where there is someone to share with."""
    return ranks > 1


def global_group(nodes: int, efa: bool) -> bool:
    """Whether the ranks of all the nodes of a group share the reading, not only those of one node."""
    return nodes > 1 and efa


def loader_extra_config(concurrency: int, ranks: int) -> dict:
    """--model-loader-extra-config of a server with `ranks` processes streaming with `concurrency` threads each."""
    config: dict = {"concurrency": concurrency}
    if distributed(ranks):
        config["distributed"] = True
    return config


def env(nodes: int, efa: bool) -> list[dict]:
    """Environment of every pod of a group that streams its weights."""
    return [{"name": GLOBAL_GROUP_ENV, "value": "1"}] if global_group(nodes, efa) else []


@dataclass(frozen=True)
class StreamerLoad:
    """How one model server (`nodes` pods of `ranks_per_pod` GPU processes each) streams one checkpoint."""

    ranks_per_pod: int
    nodes: int = 1
    efa: bool = False
    asked: bool = True
    """Whether the loader is told to share the reading, as the kit does wherever there is more than one rank; False
    models a server started without it."""

    @property
    def distributed(self) -> bool:
        return self.asked and distributed(self.ranks_per_pod * self.nodes)

    @property
    def global_group(self) -> bool:
        return self.distributed and global_group(self.nodes, self.efa)

    def pod_share(self) -> float:
        """Copies of the checkpoint one pod reads from storage."""
        if not self.distributed:
            return float(self.ranks_per_pod)
        return 1 / self.nodes if self.global_group else 1.0

    def rank_share(self) -> float:
        """Copies of the checkpoint one rank reads (tensors are split whole, so a rank's share is this give or take one)."""
        return self.pod_share() / self.ranks_per_pod

    @property
    def readers_per_pod(self) -> int:
        """Processes streaming at once in one pod, each with its own `concurrency` threads: every rank, in both modes."""
        return self.ranks_per_pod
