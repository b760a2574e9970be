"""Realistic mistakes, written into a copy of config/default.yaml the way people make them: each is refused with the
key path as written, the value as written, and a fix for that case; pydantic's own wording never reaches the user."""

from __future__ import annotations

import pytest

from assembly.kit import KIT
from blueprints.registry import BLUEPRINTS
from config.loader import DEFAULT_CONFIG
from core.issues import ConfigError
from tests.helpers import assert_synth_refuses

BASE = DEFAULT_CONFIG.read_text()
PYDANTIC_WORDING = ("Input should", "String should", "Value error", "validation error", "pydantic", "Field required", "type=")


def _line(text: str) -> int:
    """The line of the default config that holds this text, so the expected line numbers follow edits of the file."""
    return next(number for number, line in enumerate(BASE.splitlines(), start=1) if text in line)


AZ_ID_LINE = _line("  az_id: usw2-az2")


def _edit(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, 1)


MISTAKES = [
    pytest.param(
        _edit('# account: "111122223333"', "account: 012345670123"),
        ["account (line", "YAML read the unquoted 012345670123 as a number", "got: '012345670123'", 'account: "012345670123"'],
        id="octal-account",
    ),
    pytest.param(
        _edit('kubernetes_version: "1.35"', "kubernetes_version: 1.30"),
        ["cluster.kubernetes_version", "unquoted 1.30 as a number (1.3)", 'kubernetes_version: "1.30"'],
        id="version-as-float",
    ),
    pytest.param(
        _edit("project: llm-serving", "enabled: on"), ["tags.enabled", "unquoted on as a boolean", 'enabled: "on"'], id="yes-no-as-boolean"
    ),
    pytest.param(_edit("  az_id: usw2-az2", "\taz_id: usw2-az2"), [f"(line {AZ_ID_LINE})", "tab character", "replace the tabs"], id="tab"),
    pytest.param(
        _edit("  az_id: usw2-az2", "  az\u200b_id: usw2-az2"),
        [f"placement.az\\u200b_id (line {AZ_ID_LINE})", "unknown key 'az\\u200b_id'", "did you mean 'az_id'", "retype it"],
        id="zero-width-space",
    ),
    pytest.param(
        _edit("  az_id: usw2-az2", "  \u0430z_id: usw2-az2"),
        ["unknown key '\\u0430z_id'", "non-ASCII", "did you mean 'az_id'"],
        id="cyrillic-look-alike",
    ),
    pytest.param("", ["the config file is empty", "start from config/default.yaml"], id="empty"),
    pytest.param("# only a comment\n", ["the config file is empty"], id="comments-only"),
    pytest.param(
        _edit("blueprint: vllm", "blueprint: vlm"),
        [
            "workloads[0].blueprint (line",
            "unknown blueprint 'vlm'; did you mean 'vllm'?",
            "allowed: " + ", ".join(blueprint.name for blueprint in BLUEPRINTS),
            "fix: set blueprint: vllm",
        ],
        id="unknown-blueprint",
    ),
    pytest.param(_edit("    blueprint: vllm\n", ""), ["workloads[0]", "has no 'blueprint' key"], id="missing-blueprint"),
    pytest.param(
        _edit("      type: s3\n", "      type: huggingface\n"),
        ["workloads[0].model.type", "unknown type 'huggingface'", "allowed: s3, fsx, hf"],
        id="unknown-model-type",
    ),
    pytest.param(_edit("project: llm-serving", "aws:owner: me"), ["tags.aws:owner", "reserved for AWS", "owner"], id="reserved-tag-prefix"),
    pytest.param(
        _edit("project: llm-serving", "project: llm|serving"),
        ["tags.project", "characters AWS tags do not allow", "'|'"],
        id="tag-character",
    ),
    pytest.param(
        _edit(
            "    efa: true                            # EFA on all 32 network cards, cluster placement group\n    gpu_limit: 16",
            "    efa: true\n    gpu_limit: 4",
        ),
        ["node_pools[1].gpu_limit", "below one node", "p5.48xlarge, has 8 GPUs", "set gpu_limit to 8 or more"],
        id="gpu-limit-below-one-node",
    ),
    pytest.param(
        _edit("[p5.48xlarge]", "[p5.48xlarg]"), ["node_pools[1].instance_types", "p5.48xlarg -> p5.48xlarge"], id="instance-type-typo"
    ),
    pytest.param(
        _edit("vpc_cidr: 10.0.0.0/16", "vpc_cidr: 10.0.0.1/16"),
        ["network.vpc_cidr", "host bits must be zero", "use the network's own address: 10.0.0.0/16"],
        id="cidr-host-bits",
    ),
    pytest.param(
        _edit("instance_types: [m7i.xlarge]", "instance_types: m7i.xlarge"),
        ["cluster.system_nodes.instance_types", "must be a list", "instance_types: [m7i.xlarge]"],
        id="list-as-text",
    ),
    pytest.param(_edit("replicas: 1", "replicas: -1"), ["workloads[0].replicas", "must be at least 0", "got: -1"], id="negative-replicas"),
    pytest.param(
        _edit("az_id: usw2-az2", "az_id: use1-az2"),
        ["placement.az_id", "not in region us-west-2", "usw2-az1, usw2-az2, usw2-az3, usw2-az4"],
        id="zone-of-another-region",
    ),
    pytest.param(
        _edit("az_id: usw2-az2", "az_id: usw2-az7"),
        ["placement.az_id", "us-west-2 has no AZ ID usw2-az7", "pick one of usw2-az2, usw2-az3, usw2-az4"],
        id="zone-that-does-not-exist",
    ),
    pytest.param(
        _edit("az_id: usw2-az2", "az_id: us-west-2b"),
        ["placement.az_id", "is an AZ name", "--zone-names us-west-2b"],
        id="zone-name-not-id",
    ),
    pytest.param(
        _edit("instance_type: g6e.2xlarge", "instance_type: g6e: 2xlarge"),
        [f"(line {_line('instance_type: g6e.2xlarge')})", "not valid YAML", "quote the value"],
        id="colon-in-a-value",
    ),
    pytest.param(
        _edit("    replicas: 1", "    replicas: 1\n    autoscaling: {min_replicas: 5, max_replicas: 2}"),
        ["workloads[0].autoscaling", "min_replicas (5) is above max_replicas (2)"],
        id="autoscaling-min-above-max",
    ),
]


@pytest.mark.parametrize(("text", "expected"), MISTAKES)
def test_a_realistic_mistake_is_refused_and_explained(tmp_path, text, expected):
    path = tmp_path / "kit.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        KIT.load(path)
    rendered = caught.value.render()
    for fragment in expected:
        assert fragment in rendered, f"{fragment!r} missing from:\n{rendered}"
    for wording in PYDANTIC_WORDING:
        assert wording not in rendered, f"pydantic's {wording!r} reached the user:\n{rendered}"


def test_a_file_that_is_not_utf8_is_refused_with_the_line(tmp_path):
    path = tmp_path / "kit.yaml"
    path.write_bytes(_edit("project: llm-serving", "project: llm-sérving").encode("latin-1"))
    with pytest.raises(ConfigError) as caught:
        KIT.load(path)
    rendered = caught.value.render()
    assert f"not UTF-8: byte 0xe9 at line {_line('project: llm-serving')}" in rendered and "Save with Encoding" in rendered


def test_a_model_in_another_accounts_bucket_is_refused(tmp_path):
    """With the account in the config, the model-reader role reads exactly <name>-models-<account>-<region>."""
    text = _edit('# account: "111122223333"', 'account: "111122223333"')
    text = text.replace(
        "uri: s3://{bucket}/models/meta-llama/Llama-3.1-8B-Instruct/", 'uri: "s3://llm-kit-models-999999999999-us-west-2/models/llama/"'
    )
    assert "999999999999" in text
    path = tmp_path / "kit.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        KIT.load(path)
    assert (
        "can read only the kit's model bucket" in caught.value.render()
        and "s3://llm-kit-models-111122223333-us-west-2/models/" in caught.value.render()
    )


CAPACITY_EXAMPLE = (DEFAULT_CONFIG.parent / "examples" / "capacity-platform.yaml").read_text()


def _edit_example(old: str, new: str) -> str:
    assert old in CAPACITY_EXAMPLE, old
    return CAPACITY_EXAMPLE.replace(old, new, 1)


# Values as YAML reads them shown as the file wrote them, and a misspelt second copy of a key never told to be renamed
# into the key it copies; each refused by the synth with exit 2 and nothing written.
SHOWN_AS_WRITTEN = [
    pytest.param(
        _edit_example("start: 2027-06-01T11:30:00Z", "start: 2027-06-01 11:30:00"),
        [
            "node_pools[0].capacity_block.start (line 21)",
            "has no UTC offset",
            "got: '2027-06-01 11:30:00'",
            "fix: write it in UTC with a Z, e.g. 2026-12-01T11:30:00Z",
        ],
        id="block-start-without-offset",
    ),
    pytest.param(
        _edit_example("start: 2027-06-01T11:30:00Z", "start: 2027-06-01"),
        ["node_pools[0].capacity_block.start (line 21)", "has no UTC offset", "got: '2027-06-01'"],
        id="block-start-a-date",
    ),
    pytest.param(
        _edit_example("start: 2027-06-01T11:30:00Z", "start: 2026-13-01T11:30:00Z"),
        [
            "node_pools[0].capacity_block.start (line 21)",
            "YAML reads the unquoted 2026-13-01T11:30:00Z as a date and time, and it is not a real one (month must be in 1..12)",
            "got: '2026-13-01T11:30:00Z'",
            "fix: correct the date",
        ],
        id="month-13",
    ),
    pytest.param(
        _edit_example("gpu_hour_usd: 3.95 ", "gpu_hour_usd: 2026-11-29 "),
        ["node_pools[0].gpu_hour_usd (line 27)", "must be a number", "got: '2026-11-29'"],
        id="date-for-a-price",
    ),
    pytest.param(
        _edit_example("served_model_name: llama-3.1-405b-instruct", "served_model_name: 2026-11-29"),
        [
            "workloads[1].served_model_name",
            "YAML read the unquoted 2026-11-29 as a date, but this key takes text",
            "got: '2026-11-29'",
            'fix: put it in quotes: served_model_name: "2026-11-29"',
        ],
        id="date-for-a-name",
    ),
    pytest.param(
        _edit("  az_id: usw2-az2", "  az_id: usw2-az2\n  az_idd: usw2-az3"),
        [
            f"placement.az_idd (line {AZ_ID_LINE + 1})",
            "unknown key 'az_idd'; it looks like a second 'az_id', which this mapping already sets",
            "fix: remove it, or keep its value under the existing 'az_id'",
        ],
        id="misspelt-copy-of-a-set-key",
    ),
]


@pytest.mark.parametrize(("text", "expected"), SHOWN_AS_WRITTEN)
def test_values_are_shown_as_written_and_nothing_is_built(tmp_path, text, expected):
    path = tmp_path / "kit.yaml"
    path.write_text(text)
    rendered = assert_synth_refuses(tmp_path, path, expected)
    for wording in (*PYDANTIC_WORDING, "datetime.", "rename it to", "Traceback"):
        assert wording not in rendered, f"{wording!r} reached the user:\n{rendered}"
