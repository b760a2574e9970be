"""What every preflight check gets: the config, its GPU capacities, the AWS session, and shared API answers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from config.model import PlatformConfig
from config.platform import capacities
from core.capacity import GpuCapacity
from scripts.aws_session import FEW_RETRIES, client


@dataclass
class Context:
    config: PlatformConfig
    config_path: Path
    session: Any
    account: str | None
    window_hours: int = 24
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    blocked: str | None = None
    """Set by a check whose failure makes the EC2 checks after it meaningless."""
    _clients: dict[str, Any] = field(default_factory=dict)
    _memo: dict[str, Any] = field(default_factory=dict)

    @property
    def region(self) -> str:
        return self.config.region

    @property
    def capacities(self) -> dict[str, GpuCapacity]:
        return capacities(self.config)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = client(self.session, service, self.region, FEW_RETRIES)
        return self._clients[service]

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        """One API answer shared by several checks (the zone map, the offerings)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def zones(self) -> dict[str, dict[str, Any]]:
        """This region's availability zones (not local or wavelength zones) by AZ ID."""

        def load() -> dict[str, dict[str, Any]]:
            answer = self.client("ec2").describe_availability_zones()
            return {z["ZoneId"]: z for z in answer["AvailabilityZones"] if z.get("ZoneType", "availability-zone") == "availability-zone"}

        return self.memo("zones", load)
