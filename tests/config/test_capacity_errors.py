"""Capacity blocks, chains and queues in the config: what the checks refuse, with the key path and a fix."""

import copy
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from assembly import check as check_command
from assembly.kit import KIT
from core.issues import ConfigError
from tests.helpers import REPO, assert_rejected, assert_synth_refuses, write_config

EXAMPLE = yaml.safe_load((REPO / "config" / "examples" / "capacity-platform.yaml").read_text())


def _example(edit):
    data = copy.deepcopy(EXAMPLE)
    edit(data)
    return data


def _pool(data, name):
    return next(pool for pool in data["node_pools"] if pool["name"] == name)


def _team(data, name):
    return next(team for team in data["scheduling"]["teams"] if team["name"] == name)


def _workload(data, name):
    return next(w for w in data["workloads"] if w["name"] == name)


def test_the_example_loads(tmp_path):
    config = KIT.load(write_config(tmp_path, EXAMPLE))
    assert [team.name for team in config.scheduling.teams] == ["search", "research"]


CASES = [
    (
        lambda d: _team(d, "research")["gpus"].update(h100=24),
        ["scheduling.teams", "quotas on 'h100' add up to 56 GPUs (search 32, research 24)", "it can run 48"],
    ),
    (lambda d: _team(d, "research")["gpus"].update({"h200": 8}), ["scheduling.teams[1].gpus.h200", "names no GPU capacity", "h100"]),
    (
        lambda d: _team(d, "research")["gpus"].update({"h100-spot": 8}),
        ["scheduling.teams[1].gpus.h100-spot", "is a pool of chain 'h100'", "give the quota on 'h100'"],
    ),
    (lambda d: _team(d, "research").update(name="default"), ["scheduling.teams[1].name", "a LocalQueue named 'default'"]),
    (lambda d: _team(d, "research").update(namespaces=["search-jobs"]), ["the namespace 'search-jobs' belongs to more than one team"]),
    (
        lambda d: _team(d, "research").update(namespaces=["inference"]),
        ["scheduling.teams[1].namespaces", "is a namespace the kit or Kubernetes owns"],
    ),
    (lambda d: _pool(d, "h100-block")["capacity_block"].update(end="2027-06-15T12:00:00Z"), ["capacity_block.end", "is not 11:30 UTC"]),
    (lambda d: _pool(d, "h100-block")["capacity_block"].update(end="2027-05-31T11:30:00Z"), ["capacity_block.end", "is not after start"]),
    (lambda d: _pool(d, "h100-block").update(weight=90), ["node_pools[0].weight", "no weight on a static pool"]),
    (
        lambda d: _pool(d, "h100-block").update(capacity_types=["reserved", "on-demand"]),
        ["node_pools[0].capacity_types", "launches only into its block"],
    ),
    (lambda d: _pool(d, "h100-block").update(gpu_limit=24), ["node_pools[0].gpu_limit", "2 x p5.48xlarge is 16 GPUs"]),
    (
        lambda d: _pool(d, "h100-block")["capacity_block"].update(drain_minutes_before_end=30),
        ["capacity_block.drain_minutes_before_end", "45"],
    ),
    (
        lambda d: _pool(d, "h100-spot").update(instance_types=["p5e.48xlarge"]),
        ["node_pools[1]", "differs from node_pools[0] in its chain 'h100' (instance_types)"],
    ),
    (lambda d: _pool(d, "h100-on-demand").update(weight=50), ["node_pools[1].weight", "need distinct weights"]),
    (lambda d: _pool(d, "h100-spot").update(chain="h100-block"), ["chain", "is also the name of a pool"]),
    (
        lambda d: _workload(d, "llama-70b").update(queue="ads"),
        ["workloads[0].queue", "names no team of scheduling.teams", "search, research"],
    ),
    (
        lambda d: _workload(d, "llama-405b").update(queue="research"),
        ["workloads[1].queue", "team 'research' has no quota on 'p5-group-block'"],
    ),
    (
        lambda d: _workload(d, "llama-405b").update(nodes=3),
        [
            "workloads[1].nodes",
            "one gang needs 24 GPUs, more than 'p5-group-block' can ever hold "
            "(16 GPUs: 2 x p5.48xlarge): it would wait in the queue forever",
            "got: 3",
        ],
    ),
    (
        lambda d: d["scheduling"].update(pods_ready_timeout_minutes=10),
        ["workloads[0].queue", "longer than scheduling.pods_ready_timeout_minutes (10)"],
    ),
    (lambda d: _workload(d, "llama-405b").pop("queue"), ["workloads[1].queue", "a multi-node group must join one", "search, research"]),
]


@pytest.mark.parametrize(
    ("edit", "expected"),
    CASES,
    ids=[
        "quota-above-capacity",
        "quota-on-unknown-capacity",
        "quota-on-a-chain-member",
        "team-named-default",
        "shared-namespace",
        "owned-namespace",
        "block-end-not-1130",
        "block-end-before-start",
        "weight-on-block",
        "block-not-reserved-only",
        "gpu-limit-not-the-block",
        "drain-too-late",
        "chain-of-unlike-pools",
        "chain-weights-tie",
        "chain-named-like-a-pool",
        "unknown-queue",
        "queue-without-quota",
        "gang-above-capacity",
        "pods-ready-timeout-too-short",
        "multi-node-group-outside-the-queues",
    ],
)
def test_refused(tmp_path, edit, expected):
    data = _example(edit)
    path = tmp_path / "kit.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ConfigError) as caught:
        KIT.load(path)
    rendered = caught.value.render()
    for fragment in expected:
        assert fragment in rendered, f"{fragment!r} missing from:\n{rendered}"


def test_dynamo_cannot_join_a_queue(tmp_path):
    workload = {
        "name": "dyn",
        "blueprint": "dynamo",
        "node_pool": "gpu-l40s",
        "model": {"type": "fsx", "sub_path": "models/org/model"},
        "queue": "search",
    }
    overrides = {
        "storage": {"fsx": {"enabled": True}},
        "scheduling": {"teams": [{"name": "search", "gpus": {"gpu-l40s": 8}}]},
        "workloads": [workload],
    }
    assert_rejected(tmp_path, overrides, ["workloads[0].queue", "Kueue cannot admit a DynamoGraphDeployment"])


# Bought capacity used twice, windows EC2 does not sell, and more GPUs than a capacity can ever hold: refused before
# anything is written (exit 2 from the synth, no cdk.out, dist or charts).
NO_ROOM = [
    pytest.param(
        lambda d: _pool(d, "h100-block")["capacity_block"].update(end="2028-06-15T11:30:00Z"),
        [
            "node_pools[0].capacity_block.end (line",
            "makes a window of 380 days; EC2 sells Capacity Blocks of at most 182 days",
            "got: '2028-06-15T11:30:00+00:00'",
            "allowed: 1 to 14 days, or whole weeks up to 182 days",
            "fix: check the year and month of start and end",
        ],
        id="block-longer-than-ec2-sells",
    ),
    pytest.param(
        lambda d: _pool(d, "p5-group-block")["capacity_reservations"].update(ids=["cr-0123456789abcdef0"]),
        [
            "node_pools[3].capacity_reservations.ids[0]",
            "names the capacity reservation cr-0123456789abcdef0, which node_pools[0].capacity_reservations.ids[0] names too",
            "got: 'cr-0123456789abcdef0'",
            "fix: keep cr-0123456789abcdef0 in one place",
        ],
        id="two-pools-one-block",
    ),
    pytest.param(
        lambda d: d.update(
            capacity_block_node_groups=[
                {"name": "p5-mng", "instance_type": "p5.48xlarge", "reservation_id": "cr-0fedcba9876543210", "size": 2}
            ]
        ),
        [
            "capacity_block_node_groups[0].reservation_id",
            "names the capacity reservation cr-0fedcba9876543210, which node_pools[3].capacity_reservations.ids[0] names too",
            "got: 'cr-0fedcba9876543210'",
        ],
        id="a-pool-and-a-node-group-on-one-block",
    ),
    pytest.param(
        lambda d: _workload(d, "llama-405b").update(replicas=2),
        [
            "workloads[1].replicas",
            "2 copies of 16 GPUs need 32 GPUs at once, more than 'p5-group-block' can ever hold (16 GPUs: 2 x p5.48xlarge)",
            "got: 2",
            "fix: lower replicas to 1 or fewer",
        ],
        id="more-groups-than-the-block-holds",
    ),
    pytest.param(
        lambda d: (
            _workload(d, "llama-70b").pop("replicas"),
            _workload(d, "llama-70b").update(autoscaling={"min_replicas": 7, "max_replicas": 8}),
        ),
        [
            "workloads[0].autoscaling.min_replicas",
            "7 copies of 8 GPUs need 56 GPUs at once, more than 'h100' can ever hold (48 GPUs: 6 x p5.48xlarge)",
            "got: 7",
            "fix: lower autoscaling.min_replicas to 6 or fewer",
        ],
        id="min-replicas-above-the-chain",
    ),
    pytest.param(
        lambda d: _workload(d, "nightly-summaries").update(
            replicas=60, inputs=[f"s3://{{bucket}}/batch/nightly/requests-{i:03d}.jsonl" for i in range(60)]
        ),
        [
            "workloads[2].replicas",
            "60 files at once on 1 GPU each need 60 GPUs at once",
            "Kueue admits them all at once or not at all",
            "got: 60",
            "fix: lower replicas to 48 or fewer",
        ],
        id="batch-wider-than-the-chain",
    ),
    pytest.param(
        lambda d: _pool(d, "h100-spot").update(gpu_limit=12),
        [
            "node_pools[1].gpu_limit",
            "is not a whole number of nodes: the pool's types have 8 GPUs, so at most 8 of the 12 GPUs can ever run",
            "got: 12",
            "fix: set gpu_limit to 8 or 16",
        ],
        id="limit-between-whole-nodes",
    ),
    pytest.param(
        lambda d: (d.update(karpenter={"replicas": 3})),
        [
            "karpenter.replicas",
            "is more than the 2 system nodes the group may shrink to",
            "got: 3",
            "fix: lower karpenter.replicas to 2, or raise cluster.system_nodes.min_size",
        ],
        id="karpenter-replicas-without-nodes",
    ),
]


BATCH = [
    pytest.param(
        lambda d: _workload(d, "nightly-summaries").update(inputs=["s3://{bucket}/batch/nightly/requests-*.jsonl"]),
        [
            "workloads[2].inputs[0]",
            "holds *, as a pattern would; S3 has none",
            "got: 's3://{bucket}/batch/nightly/requests-*.jsonl'",
            "fix: list the files one by one",
        ],
        id="batch-wildcard",
    ),
    pytest.param(
        lambda d: _workload(d, "nightly-summaries").update(
            inputs=["s3://{bucket}/batch/monday/requests.jsonl", "s3://{bucket}/batch/tuesday/requests.jsonl"]
        ),
        [
            "workloads[2].inputs[1]",
            "has the file name requests.jsonl, as inputs[0] has: results go to batch/nightly-summaries/results/requests.jsonl",
            "got: 's3://{bucket}/batch/tuesday/requests.jsonl'",
            "fix: rename one of the files",
        ],
        id="batch-two-files-one-name",
    ),
    pytest.param(
        lambda d: _workload(d, "nightly-summaries")["inputs"].append("s3://{bucket}/batch/nightly/requests-000.jsonl"),
        ["workloads[2].inputs[2]", "is inputs[0] again", "fix: remove the repeat"],
        id="batch-file-listed-twice",
    ),
    pytest.param(
        lambda d: _workload(d, "nightly-summaries").update(inputs=["s3://{bucket}/batch/nightly-summaries/results/requests-000.jsonl"]),
        [
            "workloads[2].inputs[0]",
            "is in this workload's own results folder (batch/nightly-summaries/results/)",
            "fix: copy the file elsewhere under batch/",
        ],
        id="batch-input-among-its-results",
    ),
    pytest.param(
        lambda d: _workload(d, "nightly-summaries").update(replicas=0),
        ["workloads[2].replicas", "0 would run none, and the Job would never finish", "got: 0", "fix: set replicas to 1 or more"],
        id="batch-zero-at-once",
    ),
    pytest.param(
        lambda d: _workload(d, "nightly-summaries").update(extra_args=["--output_file=/tmp/out.jsonl"]),
        [
            "workloads[2].extra_args[0]",
            "(vLLM reads --output_file as --output-file): the kit writes --output-file /work/output.jsonl",
            "got: '--output_file=/tmp/out.jsonl'",
        ],
        id="batch-output-flag",
    ),
]


@pytest.mark.parametrize(("edit", "expected"), NO_ROOM + BATCH)
def test_refused_before_anything_is_written(tmp_path, edit, expected):
    path = tmp_path / "kit.yaml"
    path.write_text(yaml.safe_dump(_example(edit), sort_keys=False))
    assert_synth_refuses(tmp_path, path, expected)


def _example_file(tmp_path) -> Path:
    path = tmp_path / "kit.yaml"
    path.write_text((REPO / "config" / "examples" / "capacity-platform.yaml").read_text())
    return path


def test_an_ended_block_is_refused_by_the_check_at_that_time_and_never_by_the_synth(tmp_path, capsys):
    """The block of p5-group-block ends 2027-06-08T11:30Z. `assembly.check` judges it at the time it is told (the
    clock by default); loading, rendering and synthesizing never read the clock, so the same file builds the same."""
    path = _example_file(tmp_path)
    assert check_command.main(["--config", str(path), "--at", "2027-06-08T11:29:00Z"]) == 0
    capsys.readouterr()
    assert check_command.main(["--config", str(path), "--at", "2027-06-08T11:30:00Z"]) == 2
    err = capsys.readouterr().err
    for fragment in (
        "node_pools[3].capacity_block.end (line 55)",
        "the block is over (checked at 2027-06-08T11:30+00:00)",
        "pool 'p5-group-block' would never get a node",
        "got: '2027-06-08T11:30:00+00:00'",
        "fix: remove the pool (and move its workloads, or its chain's, to other capacity), or buy a new block",
    ):
        assert fragment in err, f"{fragment!r} missing from:\n{err}"
    assert "node_pools[0]" not in err, "the h100 block runs until 2027-06-15"
    # A teardown is never held up by a block that has ended.
    assert check_command.main(["--config", str(path), "--at", "2027-01-01T00:00:00Z", "--undated"]) == 0
    block = KIT.load(path).node_pools[3].capacity_block
    assert block is not None and block.end.year == 2027


def test_the_check_reads_the_clock_when_not_told_the_time(tmp_path, capsys, monkeypatch):
    path = _example_file(tmp_path)

    class After(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2028, 1, 1, tzinfo=tz)

    monkeypatch.setattr(check_command, "datetime", After)
    assert check_command.main(["--config", str(path)]) == 2
    assert "the block is over (checked at 2028-01-01T00:00+00:00)" in capsys.readouterr().err
