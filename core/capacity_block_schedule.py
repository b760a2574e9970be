"""The node count of a capacity-block pool at a given moment, and the figures behind it.

EC2 starts terminating a Capacity Block's instances 30 minutes before its end time, and Karpenter v1.14 marks the
block as expiring 40 minutes before the end and deletes its nodes then (10 minutes before EC2 does). The kit asks
for the nodes back earlier, at drain_minutes_before_end (default 60), and gives each node's pods until Karpenter's
expiry to leave: the node's terminationGracePeriod is the gap between the two. Sources: the EC2 user guide
(Capacity Blocks: "we begin terminating any instances ... 30 minutes before the end time") and Karpenter v1.14.1's
capacityReservationExpirationPeriod (pkg/apis/v1/ec2nodeclass_status.go).
"""

from __future__ import annotations

from datetime import datetime, timedelta

EC2_TERMINATES_MINUTES_BEFORE_END = 30
KARPENTER_EXPIRES_MINUTES_BEFORE_END = 40


def desired_nodes(start: datetime, end: datetime, instances: int, drain_minutes_before_end: int, now: datetime) -> int:
    """`instances` from the block's start until the drain point, 0 before and after."""
    return instances if start <= now < end - timedelta(minutes=drain_minutes_before_end) else 0


def termination_grace_minutes(drain_minutes_before_end: int) -> int:
    """How long a draining node waits for its pods: until Karpenter's own expiry of the block."""
    return drain_minutes_before_end - KARPENTER_EXPIRES_MINUTES_BEFORE_END
