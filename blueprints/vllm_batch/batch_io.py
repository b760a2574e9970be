"""Runs in the batch pod beside `vllm run-batch`: fetch this index's input file from S3, then upload its results.

    python3 batch_io.py fetch   # INPUTS[JOB_COMPLETION_INDEX] -> /work/input.jsonl
    python3 batch_io.py put     # /work/output.jsonl -> OUTPUT_PREFIX + the input's file name

boto3 is in the vLLM image (the Run:ai streamer's S3 extra needs it); credentials come from Pod Identity.
"""

from __future__ import annotations

import json
import os
import sys

WORK = "/work"


def split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def this_input() -> str:
    return json.loads(os.environ["INPUTS"])[int(os.environ["JOB_COMPLETION_INDEX"])]


def result_uri(input_uri: str, prefix: str) -> str:
    return prefix + input_uri.rsplit("/", 1)[1]


def main(argv: list[str]) -> int:
    import boto3

    s3 = boto3.client("s3", region_name=os.environ["AWS_REGION"])
    source = this_input()
    if argv == ["fetch"]:
        bucket, key = split(source)
        s3.download_file(bucket, key, f"{WORK}/input.jsonl")
        print(f"fetched {source}", flush=True)
    elif argv == ["put"]:
        target = result_uri(source, os.environ["OUTPUT_PREFIX"])
        bucket, key = split(target)
        s3.upload_file(f"{WORK}/output.jsonl", bucket, key)
        print(f"wrote {target}", flush=True)
    else:
        print("usage: batch_io.py fetch|put", file=sys.stderr)
        return 64
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
