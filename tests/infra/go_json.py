"""JSON as Go's encoding/json moves it through interface{}: what nodeadm's generic merges do to a document.

nodeadm (awslabs/amazon-eks-ami v20260724) merges the containerd base runtime spec and every inline document of a
NodeConfig with util.Merge (nodeadm/internal/util/merge.go): json.Marshal, json.Unmarshal into map[string]interface{}
(every number a float64), mergo.Merge with override, then json.Marshal again. Go writes a float64 in its shortest
round-trip digits, as a plain decimal below 1e21 and with an exponent from there (or below 1e-6):
src/encoding/json/encode.go, floatEncoder. Python's repr gives the same shortest digits.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def go_float(value: float) -> str:
    """A float64 as Go's json.Marshal writes it."""
    if value == 0:
        return "-0" if str(value).startswith("-") else "0"
    digits = Decimal(repr(value)).normalize()
    if 1e-6 <= abs(value) < 1e21:
        return format(digits, "f")
    sign, mantissa, exponent = digits.as_tuple()
    assert isinstance(exponent, int)  # a finite float: never NaN's 'n' or infinity's 'F'
    text = "".join(map(str, mantissa)).rstrip("0") or "0"
    power = exponent + len(mantissa) - 1
    head = text[0] + ("." + text[1:] if len(text) > 1 else "")
    # strconv writes at least two exponent digits; encoding/json then drops the padding of negative ones (e-07 -> e-7)
    tail = f"e+{power:02d}" if power >= 0 else f"e-{-power}"
    return ("-" if sign else "") + head + tail


def dumps(value: Any) -> str:
    """json.Marshal of what json.Unmarshal put in an interface{}: numbers float64, map keys sorted."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(key)}:{dumps(value[key])}" for key in sorted(value)) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dumps(item) for item in value) + "]"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float):
        return go_float(value)
    return json.dumps(value)


def loads_as_interface(text: str) -> Any:
    """json.Unmarshal into interface{}: every number a float64 (strconv.ParseFloat, correctly rounded like Python's)."""
    return json.loads(text, parse_int=float, parse_float=float)


def merge(dst: Any, src: Any) -> Any:
    """mergo.Merge(dst, src, WithOverride) over decoded JSON: maps merge key by key, anything else from src replaces
    dst's (a list whole, as nodeadm's documented rlimits override shows)."""
    if isinstance(dst, dict) and isinstance(src, dict):
        out = dict(dst)
        for key, value in src.items():
            out[key] = merge(dst[key], value) if key in dst else value
        return out
    return src


def nodeadm_merge(default: Any, override: Any) -> str:
    """util.Merge(default, override, json.Marshal, json.Unmarshal) and the json.Marshal of its result."""
    return dumps(merge(loads_as_interface(json.dumps(default)), loads_as_interface(json.dumps(override))))


def decode_uint64(text: str) -> int:
    """json.Unmarshal of one number into a uint64: only plain non-negative integer digits that fit."""
    if not text.isdigit() or int(text) > 2**64 - 1:
        raise ValueError(f"json: cannot unmarshal number {text} into Go value of type uint64")
    return int(text)


def decode_int64(text: str) -> int:
    body = text[1:] if text.startswith("-") else text
    if not body.isdigit() or not -(2**63) <= int(text) <= 2**63 - 1:
        raise ValueError(f"json: cannot unmarshal number {text} into Go value of type int64")
    return int(text)
