"""scripts/team_keys.py against a stand-in kubectl that keeps the Secret in a file, as the API server would:
create refuses an existing object, replace needs the current resourceVersion and stores exactly what it is sent,
and any other verb (apply among them) fails."""

import base64
import json
import os
import stat
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scripts import team_keys
from tests.helpers import write_config

FAKE_KUBECTL = """#!{python}
import json, os, sys
state = os.environ["FAKE_KUBECTL_STATE"]
with open(state + ".argv", "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
args = sys.argv[1:]
stored = json.load(open(state)) if os.path.exists(state) else None
if args[:2] == ["get", "secret"]:
    if stored is None:
        sys.stderr.write('Error from server (NotFound): secrets "x" not found\\n')
        sys.exit(1)
    sys.stdout.write(json.dumps(stored))
elif args == ["create", "-f", "-"]:
    if stored is not None:
        sys.stderr.write('Error from server (AlreadyExists): secrets "x" already exists\\n')
        sys.exit(1)
    sent = json.loads(sys.stdin.read())
    sent["metadata"]["resourceVersion"] = "1"
    json.dump(sent, open(state, "w"))
elif args == ["replace", "-f", "-"]:
    sent = json.loads(sys.stdin.read())
    race = os.environ.get("FAKE_KUBECTL_RACE")
    if stored is None or sent["metadata"].get("resourceVersion") != stored["metadata"]["resourceVersion"] or race:
        sys.stderr.write(
            'Error from server (Conflict): the object has been modified; please apply your changes to the latest version\\n'
        )
        sys.exit(1)
    sent["metadata"]["resourceVersion"] = str(int(stored["metadata"]["resourceVersion"]) + 1)
    json.dump(sent, open(state, "w"))
else:
    sys.stderr.write("fake kubectl: unsupported " + " ".join(args) + "\\n")
    sys.exit(3)
"""

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


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


@pytest.fixture
def clock(monkeypatch):
    """The script's clock, moved by the test."""
    current = [START]
    monkeypatch.setattr(team_keys, "now", lambda: current[0])
    return current


CERT = "arn:aws:acm:us-west-2:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"


def _config(tmp_path, teams):
    workload = {
        "name": "llama-8b",
        "blueprint": "vllm",
        "node_pool": "gpu-l40s",
        "model": {"type": "hf", "repo_id": "org/model"},
        "routing": {},
    }
    gateway = {"teams": [{"name": team, "models": ["llama-8b"]} for team in teams], "certificate_arn": CERT}
    return str(write_config(tmp_path, {"gateway": gateway, "workloads": [workload]}))


def _secret(state: Path) -> dict:
    secret = json.loads(state.read_text())
    assert (secret["kind"], secret["metadata"]["name"], secret["metadata"]["namespace"]) == ("Secret", "llm-gateway-api-keys", "inference")
    return secret


def _stored(state: Path) -> dict[str, str]:
    return {client: base64.b64decode(value).decode() for client, value in _secret(state)["data"].items()}


def _printed_keys(output: str) -> dict[str, str]:
    return dict(line.split("\t") for line in output.splitlines() if "\t" in line)


def _verbs(state: Path) -> list[str]:
    return [json.loads(line)[0] for line in (state.parent / "secret.json.argv").read_text().splitlines()]


def test_sync_issues_a_key_per_team_shows_it_once_and_keeps_it_off_the_command_line(tmp_path, kubectl, clock, capsys):
    assert team_keys.main(["sync", "--config", _config(tmp_path, ["search", "support"])]) == 0
    shown = _printed_keys(capsys.readouterr().out)
    assert _stored(kubectl) == shown and set(shown) == {"search", "support"}
    assert all(key.startswith("lk_") and len(key) > 40 for key in shown.values())
    # The keys travel through stdin only: no kubectl argument carries one.
    argv = (kubectl.parent / "secret.json.argv").read_text()
    assert not any(key in argv for key in shown.values())


def test_the_secret_is_created_then_replaced_never_applied_and_keeps_no_copy_in_an_annotation(tmp_path, kubectl, clock, capsys):
    config = _config(tmp_path, ["search"])
    team_keys.main(["sync", "--config", config])
    team_keys.main(["sync", "--config", config, "--rotate", "search", "--grace", "0"])
    assert _verbs(kubectl) == ["get", "create", "get", "replace"]
    assert "annotations" not in _secret(kubectl)["metadata"]


def test_keys_the_script_did_not_write_are_revoked_with_the_annotation_an_old_apply_left(tmp_path, kubectl, clock, capsys):
    team_keys.main(["sync", "--config", _config(tmp_path, ["search"])])
    first = _printed_keys(capsys.readouterr().out)
    secret = _secret(kubectl)
    # Added by hand, and the copy a client-side `kubectl apply` keeps of the whole object, keys included.
    secret["data"]["intruder"] = base64.b64encode(b"lk_handmade").decode()
    secret["data"]["search.previous"] = base64.b64encode(b"lk_forged_previous").decode()
    secret["metadata"]["annotations"] = {"kubectl.kubernetes.io/last-applied-configuration": json.dumps({"data": secret["data"]})}
    kubectl.write_text(json.dumps(secret))
    assert team_keys.main(["sync", "--config", _config(tmp_path, ["search"])]) == 0
    assert "revoked intruder, search.previous" in capsys.readouterr().out
    assert _stored(kubectl) == first
    assert "annotations" not in _secret(kubectl)["metadata"]


def test_a_rotated_key_keeps_working_through_its_grace_period_then_is_revoked(tmp_path, kubectl, clock, capsys):
    config = _config(tmp_path, ["search", "support"])
    team_keys.main(["sync", "--config", config])
    first = _printed_keys(capsys.readouterr().out)
    assert team_keys.main(["sync", "--config", config, "--rotate", "support", "--grace", "2h"]) == 0
    output = capsys.readouterr().out
    rotated = _printed_keys(output)
    assert set(rotated) == {"support"} and rotated["support"] != first["support"]
    assert "support's previous key works until 2026-12-01T11:00:00+00:00" in output and "revoked none" in output
    both = {"search": first["search"], "support": rotated["support"], "support.previous": first["support"]}
    assert _stored(kubectl) == both
    assert json.loads(_secret(kubectl)["metadata"]["annotations"]["llm-kit/previous-keys-expire"]) == {
        "support": "2026-12-01T11:00:00+00:00"
    }
    # Within the grace period a sync keeps both keys and prints no key again.
    clock[0] = START + timedelta(hours=1, minutes=59)
    assert team_keys.main(["sync", "--config", config]) == 0
    assert _printed_keys(capsys.readouterr().out) == {} and _stored(kubectl) == both
    # After it, the old key is revoked, and its grace with it.
    clock[0] = START + timedelta(hours=2)
    assert team_keys.main(["sync", "--config", config]) == 0
    assert "revoked support.previous" in capsys.readouterr().out
    assert _stored(kubectl) == {"search": first["search"], "support": rotated["support"]}
    assert "annotations" not in _secret(kubectl)["metadata"]


def test_without_grace_the_old_key_stops_at_once(tmp_path, kubectl, clock, capsys):
    config = _config(tmp_path, ["search"])
    team_keys.main(["sync", "--config", config])
    first = _printed_keys(capsys.readouterr().out)
    assert team_keys.main(["sync", "--config", config, "--rotate", "search", "--grace", "0"]) == 0
    output = capsys.readouterr().out
    assert "revoked search" in output
    assert _stored(kubectl) == _printed_keys(output) and first["search"] not in _stored(kubectl).values()


def test_a_removed_team_loses_its_key_and_its_previous_one(tmp_path, kubectl, clock, capsys):
    team_keys.main(["sync", "--config", _config(tmp_path, ["search", "support"])])
    team_keys.main(["sync", "--config", _config(tmp_path, ["search", "support"]), "--rotate", "support"])
    first = _printed_keys(capsys.readouterr().out)
    assert team_keys.main(["sync", "--config", _config(tmp_path, ["search"])]) == 0
    assert "revoked support, support.previous" in capsys.readouterr().out
    assert _stored(kubectl) == {"search": first["search"]}


def test_a_change_made_between_read_and_write_fails_the_sync_instead_of_being_overwritten(tmp_path, kubectl, clock, capsys, monkeypatch):
    config = _config(tmp_path, ["search"])
    team_keys.main(["sync", "--config", config])
    before = kubectl.read_text()
    capsys.readouterr()
    monkeypatch.setenv("FAKE_KUBECTL_RACE", "1")
    assert team_keys.main(["sync", "--config", config, "--rotate", "search"]) == 2
    captured = capsys.readouterr()
    assert "the Secret changed since it was read: run sync again" in captured.err
    assert _printed_keys(captured.out) == {} and kubectl.read_text() == before


def test_dry_run_writes_nothing(tmp_path, kubectl, clock, capsys):
    assert team_keys.main(["sync", "--config", _config(tmp_path, ["search"]), "--dry-run"]) == 0
    assert "new keys for search" in capsys.readouterr().out
    assert not kubectl.exists()


@pytest.mark.parametrize(("grace", "message"), [("1w", "give a number with m, h or d"), ("31d", "longer than 30 days")])
def test_a_bad_grace_period_is_refused(tmp_path, kubectl, clock, capsys, grace, message):
    assert team_keys.main(["sync", "--config", _config(tmp_path, ["search"]), "--rotate", "search", "--grace", grace]) == 2
    assert message in capsys.readouterr().err
    assert not kubectl.exists()


def test_rotating_an_unknown_team_is_refused(tmp_path, kubectl, clock, capsys):
    assert team_keys.main(["sync", "--config", _config(tmp_path, ["search"]), "--rotate", "serch"]) == 2
    assert "--rotate names no team of gateway.teams: serch (teams: search)" in capsys.readouterr().err
    assert not kubectl.exists()


def test_without_kubectl_it_says_what_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert team_keys.main(["sync", "--config", _config(tmp_path, ["search"])]) == 2
    assert "kubectl is not on PATH" in capsys.readouterr().err


# What kubectl prints with no kubeconfig: five retries to the default server, then a summary.
NO_KUBECONFIG = """#!{python}
import sys
line = (
    'E1205 memcache.go:265] couldn\\'t get current server API group list: '
    'Get "http://localhost:8080/api?timeout=32s": dial tcp [::1]:8080: connect: connection refused'
)
summary = "The connection to the server localhost:8080 was refused - did you specify the right host or port?\\n"
sys.stderr.write((line + "\\n") * 5 + summary)
sys.exit(1)
"""


def test_without_a_kubeconfig_it_says_so_in_one_line_and_how_to_get_one(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "kubectl").write_text(NO_KUBECONFIG.format(python=sys.executable))
    (folder / "kubectl").chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    assert team_keys.main(["sync", "--config", str(_config(tmp_path, ["search"]))]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "memcache" not in err and "localhost:8080" not in err
    assert "kubectl has no cluster to talk to" in err and "aws eks update-kubeconfig --region us-west-2 --name llm-kit" in err
