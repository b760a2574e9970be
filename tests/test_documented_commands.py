"""Every command the README, docs/*.md and config/default.yaml's comments show, run as written (from a user's folder
with the configs the docs name), and every YAML snippet they show, accepted by the checks.

How each command is run:
  offline and fast (./kit help, check, blueprints, render, --help)      run, exit 0
  ./kit synth                                                          run through its Python entry, output in a
                                                                       temp folder (each distinct config once)
  needs AWS (./kit deploy/diff/destroy/bootstrap, scripts.preflight,   run without credentials: exit 2 before
  capacity_blocks)                                                     any AWS call, saying how to get credentials
  scripts.stage_model                                                  run against moto (S3)
  needs a cluster (scripts.verify_cluster, team_keys, kubectl, curl,   run without a kubeconfig where the kit's own
  aws, helm)                                                           (exit 2, one plain line); the others are
                                                                       checked for the paths and names they use
  long (./kit test, contracts, scan, bench, docs, lock)                a command ./kit has; run by CI, not here
A command that fits none of these fails the test: a new documented command needs a way to be checked.

A YAML snippet is merged into config/default.yaml (workloads, node pools, teams and Bedrock models by name), or into
the config an HTML comment `<!-- snippet: config/examples/X.yaml -->` just above it names, and must load; one marked
`<!-- snippet: illustration -->` is a picture of a shape, not a config.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from moto import mock_aws

from assembly import synth as synth_command
from assembly.kit import KIT
from core.issues import ConfigError
from tests.helpers import REPO

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FENCE = re.compile(r"(?:<!-- snippet: (?P<mark>[^>]+?) -->\s*\n)?```(?P<lang>\w*)\n(?P<body>.*?)```", re.S)
ACCOUNT = "123456789012"
SHELL = ("sh", "bash", "shell")
LONG = ("test", "contracts", "scan", "bench", "docs", "lock", "plan", "size")
CLUSTER_TOOLS = ("kubectl", "curl", "aws", "helm", "kustomize")


def shell_commands() -> list[tuple[str, str]]:
    """(where, command) for every command line of every shell block, and of config/default.yaml's comments."""
    found = []
    for doc in DOCS:
        text = doc.read_text()
        for block in FENCE.finditer(text):
            if block.group("lang") in SHELL:
                line = text[: block.start("body")].count("\n") + 1
                found += [(f"{doc.relative_to(REPO)}:{line}", command) for command in _lines(block.group("body"))]
    comments = [
        line.split("#", 1)[1] for line in (REPO / "config" / "default.yaml").read_text().splitlines() if line.lstrip().startswith("#")
    ]
    for command in _lines("\n".join(comments)):
        if re.match(r"(KIT_CONFIG=\S+ )?\./kit |\.venv/bin/python |python -m |npx ", command):
            found.append(("config/default.yaml", command))
    return found


def _lines(body: str) -> list[str]:
    joined = re.sub(r"\\\n\s*#?\s*", " ", body)
    commands = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        line = re.split(r"\s+#\s", line, maxsplit=1)[0].strip()
        commands += [part.strip() for part in line.split(" && ")]
    return commands


COMMANDS = [
    pytest.param(where, command, marks=[pytest.mark.e2e] if re.search(r"\./kit synth\b", command) else [], id=f"{where} {command[:60]}")
    for where, command in shell_commands()
]


@pytest.fixture(scope="module")
def user(tmp_path_factory) -> Path:
    """A user's folder with the configs the docs name, each a copy of the default unless the kit ships it."""
    folder = tmp_path_factory.mktemp("user")
    shutil.copytree(REPO / "config", folder / "config")
    for name in ("prod", "production", "my", "my-cluster"):
        shutil.copy(REPO / "config" / "default.yaml", folder / "config" / f"{name}.yaml")
    (folder / "Llama-3.1-8B-Instruct").mkdir()
    (folder / "Llama-3.1-8B-Instruct" / "config.json").write_text("{}")
    return folder


@pytest.fixture(scope="module")
def no_credentials(tmp_path_factory) -> dict:
    home = tmp_path_factory.mktemp("home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in ("KIT_CONFIG", "KUBECONFIG")}
    env.update(
        {
            "HOME": str(home),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": str(home / "none"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "none"),
        }
    )
    return env


SYNTHS: dict[str, str] = {}


def _run(command: str, cwd: Path, env: dict, terminal: bool = False) -> subprocess.CompletedProcess[str]:
    """The command through bash, as a user types it; ./kit and .venv/bin/python are the repository's."""
    command = re.sub(r"(^|\s)\./kit\b", lambda m: m.group(1) + shlex.quote(str(REPO / "kit")), command)
    command = re.sub(r"(^|\s)\.venv/bin/python(?=\s)", lambda m: m.group(1) + shlex.quote(str(REPO / ".venv" / "bin" / "python")), command)
    if terminal:
        # ./kit destroy asks for confirmation on a terminal; give it one, as a user has.
        command = f"script -qec {shlex.quote(command)} /dev/null"
    return subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def _fill(command: str) -> str:
    """The placeholders a reader fills in, filled in: their account, and the names a default config gives."""
    return command.replace("<account>", ACCOUNT).replace("ACCOUNT", ACCOUNT).replace("<name>", "llm-kit")


@pytest.mark.parametrize(("where", "command"), COMMANDS)
def test_a_documented_command_runs_as_written(where, command, user, no_credentials, tmp_path):
    words = shlex.split(_fill(command))
    env = {k: v for k, v in os.environ.items() if k not in ("KIT_CONFIG", "KUBECONFIG")}
    program = next(word for word in words if not re.match(r"^[A-Z_]+=", word))
    kit_command = words[words.index("./kit") + 1] if "./kit" in words and words.index("./kit") + 1 < len(words) else None
    if words[0] == "export" or (words[0] == "cp" and words[1].startswith("config/")):
        result = _run(command, user, env)
        assert result.returncode == 0, result.stderr
    elif kit_command in ("help", "check", "blueprints", "render") or (kit_command and "--help" in words):
        result = _run(_fill(command), user, env)
        assert result.returncode == 0, f"{where}: {command}\n{result.stderr[-3000:]}"
        assert "usage: ./kit" in result.stdout or kit_command != "help"
    elif kit_command == "synth":
        _synth(words, user, tmp_path)
    elif kit_command in ("deploy", "diff", "destroy", "bootstrap"):
        result = _run(_fill(command), user, no_credentials, terminal=kit_command == "destroy")
        output = result.stderr + result.stdout
        assert result.returncode == 2, f"{where}: {command}\n{output[-2000:]}"
        assert "no AWS credentials" in output and "aws sso login" in output
    elif kit_command in LONG:
        assert f"\n  {kit_command} " in subprocess.run([str(REPO / "kit"), "help"], capture_output=True, text=True).stdout
    elif re.search(r"-m scripts\.(preflight|capacity_blocks)\b", command):
        result = _run(_fill(command), user, no_credentials)
        assert result.returncode == 2, f"{where}: {command}\n{result.stderr[-2000:]}"
        assert "no AWS credentials found" in result.stderr, result.stderr
    elif re.search(r"-m scripts\.stage_model\b", command):
        _stage_against_moto(words, user)
    elif re.search(r"-m scripts\.(verify_cluster|team_keys)\b", command):
        result = _run(_fill(command), user, {**no_credentials, "PATH": _kubectl_without_config(tmp_path) + os.pathsep + env["PATH"]})
        assert result.returncode == 2, f"{where}: {command}\n{result.stderr[-2000:]}"
        assert result.stderr.count("\n") == 1 and "update-kubeconfig" in result.stderr, result.stderr
    elif program in CLUSTER_TOOLS:
        _names_that_exist(words)
    else:
        pytest.fail(f"{where}: no way to check `{command}`; add one to this test")


def _synth(words: list[str], user: Path, tmp_path: Path) -> None:
    """./kit synth through its Python entry (the check, then the synth), each distinct config once."""
    env_config = next((w.split("=", 1)[1] for w in words if w.startswith("KIT_CONFIG=")), None)
    args = words[words.index("./kit") + 2 :]
    config = args[args.index("--config") + 1] if "--config" in args else env_config or str(REPO / "config" / "default.yaml")
    path = (user / config) if not Path(config).is_absolute() else Path(config)
    key = path.read_text()
    if key in SYNTHS:
        return
    check = subprocess.run(
        [str(REPO / ".venv" / "bin" / "python"), "-m", "assembly.check", "--config", str(path)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
    out = tmp_path / "synth"
    assert (
        synth_command.main(
            ["--config", str(path), "--outdir", str(out / "cdk.out"), "--dist", str(out / "dist"), "--charts", str(out / "charts")]
        )
        == 0
    )
    SYNTHS[key] = str(out)


def _stage_against_moto(words: list[str], user: Path) -> None:
    from scripts import stage_model

    argv = words[words.index("-m") + 2 :]
    bucket = argv[argv.index("--bucket") + 1]
    if "--hf-model" in argv:
        # The Hub is out of reach here: the command must get as far as asking it (the package is installed).
        import huggingface_hub  # noqa: F401

        return
    with mock_aws():
        import boto3

        boto3.client("s3", region_name="us-west-2").create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
        )
        cwd = os.getcwd()
        os.chdir(user)
        try:
            assert stage_model.main([*argv, "--region", "us-west-2"]) == 0
        finally:
            os.chdir(cwd)
        keys = [o["Key"] for o in boto3.client("s3", region_name="us-west-2").list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert any(key.endswith("config.json") for key in keys)


def _kubectl_without_config(folder: Path) -> str:
    """A kubectl that behaves as the real one does with no kubeconfig (retries to localhost:8080, then gives up)."""
    bin_dir = folder / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "kubectl"
    fake.write_text(
        f"#!{sys.executable}\nimport sys\n"
        "sys.stderr.write('E1205 memcache.go:265] couldn\\'t get current server API "
        'group list: Get "http://localhost:8080/api": connection refused\\n\' * 5)\n'
        "sys.stderr.write('The connection to the server localhost:8080 was refused - did you specify the right host or port?\\n')\n"
        "sys.exit(1)\n"
    )
    fake.chmod(0o755)
    return str(bin_dir)


def _names_that_exist(words: list[str]) -> None:
    """A command for a cluster or the AWS CLI: the kit's files and folders it names exist after a synth."""
    for word in words:
        found = re.match(r"^(dist|charts)/([a-z0-9-]+)(/.*)?$", word)
        if found:
            names = {
                w.name
                for path in [REPO / "config" / "default.yaml", *(REPO / "config" / "examples").glob("*.yaml")]
                for w in KIT.load(path).workloads
            }
            assert found.group(2) in names, f"{word}: no shipped config has a workload {found.group(2)}"
            if found.group(3):
                assert found.group(3) in ("/manifest.yaml", "/kustomization.yaml", "/values.yaml", "/README.md"), word


def yaml_snippets() -> list[tuple[str, str | None, str]]:
    found = []
    for doc in DOCS:
        text = doc.read_text()
        for block in FENCE.finditer(text):
            if block.group("lang") in ("yaml", "yml"):
                line = text[: block.start("body")].count("\n") + 1
                found.append((f"{doc.relative_to(REPO)}:{line}", block.group("mark"), block.group("body")))
    return found


SNIPPETS = yaml_snippets()


def merge(base, snippet):
    """Mappings merge key by key; lists of named entries merge by name (an entry updates its namesake or is added)."""
    if isinstance(base, dict) and isinstance(snippet, dict):
        return {**base, **{key: merge(base[key], value) if key in base else value for key, value in snippet.items()}}
    if isinstance(base, list) and isinstance(snippet, list) and all(isinstance(i, dict) and "name" in i for i in [*base, *snippet]):
        by_name = {item["name"]: item for item in base}
        for item in snippet:
            by_name[item["name"]] = merge(by_name[item["name"]], item) if item["name"] in by_name else item
        return list(by_name.values())
    return snippet


@pytest.mark.parametrize(("where", "mark", "body"), SNIPPETS, ids=[w for w, _, _ in SNIPPETS])
def test_a_documented_config_snippet_is_accepted(where, mark, body, tmp_path):
    if mark == "illustration":
        return
    base = REPO / (mark or "config/default.yaml")
    data = yaml.safe_load(body)
    assert isinstance(data, dict), f"{where}: not a mapping; mark it <!-- snippet: illustration --> if it is a picture of a shape"
    path = tmp_path / "snippet.yaml"
    path.write_text(yaml.safe_dump(merge(yaml.safe_load(base.read_text()), data), sort_keys=False))
    try:
        KIT.load(path)
    except ConfigError as err:
        pytest.fail(f"{where} (merged into {base.relative_to(REPO)}) is refused:\n{err.render()}")
