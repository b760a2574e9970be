"""The CRD bundle Job: its files are applied only when each matches its pinned SHA-256, from a namespace of its own."""

import hashlib
import json
from dataclasses import replace

import pytest

from blueprints.common.routing import INFERENCE_POOL_CRDS
from core.images import IMAGES
from core.versions import INFERENCE_EXTENSION
from infra.cluster import crd_fetch
from infra.cluster.crd_bundles import NAMESPACE, bundle_objects
from infra.cluster.platform_policies import PlatformNetwork


def _files(tmp_path, contents: list[bytes], digests: list[str] | None = None) -> list[dict]:
    files = []
    for index, body in enumerate(contents):
        path = tmp_path / f"source-{index}.yaml"
        path.write_bytes(body)
        files.append({"url": path.as_uri(), "sha256": (digests or [hashlib.sha256(b).hexdigest() for b in contents])[index]})
    return files


def test_files_that_match_their_digests_are_left_for_kubectl_in_order(tmp_path):
    out = tmp_path / "bundle"
    out.mkdir()
    written = crd_fetch.fetch(_files(tmp_path, [b"kind: A\n", b"kind: B\n"]), out)
    assert [p.name for p in written] == ["00.yaml", "01.yaml"]
    assert [p.read_bytes() for p in written] == [b"kind: A\n", b"kind: B\n"]


def test_one_file_that_differs_leaves_nothing_to_apply(tmp_path):
    out = tmp_path / "bundle"
    out.mkdir()
    files = _files(
        tmp_path,
        [b"kind: A\n", b"kind: B, changed\n"],
        digests=[hashlib.sha256(b"kind: A\n").hexdigest(), hashlib.sha256(b"kind: B\n").hexdigest()],
    )
    with pytest.raises(crd_fetch.RefusedSource, match="source-1.yaml: SHA-256"):
        crd_fetch.fetch(files, out)
    assert list(out.iterdir()) == []


def test_the_program_exits_non_zero_on_a_mismatch(tmp_path, monkeypatch, capsys):
    out = tmp_path / "bundle"
    out.mkdir()
    monkeypatch.setenv("FILES", json.dumps(_files(tmp_path, [b"kind: A\n"], digests=["0" * 64])))
    monkeypatch.setenv("OUT", str(out))
    assert crd_fetch.main() == 1
    assert "refused" in capsys.readouterr().err


def test_an_oversized_response_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(crd_fetch, "LIMIT", 4)
    with pytest.raises(crd_fetch.RefusedSource, match="larger than"):
        crd_fetch.fetch(_files(tmp_path, [b"kind: A\n"]), tmp_path)


def test_the_inference_pool_crds_are_pinned_files_of_the_release_tag():
    assert len(INFERENCE_POOL_CRDS.files) == len(INFERENCE_POOL_CRDS.crds) == 2
    for file in INFERENCE_POOL_CRDS.files:
        assert file.url.startswith(
            f"https://raw.githubusercontent.com/kubernetes-sigs/gateway-api-inference-extension/{INFERENCE_EXTENSION}/"
        )
        assert len(file.sha256) == 64 and int(file.sha256, 16) >= 0


@pytest.fixture(scope="module")
def job_objects():
    network = PlatformNetwork(api_server=("172.20.0.1/32", "10.0.130.0/28"), control_plane=("10.0.130.0/28",), vpc_cidr="10.0.0.0/16")
    return bundle_objects(INFERENCE_POOL_CRDS, network)


def test_the_job_runs_in_its_own_namespace_without_root_or_capabilities(job_objects):
    assert {o["metadata"].get("namespace") for o in job_objects if o["kind"] not in ("ClusterRole", "ClusterRoleBinding")} == {NAMESPACE}
    [job] = [o for o in job_objects if o["kind"] == "Job"]
    pod = job["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    containers = pod["initContainers"] + pod["containers"]
    assert [c["name"] for c in containers] == ["fetch", "apply"]
    for container, image in zip(containers, ("python", "kubectl"), strict=True):
        user = IMAGES[image].run_as
        assert user != 0 and container["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": True,
            "runAsUser": user,
            "runAsGroup": user,
        }
    fetch, apply = containers
    files = json.loads(next(e["value"] for e in fetch["env"] if e["name"] == "FILES"))
    assert files == [{"url": f.url, "sha256": f.sha256} for f in INFERENCE_POOL_CRDS.files]
    # kubectl applies the verified files only, read-only.
    assert apply["args"] == ["apply", "--server-side", "--force-conflicts", "-f", "/bundle"]
    assert {"name": "bundle", "mountPath": "/bundle", "readOnly": True} in apply["volumeMounts"]
    [config] = [o for o in job_objects if o["kind"] == "ConfigMap"]
    assert config["data"]["crd_fetch.py"].startswith('"""Download the files of a CRD bundle')


def test_the_jobs_pods_may_fetch_over_https_out_of_the_vpc_and_nothing_more(job_objects):
    [policy] = [o for o in job_objects if o["kind"] == "NetworkPolicy"]
    assert policy["spec"]["podSelector"] == {
        "matchLabels": {"app.kubernetes.io/name": "crd-bundle-inference-extension", "app.kubernetes.io/part-of": "llm-serving-kit"}
    }
    assert policy["spec"]["policyTypes"] == ["Egress"]
    assert policy["spec"]["egress"] == [
        {
            "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/16", "172.20.0.0/16"]}}],
            "ports": [{"protocol": "TCP", "port": 443}],
        }
    ]
    assert [o for o in bundle_objects(INFERENCE_POOL_CRDS) if o["kind"] == "NetworkPolicy"] == []


def _named(objects: list[dict]) -> dict[str, str]:
    return {obj["kind"]: obj["metadata"]["name"] for obj in objects}


def test_a_changed_job_is_a_new_job_and_an_unchanged_one_keeps_its_name():
    """A Job's pod template is immutable: kubectl apply of a changed one is refused, so a change gets a new name (the
    manifest's prune removes the old Job) and everything else keeps its own."""
    names = _named(bundle_objects(INFERENCE_POOL_CRDS))
    assert names == _named(bundle_objects(INFERENCE_POOL_CRDS))
    assert names["Job"].startswith("crd-bundle-inference-extension-") and names["ConfigMap"] == "crd-bundle-inference-extension"
    [first, *rest] = INFERENCE_POOL_CRDS.files
    bumped = replace(INFERENCE_POOL_CRDS, files=(replace(first, sha256="0" * 64), *rest))
    changed = _named(bundle_objects(bumped))
    assert changed["Job"] != names["Job"] and {k: v for k, v in changed.items() if k != "Job"} == {
        k: v for k, v in names.items() if k != "Job"
    }


def test_the_job_is_named_after_its_images_as_the_cluster_pulls_them_and_not_after_token_numbers():
    """The cluster's image rewrite (a pull-through cache turned on) changes the template, so the name; the number in a
    CDK token's string form changes with unrelated constructs, so it does not."""

    def cached(account: str):
        def rewrite(items: list[dict]) -> list[dict]:
            text = json.dumps(items).replace('"image": "', f'"image": "{account}.dkr.ecr.us-west-2.amazonaws.com/kit/')
            return json.loads(text)

        return rewrite

    plain = _named(bundle_objects(INFERENCE_POOL_CRDS))["Job"]
    through_cache = _named(bundle_objects(INFERENCE_POOL_CRDS, images=cached("${Token[AWS.AccountId.8]}")))["Job"]
    assert through_cache != plain
    assert _named(bundle_objects(INFERENCE_POOL_CRDS, images=cached("${Token[AWS.AccountId.12]}")))["Job"] == through_cache
