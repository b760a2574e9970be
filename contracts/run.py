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


def main() -> int:
    started = time.monotonic()
    environments = [(environment, ensure(environment)) for environment in ENVIRONMENTS]
    promtool = ensure_promtool()
    ready = time.monotonic()
    totals = {"passed": 0, "failed": 0}
    with tempfile.TemporaryDirectory(prefix="kit-contracts-") as scratch:
        emitted = Path(scratch) / "emitted.json"
        entries = collect()
        emitted.write_text(json.dumps(entries))
        print("contracts: " + ", ".join(f"{len(items)} {kind}" for kind, items in entries.items()), file=sys.stderr)
        env = {**os.environ, "KIT_CONTRACTS_EMITTED": str(emitted), "KIT_PROMTOOL": str(promtool), "PYTHONDONTWRITEBYTECODE": "1"}
        for environment, python in environments:
            modules = [str(CHECKS / f"{module}.py") for module in environment.checks]
            print(f"contracts: {environment.name} environment: {', '.join(environment.checks)}", file=sys.stderr, flush=True)
            result = subprocess.run(
                [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning", *modules],
                cwd=REPO,
                env=env,
                capture_output=True,
                text=True,
            )
            tail = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
            counts = {kind: int(number) for number, kind in SUMMARY.findall(tail)}
            totals["passed"] += counts.get("passed", 0)
            totals["failed"] += counts.get("failed", 0) + counts.get("error", 0)
            if result.returncode != 0:
                print(result.stdout[-20000:], result.stderr[-4000:], sep="\n", file=sys.stderr)
                totals["failed"] += 0 if counts else 1
    elapsed = time.monotonic() - started
    print(f"contracts: environments ready in {ready - started:.0f}s, checks in {elapsed - (ready - started):.0f}s", file=sys.stderr)
    print(f"contracts: {totals['passed']} passed, {totals['failed']} failed")
    return 1 if totals["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
