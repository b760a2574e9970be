"""Network-interface layouts that put an EFA device on every EFA-capable network card."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2

from core.instances import InstanceFacts


def karpenter_interfaces(instance: InstanceFacts) -> list[dict]:
    """EC2NodeClass networkInterfaces: the primary 'interface' on card 0, then one 'efa-only' per EFA card.

    Karpenter's schema requires card 0/device 0 to be a plain interface, so card 0's EFA (where the
    type has one) is a second, efa-only device on that card; every other EFA card gets its efa-only
    interface at device 0 (AWS's layout for accelerated instances). efa-only interfaces take no VPC IP.
    """
    interfaces = [{"networkCardIndex": 0, "deviceIndex": 0, "interfaceType": "interface"}]
    for card in instance.efa_cards():
        interfaces.append({"networkCardIndex": card, "deviceIndex": 1 if card == 0 else 0, "interfaceType": "efa-only"})
    return interfaces


def launch_template_interfaces(
    instance: InstanceFacts, security_group_ids: list[str]
) -> list[ec2.CfnLaunchTemplate.NetworkInterfaceProperty]:
    """Launch-template NetworkInterfaces for a managed node group: the card 0 primary is EFA with ENA where the
    card supports EFA, every other EFA card gets one efa-only interface. No SubnetId: the node group owns subnets."""
    primary_type = "efa" if instance.efa_on_card_zero else "interface"
    interfaces = [_interface(0, 0, primary_type, security_group_ids)]
    for card in instance.efa_cards():
        if card != 0:
            interfaces.append(_interface(card, 0, "efa-only", security_group_ids))
    return interfaces


def _interface(card: int, device: int, kind: str, security_group_ids: list[str]) -> ec2.CfnLaunchTemplate.NetworkInterfaceProperty:
    return ec2.CfnLaunchTemplate.NetworkInterfaceProperty(
        network_card_index=card,
        device_index=device,
        interface_type=kind,
        groups=security_group_ids,
        delete_on_termination=True,
    )
