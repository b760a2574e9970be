"""Every Dynamo worker and frontend argument list the kit writes, parsed by ai-dynamo 1.4.2's own parsers (the worker
parser is vLLM 0.26.0's engine parser plus Dynamo's flags: the vLLM inside the pinned runtime image)."""

# pyright: reportMissingImports=false, reportMissingModuleSource=false
# This module runs in its contract environment (contracts/environments.py, from contracts/locks), which holds
# the program it imports; the kit's own .venv, where the checker runs, does not.

from __future__ import annotations

import argparse
import json
import os
from importlib.metadata import version

os.environ.setdefault("VLLM_TARGET_DEVICE", "cpu")
# dynamo.vllm resolves the NIXL side channel's host at parse time when NixlConnector is named; give it one.
os.environ.setdefault("VLLM_NIXL_SIDE_CHANNEL_HOST", "10.0.0.1")

import pytest  # noqa: E402
import vllm.platforms  # noqa: E402

if vllm.platforms.current_platform.device_type == "":  # no GPU here: vLLM's CPU platform, as dynamo.frontend does
    from vllm.platforms.cpu import CpuPlatform

    vllm.platforms.current_platform = CpuPlatform()

from dynamo.frontend.frontend_args import FrontendArgGroup, FrontendConfig  # noqa: E402
from dynamo.vllm.args import parse_args as parse_worker  # noqa: E402


def parse_frontend(argv: list[str]) -> FrontendConfig:
    """dynamo/frontend/main.py's parse: unknown flags are an error (the dynamo chat processor), then the config checks."""
    parser = argparse.ArgumentParser(formatter_class=argparse.RawTextHelpFormatter)
    FrontendArgGroup().add_arguments(parser)
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        raise SystemExit(f"unknown arguments: {unknown}")
    config = FrontendConfig.from_cli_args(args)
    config.validate()
    return config


def test_the_parsers_are_the_pinned_versions():
    assert (version("ai-dynamo"), version("ai-dynamo-runtime"), version("vllm")) == ("1.4.2", "1.4.2", "0.26.0")


def test_dynamo_vllm_accepts_the_worker_arguments(dynamo_worker):
    config = parse_worker(dynamo_worker["args"])
    args = dynamo_worker["args"]
    assert config.model == args[args.index("--model") + 1]
    if "--disaggregation-mode" in args:
        role = args[args.index("--disaggregation-mode") + 1]
        assert str(config.disaggregation_mode).lower().endswith(role)
        transfer = json.loads(args[args.index("--kv-transfer-config") + 1])
        assert config.engine_args.kv_transfer_config.kv_connector == transfer["kv_connector"]


def test_dynamo_frontend_accepts_the_frontend_arguments(dynamo_frontend):
    config = parse_frontend(dynamo_frontend["args"])
    args = dynamo_frontend["args"]
    assert (str(config.http_port), config.router_mode) == (args[args.index("--http-port") + 1], args[args.index("--router-mode") + 1])


@pytest.mark.parametrize(
    "argv",
    [
        ["--model", "/models/m", "--disaggregation-mode", "prefill"],  # a prefill worker must name its KV transfer
        ["--model", "/models/m", "--is-prefill-worker"],  # gone by 1.4.2
        ["--model", "/models/m", "--disaggregation-mode", "both"],
    ],
)
def test_the_worker_parser_refuses_what_dynamo_refuses(argv):
    with pytest.raises((SystemExit, ValueError)):
        parse_worker(argv)


def test_the_frontend_parser_refuses_what_dynamo_refuses():
    with pytest.raises(SystemExit):
        parse_frontend(["--http-port", "8000", "--router-mode", "kv-cache"])
