"""Runs as the init container of a server with LoRA adapters: copy each adapter's folder from S3 into TARGET/<name>.

    ADAPTERS='[{"name": "support-bot", "bucket": "b", "prefix": "models/adapters/support-bot/"}]' TARGET=/adapters \
        python3 lora_sync.py

Every object under the prefix is downloaded; one that carries the SHA-256 scripts/stage_model.py stored with it
(x-amz-meta-sha256) must match it. A folder without adapter_config.json is refused: vLLM would not start with it.
boto3 is in the vLLM image (the Run:ai streamer's S3 extra needs it); credentials come from Pod Identity.
Exit 0 when every adapter is in place, 1 otherwise (the pod then restarts the init container).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys

MANIFEST = ".kit-manifest.json"


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(4 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def sync(s3, adapter: dict, target: str) -> list[str]:
    """Problems with one adapter; empty when its folder is complete."""
    name, bucket, prefix = adapter["name"], adapter["bucket"], adapter["prefix"]
    folder = os.path.join(target, name)
    keys = [
        obj["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for obj in page.get("Contents", [])
    ]
    files = [key for key in keys if not key.endswith("/") and key[len(prefix) :] != MANIFEST]
    if f"{prefix}adapter_config.json" not in files:
        return [f"{name}: s3://{bucket}/{prefix} holds no adapter_config.json; stage it with scripts/stage_model.py --adapter"]
    problems = []
    for key in files:
        local = os.path.join(folder, key[len(prefix) :])
        os.makedirs(os.path.dirname(local), exist_ok=True)
        s3.download_file(bucket, key, local)
        expected = s3.head_object(Bucket=bucket, Key=key).get("Metadata", {}).get("sha256")
        if expected and sha256(local) != expected:
            problems.append(f"{name}: {key} does not match the SHA-256 it was staged with")
    print(f"{name}: {len(files)} files from s3://{bucket}/{prefix}", flush=True)
    return problems


def main() -> int:
    import boto3

    s3 = boto3.client("s3", region_name=os.environ["AWS_REGION"])
    problems = [problem for adapter in json.loads(os.environ["ADAPTERS"]) for problem in sync(s3, adapter, os.environ["TARGET"])]
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
