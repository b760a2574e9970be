"""Entry point of the benchmark pod (shipped in its ConfigMap and run by the load generator image's Python).

Fills in what only the pod can know (the account behind the bucket name), fetches the dataset and the
tokenizer files from S3 with the pod's own credentials, then hands over to inference-perf.
"""

import os
import pathlib
import sys

import boto3
from botocore.exceptions import ClientError

WORK = pathlib.Path(os.environ.get("WORK_DIR", "/work"))
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "tokenizer.model",
    "special_tokens_map.json",
    "vocab.json",
    "merges.txt",
    "config.json",
    "generation_config.json",
    "chat_template.jinja",
)


# The kit's stand-in for the account in a bucket name, spelt in two pieces so that a fill-in of the account (which
# `cdk deploy` and `./kit synth` make in the objects that carry this file) leaves this code as it is.
ACCOUNT_FIELD = "{" "account}"


def split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def main() -> None:
    text = pathlib.Path(os.environ["CONFIG_TEMPLATE"]).read_text()
    account = ""
    if ACCOUNT_FIELD in text or ACCOUNT_FIELD in os.environ.get("DATASET_URI", "") + os.environ.get("TOKENIZER_URI", ""):
        account = boto3.client("sts").get_caller_identity()["Account"]
    s3 = boto3.client("s3")
    if os.environ.get("DATASET_URI"):
        bucket, key = split(os.environ["DATASET_URI"].replace(ACCOUNT_FIELD, account))
        s3.download_file(bucket, key, str(WORK / "dataset.json"))
    if os.environ.get("TOKENIZER_URI"):
        bucket, prefix = split(os.environ["TOKENIZER_URI"].replace(ACCOUNT_FIELD, account))
        folder = WORK / "tokenizer"
        folder.mkdir(parents=True, exist_ok=True)
        for name in TOKENIZER_FILES:
            try:
                s3.download_file(bucket, prefix.rstrip("/") + "/" + name, str(folder / name))
            except ClientError:
                pass  # a tokenizer has only some of these files
    config = WORK / "config.yml"
    config.write_text(text.replace(ACCOUNT_FIELD, account))
    os.execvp("inference-perf", ["inference-perf", "--config_file", str(config), "--log-level", os.environ.get("LOG_LEVEL", "INFO")])


if __name__ == "__main__":
    sys.exit(main())
