"""FSx for Lustre PERSISTENT_2 (SSD) sizes and events, as the config checks them and the storage stack builds them."""

from __future__ import annotations

from typing import Literal

# PERSISTENT_2 SSD: 1200 GiB, 2400 GiB, then steps of 2400 GiB (FSx CreateFileSystem API reference, StorageCapacity).
FSX_SMALLEST_GIB = 1200
FSX_STEP_GIB = 2400
ImportEvent = Literal["NEW", "CHANGED", "DELETED"]
"""S3 changes a data repository association imports automatically."""
