"""`./kit synth --resolve-account`: the caller's account from STS (moto) into dist/ and charts/, a config's own account
held to, and a fast, plain refusal without credentials."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml
from moto import mock_aws

from assembly import synth as synth_command
from assembly.account import AccountError, caller_account
from tests.helpers import REPO, write_config

MOTO_ACCOUNT = "123456789012"  # the account moto answers GetCallerIdentity with


@pytest.fixture
def aws(monkeypatch):
    for name in [key for key in os.environ if key.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield


def test_the_callers_account_comes_from_sts(aws):
    assert caller_account("us-west-2") == MOTO_ACCOUNT


@pytest.mark.e2e
def test_synth_writes_the_resolved_account_into_dist_and_charts(aws, tmp_path, capsys):
    out = tmp_path / "out"
    code = synth_command.main(
        [
            "--config",
            str(write_config(tmp_path)),
            "--outdir",
            str(out / "cdk.out"),
            "--dist",
            str(out / "dist"),
            "--charts",
            str(out / "charts"),
            "--resolve-account",
        ]
    )
    assert code == 0, capsys.readouterr().err
    manifest = (out / "dist" / "llama-8b" / "manifest.yaml").read_text()
    assert "{account}" not in manifest and f"s3://llm-kit-models-{MOTO_ACCOUNT}-us-west-2/models/" in manifest
    assert not (out / "dist" / "llama-8b" / "README.md").exists()
    values = yaml.safe_load((out / "charts" / "llama-8b" / "values.yaml").read_text())
    assert values["model"]["uri"].startswith(f"s3://llm-kit-models-{MOTO_ACCOUNT}-us-west-2/") and "accountId" not in values


def test_a_config_account_that_is_not_the_callers_is_refused(aws, tmp_path, capsys):
    config = write_config(tmp_path, {"account": "111122223333"})
    code = synth_command.main(["--config", str(config), "--outdir", str(tmp_path / "out"), "--resolve-account"])
    err = capsys.readouterr().err
    assert code == 2 and f"the credentials are for account {MOTO_ACCOUNT}" in err and "account: 111122223333" in err
    assert not (tmp_path / "out").exists()


def test_without_credentials_it_stops_before_any_call_and_says_how_to_get_them(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        {
            "HOME": str(tmp_path),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": str(tmp_path / "none"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
            # Any request (STS, a metadata endpoint) would go to this dead proxy and fail as a connection error.
            "HTTPS_PROXY": "http://127.0.0.1:9",
            "HTTP_PROXY": "http://127.0.0.1:9",
        }
    )
    result = subprocess.run(
        [sys.executable, "-c", "from assembly.account import caller_account; caller_account('us-west-2')"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "AccountError" in result.stderr and "aws sso login" in result.stderr
    assert "proxy" not in result.stderr and "GetCallerIdentity failed" not in result.stderr  # no request was tried


def test_an_sts_refusal_is_an_account_error(aws, monkeypatch):
    import botocore.client
    from botocore.exceptions import ClientError

    def refuse(self, operation, params):
        raise ClientError(
            {"Error": {"Code": "ExpiredToken", "Message": "The security token included in the request is expired"}}, operation
        )

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", refuse)
    with pytest.raises(AccountError, match="ExpiredToken"):
        caller_account("us-west-2")


def test_an_account_given_outright_needs_no_sts_and_is_held_to_the_config(tmp_path, monkeypatch):
    from assembly.kit import KIT
    from assembly.synth import _account

    monkeypatch.setattr("assembly.synth.caller_account", lambda region: pytest.fail("--account must not ask STS"))
    assert _account(KIT.load(write_config(tmp_path)), "111122223333") == "111122223333"
    with pytest.raises(AccountError, match="not an AWS account id"):
        _account(KIT.load(write_config(tmp_path)), "1111")
    with pytest.raises(AccountError, match="--account gives account 111122223333, but the config sets account: 444455556666"):
        _account(KIT.load(write_config(tmp_path, {"account": "444455556666"}, name="other.yaml")), "111122223333")
