"""The kit reads the flag names of extra_args as vLLM 0.30.0 reads them (blueprints/common/vllm_flags.py): every
spelling of every flag the kit writes resolves to the same option in `vllm serve` / `vllm run-batch`'s own parser."""

# pyright: reportMissingImports=false, reportMissingModuleSource=false
# This module runs in its contract environment (contracts/environments.py, from contracts/locks), which holds
# the program it imports; the kit's own .venv, where the checker runs, does not.

from __future__ import annotations

import argparse
import os
from typing import Any

os.environ.setdefault("VLLM_TARGET_DEVICE", "cpu")  # build the parser on a machine without a GPU

import pytest  # noqa: E402
from vllm.entrypoints.cli.run_batch import RunBatchSubcommand  # noqa: E402
from vllm.entrypoints.cli.serve import ServeSubcommand  # noqa: E402
from vllm.utils.argparse_utils import FlexibleArgumentParser  # noqa: E402


def subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = FlexibleArgumentParser(description="vLLM CLI")
    found = parser.add_subparsers(required=False, dest="subparser")
    return {"serve": ServeSubcommand().subparser_init(found), "run-batch": RunBatchSubcommand().subparser_init(found)}


PARSERS = subparsers()


def preprocessed(parser: argparse.ArgumentParser, token: str) -> str:
    """The token after FlexibleArgumentParser.parse_args has rewritten it (underscores, dotted JSON keys), before argparse."""
    seen: list[list[str]] = []
    original = argparse.ArgumentParser.parse_args
    argparse.ArgumentParser.parse_args = lambda self, args=None, namespace=None: seen.append(list(args))  # type: ignore[method-assign]
    try:
        FlexibleArgumentParser.parse_args(parser, [token] if "=" in token else [token, "1"])
    finally:
        argparse.ArgumentParser.parse_args = original  # type: ignore[method-assign]
    return next(arg for arg in seen[0] if arg.startswith("-")).split("=", 1)[0]


def vllm_action(parser: argparse.ArgumentParser, token: str) -> argparse.Action | None:
    """The option argparse picks for a token: exact, or by unique prefix (allow_abbrev); None for none or ambiguity."""
    try:
        # Private argparse API whose result changed shape in Python 3.12 (a list of every match); typeshed has one shape.
        found: Any = parser._parse_optional(preprocessed(parser, token))
    except SystemExit:  # an ambiguous abbreviation: vLLM refuses to start, which the kit's refusal also prevents
        return None
    if isinstance(found, list):  # Python 3.12+: every match
        found = found[0] if len(found) == 1 else None
    return found[0] if found else None


def test_every_spelling_names_the_option_vllm_reads(vllm_flag_names):
    parser = PARSERS[vllm_flag_names["command"]]
    actions = parser._option_string_actions
    for token, kit_name in vllm_flag_names["spellings"].items():
        action = vllm_action(parser, token)
        if action is None:
            continue  # vLLM would refuse the token outright (e.g. an alias run-batch lacks)
        assert kit_name in actions, f"{token}: the kit reads {kit_name}, which vLLM does not have"
        assert action.dest == actions[kit_name].dest, f"{token}: vLLM reads {action.dest}, the kit {kit_name}"


def test_no_option_of_vllm_is_taken_for_an_abbreviation_of_a_kit_flag(vllm_flag_names):
    """The kit takes a strict prefix of one of its flags for that flag; no real option may be such a prefix."""
    parser = PARSERS[vllm_flag_names["command"]]
    kit = set(vllm_flag_names["kit_flags"])
    for option in parser._option_string_actions:
        prefixed = [flag for flag in kit if flag.startswith(option) and flag != option]
        assert not prefixed or option in kit, f"{option} is an option of its own, but a prefix of {prefixed}"


def test_the_one_dash_aliases_are_vllms(all_emitted):
    [short] = {tuple(sorted(entry["short_flags"].items())) for entry in all_emitted["vllm_flag_names"]}
    aliases = {}
    for parser in PARSERS.values():
        for action in parser._actions:
            longs = [o for o in action.option_strings if o.startswith("--") and not o.startswith("--no-")]
            aliases.update({o: longs[0] for o in action.option_strings if not o.startswith("--") and o != "-h"})
    assert dict(short) == aliases


@pytest.mark.parametrize("command", sorted(PARSERS))
def test_every_negation_is_a_boolean_flags(command):
    """The kit reads --no-X as X: vLLM has no option that starts with --no- and is not a negation."""
    for action in PARSERS[command]._actions:
        for option in action.option_strings:
            if option.startswith("--no-"):
                assert isinstance(action, argparse.BooleanOptionalAction), option


def test_a_flag_given_twice_keeps_the_last_value():
    """Why extra_args may not repeat a kit flag: no error, the last value wins."""
    parser = PARSERS["serve"]
    assert parser.parse_args(["org/model", "--port", "8000", "--port=9000"]).port == 9000
    assert parser.parse_args(["org/model", "--tensor-parallel-size", "8", "-tp", "2"]).tensor_parallel_size == 2
