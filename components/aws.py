"""AwsQueue: SQS with a dead-letter queue, least-privilege IAM and a Lambda consumer.

The constructor validates, then runs its steps: `_queues` (the queue, its dead-letter queue and
the redrive between them), `_access` (queue policies, and the producers' and operators' managed
policies), `_consumer` (log group, role, code, dependency layer, function and SQS trigger),
`_alarms` (CloudWatch alarms on the dead-letter queue, and the SNS topic that e-mails them) and
`_outputs`.
"""

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Mapping, Optional

import pulumi
import pulumi_aws as aws

from . import artifact, program
from .spec import LAMBDA_ARCHITECTURE, CloudQueueArgs, QueueSpec, validate

LAMBDA_HANDLER = "cloudqueue_runtime.aws.handler"
# Finite retention keeps log cost bounded; 30 days covers a monthly incident review.
LOG_RETENTION_DAYS = 30
# KMS data keys are reused for 5 minutes (SQS's default), trading a little key freshness for
# far fewer KMS calls.
KMS_DATA_KEY_REUSE_SECONDS = 300

CONSUMER_ACTIONS = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
PRODUCER_ACTIONS = ["sqs:SendMessage", "sqs:GetQueueUrl", "sqs:GetQueueAttributes"]
# What `cloudqueue send` and `cloudqueue dlq` call (components/tools/ops/aws.py): send on the queue
# (a message, or a redriven copy); on the dead-letter queue receive, hide and show again (peek and
# redrive), delete (redrive), depth (GetQueueAttributes) and purge; the move task's start and its
# progress, which also need receive, delete and attributes on the source (SQS developer guide,
# "Troubleshoot dead-letter queue redrive issues": AccessDenied).
OPERATOR_QUEUE_ACTIONS = ["sqs:SendMessage"]
OPERATOR_DEAD_LETTER_ACTIONS = ["sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:PurgeQueue"]
# Cross-account permissions do not apply to these ("Limitations of Amazon SQS custom policies"), so
# no queue policy grants them: a whole-queue redrive runs as an identity of the queue's account.
OPERATOR_MOVE_TASK_ACTIONS = ["sqs:StartMessageMoveTask", "sqs:ListMessageMoveTasks"]
# CloudWatch evaluates SQS metrics, published once a minute, over one 60-second period.
ALARM_PERIOD_SECONDS = 60
# Active tracing sends segments through the X-Ray API, whose write actions support no resource
# ARNs: they can only be granted on "*", so exactly these two are, and nothing else is.
XRAY_ACTIONS = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
# A function in a VPC: Lambda manages its network interfaces as the execution role; granted
# only with consumer.network.aws, the actions of AWSLambdaVPCAccessExecutionRole (v3). EC2's
# Describe* actions support no resource ARNs ("*" only); the others are scoped to interfaces in
# the given subnets and security groups. The deployer, not the role, needs
# ec2:DescribeSecurityGroups, DescribeSubnets and DescribeVpcs (Lambda checks them on create).
VPC_DESCRIBE_ACTIONS = ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"]
VPC_INTERFACE_ACTIONS = ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"]


AwsQueueArgs = CloudQueueArgs
"""Args of AwsQueue: the cloudqueue spec without `clouds`. CloudQueueArgs itself, not a subclass: the
schema analyzer reads field descriptions only from the class statement that declares them."""


class _Lookups:
    """Account-wide facts read once per program and provider, never once per queue."""

    def __init__(self, provider: Optional[pulumi.ProviderResource]):
        opts = pulumi.InvokeOutputOptions(provider=provider)
        self.region = aws.get_region_output(opts=opts).region
        partition = aws.get_partition_output(opts=opts)
        self.dns_suffix = partition.dns_suffix
        self.partition = partition.partition

    def via(self, service: str) -> pulumi.Output[str]:
        """The `kms:ViaService` value of an AWS service in this region."""
        return pulumi.Output.concat(service, ".", self.region, ".", self.dns_suffix)


def _program_lookups(provider: Optional[pulumi.ProviderResource]) -> _Lookups:
    return program.once(("aws-lookups", program.provider_key(provider)), lambda: _Lookups(provider))


def _program_account(provider: Optional[pulumi.ProviderResource]) -> pulumi.Output[str]:
    """The account id, looked up once per program, and only by queues whose ARNs need it."""
    return program.once(
        ("aws-account", program.provider_key(provider)),
        lambda: aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=provider)).account_id,
    )


def _digest(text: str) -> str:
    """A short, stable name part for a value (an e-mail address), independent of its place in a list."""
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _policy(*statements: dict) -> pulumi.Output[str]:
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": list(statements)})


@dataclass(frozen=True)
class _Context:
    """What every step of one AwsQueue reads."""

    name: str
    spec: QueueSpec
    tags: dict[str, Any]
    key_arn: Optional[pulumi.Input[str]]
    """The queue's KMS key (a string, or an Output known only at deploy time); None: SQS-managed keys."""
    network: Optional[Mapping[str, Any]]
    lookups: Optional[_Lookups]
    """Region, DNS suffix and partition: looked up only when a key or a network needs them."""
    provider: Optional[pulumi.ProviderResource]
    data: pulumi.ResourceOptions
    """Options of the queues: they hold data, so they inherit the component's `protect`."""
    stateless: pulumi.ResourceOptions
    """Options of everything else: recreated from code, and protecting it would block ordinary replacements."""


# Annotations naming SDK modules the import does not otherwise load (iam, cloudwatch) are quoted:
# evaluating them would load those modules for every program that only imports cloudqueue.


class AwsQueue(pulumi.ComponentResource):
    """An SQS queue with redrive to a dead-letter queue, a Lambda consumer and producer IAM."""

    queue_url: pulumi.Output[str]
    """URL of the main queue."""
    queue_arn: pulumi.Output[str]
    """ARN of the main queue."""
    dlq_url: pulumi.Output[str]
    """URL of the dead-letter queue."""
    dlq_arn: pulumi.Output[str]
    """ARN of the dead-letter queue."""
    function_name: pulumi.Output[str]
    """Name of the consuming Lambda function."""
    producer_policy_arn: pulumi.Output[str]
    """ARN of the managed policy that grants send rights on this queue only."""
    operator_policy_arn: pulumi.Output[str]
    """ARN of the managed policy that grants what `cloudqueue send` and `cloudqueue dlq` need on this queue and its dead-letter queue only."""

    def __init__(self, name: str, args: AwsQueueArgs, opts: Optional[pulumi.ResourceOptions] = None):
        # Validate before registering anything: a bad spec creates nothing. A QueueSpec comes
        # from Queue, which has already validated it against every targeted cloud.
        spec = args if isinstance(args, QueueSpec) else validate(name, args, clouds=("aws",))
        super().__init__("cloudqueue:index:AwsQueue", name, {}, opts)
        ctx = self._context(name, spec)
        queue, dead_letter = self._queues(ctx)
        producer_policy, operator_policy = self._access(ctx, queue, dead_letter)
        function = self._consumer(ctx, queue)
        self._alarms(ctx, dead_letter)
        self._outputs(queue, dead_letter, function, producer_policy, operator_policy)

    def _context(self, name: str, spec: QueueSpec) -> _Context:
        """What every step reads: the spec, tags, key, network, lookups and the children's options."""
        provider = self.get_provider("aws::")
        key_arn = spec.encryption_keys.get("aws")
        network = spec.consumer.network.get("aws")
        # `is not None`, not truthiness: a key may be an Output, which stands for a key all the same.
        lookups = _program_lookups(provider) if key_arn is not None or network else None
        return _Context(
            name=name,
            spec=spec,
            tags={**spec.tags, "cloudqueue:queue": spec.name},
            key_arn=key_arn,
            network=network,
            lookups=lookups,
            provider=provider,
            data=pulumi.ResourceOptions(parent=self),
            stateless=pulumi.ResourceOptions(parent=self, protect=False),
        )

    def _queues(self, ctx: _Context) -> tuple[aws.sqs.Queue, aws.sqs.Queue]:
        """The queue and its dead-letter queue, with the redrive between them: (queue, dead letter)."""
        spec, name = ctx.spec, ctx.name
        encryption: dict[str, Any] = (
            {"kms_master_key_id": ctx.key_arn, "kms_data_key_reuse_period_seconds": KMS_DATA_KEY_REUSE_SECONDS}
            if ctx.key_arn is not None
            else {"sqs_managed_sse_enabled": True}
        )
        fifo: dict[str, Any] = {"fifo_queue": True} if spec.fifo else {}
        dead_letter = aws.sqs.Queue(
            f"{name}-dead-letter",
            message_retention_seconds=spec.dead_letter_retention_seconds,
            # Set on both queues: the provider would create them with 262,144, whatever SQS allows, and
            # a redriven message must fit the queue it goes back to.
            max_message_size=spec.max_message_bytes,
            tags=ctx.tags,
            **fifo,
            **encryption,
            opts=ctx.data,
        )
        queue = aws.sqs.Queue(
            f"{name}-queue",
            message_retention_seconds=spec.message_retention_seconds,
            visibility_timeout_seconds=spec.visibility_timeout("aws"),
            max_message_size=spec.max_message_bytes,
            # Inline on the source queue (the DLQ exists first), so the queue never exists
            # without its redrive; the DLQ's allow-policy is a separate resource: no cycle.
            redrive_policy=pulumi.Output.json_dumps(
                {"deadLetterTargetArn": dead_letter.arn, "maxReceiveCount": spec.max_delivery_attempts}
            ),
            tags=ctx.tags,
            # Producers need not send a deduplication id; an explicit one still wins.
            **({**fifo, "content_based_deduplication": True} if spec.fifo else {}),
            **encryption,
            opts=ctx.data,
        )
        aws.sqs.RedriveAllowPolicy(
            f"{name}-dead-letter-redrive-allow",
            queue_url=dead_letter.url,
            redrive_allow_policy=pulumi.Output.json_dumps({"redrivePermission": "byQueue", "sourceQueueArns": [queue.arn]}),
            opts=ctx.stateless,
        )
        return queue, dead_letter

    def _access(self, ctx: _Context, queue: aws.sqs.Queue, dead_letter: aws.sqs.Queue) -> "tuple[aws.iam.Policy, aws.iam.Policy]":
        """Both queues' resource policies, and the managed policies producers and operators attach: returns those two."""
        name, spec = ctx.name, ctx.spec
        producers, operators = spec.producers.get("aws", ()), spec.operators.get("aws", ())
        grants = {
            "queue": (queue, [("AllowListedProducers", producers, PRODUCER_ACTIONS), ("AllowListedOperators", operators, OPERATOR_QUEUE_ACTIONS)]),
            "dead-letter": (dead_letter, [("AllowListedOperators", operators, OPERATOR_DEAD_LETTER_ACTIONS)]),
        }
        for role, (target, listed) in grants.items():
            aws.sqs.QueuePolicy(f"{name}-{role}-policy", queue_url=target.url, policy=self._queue_policy(target.arn, listed), opts=ctx.stateless)
        # Sending encrypts (GenerateDataKey) and receiving decrypts, both through SQS only.
        kms = (
            [{"Sid": "UseTheQueueKeyThroughSqs", "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": ctx.key_arn,
              "Condition": {"StringEquals": {"kms:ViaService": ctx.lookups.via("sqs")}}}]
            if ctx.key_arn is not None and ctx.lookups
            else []
        )
        producer_kms = [{**statement, "Sid": "EncryptForThisQueue"} for statement in kms]
        producer_policy = aws.iam.Policy(
            f"{name}-producer-policy",
            description=f"Send messages to the cloudqueue queue {spec.name} only.",
            policy=_policy({"Sid": "SendToThisQueue", "Effect": "Allow", "Action": PRODUCER_ACTIONS, "Resource": queue.arn}, *producer_kms),
            tags=ctx.tags,
            opts=ctx.stateless,
        )
        operator_policy = aws.iam.Policy(
            f"{name}-operator-policy",
            description=f"Send to, and inspect, redrive and purge the dead-letter queue of, the cloudqueue queue {spec.name} only.",
            policy=_policy(
                {"Sid": "SendToThisQueue", "Effect": "Allow", "Action": OPERATOR_QUEUE_ACTIONS, "Resource": queue.arn},
                {"Sid": "WorkItsDeadLetterQueue", "Effect": "Allow", "Action": OPERATOR_DEAD_LETTER_ACTIONS + OPERATOR_MOVE_TASK_ACTIONS, "Resource": dead_letter.arn},
                *kms,
            ),
            tags=ctx.tags,
            opts=ctx.stateless,
        )
        return producer_policy, operator_policy

    @staticmethod
    def _queue_policy(queue_arn: pulumi.Output[str], grants: list[tuple[str, tuple, list[str]]]) -> pulumi.Output[str]:
        """TLS only, then per (sid, principals, actions) with principals listed: those actions for them on this queue."""
        statements: list[dict] = [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:*",
                "Resource": queue_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ]
        # Needed for principals in other accounts; same-account ones may use the managed policies.
        for sid, principals, actions in grants:
            if principals:
                statements.append({"Sid": sid, "Effect": "Allow", "Principal": {"AWS": list(principals)}, "Action": actions, "Resource": queue_arn})
        return _policy(*statements)

    def _consumer(self, ctx: _Context, queue: aws.sqs.Queue) -> aws.lambda_.Function:
        """The Lambda consumer: log group, role, code and dependency layer, the function and its SQS trigger."""
        spec, name, consumer = ctx.spec, ctx.name, ctx.spec.consumer
        # The queue's key also encrypts the consumer's logs (CKV_AWS_158); the key policy must
        # let CloudWatch Logs use it (README, "Customer-managed keys").
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-consumer-logs", retention_in_days=LOG_RETENTION_DAYS, kms_key_id=ctx.key_arn, tags=ctx.tags, opts=ctx.stateless
        )
        role, role_policy = self._consumer_role(ctx, queue, log_group)
        package = artifact.build(consumer.code_path)
        layers = self._dependencies(ctx)
        # Lambda and the event source mapping check the role's permissions on create.
        after_policy = pulumi.ResourceOptions.merge(ctx.stateless, pulumi.ResourceOptions(depends_on=[role_policy]))
        network = ctx.network
        function = aws.lambda_.Function(
            f"{name}-consumer",
            role=role.arn,
            runtime=consumer.runtime,
            handler=LAMBDA_HANDLER,
            architectures=[LAMBDA_ARCHITECTURE],
            code=pulumi.FileArchive(str(package.path)),
            source_code_hash=package.sha256_base64,
            memory_size=consumer.memory_mb,
            timeout=consumer.timeout_seconds,
            environment={"variables": spec.function_environment()},
            # The queue's key encrypts the environment at rest too (CKV_AWS_173).
            kms_key_arn=ctx.key_arn,
            tracing_config={"mode": "Active" if consumer.tracing else "PassThrough"},  # CKV_AWS_50
            vpc_config={"subnet_ids": network["subnet_ids"], "security_group_ids": network["security_group_ids"]} if network else None,
            layers=layers,
            logging_config={"log_format": "Text", "log_group": log_group.name},
            tags=ctx.tags,
            opts=after_policy,
        )
        aws.lambda_.EventSourceMapping(
            f"{name}-consumer-trigger",
            event_source_arn=queue.arn,
            function_name=function.arn,
            batch_size=consumer.batch_size,
            # FIFO event sources reject a batching window altogether.
            maximum_batching_window_in_seconds=None if spec.fifo else consumer.max_batching_window_seconds,
            function_response_types=["ReportBatchItemFailures"],
            # Maximum concurrency, not reserved concurrency: throttled invokes then stay in the
            # queue instead of burning receive counts and landing in the DLQ.
            scaling_config={"maximum_concurrency": consumer.max_concurrency},
            tags=ctx.tags,
            opts=after_policy,
        )
        return function

    def _consumer_role(self, ctx: _Context, queue: aws.sqs.Queue, log_group: "aws.cloudwatch.LogGroup") -> "tuple[aws.iam.Role, aws.iam.RolePolicy]":
        """The function's execution role and its one inline policy: (role, policy)."""
        role = aws.iam.Role(
            f"{ctx.name}-consumer-role",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
                }
            ),
            tags=ctx.tags,
            opts=ctx.stateless,
        )
        statements: list[dict] = [
            {"Sid": "ConsumeThisQueue", "Effect": "Allow", "Action": CONSUMER_ACTIONS, "Resource": queue.arn},
            {
                "Sid": "WriteOwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": pulumi.Output.concat(log_group.arn, ":*"),
            },
        ]
        lookups = ctx.lookups
        if ctx.key_arn is not None and lookups:
            # Messages (through SQS) and the function's environment (through Lambda) only.
            via = [lookups.via("sqs"), lookups.via("lambda")]
            statements.append({"Sid": "DecryptWithQueueKey", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": ctx.key_arn, "Condition": {"StringEquals": {"kms:ViaService": via}}})
        if ctx.spec.consumer.tracing:
            statements.append({"Sid": "WriteTraces", "Effect": "Allow", "Action": XRAY_ACTIONS, "Resource": "*"})
        if ctx.network and lookups:
            ec2 = pulumi.Output.concat("arn:", lookups.partition, ":ec2:", lookups.region, ":")
            # Lambda creates the interfaces in the function's own account. A subnet or security group
            # shared from another account (VPC sharing) carries its owner's account in its ARN, so
            # those match any account: their ids are unique, and Lambda uses only the ones named here.
            scoped = [pulumi.Output.concat(ec2, _program_account(ctx.provider), ":network-interface/*")]
            scoped += [pulumi.Output.concat(ec2, "*:subnet/", subnet) for subnet in ctx.network["subnet_ids"]]
            scoped += [pulumi.Output.concat(ec2, "*:security-group/", group) for group in ctx.network["security_group_ids"]]
            statements.append({"Sid": "DescribeVpc", "Effect": "Allow", "Action": VPC_DESCRIBE_ACTIONS, "Resource": "*"})
            statements.append({"Sid": "ManageInterfacesInTheseSubnets", "Effect": "Allow", "Action": VPC_INTERFACE_ACTIONS, "Resource": scoped})
        role_policy = aws.iam.RolePolicy(f"{ctx.name}-consumer-policy", role=role.id, policy=_policy(*statements), opts=ctx.stateless)
        return role, role_policy

    def _dependencies(self, ctx: _Context) -> list[pulumi.Output[str]]:
        """The consumer's requirements as a layer built for Lambda's platform (none without requirements): its ARN, as `layers`.

        A code-only change then re-uploads only the small function zip (see README).
        """
        consumer, name = ctx.spec.consumer, ctx.name
        dependencies = artifact.build_layer(consumer.code_path, artifact.lambda_platform(consumer.runtime, LAMBDA_ARCHITECTURE))
        if dependencies is None:
            return []
        layer = aws.lambda_.LayerVersion(
            f"{name}-dependencies",
            # Layer names are per account and region: unique per project, stack and queue.
            layer_name=f"{name[:80]}-deps-{hashlib.sha256(f'{pulumi.get_project()}/{pulumi.get_stack()}/{name}'.encode()).hexdigest()[:8]}",
            code=pulumi.FileArchive(str(dependencies.path)),
            source_code_hash=dependencies.sha256_base64,
            compatible_runtimes=[consumer.runtime],
            compatible_architectures=[LAMBDA_ARCHITECTURE],
            description=f"Python requirements of the cloudqueue consumer {ctx.spec.name}",
            opts=ctx.stateless,
        )
        return [layer.arn]

    def _alarms(self, ctx: _Context, dead_letter: aws.sqs.Queue) -> None:
        """CloudWatch alarms on the dead-letter queue: a message in it, and the oldest half way to expiry; e-mailed through SNS."""
        spec, name, alarms = ctx.spec, ctx.name, ctx.spec.alarms
        if not alarms.dead_letter:
            return
        actions: list[Any] = list(alarms.targets("aws"))
        emails = alarms.emails("aws")
        if emails:
            # The queue's key, when it has one: CloudWatch then needs kms:Decrypt and kms:GenerateDataKey* on
            # it in the key policy (README, "Customer-managed keys"); it cannot use the AWS-managed SNS key.
            topic = aws.sns.Topic(f"{name}-alarm-topic", kms_master_key_id=ctx.key_arn, tags=ctx.tags, opts=ctx.stateless)
            for email in emails:
                # Named after the address, so reordering the list replaces nothing: SNS cannot delete a
                # subscription still pending confirmation (it expires after 3 days).
                aws.sns.TopicSubscription(f"{name}-alarm-email-{_digest(email)}", topic=topic.arn, protocol="email", endpoint=email, opts=ctx.stateless)
            actions.insert(0, topic.arn)
        peek = f"cloudqueue dlq peek --stack {pulumi.get_stack()} {spec.name}"
        watched = {
            "dead-letter-alarm": ("ApproximateNumberOfMessagesVisible", 0, f"A message reached the dead-letter queue of the cloudqueue queue {spec.name}: {peek}"),
            # Standard queues keep a message's original enqueue time in the DLQ, while this metric counts from
            # its arrival there (SQS developer guide, dead-letter queue retention): it fires a little late for them.
            "dead-letter-age-alarm": (
                "ApproximateAgeOfOldestMessage",
                spec.dead_letter_retention_seconds // 2,
                f"The oldest dead-lettered message of the cloudqueue queue {spec.name} is half way to its {spec.dead_letter_retention_seconds} s retention: {peek}",
            ),
        }
        for role, (metric, threshold, description) in watched.items():
            aws.cloudwatch.MetricAlarm(
                f"{name}-{role}",
                namespace="AWS/SQS",
                metric_name=metric,
                dimensions={"QueueName": dead_letter.name},
                statistic="Maximum",
                period=ALARM_PERIOD_SECONDS,
                evaluation_periods=1,
                comparison_operator="GreaterThanThreshold",
                threshold=threshold,
                # An empty queue reports no data; that is the healthy state.
                treat_missing_data="notBreaching",
                alarm_description=description,
                alarm_actions=actions,
                ok_actions=actions,
                tags=ctx.tags,
                opts=ctx.stateless,
            )

    def _outputs(
        self, queue: aws.sqs.Queue, dead_letter: aws.sqs.Queue, function: aws.lambda_.Function, producer_policy: "aws.iam.Policy", operator_policy: "aws.iam.Policy"
    ) -> None:
        """Set the output attributes, then register them: the last thing the component does."""
        self.queue_url = queue.url
        self.queue_arn = queue.arn
        self.dlq_url = dead_letter.url
        self.dlq_arn = dead_letter.arn
        self.function_name = function.name
        self.producer_policy_arn = producer_policy.arn
        self.operator_policy_arn = operator_policy.arn
        self.register_outputs(
            {
                "queue_url": self.queue_url,
                "queue_arn": self.queue_arn,
                "dlq_url": self.dlq_url,
                "dlq_arn": self.dlq_arn,
                "function_name": self.function_name,
                "producer_policy_arn": self.producer_policy_arn,
                "operator_policy_arn": self.operator_policy_arn,
            }
        )
