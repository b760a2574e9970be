"""Issue, rotate and revoke the gateway's team API keys, kept in one Kubernetes Secret and nowhere else.

    python -m scripts.team_keys sync --config config/prod.yaml               # a key for every new team, revoke removed teams
    python -m scripts.team_keys sync --config config/prod.yaml --rotate search   # new key for team 'search'
    python -m scripts.team_keys sync --config config/prod.yaml --dry-run     # what would change

The Secret (core.routing.API_KEYS_SECRET, in the workloads namespace) maps each team name to its key; the gateway's
SecurityPolicy reads it and forwards the team's name to the rest of the request path. Keys are generated here
(256 random bits), shown once on stdout for you to hand over, and written with `kubectl apply` through stdin: they
never touch the config, the templates, the manifests or a file on disk. Uses the kubectl of the current context.

Exit codes: 0 done, 2 usage, config or kubectl error.
"""

from __future__ import annotations

import argparse
import base64
import json
import secrets
import shutil
import subprocess
import sys
from collections.abc import Sequence

from assembly.kit import KIT, resolve_config_path
from core.issues import ConfigError
from core.routing import API_KEYS_SECRET

KEY_PREFIX = "lk_"


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


class KubectlError(RuntimeError):
    pass


def kubectl(args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess:
    binary = shutil.which("kubectl")
    if binary is None:
        raise KubectlError("kubectl is not on PATH; install it and point it at the cluster (aws eks update-kubeconfig --name <cluster>)")
    return subprocess.run([binary, *args], input=stdin, capture_output=True, text=True)


def current_keys(namespace: str) -> dict[str, str]:
    result = kubectl(["get", "secret", API_KEYS_SECRET, "-n", namespace, "-o", "json"])
    if result.returncode != 0:
        if "NotFound" in result.stderr:
            return {}
        raise KubectlError(f"kubectl get secret {API_KEYS_SECRET} failed: {result.stderr.strip()}")
    data = json.loads(result.stdout).get("data") or {}
    return {team: base64.b64decode(value).decode() for team, value in data.items()}


def plan(teams: list[str], existing: dict[str, str], rotate: set[str]) -> tuple[dict[str, str], list[str], list[str]]:
    """(the Secret's new contents, teams given a new key, teams revoked)."""
    keys = {team: existing[team] for team in teams if team in existing and team not in rotate}
    issued = [team for team in teams if team not in keys]
    for team in issued:
        keys[team] = new_key()
    revoked = sorted(set(existing) - set(teams))
    return keys, issued, revoked


def secret_manifest(namespace: str, keys: dict[str, str]) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": API_KEYS_SECRET, "namespace": namespace, "labels": {"app.kubernetes.io/part-of": "llm-serving-kit"}},
        "data": {team: base64.b64encode(key.encode()).decode() for team, key in sorted(keys.items())},
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.team_keys", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sync = sub.add_parser("sync", help="make the Secret hold exactly the config's teams")
    sync.add_argument("--config", help="config file (default: $KIT_CONFIG, else config/default.yaml)")
    sync.add_argument("--rotate", action="append", default=[], metavar="TEAM", help="give TEAM a new key (repeatable)")
    sync.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    args = parser.parse_args(argv)
    try:
        config = KIT.load(resolve_config_path(args.config))
    except ConfigError as err:
        print(err.render(), file=sys.stderr)
        return 2
    teams = [team.name for team in config.gateway.teams]
    unknown = sorted(set(args.rotate) - set(teams))
    if unknown:
        print(f"team_keys: --rotate names no team of gateway.teams: {', '.join(unknown)} (teams: {', '.join(teams) or 'none'})", file=sys.stderr)
        return 2
    namespace = config.storage.workloads_namespace
    try:
        existing = current_keys(namespace)
        keys, issued, revoked = plan(teams, existing, set(args.rotate))
        print(f"team_keys: {len(keys)} teams; new keys for {', '.join(issued) or 'none'}; revoked {', '.join(revoked) or 'none'}")
        if args.dry_run:
            return 0
        applied = kubectl(["apply", "-f", "-"], stdin=json.dumps(secret_manifest(namespace, keys)))
        if applied.returncode != 0:
            raise KubectlError(f"kubectl apply failed: {applied.stderr.strip()}")
    except KubectlError as err:
        print(f"team_keys: {err}", file=sys.stderr)
        return 2
    for team in issued:
        # The only time a key is shown: hand it to the team over a channel you trust.
        print(f"{team}\t{keys[team]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
