"""Config of the model storage: an S3 bucket for weights and an optional FSx for Lustre cache in the node zone."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from core.lustre import FSX_SMALLEST_GIB, ImportEvent
from core.schema import KubernetesName, StrictModel

BucketName = Annotated[str, Field(min_length=3, max_length=63, examples=["acme-llm-models"])]


class ModelBucketSettings(StrictModel):
    create: bool = True
    """Create the model bucket (named <name>-models-<account>-<region>). Leave it true unless existing_bucket_name is set."""
    existing_bucket_name: BucketName | None = None
    """Use this existing bucket instead of creating one; the kit then changes nothing on it."""

    @property
    def creates_bucket(self) -> bool:
        return self.existing_bucket_name is None


class Fsx(StrictModel):
    enabled: bool = False
    """Create a PERSISTENT_2 FSx for Lustre file system in placement.az_id, linked to the model prefix of the bucket."""
    storage_capacity_gib: Annotated[int, Field(ge=FSX_SMALLEST_GIB, examples=[1200])] = 1200
    """Storage capacity in GiB: 1200, 2400, or a multiple of 2400."""
    throughput_per_unit_storage: Literal[125, 250, 500, 1000] = 250
    """Throughput in MB/s per TiB of storage (PERSISTENT_2: 125, 250, 500 or 1000)."""
    data_compression: Literal["LZ4", "NONE"] = "LZ4"
    """Compression of file data on the file system. LZ4 costs little CPU and stretches capacity."""
    link_to_bucket: bool = True
    """Link file_system_path to s3://<bucket>/<models_prefix> with a data repository association."""
    import_policy: list[ImportEvent] = ["NEW", "CHANGED", "DELETED"]
    """S3 changes that are imported into the file system automatically; empty turns automatic import off."""
    export: bool = False
    """Export new, changed and deleted files back to the bucket automatically."""
    automatic_backup_retention_days: Annotated[int, Field(ge=0, le=90)] = 0
    """Days to keep daily backups; 0 turns them off. FSx cannot back up a file system linked to S3 (link_to_bucket)."""
    daily_backup_start_time: Annotated[str | None, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["05:00"])] = None
    """UTC start of the daily backup window, HH:MM; only with automatic_backup_retention_days above 0."""
    file_system_path: Annotated[str, Field(pattern=r"^(/[A-Za-z0-9._-]+)+$", examples=["/models"])] = "/models"
    """Directory on the file system that mirrors the model prefix of the bucket."""


class Storage(StrictModel):
    model_bucket: ModelBucketSettings = ModelBucketSettings()
    """The S3 bucket that holds model weights: created by the kit (the default), or an existing one."""
    models_prefix: Annotated[str, Field(pattern=r"^([A-Za-z0-9!_.*'()-]+/)+$", examples=["models/"])] = "models/"
    """Key prefix of the model weights in the bucket, ending with '/': pods get read access to this prefix only."""
    access_logs: bool = True
    """Write S3 server access logs of a bucket the kit creates to a separate log bucket."""
    fsx: Fsx = Fsx()
    """FSx for Lustre in placement.az_id: a fast shared cache of the model prefix for many GPU nodes."""
    workloads_namespace: KubernetesName = "inference"
    """Kubernetes namespace of the model volume claims and the model-reader service account. Not one Kubernetes or
    the kit's platform owns (core/namespaces.py): the kit's policies for its workloads would apply there."""

    @property
    def owns_resources(self) -> bool:
        """False when there is nothing for a storage stack to create (an existing bucket and no FSx)."""
        return self.model_bucket.creates_bucket or self.fsx.enabled
