"""The network stack places every subnet by AZ ID, with all node capacity in the one GPU zone."""

from ipaddress import IPv4Network

import pytest

from tests.helpers import only, resources

pytestmark = pytest.mark.e2e  # every test here reads whole synthesized apps

PRIMARY, SECONDARY = "usw2-az2", "usw2-az1"


def _subnets_by_role(template):
    out = {}
    for name, subnet in resources(template, "AWS::EC2::Subnet").items():
        tags = {tag["Key"]: tag["Value"] for tag in subnet["Properties"]["Tags"]}
        out.setdefault(tags["llm-kit/subnet-role"], []).append(subnet["Properties"])
    return out


def test_every_subnet_is_placed_by_az_id_never_by_name(network_template):
    subnets = resources(network_template, "AWS::EC2::Subnet")
    assert len(subnets) == 5
    for subnet in subnets.values():
        assert "AvailabilityZone" not in subnet["Properties"]
        assert subnet["Properties"]["AvailabilityZoneId"] in (PRIMARY, SECONDARY)


def test_node_subnet_is_large_and_in_the_primary_zone(network_template):
    nodes = _subnets_by_role(network_template)["nodes"]
    assert [subnet["AvailabilityZoneId"] for subnet in nodes] == [PRIMARY]
    assert IPv4Network(nodes[0]["CidrBlock"]).num_addresses == 2**15


def test_control_plane_subnets_span_the_two_zones(network_template):
    control = _subnets_by_role(network_template)["control_plane"]
    assert sorted(subnet["AvailabilityZoneId"] for subnet in control) == sorted([PRIMARY, SECONDARY])
    assert all(IPv4Network(subnet["CidrBlock"]).prefixlen == 28 for subnet in control)


def test_subnets_do_not_overlap_and_stay_inside_the_vpc(network_template):
    vpc = IPv4Network(only(network_template, "AWS::EC2::VPC")["Properties"]["CidrBlock"])
    cidrs = [IPv4Network(s["Properties"]["CidrBlock"]) for s in resources(network_template, "AWS::EC2::Subnet").values()]
    assert all(cidr.subnet_of(vpc) for cidr in cidrs)
    assert not any(a.overlaps(b) for i, a in enumerate(cidrs) for b in cidrs[i + 1 :])


def test_one_nat_gateway_in_the_primary_public_subnet(network_template):
    nat = only(network_template, "AWS::EC2::NatGateway")
    subnet = network_template["Resources"][nat["Properties"]["SubnetId"]["Ref"]]
    assert subnet["Properties"]["AvailabilityZoneId"] == PRIMARY
    assert subnet["Properties"]["MapPublicIpOnLaunch"] is False


def test_node_subnet_routes_to_nat_and_control_plane_subnets_are_isolated(network_template):
    routes = resources(network_template, "AWS::EC2::Route").values()
    nat_routes = [r for r in routes if "NatGatewayId" in r["Properties"]]
    assert len(nat_routes) == 1
    assert "Nodes" in nat_routes[0]["Properties"]["RouteTableId"]["Ref"]
    assert not any(
        "ControlPlane" in r["Properties"]["RouteTableId"]["Ref"] and "Public" not in r["Properties"]["RouteTableId"]["Ref"] for r in routes
    )


def test_endpoints_keep_pulls_off_the_nat(network_template):
    endpoints = resources(network_template, "AWS::EC2::VPCEndpoint").values()
    services = {}
    for endpoint in endpoints:
        name = endpoint["Properties"]["ServiceName"]
        name = name if isinstance(name, str) else "".join(p if isinstance(p, str) else "" for p in name["Fn::Join"][1])
        services[name.split(".", 3)[-1] if name.startswith("com.amazonaws") else name] = endpoint["Properties"]
    gateway = [p for p in services.values() if p.get("VpcEndpointType") == "Gateway"]
    assert len(gateway) == 1 and "s3" in str(gateway[0]["ServiceName"])
    interface = {name for name, p in services.items() if p.get("VpcEndpointType") == "Interface"}
    assert interface == {"ecr.api", "ecr.dkr", "sts", "ec2", "logs"}
    for props in services.values():
        if props.get("VpcEndpointType") == "Interface":
            assert props["PrivateDnsEnabled"] is True
            assert len(props["SubnetIds"]) == 1


def test_endpoint_security_group_allows_only_https_from_the_vpc(network_template):
    group = only(network_template, "AWS::EC2::SecurityGroup")["Properties"]
    assert [(r["IpProtocol"], r["FromPort"], r["ToPort"], r["CidrIp"]) for r in group["SecurityGroupIngress"]] == [
        ("tcp", 443, 443, "10.0.0.0/16")
    ]


def test_flow_logs_go_to_a_retained_log_group(network_template):
    flow = only(network_template, "AWS::EC2::FlowLog")["Properties"]
    assert flow["TrafficType"] == "ALL" and flow["ResourceType"] == "VPC"
    group = next(iter(resources(network_template, "AWS::Logs::LogGroup").values()))
    assert group["Properties"]["RetentionInDays"] == 90
    assert group["DeletionPolicy"] == "Retain"
