"""The synth benchmark times environments that have their bytecode, as ./kit installs them."""

from __future__ import annotations

import os
from pathlib import Path

import aws_cdk

from benchmarks.synth import _has_bytecode, ensure_bytecode


def test_a_module_without_a_current_pyc_is_compiled_once(tmp_path):
    package = tmp_path / "package"
    package.mkdir()
    module = package / "module.py"
    module.write_text("VALUE = 1\n")
    (package / "not_python3.py").write_text("print 'a file some packages ship as test data'\n")
    assert not _has_bytecode(module)
    assert ensure_bytecode([package]) == 1
    assert _has_bytecode(module) and ensure_bytecode([package]) == 0
    # An edit after the compile makes the .pyc stale again, as Python sees it (the source's mtime and size).
    module.write_text("VALUE = 22\n")
    later = module.stat().st_mtime + 10
    os.utime(module, (later, later))
    assert not _has_bytecode(module) and ensure_bytecode([package]) == 1
    assert _has_bytecode(module) and ensure_bytecode([package]) == 0


def test_the_environment_the_tests_run_in_has_aws_cdk_libs_bytecode():
    """./kit installs with uv pip sync --compile-bytecode; without it every run where PYTHONDONTWRITEBYTECODE is set
    compiles aws-cdk-lib's Python again (docs/performance.md)."""
    assert _has_bytecode(Path(aws_cdk.__file__))
