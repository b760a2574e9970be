"""Fail fast, and say how to fix it, when no AWS credentials are at hand: python -m assembly.credentials

The CDK CLI would spend tens of seconds before saying so. This asks botocore's credential chain (environment,
profile, SSO cache, container and instance metadata with a short timeout) and makes no network call to AWS.
"""

from __future__ import annotations

import os
import sys

HOW = (
    "get credentials first: `aws sso login --profile NAME` then `export AWS_PROFILE=NAME`, or `aws configure`, "
    "or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (docs/deploy.md lists the permissions the deploy needs)"
)


def main() -> int:
    # botocore here, not above: the synth imports HOW from this module, and botocore costs it a tenth of a second.
    import botocore.session  # noqa: PLC0415
    from botocore.exceptions import BotoCoreError  # noqa: PLC0415

    os.environ.setdefault("AWS_METADATA_SERVICE_TIMEOUT", "1")
    os.environ.setdefault("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "1")
    session = botocore.session.Session()
    try:
        credentials = session.get_credentials()
    except BotoCoreError as err:
        print(f"kit: the AWS credentials cannot be read ({err}); {HOW}", file=sys.stderr)
        return 2
    if credentials is None:
        profile = os.environ.get("AWS_PROFILE")
        where = f"profile '{profile}' has none" if profile else "none are configured"
        print(f"kit: no AWS credentials ({where}); {HOW}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
