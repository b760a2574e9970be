"""cfn-lint on every synthesized template, and byte-identical output for the same config."""

import filecmp

import pytest
from cfnlint.api import lint_all

from tests.helpers import DEFAULT_CONFIG, default_config_data, synth

pytestmark = pytest.mark.e2e  # every test here reads whole synthesized apps

# Raised on resources aws-eks-v2 generates for its kubectl provider (a DependsOn beside a GetAtt); harmless.
KNOWN_UPSTREAM_WARNINGS = {"W3005"}
REGION = default_config_data()["region"]


def test_cfn_lint_reports_no_errors_or_unknown_warnings(default_out, default_templates):
    templates = sorted(default_out.glob("*.template.json"))
    nested = [path for path in templates if path.name.endswith(".nested.template.json")]
    # Every top-level stack and every workload's nested stack.
    assert len(templates) - len(nested) == len(default_templates) >= 2 and len(nested) >= 1
    for path in templates:
        matches = lint_all(path.read_text())
        # A stack deploys to the config's region; resource types missing in other partitions (AMP in China) do not matter.
        errors = [m for m in matches if m.rule.id.startswith("E") and not (m.rule.id == "E3006" and f"'{REGION}'" not in m.message)]
        warnings = [m for m in matches if m.rule.id.startswith("W") and m.rule.id not in KNOWN_UPSTREAM_WARNINGS]
        assert not errors, f"{path.name}: {[str(m) for m in errors]}"
        assert not warnings, f"{path.name}: {[str(m) for m in warnings]}"


def test_two_synths_of_the_same_config_are_byte_identical(default_out, default_templates, tmp_path):
    synth(DEFAULT_CONFIG, tmp_path)
    names = sorted(p.name for p in default_out.glob("*.template.json"))
    assert names == sorted(p.name for p in tmp_path.glob("*.template.json"))
    match, mismatch, errors = filecmp.cmpfiles(default_out, tmp_path, names, shallow=False)
    assert mismatch == [] and errors == [] and match == names
