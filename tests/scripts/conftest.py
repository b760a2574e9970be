"""Fixtures for the AWS scripts: a clean AWS environment for moto, a shared botocore loader, and a
Stubber that answers only the calls moto does not implement."""

from __future__ import annotations

import botocore.loaders
import botocore.session
import pytest
from botocore.stub import Stubber
from moto import mock_aws

_AWS_VARS = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "KIT_CONFIG",
    "KUBECONFIG",
)


@pytest.fixture(scope="session", autouse=True)
def _shared_botocore_loader():
    """Every boto3 Session re-parses botocore's JSON models; one loader keeps the suite fast."""
    loaders = {}

    def cached(search_path_string=None):
        if search_path_string not in loaders:
            loaders[search_path_string] = botocore.loaders.create_loader(search_path_string)
        return loaders[search_path_string]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session, "create_loader", cached)
        yield


@pytest.fixture
def clean_aws_env(monkeypatch, tmp_path):
    """Fake static credentials and no profile, config file or endpoint from the machine running the tests."""
    empty = tmp_path / "empty-aws-file"
    empty.write_text("")
    for var in _AWS_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return empty


@pytest.fixture(scope="module")
def moto_module():
    """One moto for a whole test module: starting EC2's backend costs a few tenths of a second, and the
    tests only read its zones and offerings. Tests that create S3 or SSM state remove it themselves."""
    with mock_aws():
        yield


class PartialStubber(Stubber):
    """A Stubber that answers a call only when the next queued response is for that operation; every
    other call goes on to moto. So one client can mix moto (zones, offerings) and stubs (capacity blocks)."""

    def _stubbed(self, model) -> bool:
        return bool(self._queue) and self._queue[0]["operation_name"] == model.name

    def _assert_expected_params(self, model, params, context, **kwargs):
        if self._stubbed(model):
            super()._assert_expected_params(model, params, context, **kwargs)

    def _get_response_handler(self, model, params, context, **kwargs):
        if self._stubbed(model):
            return super()._get_response_handler(model, params, context, **kwargs)
        return None
