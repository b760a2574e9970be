"""Every `vllm serve` argument list the kit writes, parsed as vllm 0.30.0 (the pinned image's vLLM) parses it."""

from __future__ import annotations

import inspect
import os

os.environ.setdefault("VLLM_TARGET_DEVICE", "cpu")  # build the parser on a machine without a GPU

import pytest  # noqa: E402
from conftest import kubelet_expanded  # noqa: E402
from vllm import __version__ as VLLM_VERSION  # noqa: E402
from vllm.engine.arg_utils import AsyncEngineArgs  # noqa: E402
from vllm.entrypoints.cli.run_batch import RunBatchSubcommand  # noqa: E402
from vllm.entrypoints.cli.serve import ServeSubcommand  # noqa: E402
from vllm.model_executor.layers.quantization import QUANTIZATION_METHODS  # noqa: E402
from vllm.model_executor.model_loader.runai_streamer_loader import RunaiModelStreamerLoader  # noqa: E402
from vllm.utils.argparse_utils import FlexibleArgumentParser  # noqa: E402
from vllm.v1.kv_offload.factory import OffloadingSpecFactory  # noqa: E402
from vllm.v1.kv_offload.tiering.factory import SecondaryTierFactory  # noqa: E402

EXPECTED_VERSION = "0.30.0"


def parse_like_vllm_serve(argv: list[str]):
    """vllm/entrypoints/cli/main.py's parser with the serve subcommand, then ServeSubcommand's validation."""
    parser = FlexibleArgumentParser(description="vLLM CLI")
    subparsers = parser.add_subparsers(required=False, dest="subparser")
    command = ServeSubcommand()
    command.subparser_init(subparsers).set_defaults(dispatch_function=command.cmd)
    args = parser.parse_args(["serve", *argv])
    command.validate(args)
    if args.model_tag is not None:
        args.model = args.model_tag
    return args


def engine_of(argv: list[str]) -> AsyncEngineArgs:
    """What the parsed arguments become, checked the way the engine checks them before it loads a model."""
    engine = AsyncEngineArgs.from_cli_args(parse_like_vllm_serve(argv))
    if engine.quantization is not None and engine.quantization not in QUANTIZATION_METHODS:
        raise ValueError(f"unknown quantization method {engine.quantization!r}")
    if engine.load_format == "runai_streamer":
        RunaiModelStreamerLoader(engine.create_load_config())  # rejects unknown or mistyped --model-loader-extra-config
    transfer = engine.kv_transfer_config
    if transfer is not None and transfer.kv_connector == "OffloadingConnector":
        offloading_extra_config(transfer.kv_connector_extra_config)
    return engine


def offloading_extra_config(extra: dict) -> None:
    """What the OffloadingConnector checks only at engine start: the spec, the CPU size, each tier and its keywords."""
    spec = OffloadingSpecFactory.get_spec_cls(extra)
    if not extra.get("cpu_bytes_to_use"):
        raise ValueError("cpu_bytes_to_use must be specified")
    for tier in extra.get("secondary_tiers", []):
        if spec.__name__ != "TieringOffloadingSpec":
            raise ValueError(f"secondary_tiers need spec_name TieringOffloadingSpec, not {spec.__name__}")
        manager = SecondaryTierFactory.get_tier_class(tier)
        keywords = {key: value for key, value in tier.items() if key not in ("type", "module_path")}
        inspect.signature(manager.__init__).bind(None, offloading_spec=None, primary_kv_view=None, tier_type=tier["type"], **keywords)


def test_the_parser_is_the_pinned_version():
    assert VLLM_VERSION == EXPECTED_VERSION


def test_vllm_serve_accepts_the_arguments(vllm_serve):
    engine = engine_of(kubelet_expanded(vllm_serve["args"]))
    assert engine.model == vllm_serve["args"][0]


def comparable(value):
    """A parsed argument as something to compare: a KV transfer config without the engine id each parse draws."""
    if hasattr(value, "kv_connector"):
        return (value.kv_connector, value.kv_role, value.kv_connector_extra_config)
    return value


def test_multinode_pods_agree_on_everything_but_their_rank(all_emitted):
    """vLLM does not check that the nodes of a group were started alike: the kit must write them alike."""
    by_group: dict[str, dict[str, list[str]]] = {}
    for entry in all_emitted["vllm_serve"]:
        if " leader/" in entry["where"] or " worker/" in entry["where"]:
            group, role = entry["where"].rsplit(" ", 1)
            by_group.setdefault(group, {})[role.split("/")[0]] = entry["args"]
    assert by_group, "the collected configs hold no multi-node group"
    for group, roles in by_group.items():
        leader = parse_like_vllm_serve(kubelet_expanded(roles["leader"]))
        worker = parse_like_vllm_serve(kubelet_expanded(roles["worker"]))
        assert (leader.node_rank, leader.headless) == (0, False), group
        assert worker.node_rank >= 1 and worker.headless, group
        differ = {k for k in vars(leader) if k not in ("node_rank", "headless") and comparable(getattr(leader, k)) != comparable(getattr(worker, k))}
        assert not differ, f"{group}: leader and workers differ in {sorted(differ)}"
        # One pipeline stage per node, tensor parallel inside it.
        assert leader.nnodes == leader.pipeline_parallel_size, group


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["org/model", "--quantization", "bitsandbytes"], ValueError),
        (["org/model", "--no-such-flag"], SystemExit),
        (["org/model", "--load-format", "runai_streamer", "--model-loader-extra-config", '{"concurency": 8}'], ValueError),
        (["org/model", "--kv-offloading-size", "64GiB"], SystemExit),
        (
            ["org/model", "--kv-transfer-config", '{"kv_connector":"OffloadingConnector","kv_role":"kv_both","kv_connector_extra_config":'
             '{"spec_name":"TieringOffloadingSpec","cpu_bytes_to_use":1073741824,"secondary_tiers":[{"type":"fs","path":"/kv"}]}}'],
            TypeError,
        ),
    ],
)
def test_the_parser_refuses_what_vllm_refuses(argv, error):
    """The harness can fail: arguments vLLM 0.30.0 would refuse are refused here too."""
    with pytest.raises(error):
        engine_of(argv)


def parse_like_vllm_run_batch(argv: list[str]):
    """vllm/entrypoints/cli/main.py's parser with the run-batch subcommand (its batch and engine arguments)."""
    parser = FlexibleArgumentParser(description="vLLM CLI")
    subparsers = parser.add_subparsers(required=False, dest="subparser")
    command = RunBatchSubcommand()
    command.subparser_init(subparsers).set_defaults(dispatch_function=command.cmd)
    return parser.parse_args(["run-batch", *argv])


def test_vllm_run_batch_accepts_the_arguments(vllm_run_batch):
    args = parse_like_vllm_run_batch(vllm_run_batch["args"])
    assert (args.input_file, args.output_file) == ("/work/input.jsonl", "/work/output.jsonl")
    engine = AsyncEngineArgs.from_cli_args(args)
    assert engine.model == vllm_run_batch["args"][vllm_run_batch["args"].index("--model") + 1]
    if engine.load_format == "runai_streamer":
        RunaiModelStreamerLoader(engine.create_load_config())


@pytest.mark.parametrize("argv", [["-o", "/work/out.jsonl", "--model", "org/model"], ["-i", "a", "-o", "b", "--model", "org/model", "--port-of-call", "1"]])
def test_the_run_batch_parser_refuses_what_vllm_refuses(argv):
    with pytest.raises(SystemExit):
        parse_like_vllm_run_batch(argv)
