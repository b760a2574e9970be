"""The example GitHub Actions workflow keeps the properties docs/ci.md promises."""

import pytest
import yaml

from tests.helpers import REPO

WORKFLOW = REPO / "docs" / "examples" / "github-actions-deploy.yml"


@pytest.fixture(scope="module")
def workflow():
    return yaml.safe_load(WORKFLOW.read_text())


def triggers(workflow):
    return workflow.get("on", workflow.get(True))  # YAML 1.1 reads the bare key `on` as true


def steps(job):
    return [step.get("run", "") + " " + step.get("uses", "") for step in job["steps"]]


def index_of(job, needle):
    matches = [i for i, text in enumerate(steps(job)) if needle in text]
    assert matches, f"no step runs {needle!r}"
    return matches[0]


def assuming_jobs(workflow):
    return {name: job for name, job in workflow["jobs"].items() if any("configure-aws-credentials" in text for text in steps(job))}


def test_it_is_an_example_our_own_ci_does_not_run():
    assert not (REPO / ".github" / "workflows" / WORKFLOW.name).exists()


def test_runs_on_pull_requests_and_main(workflow):
    on = triggers(workflow)
    assert "pull_request" in on
    assert on["push"]["branches"] == ["main"]


def test_only_jobs_that_assume_a_role_get_an_oidc_token(workflow):
    assert workflow["permissions"] == {"contents": "read"}
    jobs = assuming_jobs(workflow)
    assert set(jobs) == {"diff", "deploy-production"}
    for name, job in jobs.items():
        assert job["permissions"]["id-token"] == "write", name
        [credentials] = [step for step in job["steps"] if "configure-aws-credentials" in step.get("uses", "")]
        assert credentials["with"]["role-to-assume"].startswith("${{ vars."), name
        assert "aws-access-key-id" not in credentials["with"], "OIDC only: no long-lived keys"


def test_toolchain_versions(workflow):
    for name, job in workflow["jobs"].items():
        uses = {step["uses"].split("@")[0]: step.get("with", {}) for step in job["steps"] if "uses" in step}
        assert uses["actions/setup-python"]["python-version"] == "3.11", name
        assert uses["actions/setup-node"]["node-version"] == "22", name


def test_pull_requests_are_tested_and_diffed(workflow):
    test, diff = workflow["jobs"]["test"], workflow["jobs"]["diff"]
    assert index_of(test, "./kit test") < index_of(test, "./kit synth")
    assert diff["if"].startswith("github.event_name == 'pull_request'")
    assert diff["needs"] == "test"
    assert "npx cdk diff --all --no-change-set" in steps(diff)[index_of(diff, "cdk diff")]
    assert diff["env"]["KIT_CONFIG"] == "config/production.yaml"


def test_deploy_waits_for_the_environment_and_runs_preflight_first(workflow):
    deploy = workflow["jobs"]["deploy-production"]
    assert deploy["environment"] == "production"
    assert "refs/heads/main" in deploy["if"] and "pull_request" in deploy["if"]
    assert deploy["needs"] == "test"
    assert deploy["env"]["KIT_CONFIG"] == "config/production.yaml"
    assert deploy["concurrency"] == {"group": "deploy-production", "cancel-in-progress": False}
    preflight = index_of(deploy, "scripts.preflight")
    assert '--config "$KIT_CONFIG"' in steps(deploy)[preflight]
    assert index_of(deploy, "configure-aws-credentials") < preflight < index_of(deploy, "./kit deploy")
    assert "--require-approval never" in steps(deploy)[index_of(deploy, "./kit deploy")]
