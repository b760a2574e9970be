"""What makes a list of batch inputs unworkable before any pod starts: patterns, and files whose results collide."""

from __future__ import annotations

from blueprints.vllm_batch.batch_io import result_uri, split
from blueprints.vllm_batch.params import BATCH_PREFIX
from core.issues import ConfigIssue

PATTERN_CHARACTERS = "*?[]{}"
"""Glob characters: S3 has no patterns, and the pod fetches each input with one GetObject of exactly that key."""


def input_issues(inputs: list[str], workload: str) -> list[ConfigIssue]:
    issues = []
    results = f"{BATCH_PREFIX}{workload}/results/"
    for index, uri in enumerate(inputs):
        _, key = split(uri)
        if key.startswith(results):
            issues.append(
                ConfigIssue(
                    f"inputs[{index}]",
                    f"is in this workload's own results folder ({results}): its results take the same key and overwrite it",
                    value=uri,
                    allowed=f"files under {BATCH_PREFIX} outside {results}",
                    fix=f"copy the file elsewhere under {BATCH_PREFIX} (e.g. {BATCH_PREFIX}{workload}-rerun/) and list it there",
                )
            )
        found = sorted({c for c in key if c in PATTERN_CHARACTERS})
        if found:
            issues.append(
                ConfigIssue(
                    f"inputs[{index}]",
                    f"holds {' '.join(found)}, as a pattern would; S3 has none: the Job fetches exactly this key, which no file has",
                    value=uri,
                    allowed="one file per entry, its whole key under batch/",
                    fix="list the files one by one (aws s3 ls s3://<bucket>/batch/<folder>/ shows their keys)",
                )
            )
    # Results are named after the input's file name alone (batch_io.result_uri), so two inputs of one name collide.
    first: dict[str, int] = {}
    for index, uri in enumerate(inputs):
        name = result_uri(uri, "")
        if name not in first:
            first[name] = index
            continue
        same = uri in inputs[:index]
        earlier = inputs.index(uri) if same else first[name]
        issues.append(
            ConfigIssue(
                f"inputs[{index}]",
                f"is inputs[{earlier}] again: the file would be run twice and its results written twice"
                if same
                else (
                    f"has the file name {name}, as inputs[{earlier}] has: results go to batch/{workload}/results/{name}, "
                    "so one file's results would overwrite the other's"
                ),
                value=uri,
                allowed="inputs with distinct file names",
                fix="remove the repeat"
                if same
                else "rename one of the files (e.g. put its folder in the name), then list it under its new name",
            )
        )
    return issues
