"""Every problem of a file in one pass: malformed values and the cross-field checks together, and zone advice that
belongs to the config's own region."""

from __future__ import annotations

from tests.helpers import assert_rejected


def test_a_team_whose_name_and_model_are_both_wrong_gets_both_problems_at_once(tmp_path):
    rendered = assert_rejected(
        tmp_path,
        {"gateway": {"allow_plaintext": True, "teams": [{"name": "Search_Team", "models": ["nope"]}]}},
        [
            "gateway.teams[0].name",
            "got: 'Search_Team'",
            "gateway.teams[0].models",
            "'nope' is not served through the gateway",
            "2 config problems",
        ],
    )
    # The stand-in for the malformed name is never reported as if the file had it.
    assert "inference" not in rendered.split("gateway.teams[0].models")[1]


def test_a_stand_in_does_not_raise_problems_of_its_own(tmp_path):
    # Two malformed team names stand in as the same example; that is no duplicate the file has.
    rendered = assert_rejected(
        tmp_path,
        {"gateway": {"allow_plaintext": True, "teams": [{"name": "A_", "models": ["nope"]}, {"name": "B_", "models": ["nope"]}]}},
        ["gateway.teams[0].name", "gateway.teams[1].name", "gateway.teams[0].models", "gateway.teams[1].models", "4 config problems"],
    )
    assert "used more than once" not in rendered


def test_an_unknown_key_beside_a_cross_field_problem_gives_both(tmp_path):
    assert_rejected(
        tmp_path,
        {"tags": {"project": "x"}, "karpenter": {"replicaz": 2}, "placement": {"az_id": "usw2-az9"}},
        ["karpenter.replicaz", "unknown key 'replicaz'", "placement.az_id", "us-west-2 has no AZ ID usw2-az9", "2 config problems"],
    )


def test_an_az_name_in_another_region_is_answered_with_that_regions_zones(tmp_path):
    rendered = assert_rejected(
        tmp_path,
        {"region": "us-east-2", "placement": {"az_id": "us-east-2b", "control_plane_az_id": "use2-az1"}},
        [
            "us-east-2b is an AZ name",
            "in us-east-2 they read use2-az1, use2-az2",
            "allowed: an AZ ID of the config's region: use2-az1, use2-az2, use2-az3",
        ],
    )
    assert "usw2" not in rendered


def test_a_malformed_az_id_is_answered_with_an_example_of_the_configs_region(tmp_path):
    rendered = assert_rejected(
        tmp_path,
        {"region": "us-east-2", "placement": {"az_id": "use2-az1", "control_plane_az_id": "use2az2"}},
        ["placement.control_plane_az_id", "fix: use a value like 'use2-az1'"],
    )
    assert "usw2" not in rendered
