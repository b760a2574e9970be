"""The account of the caller's AWS credentials, for `./kit synth --resolve-account`.

A config without `account:` deploys into the account of the credentials that deploy, and CloudFormation fills that
account into the model bucket's name at deploy. dist/ and charts/ are applied without CloudFormation, so they can
carry the bucket's real name only when the synth knows the account: from the config, or from this one call to STS
GetCallerIdentity, made only when asked for (a synth stays offline otherwise).
"""

from __future__ import annotations

import argparse
import os
import sys

from assembly.cli_config import CONFIG_HELP, load_or_report
from assembly.credentials import HOW


class AccountError(Exception):
    pass


def caller_account(region: str) -> str:
    """The caller's account id; AccountError, saying how to get credentials, where there are none or STS refuses."""
    # No credentials must fail within seconds, not after the instance metadata service's retries.
    os.environ.setdefault("AWS_METADATA_SERVICE_TIMEOUT", "1")
    os.environ.setdefault("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "1")
    import boto3.session  # noqa: PLC0415 - only this flag needs it; a plain synth never imports boto3
    from botocore.config import Config  # noqa: PLC0415
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    session = boto3.session.Session(region_name=region)
    try:
        credentials = session.get_credentials()
    except BotoCoreError as err:
        raise AccountError(f"the AWS credentials cannot be read ({err}); {HOW}") from None
    if credentials is None:
        profile = os.environ.get("AWS_PROFILE")
        where = f"profile '{profile}' has none" if profile else "none are configured"
        raise AccountError(f"no AWS credentials ({where}) to learn the account from; {HOW}")
    client = session.client("sts", config=Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 2}))
    try:
        return client.get_caller_identity()["Account"]
    except (BotoCoreError, ClientError) as err:
        raise AccountError(f"STS GetCallerIdentity failed ({err}); {HOW}") from None


def main(argv: list[str] | None = None) -> int:
    """Print aws://ACCOUNT/REGION of a config, for `cdk bootstrap`: the config's account, else the caller's."""
    parser = argparse.ArgumentParser(prog="python -m assembly.account", description=main.__doc__)
    parser.add_argument("--config", help=CONFIG_HELP)
    args = parser.parse_args(argv)
    config = load_or_report(args.config)
    if config is None:
        return 2
    try:
        account = caller_account(config.region)
    except AccountError as err:
        print(f"kit: {err}", file=sys.stderr)
        return 2
    if config.account and config.account != account:
        print(
            f"kit: the credentials are for account {account}, but the config "
            f"sets account: {config.account}; use credentials for that account",
            file=sys.stderr,
        )
        return 2
    print(f"aws://{account}/{config.region}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
