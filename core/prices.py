"""List prices the synth summary estimates costs with: on-demand, Linux, USD, before any discount or data transfer.

Instances: Karpenter v1.14.1's generated on-demand table (aws/karpenter-provider-aws @ v1.14.1 :
pkg/providers/pricing/zz_generated.pricing_aws.go, generated 2026-07-06 from the AWS Price List API for us-east-1;
Karpenter falls back on it where it cannot reach the API). us-east-2 and us-west-2 list these types at the same
prices; other regions differ, so the summary names no price there and asks for the pool's gpu_hour_usd.
The rest: the services' pricing pages for us-east-1/us-west-2, read 2026-11 (docs/deploy.md's cost table).
Refresh: aws pricing get-products --service-code AmazonEC2 --region us-east-1 --filters ... or Karpenter's newer table.
"""

from __future__ import annotations

PRICES_DATED = "2026-07-06"
SERVICES_DATED = "2026-11"
LIST_PRICE_REGIONS = ("us-east-1", "us-east-2", "us-west-2")
HOURS_PER_MONTH = 730

INSTANCE_HOUR_USD: dict[str, float] = {
    # GPU instances (core/instances.py); p5e.48xlarge is sold only as capacity blocks and has no on-demand price.
    "g5.xlarge": 1.006,
    "g5.2xlarge": 1.212,
    "g5.4xlarge": 1.624,
    "g5.8xlarge": 2.448,
    "g5.12xlarge": 5.672,
    "g5.16xlarge": 4.096,
    "g5.24xlarge": 8.144,
    "g5.48xlarge": 16.288,
    "g6.xlarge": 0.8048,
    "g6.2xlarge": 0.9776,
    "g6.4xlarge": 1.3232,
    "g6.8xlarge": 2.0144,
    "g6.12xlarge": 4.6016,
    "g6.16xlarge": 3.3968,
    "g6.24xlarge": 6.6752,
    "g6.48xlarge": 13.3504,
    "g6e.xlarge": 1.861,
    "g6e.2xlarge": 2.24208,
    "g6e.4xlarge": 3.00424,
    "g6e.8xlarge": 4.52856,
    "g6e.12xlarge": 10.49264,
    "g6e.16xlarge": 7.57719,
    "g6e.24xlarge": 15.06559,
    "g6e.48xlarge": 30.13118,
    "p4d.24xlarge": 21.957642,
    "p4de.24xlarge": 27.44705,
    "p5.4xlarge": 6.88,
    "p5.48xlarge": 55.04,
    "p5en.48xlarge": 63.296,
    "p6-b200.48xlarge": 113.9328,
    "p6-b300.48xlarge": 142.416,
    # System node types.
    "m5.large": 0.096,
    "m5.xlarge": 0.192,
    "m6i.large": 0.096,
    "m6i.xlarge": 0.192,
    "m6i.2xlarge": 0.384,
    "m7i.large": 0.1008,
    "m7i.xlarge": 0.2016,
    "m7i.2xlarge": 0.4032,
    "m7i.4xlarge": 0.8064,
    "m7g.xlarge": 0.1632,
    "c7i.xlarge": 0.1785,
    "r7i.xlarge": 0.2646,
}

EKS_CLUSTER_HOUR_USD = 0.10
NAT_GATEWAY_HOUR_USD = 0.045
INTERFACE_ENDPOINT_HOUR_USD = 0.01
"""Per endpoint and zone."""
NLB_HOUR_USD = 0.0225
"""Before load balancer capacity units."""
GP3_GIB_MONTH_USD = 0.08
KMS_KEY_MONTH_USD = 1.0
FSX_LUSTRE_GIB_MONTH_USD = {125: 0.145, 250: 0.21, 500: 0.29, 1000: 0.42}
"""PERSISTENT_2 SSD, by throughput per TiB (MB/s)."""


def instance_hour_usd(instance_type: str, region: str) -> float | None:
    """The on-demand list price of an instance hour, or None where the table does not know it for the region."""
    if region not in LIST_PRICE_REGIONS:
        return None
    return INSTANCE_HOUR_USD.get(instance_type)
