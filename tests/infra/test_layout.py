from ipaddress import IPv4Network

import pytest

from core.subnet_plan import LayoutError, plan_subnets


@pytest.mark.parametrize(("vpc", "prefix"), [("10.0.0.0/16", 17), ("10.0.0.0/16", 24), ("172.16.0.0/20", 21), ("10.8.0.0/22", 24)])
def test_plan_fits_the_vpc_without_overlap(vpc, prefix):
    vpc_net = IPv4Network(vpc)
    plans = plan_subnets(vpc_net, prefix)
    cidrs = [plan.cidr for plan in plans]
    assert all(cidr.subnet_of(vpc_net) for cidr in cidrs)
    assert not any(a.overlaps(b) for i, a in enumerate(cidrs) for b in cidrs[i + 1 :])
    nodes = next(plan for plan in plans if plan.role == "nodes")
    assert nodes.cidr.prefixlen == prefix and nodes.zone == "primary"
    assert {plan.zone for plan in plans if plan.role == "control_plane"} == {"primary", "control_plane"}


@pytest.mark.parametrize(("vpc", "prefix"), [("10.0.0.0/16", 16), ("10.0.0.0/22", 23), ("10.0.0.0/24", 25)])
def test_plan_rejects_a_node_subnet_that_leaves_no_room(vpc, prefix):
    with pytest.raises(LayoutError):
        plan_subnets(IPv4Network(vpc), prefix)
