"""Every `vllm serve` argument list the kit writes, parsed as vllm 0.30.0 (the pinned image's vLLM) parses it."""

# pyright: reportMissingImports=false, reportMissingModuleSource=false
# This module runs in its contract environment (contracts/environments.py, from contracts/locks), which holds
# the program it imports; the kit's own .venv, where the checker runs, does not.

from __future__ import annotations

import inspect
import multiprocessing
import os
import socket
import struct
from importlib.metadata import version

os.environ.setdefault("VLLM_TARGET_DEVICE", "cpu")  # build the parser on a machine without a GPU

import pytest  # noqa: E402
import torch  # noqa: E402
from conftest import kubelet_expanded  # noqa: E402
from runai_model_streamer.file_streamer.file_streamer import FileStreamer  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from vllm import __version__ as VLLM_VERSION  # noqa: E402
from vllm.config.lora import LoRAConfig  # noqa: E402
from vllm.engine.arg_utils import AsyncEngineArgs  # noqa: E402
from vllm.entrypoints.cli.run_batch import RunBatchSubcommand  # noqa: E402
from vllm.entrypoints.cli.serve import ServeSubcommand  # noqa: E402
from vllm.model_executor.layers.quantization import QUANTIZATION_METHODS  # noqa: E402
from vllm.model_executor.model_loader.runai_streamer_loader import RunaiModelStreamerLoader  # noqa: E402
from vllm.utils.argparse_utils import FlexibleArgumentParser  # noqa: E402
from vllm.v1.kv_offload.factory import OffloadingSpecFactory  # noqa: E402
from vllm.v1.kv_offload.tiering.factory import SecondaryTierFactory  # noqa: E402

EXPECTED_VERSION = "0.30.0"
# What vllm/vllm-openai:v0.30.0 installs with `runai-model-streamer[s3,gcs,azure]>=0.15.7` (docker/Dockerfile): the
# newest release when v0.30.0 was built; distributed_streamer/ is the same from 0.15.7 to it.
EXPECTED_STREAMER_VERSION = "0.16.1"


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


def test_lora_adapters_are_what_vllm_loads(vllm_serve):
    """Adapters only with LoRA on; its limits pass LoRAConfig's own checks (a rank vLLM offers, max_cpu_loras >=
    max_loras), every adapter stays loaded in host memory, and each path is absolute: get_adapter_absolute_path
    (vllm/lora/utils.py) takes anything else that is missing for a Hugging Face repo id."""
    args = parse_like_vllm_serve(kubelet_expanded(vllm_serve["args"]))
    engine = AsyncEngineArgs.from_cli_args(args)
    if not engine.enable_lora:
        assert not args.lora_modules
        return
    config = LoRAConfig(max_lora_rank=engine.max_lora_rank, max_loras=engine.max_loras, max_cpu_loras=engine.max_cpu_loras)
    assert args.lora_modules and config.max_cpu_loras >= len(args.lora_modules)
    assert all(module.path.startswith("/") and module.name != args.served_model_name[0] for module in args.lora_modules)


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
        differ = {
            k
            for k in vars(leader)
            if k not in ("node_rank", "headless") and comparable(getattr(leader, k)) != comparable(getattr(worker, k))
        }
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
            [
                "org/model",
                "--kv-transfer-config",
                '{"kv_connector":"OffloadingConnector","kv_role":"kv_both","kv_connector_extra_config":'
                '{"spec_name":"TieringOffloadingSpec","cpu_bytes_to_use":1073741824,"secondary_tiers":[{"type":"fs","path":"/kv"}]}}',
            ],
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


@pytest.mark.parametrize(
    "argv", [["-o", "/work/out.jsonl", "--model", "org/model"], ["-i", "a", "-o", "b", "--model", "org/model", "--port-of-call", "1"]]
)
def test_the_run_batch_parser_refuses_what_vllm_refuses(argv):
    with pytest.raises(SystemExit):
        parse_like_vllm_run_batch(argv)


# The Run:ai streamer: each server's ranks share the reading where the kit says so, and each pod reads what the
# kit's cold-start model (core/cold_start.py) counts. vLLM's own loader drives the streamer over a synthetic
# checkpoint in one process per rank, grouped into pods as the server's are, with torch.distributed over gloo.


def test_the_streamer_is_the_pinned_images(all_emitted):
    assert version("runai-model-streamer") == EXPECTED_STREAMER_VERSION


def streamed_servers(all_emitted) -> list[tuple[dict, AsyncEngineArgs]]:
    """(entry, engine) of every vllm serve / run-batch invocation that streams its weights, leaders and single pods
    only (a group's workers are started alike, test_multinode_pods_agree_on_everything_but_their_rank)."""
    found = []
    for entry in all_emitted["vllm_serve"]:
        if " worker/" not in entry["where"] and "runai_streamer" in entry["args"]:
            found.append((entry, engine_of(kubelet_expanded(entry["args"]))))
    for entry in all_emitted["vllm_run_batch"]:
        if "runai_streamer" in entry["args"]:
            found.append((entry, AsyncEngineArgs.from_cli_args(parse_like_vllm_run_batch(entry["args"]))))
    return found


def test_servers_of_several_ranks_have_them_share_the_reading(all_emitted):
    """Without `distributed` (off by default) every rank streams every file: 8 copies of the checkpoint on 8 GPUs."""
    servers = streamed_servers(all_emitted)
    assert any(engine.tensor_parallel_size * engine.pipeline_parallel_size > 1 for _, engine in servers), (
        "no streamed server of several ranks"
    )
    for entry, engine in servers:
        loader = RunaiModelStreamerLoader(engine.create_load_config())
        ranks = engine.tensor_parallel_size * engine.pipeline_parallel_size
        assert loader._is_distributed is (ranks > 1), entry["where"]


def test_the_nodes_of_a_group_stream_alike(all_emitted):
    """The streamer's group spans nodes only if every rank sees RUNAI_STREAMER_DIST_GLOBAL alike."""
    by_group: dict[str, list[dict]] = {}
    for entry in all_emitted["vllm_serve"]:
        if " leader/" in entry["where"] or " worker/" in entry["where"]:
            by_group.setdefault(entry["where"].rsplit(" ", 1)[0], []).append(entry["env"])
    for group, envs in by_group.items():
        assert all(env == envs[0] for env in envs), group


def synthetic_checkpoint(folder) -> tuple[int, int, dict[str, int]]:
    """Safetensors shards of many tensors of uneven sizes: (tensor bytes, largest tensor, where each file's tensors start)."""
    total, largest, data_start = 0, 0, {}
    for shard in range(6):
        tensors = {f"layers.{shard}.{i}.weight": torch.zeros(256 * (1 + (7 * i + shard) % 16), dtype=torch.uint8) for i in range(40)}
        path = os.path.join(folder, f"model-{shard + 1:05d}-of-00006.safetensors")
        save_file(tensors, path)
        with open(path, "rb") as file:
            data_start[path] = 8 + struct.unpack("<Q", file.read(8))[0]
        total += sum(t.numel() for t in tensors.values())
        largest = max(largest, *(t.numel() for t in tensors.values()))
    return total, largest, data_start


def _one_rank(rank, world, ranks_per_pod, engine, env, folder, store, data_start, results):
    """One process of the server: its pod's hostname, the server's streamer variables, vLLM's loader."""
    try:
        socket.gethostname = lambda: f"pod-{rank // ranks_per_pod}"  # the streamer groups ranks by host
        # On GPUs vLLM's backend is nccl, where RUNAI_STREAMER_DIST's default (auto) streams distributed; gloo on a CPU
        # needs it said. It changes nothing where vLLM does not ask for distributed streaming.
        os.environ.update(env, RUNAI_STREAMER_DIST="1", RUNAI_STREAMER_DIST_BUFFER_MIN_BYTESIZE=str(1 << 20))
        torch.distributed.init_process_group("gloo", init_method=f"file://{store}", world_size=world, rank=rank)
        read = [0]
        stream_files = FileStreamer.stream_files

        def counting(self, requests, *args, **kwargs):
            read[0] += sum(request.total_size() for request in requests if request.offset >= data_start[request.path])
            return stream_files(self, requests, *args, **kwargs)

        FileStreamer.stream_files = counting  # the reads from storage, headers left out
        loader = RunaiModelStreamerLoader(engine.create_load_config())
        names = sorted(name for name, _ in loader._get_weights_iterator(folder, None))
        torch.distributed.destroy_process_group()
        results.put((rank, read[0], names))
    except BaseException as error:  # reported to the test, which would otherwise wait for this rank
        results.put((rank, None, repr(error)))


def stream_as_the_server_would(engine, env, folder, data_start, store) -> list[tuple[int, int, list[str]]]:
    """(rank, tensor bytes it read from storage, the tensor names the loader gave it) of every rank of the server."""
    world = engine.tensor_parallel_size * engine.pipeline_parallel_size
    ranks_per_pod = world // engine.nnodes
    context = multiprocessing.get_context("fork")  # the children inherit vLLM already imported
    results = context.Queue()
    processes = [
        context.Process(target=_one_rank, args=(rank, world, ranks_per_pod, engine, env, folder, store, data_start, results))
        for rank in range(world)
    ]
    for process in processes:
        process.start()
    found = sorted(results.get(timeout=300) for _ in processes)
    for process in processes:
        process.join(timeout=60)
    return found


def test_each_pod_reads_what_the_cold_start_model_counts(all_emitted, tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    total, largest, data_start = synthetic_checkpoint(str(folder))
    names = None
    seen = set()
    for entry, engine in streamed_servers(all_emitted):
        shape = (
            engine.tensor_parallel_size,
            engine.pipeline_parallel_size,
            engine.nnodes,
            str(engine.model_loader_extra_config),
            tuple(sorted(entry["env"].items())),
        )
        if shape in seen:
            continue
        seen.add(shape)
        ranks = stream_as_the_server_would(engine, entry["env"], str(folder), data_start, str(tmp_path / f"store-{len(seen)}"))
        ranks_per_pod = len(ranks) // engine.nnodes
        assert all(read is not None for _, read, _ in ranks), (entry["where"], ranks)
        names = names or ranks[0][2]
        assert all(got == names for _, _, got in ranks), f"{entry['where']}: a rank did not get every tensor"
        share = entry["kit_pod_read_share"]
        # A pod reads whole copies exactly; split between nodes, tensors are dealt out whole, largest first, to the
        # emptiest rank, so each rank is within one tensor of its share.
        slack = 0 if float(share).is_integer() else ranks_per_pod * largest
        for pod in range(engine.nnodes):
            pod_read = sum(read for rank, read, _ in ranks if rank // ranks_per_pod == pod)
            assert abs(pod_read - share * total) <= slack, (
                f"{entry['where']}: pod {pod} read {pod_read} bytes of a {total}-byte checkpoint, the kit counts {share} copies"
            )
    assert len(seen) > 1
