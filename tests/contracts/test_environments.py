"""The contract environments install with uv from their locks, with pip's own indexes, and say how far they are."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts import environments
from contracts.environments import TORCH_CPU_INDEX, Environment, ensure, index_options


@pytest.fixture
def locks(tmp_path, monkeypatch):
    folder = tmp_path / "locks"
    folder.mkdir()
    monkeypatch.setattr(environments, "LOCKS", folder)
    monkeypatch.setenv(environments.CACHE_ENV, str(tmp_path / "cache"))
    return folder


def test_pips_own_indexes_and_find_links_go_to_uv(locks, monkeypatch):
    lock = locks / "x.txt"
    lock.write_text("torch==2.13.0+cpu\n")
    monkeypatch.setenv("PIP_FIND_LINKS", "/opt/wheels /srv/more")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "https://mirror.example/simple")
    monkeypatch.setenv("PIP_INDEX_URL", "https://pypi.example/simple")
    options = index_options(lock)
    assert options == [
        "--index-url", "https://pypi.example/simple",
        "--extra-index-url", "https://mirror.example/simple",
        "--find-links", "/opt/wheels", "--find-links", "/srv/more",
        "--index-strategy", "unsafe-best-match",
    ]  # fmt: skip


def test_a_cpu_torch_comes_from_pytorchs_index_where_pip_names_none(locks, monkeypatch):
    monkeypatch.setattr(environments, "_pip_setting", lambda key: [])
    torch, plain = locks / "torch.txt", locks / "plain.txt"
    torch.write_text("# a lock\ntorch==2.13.0+cpu\nsix==1.17.0\n")
    plain.write_text("six==1.17.0\n")
    assert index_options(torch) == ["--extra-index-url", TORCH_CPU_INDEX, "--index-strategy", "unsafe-best-match"]
    assert index_options(plain) == []


def test_an_environment_installs_with_uv_and_says_how_far_it_is(locks, monkeypatch, capsys):
    # inference-perf 0.6.1 asks for Python 3.12 and imports on 3.11: uv installs it as for 3.12, the rest as they are.
    (locks / "tiny.txt").write_text("# two small packages\nsix==1.17.0\ninference-perf==0.6.1\n")
    monkeypatch.setattr(environments, "PROGRESS_SECONDS", 0.05)
    environment = Environment("tiny", checks=(), newer_python=("inference-perf",))
    python = ensure(environment)
    assert python == environment.python and python.exists()
    site = next(Path(environment.path()).glob("lib/python*/site-packages"))
    installed = {p.name.split("-")[0] for p in site.glob("*.dist-info")}
    # The lock's packages, beside the pip and setuptools the interpreter's venv seeds (as a pip-made environment had).
    assert installed == {"six", "inference_perf", "pip", "setuptools"}
    err = capsys.readouterr().err
    assert "installing the tiny environment (2 packages, with uv)" in err and "tiny environment ready in" in err
    assert (environment.path() / ".complete").read_text() == environment.digest()
    # A second run finds it ready and says nothing.
    assert ensure(environment) == python and capsys.readouterr().err == ""


def test_a_failed_install_names_the_lock_and_leaves_nothing_half_made(locks, capsys):
    (locks / "broken.txt").write_text("no-such-package-for-the-kit==0.0.1\n")
    environment = Environment("broken", checks=())
    with pytest.raises(SystemExit, match="installing the broken environment failed"):
        ensure(environment)
    assert not environment.path().exists()
    assert not [p for p in environment.path().parent.iterdir() if p.name.startswith(".broken-") and p.is_dir()]
