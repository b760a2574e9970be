"""The kit's main job: validate the config, synthesize every stack offline, print a summary.

Synth goes to a scratch folder first and replaces cdk.out/ only on success, so a bad
config or an unacknowledged cdk-nag finding never leaves partial output behind.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from infra.app import build_app  # noqa: E402
from infra.config import ConfigError, KitConfig, load_config, resolve_config_path  # noqa: E402
from infra.summary import render_summary  # noqa: E402


class NagFailure(Exception):
    pass


def synthesize(config: KitConfig, outdir: Path) -> None:
    """Synthesize into outdir, replacing it atomically; raise NagFailure with the findings on failure."""
    outdir = outdir.resolve()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".synth-", dir=outdir.parent))
    try:
        try:
            build_app(config, outdir=str(scratch)).synth()
        except RuntimeError as err:
            if "ValidationFailed" in str(err):
                raise NagFailure(_nag_findings(scratch / "validation-report.json")) from None
            raise
        if outdir.exists():
            shutil.rmtree(outdir)
        scratch.rename(outdir)
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)


def _nag_findings(report: Path) -> str:
    lines = []
    for plugin in json.loads(report.read_text()).get("pluginReports", []):
        for violation in plugin.get("violations", []):
            for construct in violation["violatingConstructs"]:
                lines.append(f"  - {violation['ruleName']}: {construct['constructPath']}\n      {violation['description']}")
    return "cdk-nag found unacknowledged findings; nothing was written to cdk.out:\n" + "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="config file (default: $KIT_CONFIG, else config/default.yaml)")
    parser.add_argument("--outdir", default="cdk.out", help="where the cloud assembly goes (default: cdk.out)")
    args = parser.parse_args(argv)
    path = resolve_config_path(args.config)
    started = time.perf_counter()
    try:
        config = load_config(path)
        synthesize(config, Path(args.outdir))
    except ConfigError as err:
        print(err.render(), file=sys.stderr)
        return 2
    except NagFailure as err:
        print(err, file=sys.stderr)
        return 1
    print(render_summary(config, path, Path(args.outdir), time.perf_counter() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
