"""Issue, rotate and revoke the gateway's team API keys, kept in one Kubernetes Secret and nowhere else.

    python -m scripts.team_keys sync --config config/prod.yaml                          # a key for every new team; revoke the rest
    python -m scripts.team_keys sync --config config/prod.yaml --rotate search          # new key; the old one works 24 more hours
    python -m scripts.team_keys sync --config config/prod.yaml --rotate search --grace 0   # new key; the old one stops now
    python -m scripts.team_keys sync --config config/prod.yaml --dry-run                # what would change

The Secret (core.routing.API_KEYS_SECRET, in the workloads namespace) maps each team name to its key; the gateway's
SecurityPolicy reads it and forwards the team's name to the rest of the request path. Keys are generated here
(256 random bits), shown once on stdout for you to hand over, and sent to kubectl through stdin: they never touch
the config, the templates, the manifests, a command line or a file on disk. Uses the kubectl of the current context.

The Secret holds exactly what this script issued for the config's teams. Every sync revokes any other key in it
(a removed team's, one added by hand) and a rotated key whose grace period has ended. During the grace period the old
key stays under `<team>.previous`, a client id the gateway accepts as the team (core.routing.team_client_ids), with
its end in the Secret's annotation llm-kit/previous-keys-expire; calls with it show as `<team>.previous` in the audit
log, so you can see who has not switched yet. The old key stops working at the first sync after its grace period:
run sync then (by hand, or on a schedule).

The Secret is written whole: created, or replaced at the resourceVersion just read (a concurrent change fails the
sync instead of being overwritten). Never `kubectl apply`: its client-side form copies the object, keys included,
into the kubectl.kubernetes.io/last-applied-configuration annotation, and its server-side form keeps keys that
another field manager wrote. Replacing also drops such an annotation left by an earlier apply.

Exit codes: 0 done, 2 usage, config or kubectl error.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from assembly.cli_config import CONFIG_HELP, load_or_report
from core.docstrings import first_paragraph
from core.routing import API_KEYS_SECRET, team_client_ids

KEY_PREFIX = "lk_"
EXPIRY_ANNOTATION = "llm-kit/previous-keys-expire"
DEFAULT_GRACE = "24h"
LONGEST_GRACE = timedelta(days=30)
_DURATION = re.compile(r"^(\d+)([mhd]?)$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "": "hours"}


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def now() -> datetime:
    return datetime.now(UTC)


def parse_grace(text: str) -> timedelta:
    """'24h', '90m', '7d' or '0' (a bare number is hours); at most 30 days."""
    found = _DURATION.match(text.strip())
    if found is None:
        raise ValueError(f"--grace {text!r}: give a number with m, h or d (e.g. 24h, 90m, 7d), or 0")
    grace = timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})
    if grace > LONGEST_GRACE:
        raise ValueError(f"--grace {text!r} is longer than {LONGEST_GRACE.days} days; a key that should be gone stays valid that long")
    return grace


class KubectlError(RuntimeError):
    pass


def kubectl(args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess:
    binary = shutil.which("kubectl")
    if binary is None:
        raise KubectlError("kubectl is not on PATH; install it and point it at the cluster (aws eks update-kubeconfig --name <cluster>)")
    return subprocess.run([binary, *args], input=stdin, capture_output=True, text=True)


@dataclass(frozen=True)
class Stored:
    """The Secret as read: its keys by client id, the grace periods of previous keys, and its version."""

    keys: dict[str, str] = field(default_factory=dict)
    expiries: dict[str, datetime] = field(default_factory=dict)
    resource_version: str | None = None


# What kubectl says when it has no cluster to talk to, and what that means.
_NO_CLUSTER = (
    (
        ("localhost:8080", "current-context is not set", "no configuration has been provided"),
        "kubectl has no cluster to talk to (no current context in its kubeconfig)",
    ),
    (
        ("i/o timeout", "Unable to connect to the server"),
        "kubectl cannot reach the cluster's API endpoint (a private endpoint is reachable only from inside the VPC)",
    ),
    (
        ("Unauthorized", "must be logged in", "ExpiredToken"),
        "the cluster refuses kubectl's credentials (expired, or not among cluster.admin_principal_arns)",
    ),
)


def readable(stderr: str) -> str:
    """kubectl's complaint in one line: what it means where it is a known one, else its last line."""
    for signs, meaning in _NO_CLUSTER:
        if any(sign in stderr for sign in signs):
            return meaning
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


def _expiries(annotations: dict[str, str]) -> dict[str, datetime]:
    """An unreadable annotation counts as no grace at all: the previous keys it covered are revoked."""
    try:
        raw = json.loads(annotations.get(EXPIRY_ANNOTATION, "{}"))
        stamps = {team: datetime.fromisoformat(when) for team, when in raw.items()}
    except (ValueError, TypeError, AttributeError):
        return {}
    return {team: when if when.tzinfo else when.replace(tzinfo=UTC) for team, when in stamps.items()}


def read_secret(namespace: str) -> Stored:
    result = kubectl(["get", "secret", API_KEYS_SECRET, "-n", namespace, "-o", "json"])
    if result.returncode != 0:
        if "NotFound" in result.stderr:
            return Stored()
        raise KubectlError(f"kubectl get secret {API_KEYS_SECRET} failed: {readable(result.stderr)}")
    secret = json.loads(result.stdout)
    metadata = secret.get("metadata") or {}
    keys = {client: base64.b64decode(value).decode() for client, value in (secret.get("data") or {}).items()}
    return Stored(keys, _expiries(metadata.get("annotations") or {}), metadata.get("resourceVersion"))


@dataclass(frozen=True)
class KeySyncPlan:
    """What one key sync writes: the Secret's new contents, and which keys it issues and revokes."""

    keys: dict[str, str]
    """The Secret's new contents: client id -> key."""
    expiries: dict[str, datetime]
    """Team -> when its previous key stops being written."""
    issued: list[str]
    """Teams given a new key (new teams and rotated ones)."""
    revoked: list[str]
    """Client ids whose key stops working with this sync."""


def plan(teams: list[str], stored: Stored, rotate: set[str], grace: timedelta, at: datetime) -> KeySyncPlan:
    keys: dict[str, str] = {}
    expiries: dict[str, datetime] = {}
    issued = []
    for team in teams:
        current, previous = team_client_ids(team)
        old = stored.keys.get(current)
        if old is not None and team not in rotate:
            keys[current] = old
            until = stored.expiries.get(team)
            if previous in stored.keys and until is not None and until > at:
                keys[previous], expiries[team] = stored.keys[previous], until
        else:
            keys[current] = new_key()
            issued.append(team)
            if old is not None and grace > timedelta(0):
                keys[previous], expiries[team] = old, at + grace
    kept = set(keys.values())
    revoked = sorted(client for client, key in stored.keys.items() if key not in kept)
    return KeySyncPlan(keys, expiries, issued, revoked)


def secret_manifest(
    namespace: str, keys: dict[str, str], expiries: dict[str, datetime] | None = None, resource_version: str | None = None
) -> dict:
    metadata: dict = {"name": API_KEYS_SECRET, "namespace": namespace, "labels": {"app.kubernetes.io/part-of": "llm-serving-kit"}}
    if expiries:
        stamps = {team: when.astimezone(UTC).isoformat(timespec="seconds") for team, when in sorted(expiries.items())}
        metadata["annotations"] = {EXPIRY_ANNOTATION: json.dumps(stamps)}
    if resource_version is not None:
        metadata["resourceVersion"] = resource_version
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": metadata,
        "data": {client: base64.b64encode(key.encode()).decode() for client, key in sorted(keys.items())},
    }


def write_secret(namespace: str, result: KeySyncPlan, stored: Stored) -> None:
    """Create the Secret, or replace it whole at the version read; never apply (see the module's docstring)."""
    manifest = secret_manifest(namespace, result.keys, result.expiries, stored.resource_version)
    verb = "create" if stored.resource_version is None else "replace"
    written = kubectl([verb, "-f", "-"], stdin=json.dumps(manifest))
    if written.returncode != 0:
        hint = (
            " (the Secret changed since it was read: run sync again)"
            if "Conflict" in written.stderr or "modified" in written.stderr
            else ""
        )
        raise KubectlError(f"kubectl {verb} secret {API_KEYS_SECRET} failed{hint}: {readable(written.stderr)}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.team_keys", description=first_paragraph(__doc__))
    sub = parser.add_subparsers(dest="command", required=True)
    sync = sub.add_parser("sync", help="make the Secret hold exactly the config's teams")
    sync.add_argument("--config", help=CONFIG_HELP)
    sync.add_argument("--rotate", action="append", default=[], metavar="TEAM", help="give TEAM a new key (repeatable)")
    sync.add_argument(
        "--grace", default=DEFAULT_GRACE, help=f"how long a rotated team's old key keeps working (default {DEFAULT_GRACE}; 0: not at all)"
    )
    sync.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    args = parser.parse_args(argv)
    try:
        grace = parse_grace(args.grace)
    except ValueError as err:
        print(f"team_keys: {err}", file=sys.stderr)
        return 2
    config = load_or_report(args.config)
    if config is None:
        return 2
    teams = [team.name for team in config.gateway.teams]
    unknown = sorted(set(args.rotate) - set(teams))
    if unknown:
        print(
            f"team_keys: --rotate names no team of gateway.teams: {', '.join(unknown)} (teams: {', '.join(teams) or 'none'})",
            file=sys.stderr,
        )
        return 2
    namespace = config.storage.workloads_namespace
    at = now()
    try:
        stored = read_secret(namespace)
        result = plan(teams, stored, set(args.rotate), grace, at)
        print(
            f"team_keys: {len(teams)} teams; new keys for {', '.join(result.issued) or 'none'}; "
            f"revoked {', '.join(result.revoked) or 'none'}"
        )
        for team, until in sorted(result.expiries.items()):
            stamp = until.astimezone(UTC).isoformat(timespec="seconds")
            print(f"team_keys: {team}'s previous key works until {stamp}; the first sync after that revokes it")
        if args.dry_run:
            return 0
        write_secret(namespace, result, stored)
    except KubectlError as err:
        cluster = any(meaning in str(err) for _, meaning in _NO_CLUSTER) or "not on PATH" in str(err)
        where = (
            f"; point kubectl at the cluster: aws eks update-kubeconfig --region {config.region} --name {config.name}" if cluster else ""
        )
        print(f"team_keys: {err}{where}", file=sys.stderr)
        return 2
    for team in result.issued:
        # The only time a key is shown: hand it to the team over a channel you trust.
        print(f"{team}\t{result.keys[team]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
