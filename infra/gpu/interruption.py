"""Karpenter's interruption queue: EC2 and Health events reach it so nodes drain before they vanish."""

from __future__ import annotations

import re
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import nag
from infra.interfaces import rule_target_interface

# (rule id, source, detail-type). The strings must match EventBridge's exactly or the rule never fires.
INTERRUPTION_EVENTS = (
    ("ScheduledChange", "aws.health", "AWS Health Event"),
    ("SpotInterruption", "aws.ec2", "EC2 Spot Instance Interruption Warning"),
    ("Rebalance", "aws.ec2", "EC2 Instance Rebalance Recommendation"),
    ("InstanceStateChange", "aws.ec2", "EC2 Instance State-change Notification"),
    ("CapacityReservationInterruption", "aws.ec2", "EC2 Capacity Reservation Instance Interruption Warning"),
)


QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
"""An SQS standard queue's name (CreateQueue: up to 80 letters, digits, hyphens and underscores)."""


@dataclass(frozen=True, kw_only=True)
class InterruptionQueueProps:
    """The queue Karpenter reads interruption notices from."""

    queue_name: str
    """The SQS queue's name; Karpenter's settings.interruptionQueue names it."""

    def __post_init__(self) -> None:
        if not cdk.Token.is_unresolved(self.queue_name) and not QUEUE_NAME.match(self.queue_name):
            raise ValueError(
                f"InterruptionQueueProps.queue_name: got {self.queue_name!r} ({len(self.queue_name)} characters); up to 80"
                " letters, digits, - and _; shorten the cluster name it is built from"
            )


class InterruptionQueue(Construct):
    """An SQS queue and the EventBridge rules that feed it every interruption Karpenter acts on."""

    def __init__(self, scope: Construct, construct_id: str, props: InterruptionQueueProps) -> None:
        super().__init__(scope, construct_id)
        self.queue = sqs.Queue(
            self,
            "Queue",
            queue_name=props.queue_name,
            retention_period=cdk.Duration.minutes(5),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        nag.acknowledge(
            self.queue,
            "SQS3",
            "An interruption notice is useless minutes after it is sent (5-minute retention);"
            " a dead-letter queue would only hold stale events.",
        )
        # No statement of our own: each rule's SqsQueue target grants events.amazonaws.com SendMessage with
        # aws:SourceArn set to that rule, so no EventBridge rule elsewhere (another account's) can drain our nodes.
        for rule_id, source, detail_type in INTERRUPTION_EVENTS:
            events.Rule(
                self,
                rule_id,
                event_pattern=events.EventPattern(source=[source], detail_type=[detail_type]),
                targets=[rule_target_interface(targets.SqsQueue(self.queue))],
            )
