"""AZ IDs carry a short form of their region (us-west-2 -> usw2-az1); this derives it."""

from __future__ import annotations

import re

REGION_PATTERN = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
AZ_ID_PATTERN = re.compile(r"^[a-z]{2,6}\d-az\d{1,2}$")

_DIRECTION = {
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    "central": "c",
    "northeast": "ne",
    "northwest": "nw",
    "southeast": "se",
    "southwest": "sw",
}
_PARTITION = {"gov": "g", "iso": "i", "isob": "ib", "isof": "if", "isoe": "ie"}


def az_id_prefix(region: str) -> str:
    """Return the AZ ID prefix of a region name, e.g. 'ap-northeast-1' -> 'apne1'."""
    parts = region.split("-")
    geo, number = parts[0], parts[-1]
    middle = parts[1:-1]
    code = geo
    for word in middle:
        if word in _PARTITION:
            code += _PARTITION[word]
        elif word in _DIRECTION:
            code += _DIRECTION[word]
        else:
            raise ValueError(f"unknown region word {word!r} in {region!r}")
    return f"{code}{number}"


# The AZ IDs of each region's standard availability zones (local and wavelength zones excluded), as AWS documents
# them; checked 2026-11-29. Refresh a region with
#   aws ec2 describe-availability-zones --region REGION --filters Name=zone-type,Values=availability-zone \
#     --query 'AvailabilityZones[].ZoneId'
# A region missing here is checked only for the AZ ID's prefix.
AZ_IDS_CHECKED_ON = "2026-11-29"
AZ_IDS: dict[str, tuple[str, ...]] = {
    region: tuple(f"{prefix}-az{n}" for n in numbers)
    for region, prefix, numbers in (
        ("us-east-1", "use1", (1, 2, 3, 4, 5, 6)),
        ("us-east-2", "use2", (1, 2, 3)),
        ("us-west-1", "usw1", (1, 3)),
        ("us-west-2", "usw2", (1, 2, 3, 4)),
        ("ca-central-1", "cac1", (1, 2, 4)),
        ("ca-west-1", "caw1", (1, 2, 3)),
        ("sa-east-1", "sae1", (1, 2, 3)),
        ("eu-west-1", "euw1", (1, 2, 3)),
        ("eu-west-2", "euw2", (1, 2, 3)),
        ("eu-west-3", "euw3", (1, 2, 3)),
        ("eu-central-1", "euc1", (1, 2, 3)),
        ("eu-central-2", "euc2", (1, 2, 3)),
        ("eu-north-1", "eun1", (1, 2, 3)),
        ("eu-south-1", "eus1", (1, 2, 3)),
        ("eu-south-2", "eus2", (1, 2, 3)),
        ("ap-northeast-1", "apne1", (1, 2, 4)),
        ("ap-northeast-2", "apne2", (1, 2, 3, 4)),
        ("ap-northeast-3", "apne3", (1, 2, 3)),
        ("ap-southeast-1", "apse1", (1, 2, 3)),
        ("ap-southeast-2", "apse2", (1, 2, 3)),
        ("ap-southeast-3", "apse3", (1, 2, 3)),
        ("ap-southeast-4", "apse4", (1, 2, 3)),
        ("ap-south-1", "aps1", (1, 2, 3)),
        ("ap-south-2", "aps2", (1, 2, 3)),
        ("ap-east-1", "ape1", (1, 2, 3)),
        ("me-south-1", "mes1", (1, 2, 3)),
        ("me-central-1", "mec1", (1, 2, 3)),
        ("il-central-1", "ilc1", (1, 2, 3)),
        ("af-south-1", "afs1", (1, 2, 3)),
        ("us-gov-west-1", "usgw1", (1, 2, 3)),
        ("us-gov-east-1", "usge1", (1, 2, 3)),
    )
}


def known_az_ids(region: str) -> tuple[str, ...] | None:
    """The region's AZ IDs, or None where the table does not know the region."""
    return AZ_IDS.get(region)
