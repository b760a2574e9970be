"""Flags in a workload's extra_args that repeat one the kit writes: vLLM's parser keeps the last value of a flag
given twice (with a warning in its log), so an extra flag would quietly override the kit's and break what the kit
built around it (the port the probes and Service use, the GPUs the pod asks for, the KV connector).

The kit's own flags are not listed here: each blueprint gives the argument lists its builder writes, and a flag
counts as set when it is there. What is written here is how vLLM 0.30.0 reads a flag's name
(vllm/utils/argparse_utils.py, FlexibleArgumentParser.parse_args, and the parsers of `vllm serve` and `vllm run-batch`):
- `--flag value` and `--flag=value` are one flag; underscores before any '.' read as dashes (`--tensor_parallel_size`);
- `--flag.key value` sets one key of a JSON flag, and the whole flag is then given again after the others;
- `--no-flag` is the negation of a boolean `--flag` (argparse.BooleanOptionalAction);
- one-dash aliases, SHORT_FLAGS;
- argparse's allow_abbrev is on: a unique prefix of a long flag (`--tensor-parallel`) is that flag.
contracts/checks/test_vllm_serve.py holds these facts against the real parser.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.issues import ConfigIssue

SHORT_FLAGS = {
    "-ac": "--attention-config",
    "-asc": "--api-server-count",
    "-cc": "--compilation-config",
    "-dc": "--diffusion-config",
    "-dcp": "--decode-context-parallel-size",
    "-dp": "--data-parallel-size",
    "-dpa": "--data-parallel-address",
    "-dpb": "--data-parallel-backend",
    "-dpe": "--data-parallel-external-lb",
    "-dph": "--data-parallel-hybrid-lb",
    "-dpl": "--data-parallel-size-local",
    "-dpm": "--data-parallel-multi-port-external-lb",
    "-dpn": "--data-parallel-rank",
    "-dpp": "--data-parallel-rpc-port",
    "-dpr": "--data-parallel-start-rank",
    "-ep": "--enable-expert-parallel",
    "-i": "--input-file",
    "-n": "--nnodes",
    "-o": "--output-file",
    "-pcp": "--prefill-context-parallel-size",
    "-pp": "--pipeline-parallel-size",
    "-q": "--quantization",
    "-r": "--node-rank",
    "-sc": "--speculative-config",
    "-tp": "--tensor-parallel-size",
}
"""The one-dash aliases of `vllm serve` and `vllm run-batch` (vLLM 0.30.0), by the long flag they stand for."""

SAME_SETTING = (frozenset({"--kv-transfer-config", "--kv-offloading-size", "--kv-offloading-backend"}),)
"""Flags that write one setting: --kv-offloading-size (with its backend) replaces the KV transfer config's connector
(vllm/config/vllm.py, VllmConfig._post_init_kv_transfer_config)."""

MODEL = "--model"
"""`vllm serve` takes the model as its first argument; a --model anywhere is moved there (FlexibleArgumentParser)."""


def flag_name(token: str) -> str | None:
    """The long flag a token sets, as vLLM reads it; None for a value."""
    name = token.split("=", 1)[0]
    if name.startswith("--") and len(name) > 2:
        name = "--" + name[2:].split(".", 1)[0].replace("_", "-")
        return "--" + name[5:] if name.startswith("--no-") else name
    return SHORT_FLAGS.get(name)


def kit_flags(command_lines: Iterable[list[str]]) -> dict[str, str]:
    """Every flag the kit's argument lists set, with the value it gives (empty for a switch)."""
    found: dict[str, str] = {}
    for args in command_lines:
        if args and not args[0].startswith("-"):
            found.setdefault(MODEL, args[0])
        for index, token in enumerate(args):
            name = flag_name(token)
            if name is None:
                continue
            following = args[index + 1] if index + 1 < len(args) else ""
            value = token.split("=", 1)[1] if "=" in token else following if following and flag_name(following) is None else ""
            found.setdefault(name, value)
    return found


def resolved(token: str, kit: Iterable[str]) -> str | None:
    """The flag vLLM takes a token for, among the kit's flags where the token abbreviates one of them; None for a value."""
    name = flag_name(token)
    if name is None or name in kit:
        return name
    longer = [flag for flag in kit if flag.startswith(name)]
    return longer[0] if len(longer) == 1 else name


def _clash(name: str, kit: dict[str, str]) -> str | None:
    """The kit's flag that `name` would override: the same one (or the one it abbreviates), or one writing the same setting."""
    if name in kit:
        return name
    for group in SAME_SETTING:
        if name in group:
            return next((other for other in sorted(group) if other in kit), None)
    return None


def repeated_flag_issues(command_lines: Iterable[list[str]], extra_args: list[str], keys: Iterable[str]) -> list[ConfigIssue]:
    """command_lines: the argument lists the kit writes for this workload without extra_args; keys: the workload's own keys."""
    kit = kit_flags(command_lines)
    keys = set(keys)
    issues = []
    for index, token in enumerate(extra_args):
        name = resolved(token, kit)
        clash = _clash(name, kit) if name is not None else None
        if clash is None:
            continue
        written = f"{clash} {kit[clash]}".strip() if clash != MODEL else f"the model ({kit[clash]})"
        given = token.split("=", 1)[0]
        if name != clash:
            message = (
                f"sets the KV connector, as the kit's {written} does: "
                "vLLM keeps one (--kv-offloading-size replaces the connector a --kv-transfer-config names)"
            )
        else:
            spelt = (
                ""
                if given == clash
                else f" (vLLM takes {given} as an abbreviation of {clash})"
                if flag_name(token) != clash
                else f" (vLLM reads {given} as {clash})"
            )
            message = f"repeats a flag the kit already passes{spelt}: the kit writes {written}, and vLLM keeps whichever comes last"
        key = clash[2:].replace("-", "_")
        issues.append(
            ConfigIssue(
                f"extra_args[{index}]",
                message + ", so the pod would not run as the kit built it",
                value=token,
                allowed="flags the kit does not write itself",
                fix=f"remove it and set the workload's {key} instead"
                if key in keys
                else "remove it; the kit writes this setting from the workload's own keys",
            )
        )
    return issues
