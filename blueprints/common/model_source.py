"""Turn a configured model source into what a server container needs: a model path or URI, volumes, env."""

from __future__ import annotations

from dataclasses import dataclass, field

from blueprints.common.k8s_types import EnvVar, Volume, VolumeMount
from core.model_sources import FsxSource, HfSource, S3Source

MODEL_MOUNT = "/models"


@dataclass
class ModelMount:
    location: str
    """What the server is told to load: s3:// URI, a local path, or a Hub repository id."""
    volumes: list[Volume] = field(default_factory=list)
    mounts: list[VolumeMount] = field(default_factory=list)
    env: list[EnvVar] = field(default_factory=list)
    streamed_from_s3: bool = False
    streamer_concurrency: int = 0
    revision: str | None = None


def model_mount(source: S3Source | FsxSource | HfSource, hf_home: str) -> ModelMount:
    """hf_home: where a Hub download is cached, a path the server's user can write (blueprints/common/identity.py)."""
    if isinstance(source, S3Source):
        # Streamed straight into GPU memory by the Run:ai streamer; credentials come from Pod Identity.
        return ModelMount(location=source.uri, streamed_from_s3=True, streamer_concurrency=source.streamer_concurrency)
    if isinstance(source, FsxSource):
        return ModelMount(
            location=f"{MODEL_MOUNT}/{source.sub_path.rstrip('/')}",
            volumes=[{"name": "models", "persistentVolumeClaim": {"claimName": source.claim_name, "readOnly": True}}],
            mounts=[{"name": "models", "mountPath": MODEL_MOUNT, "readOnly": True}],
        )
    # huggingface_hub 1.x (vLLM 0.30 needs >= 1.31) downloads through Xet and ignores HF_HUB_ENABLE_HF_TRANSFER;
    # this is its switch for parallel, high-throughput downloads.
    env: list[EnvVar] = [{"name": "HF_HOME", "value": hf_home}, {"name": "HF_XET_HIGH_PERFORMANCE", "value": "1"}]
    if source.token_secret_name:
        env.append({"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": source.token_secret_name, "key": "HF_TOKEN"}}})
    return ModelMount(
        location=source.repo_id,
        volumes=[{"name": "hf-cache", "emptyDir": {}}],
        mounts=[{"name": "hf-cache", "mountPath": hf_home}],
        env=env,
        revision=source.revision,
    )
