"""scripts/team_keys.py against a stand-in kubectl that keeps the Secret in a file."""

import base64
import json
import os
import stat
import sys
from pathlib import Path

import pytest

from scripts import team_keys
from tests.helpers import write_config

FAKE_KUBECTL = """#!{python}
import json, os, sys
state = os.environ["FAKE_KUBECTL_STATE"]
with open(state + ".argv", "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
if sys.argv[1:3] == ["get", "secret"]:
    if not os.path.exists(state):
        sys.stderr.write('Error from server (NotFound): secrets "x" not found\\n')
        sys.exit(1)
    sys.stdout.write(open(state).read())
elif sys.argv[1:] == ["apply", "-f", "-"]:
    open(state, "w").write(sys.stdin.read())
else:
    sys.exit(3)
"""


@pytest.fixture
def kubectl(tmp_path, monkeypatch):
    folder = tmp_path / "bin"
    folder.mkdir()
    binary = folder / "kubectl"
    binary.write_text(FAKE_KUBECTL.format(python=sys.executable))
    binary.chmod(binary.stat().st_mode | stat.S_IEXEC)
    state = tmp_path / "secret.json"
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_KUBECTL_STATE", str(state))
    return state


def _config(tmp_path, teams):
    workload = {"name": "llama-8b", "blueprint": "vllm", "node_pool": "gpu-l40s", "model": {"type": "hf", "repo_id": "org/model"}, "routing": {}}
    return write_config(tmp_path, {"gateway": {"teams": [{"name": team, "models": ["llama-8b"]} for team in teams]}, "workloads": [workload]})


def _stored(state: Path) -> dict[str, str]:
    secret = json.loads(state.read_text())
    assert (secret["kind"], secret["metadata"]["name"], secret["metadata"]["namespace"]) == ("Secret", "llm-gateway-api-keys", "inference")
    return {team: base64.b64decode(value).decode() for team, value in secret["data"].items()}


def _printed_keys(output: str) -> dict[str, str]:
    return dict(line.split("\t") for line in output.splitlines() if "\t" in line)


def test_sync_issues_a_key_per_team_shows_it_once_and_keeps_it_off_the_command_line(tmp_path, kubectl, capsys):
    assert team_keys.main(["sync", "--config", str(_config(tmp_path, ["search", "support"]))]) == 0
    shown = _printed_keys(capsys.readouterr().out)
    assert _stored(kubectl) == shown and set(shown) == {"search", "support"}
    assert all(key.startswith("lk_") and len(key) > 40 for key in shown.values())
    # The keys travel through stdin only: no kubectl argument carries one.
    argv = (kubectl.parent / "secret.json.argv").read_text()
    assert not any(key in argv for key in shown.values())


def test_sync_keeps_existing_keys_rotates_on_request_and_revokes_removed_teams(tmp_path, kubectl, capsys):
    team_keys.main(["sync", "--config", str(_config(tmp_path, ["search", "support"]))])
    first = _printed_keys(capsys.readouterr().out)
    assert team_keys.main(["sync", "--config", str(_config(tmp_path, ["search", "support"])), "--rotate", "support"]) == 0
    rotated = _printed_keys(capsys.readouterr().out)
    assert set(rotated) == {"support"} and rotated["support"] != first["support"]
    assert _stored(kubectl) == {"search": first["search"], "support": rotated["support"]}
    assert team_keys.main(["sync", "--config", str(_config(tmp_path, ["search"]))]) == 0
    assert "revoked support" in capsys.readouterr().out
    assert _stored(kubectl) == {"search": first["search"]}


def test_dry_run_writes_nothing(tmp_path, kubectl, capsys):
    assert team_keys.main(["sync", "--config", str(_config(tmp_path, ["search"])), "--dry-run"]) == 0
    assert "new keys for search" in capsys.readouterr().out
    assert not kubectl.exists()


def test_rotating_an_unknown_team_is_refused(tmp_path, kubectl, capsys):
    assert team_keys.main(["sync", "--config", str(_config(tmp_path, ["search"])), "--rotate", "serch"]) == 2
    assert "--rotate names no team of gateway.teams: serch (teams: search)" in capsys.readouterr().err
    assert not kubectl.exists()


def test_without_kubectl_it_says_what_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert team_keys.main(["sync", "--config", str(_config(tmp_path, ["search"]))]) == 2
    assert "kubectl is not on PATH" in capsys.readouterr().err
