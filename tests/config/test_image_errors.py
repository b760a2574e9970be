"""images: settings ECR would refuse at deploy are refused at synth, with the key, the value and the fix."""

from tests.helpers import assert_rejected


def test_a_cache_secret_in_another_region_is_refused(tmp_path):
    arn = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:ecr-pullthroughcache/docker-hub-AbCdEf"
    assert_rejected(
        tmp_path,
        {"images": {"pull_through_cache": {"docker_hub_secret": arn}}},
        [
            "images.pull_through_cache.docker_hub_secret",
            "region eu-west-1",
            "only from the registry's own account and region",
            "a secret in the deploying account in us-west-2",
        ],
    )


def test_a_secret_whose_name_ecr_would_not_read_is_refused(tmp_path):
    # ECR reads cache credentials only from secrets named ecr-pullthroughcache/...
    assert_rejected(
        tmp_path,
        {"images": {"pull_through_cache": {"github_secret": "github-token"}}},
        ["images.pull_through_cache.github_secret", "github-token"],
    )


def test_a_secret_in_another_account_is_refused_where_the_config_names_the_account(tmp_path):
    arn = "arn:aws:secretsmanager:us-west-2:999999999999:secret:ecr-pullthroughcache/ngc"
    assert_rejected(
        tmp_path,
        {"account": "111122223333", "images": {"pull_through_cache": {"ngc_secret": arn}}},
        ["images.pull_through_cache.ngc_secret", "account 999999999999"],
    )
