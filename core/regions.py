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
