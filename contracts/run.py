"""Run the contract checks: collect what the kit emits, then let each program judge it in its own environment.

    python -m contracts.run            (./kit contracts; ./kit test runs it after the unit tests)

Exit 0 when every program accepted everything; the last line counts the checks.
"""

from __future__ import annotations

import os

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import json  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from contracts.collect import collect  # noqa: E402
from contracts.environments import ENVIRONMENTS, ensure, ensure_promtool  # noqa: E402

CHECKS = Path(__file__).resolve().parent / "checks"
REPO = CHECKS.parents[1]
SUMMARY = re.compile(r"(\d+) (passed|failed|error)")
# The kit's own pytest options (pyproject.toml addopts: xdist's -n) are not for these environments, which lack xdist.
PYTEST_OPTIONS = ("-o", "addopts=", "-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning")
# pytest's progress line for a check module: "contracts/checks/test_x.py ....F..   [ 40%]"
PROGRESS = re.compile(r"^(\S+\.py) [.FEsxX]+\s+\[\s*(\d+)%\]$")


def main() -> int:
    started = time.monotonic()
    environments = []
    for index, environment in enumerate(ENVIRONMENTS, 1):
        _say(f"environment {index}/{len(ENVIRONMENTS)}: {environment.name}")
        environments.append((environment, ensure(environment)))
    promtool = ensure_promtool()
    ready = time.monotonic()
    totals = {"passed": 0, "failed": 0}
    with tempfile.TemporaryDirectory(prefix="kit-contracts-") as scratch:
        emitted = Path(scratch) / "emitted.json"
        _say("collecting what the kit writes from every shipped config")
        entries = collect()
        emitted.write_text(json.dumps(entries))
        print("contracts: " + ", ".join(f"{len(items)} {kind}" for kind, items in entries.items()), file=sys.stderr)
        env = {**os.environ, "KIT_CONTRACTS_EMITTED": str(emitted), "KIT_PROMTOOL": str(promtool), "PYTHONDONTWRITEBYTECODE": "1"}
        for index, (environment, python) in enumerate(environments, 1):
            modules = [str(CHECKS / f"{module}.py") for module in environment.checks]
            _say(f"checks {index}/{len(environments)}, in the {environment.name} environment: {', '.join(environment.checks)}")
            returncode, stdout, stderr = _run_checks([str(python), "-m", "pytest", *PYTEST_OPTIONS, *modules], env, started)
            tail = stdout.strip().splitlines()[-1] if stdout.strip() else ""
            counts = {kind: int(number) for number, kind in SUMMARY.findall(tail)}
            totals["passed"] += counts.get("passed", 0)
            totals["failed"] += counts.get("failed", 0) + counts.get("error", 0)
            if returncode != 0:
                print(stdout[-20000:], stderr[-4000:], sep="\n", file=sys.stderr)
                totals["failed"] += 0 if counts else 1
    elapsed = time.monotonic() - started
    print(f"contracts: environments ready in {ready - started:.0f}s, checks in {elapsed - (ready - started):.0f}s", file=sys.stderr)
    print(f"contracts: {totals['passed']} passed, {totals['failed']} failed")
    return 1 if totals["failed"] else 0


def _say(message: str) -> None:
    print(f"contracts: {message}", file=sys.stderr, flush=True)


def _run_checks(command: list[str], env: dict, started: float) -> tuple[int, str, str]:
    """pytest in an environment, saying as each check module finishes how far the environment's checks are."""
    # stderr joins stdout: two pipes read one after the other could fill and stall the checks.
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
        found = PROGRESS.match(line.strip())
        if found:
            _say(
                f"  {Path(found.group(1)).name} done ({found.group(2)}% of this environment's checks, {time.monotonic() - started:.0f}s in)"
            )
    return process.wait(), "".join(lines), ""


if __name__ == "__main__":
    sys.exit(main())
