"""AWS sessions and error wording shared by the scripts, so every tool explains credentials the same way."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import boto3.session
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    SSOError,
    TokenRetrievalError,
)

RETRIES = Config(retries={"max_attempts": 10, "mode": "standard"})
# For read-only checks: an unreachable endpoint should cost seconds, not the minute ten attempts take.
FEW_RETRIES = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30)

NO_CREDENTIALS = "no AWS credentials found; pass --profile, set AWS_PROFILE, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"

# Codes that mean "these credentials are not valid", as opposed to "not allowed to do this".
_REJECTED_CREDENTIALS = {
    "AuthFailure",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "RequestExpired",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
}
# Codes that mean the account, the credentials or the endpoint cannot answer this API: a check reports it
# instead of failing the run.
_UNAVAILABLE = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnsupportedOperation",
    "OptInRequired",
    "InvalidAction",
    "NotImplemented",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "NoSuchResourceException",
}


class ToolError(Exception):
    """A problem the user can fix; scripts print it on one line and exit 2."""


def new_session(profile: str | None = None, region: str | None = None) -> boto3.session.Session:
    try:
        return boto3.session.Session(profile_name=profile, region_name=region)
    except ProfileNotFound as exc:
        raise ToolError(f"AWS profile {profile!r} not found; pick one from `aws configure list-profiles` for --profile") from exc


def client(session: boto3.session.Session, service: str, region: str | None = None, config: Config = RETRIES) -> Any:
    try:
        return session.client(service, region_name=region or session.region_name, config=config)
    except NoRegionError as exc:
        raise ToolError("no AWS region chosen; pass --region or set AWS_REGION") from exc


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return type(exc).__name__


def explain(exc: BaseException) -> str:
    """'Code: message' of an AWS error, short enough for one table cell."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        message = str(error.get("Message") or "").split("\n")[0]
        return f"{error.get('Code')}: {message}" if message else str(error.get("Code"))
    if isinstance(exc, EndpointConnectionError):
        return f"cannot reach {exc.kwargs.get('endpoint_url')}"
    return str(exc).split("\n")[0] or type(exc).__name__


def credentials_problem(exc: BaseException) -> str | None:
    """The sentence to print when exc says the credentials are missing or rejected, else None."""
    if isinstance(exc, NoCredentialsError):
        return NO_CREDENTIALS
    if isinstance(exc, PartialCredentialsError):
        return f"incomplete AWS credentials ({exc}); set both the access key id and the secret key, or use --profile"
    if isinstance(exc, (SSOError, TokenRetrievalError)):
        return f"the AWS SSO session cannot give credentials ({explain(exc)}); run `aws sso login` for the profile and retry"
    if isinstance(exc, ClientError) and error_code(exc) in _REJECTED_CREDENTIALS:
        return f"AWS rejected the credentials ({explain(exc)}); refresh them (aws sso login, new keys) or pick another --profile"
    return None


def is_unavailable(exc: BaseException) -> bool:
    """True when the API is not allowed or not offered here (permissions, endpoint, opt-in), not a real answer."""
    if isinstance(exc, EndpointConnectionError):
        return True
    return isinstance(exc, ClientError) and (error_code(exc) in _UNAVAILABLE or "NotSupported" in error_code(exc))


@contextlib.contextmanager
def aws_errors(action: str, fix: str) -> Iterator[None]:
    """Turn an AWS error inside the block into a ToolError: '<action> failed (Code: message); <fix>'."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        problem = credentials_problem(exc)
        if problem:
            raise ToolError(problem) from exc
        if isinstance(exc, EndpointConnectionError):
            raise ToolError(f"{action} failed: {explain(exc)}; check network access and the region") from exc
        raise ToolError(f"{action} failed ({explain(exc)}); {fix}") from exc
