"""Download the files of a CRD bundle and keep them only if each one's SHA-256 is the pinned one.

Runs in the CRD bundle Job's first container (a Python standard-library program, shipped in a ConfigMap beside it):
FILES is a JSON list of {"url", "sha256"}; the files land in OUT as 00.yaml, 01.yaml, ... for kubectl to apply,
and only once every one of them has matched, so a single bad file leaves nothing to apply. A mismatch or a failed
download exits non-zero: the Job retries, then fails, and the cluster stack's wait for the CRDs rolls it back.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import urllib.request
from pathlib import Path

LIMIT = 8 * 1024 * 1024
"""No CRD file comes near this; a response larger than it is refused rather than read whole."""


class RefusedSource(Exception):
    """A CRD file larger than the limit or not the pinned SHA-256: the bundle is not applied."""


def fetch(files: list[dict], out: Path, opener=urllib.request.urlopen) -> list[Path]:
    bodies = []
    for item in files:
        with opener(item["url"], timeout=60) as response:
            body = response.read(LIMIT + 1)
        if len(body) > LIMIT:
            raise RefusedSource(f"{item['url']}: larger than {LIMIT} bytes")
        digest = hashlib.sha256(body).hexdigest()
        if digest != item["sha256"]:
            raise RefusedSource(f"{item['url']}: SHA-256 {digest}, pinned {item['sha256']}")
        bodies.append(body)
    written = []
    for index, body in enumerate(bodies):
        path = out / f"{index:02d}.yaml"
        path.write_bytes(body)
        written.append(path)
    return written


def main() -> int:
    try:
        written = fetch(json.loads(os.environ["FILES"]), Path(os.environ.get("OUT", "/bundle")))
    except RefusedSource as refused:
        print(f"refused: {refused}", file=sys.stderr)
        return 1
    for path in written:
        print(f"verified {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
