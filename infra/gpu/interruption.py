"""Karpenter's interruption queue: EC2 and Health events reach it so nodes drain before they vanish."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import nag

# (rule id, source, detail-type). The strings must match EventBridge's exactly or the rule never fires.
INTERRUPTION_EVENTS = (
    ("ScheduledChange", "aws.health", "AWS Health Event"),
    ("SpotInterruption", "aws.ec2", "EC2 Spot Instance Interruption Warning"),
    ("Rebalance", "aws.ec2", "EC2 Instance Rebalance Recommendation"),
    ("InstanceStateChange", "aws.ec2", "EC2 Instance State-change Notification"),
    ("CapacityReservationInterruption", "aws.ec2", "EC2 Capacity Reservation Instance Interruption Warning"),
)


class InterruptionQueue(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, queue_name: str) -> None:
        super().__init__(scope, construct_id)
        self.queue = sqs.Queue(
            self,
            "Queue",
            queue_name=queue_name,
            retention_period=cdk.Duration.minutes(5),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        nag.acknowledge(
            self.queue,
            "SQS3",
            "An interruption notice is useless minutes after it is sent (5-minute retention); a dead-letter queue would only hold stale events.",
        )
        # No statement of our own: each rule's SqsQueue target grants events.amazonaws.com SendMessage with
        # aws:SourceArn set to that rule, so no EventBridge rule elsewhere (another account's) can drain our nodes.
        for rule_id, source, detail_type in INTERRUPTION_EVENTS:
            events.Rule(
                self,
                rule_id,
                event_pattern=events.EventPattern(source=[source], detail_type=[detail_type]),
                targets=[targets.SqsQueue(self.queue)],
            )
