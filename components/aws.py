"""AwsQueue: SQS with a dead-letter queue, least-privilege IAM and a Lambda consumer."""

import hashlib
import json
from typing import Any, Optional

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
# Active tracing sends segments through the X-Ray API, whose write actions support no resource
# ARNs: they can only be granted on "*", so exactly these two are, and nothing else is.
XRAY_ACTIONS = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
# A function in a VPC: Lambda manages its network interfaces as the execution role; granted
# only with consumer.network.aws. EC2's Describe* actions support no resource ARNs ("*" only);
# the others are scoped to interfaces in the given subnets and security groups.
VPC_DESCRIBE_ACTIONS = ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"]
VPC_INTERFACE_ACTIONS = ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"]


class AwsQueueArgs(CloudQueueArgs, total=False):
    """Args of AwsQueue: the cloudqueue spec without `clouds`."""


class _Lookups:
    """Account-wide facts read once per program and provider, never once per queue."""

    def __init__(self, provider: Optional[pulumi.ProviderResource]):
        opts = pulumi.InvokeOutputOptions(provider=provider)
        self.region = aws.get_region_output(opts=opts).region
        partition = aws.get_partition_output(opts=opts)
        self.dns_suffix = partition.dns_suffix
        self.partition = partition.partition


def _program_lookups(provider: Optional[pulumi.ProviderResource]) -> _Lookups:
    return program.once(("aws-lookups", program.provider_key(provider)), lambda: _Lookups(provider))


def _program_account(provider: Optional[pulumi.ProviderResource]) -> pulumi.Output[str]:
    """The account id, looked up once per program, and only by queues whose ARNs need it."""
    return program.once(
        ("aws-account", program.provider_key(provider)),
        lambda: aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=provider)).account_id,
    )


def _policy(*statements: dict) -> pulumi.Output[str]:
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": list(statements)})


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

    def __init__(self, name: str, args: AwsQueueArgs, opts: Optional[pulumi.ResourceOptions] = None):
        # Validate before registering anything: a bad spec creates nothing. A QueueSpec comes
        # from Queue, which has already validated it against every targeted cloud.
        spec = args if isinstance(args, QueueSpec) else validate(name, args, clouds=("aws",))
        super().__init__("cloudqueue:index:AwsQueue", name, {}, opts)

        # Queues hold data: they inherit the component's `protect`. Everything else can be
        # recreated from code, and protecting it would block ordinary replacements.
        data = pulumi.ResourceOptions(parent=self)
        stateless = pulumi.ResourceOptions(parent=self, protect=False)
        tags = {**spec.tags, "cloudqueue:queue": spec.name}
        key_arn = spec.encryption_keys.get("aws")
        network = spec.consumer.network.get("aws")
        lookups = _program_lookups(self.get_provider("aws::")) if key_arn or network else None
        encryption: dict[str, Any] = (
            {"kms_master_key_id": key_arn, "kms_data_key_reuse_period_seconds": KMS_DATA_KEY_REUSE_SECONDS}
            if key_arn
            else {"sqs_managed_sse_enabled": True}
        )
        fifo: dict[str, Any] = {"fifo_queue": True} if spec.fifo else {}

        dead_letter = aws.sqs.Queue(
            f"{name}-dead-letter",
            message_retention_seconds=spec.dead_letter_retention_seconds,
            tags=tags,
            **fifo,
            **encryption,
            opts=data,
        )
        queue = aws.sqs.Queue(
            f"{name}-queue",
            message_retention_seconds=spec.message_retention_seconds,
            visibility_timeout_seconds=spec.visibility_timeout("aws"),
            # Inline on the source queue (the DLQ exists first), so the queue never exists
            # without its redrive; the DLQ's allow-policy is a separate resource: no cycle.
            redrive_policy=pulumi.Output.json_dumps(
                {"deadLetterTargetArn": dead_letter.arn, "maxReceiveCount": spec.max_delivery_attempts}
            ),
            tags=tags,
            # Producers need not send a deduplication id; an explicit one still wins.
            **({**fifo, "content_based_deduplication": True} if spec.fifo else {}),
            **encryption,
            opts=data,
        )
        aws.sqs.RedriveAllowPolicy(
            f"{name}-dead-letter-redrive-allow",
            queue_url=dead_letter.url,
            redrive_allow_policy=pulumi.Output.json_dumps({"redrivePermission": "byQueue", "sourceQueueArns": [queue.arn]}),
            opts=stateless,
        )
        for role, target, grants in (("queue", queue, spec.producers.get("aws", ())), ("dead-letter", dead_letter, ())):
            aws.sqs.QueuePolicy(f"{name}-{role}-policy", queue_url=target.url, policy=self._queue_policy(target.arn, grants), opts=stateless)

        kms_via_sqs = {"StringEquals": {"kms:ViaService": self._via(lookups, "sqs")}} if lookups and key_arn else None
        producer_statements = [{"Sid": "SendToThisQueue", "Effect": "Allow", "Action": PRODUCER_ACTIONS, "Resource": queue.arn}]
        if key_arn:
            producer_statements.append(
                {"Sid": "EncryptForThisQueue", "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": key_arn, "Condition": kms_via_sqs}
            )
        producer_policy = aws.iam.Policy(
            f"{name}-producer-policy",
            description=f"Send messages to the cloudqueue queue {spec.name} only.",
            policy=_policy(*producer_statements),
            tags=tags,
            opts=stateless,
        )

        function = self._consumer(name, spec, queue, tags, key_arn, lookups, stateless)

        self.queue_url = queue.url
        self.queue_arn = queue.arn
        self.dlq_url = dead_letter.url
        self.dlq_arn = dead_letter.arn
        self.function_name = function.name
        self.producer_policy_arn = producer_policy.arn
        self.register_outputs(
            {
                "queue_url": self.queue_url,
                "queue_arn": self.queue_arn,
                "dlq_url": self.dlq_url,
                "dlq_arn": self.dlq_arn,
                "function_name": self.function_name,
                "producer_policy_arn": self.producer_policy_arn,
            }
        )

    @staticmethod
    def _queue_policy(queue_arn: pulumi.Output[str], producers: tuple) -> pulumi.Output[str]:
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
        if producers:
            # Needed for producers in other accounts; same-account ones may use the producer policy.
            statements.append(
                {
                    "Sid": "AllowListedProducers",
                    "Effect": "Allow",
                    "Principal": {"AWS": list(producers)},
                    "Action": PRODUCER_ACTIONS,
                    "Resource": queue_arn,
                }
            )
        return _policy(*statements)

    @staticmethod
    def _via(lookups: "_Lookups", service: str) -> pulumi.Output[str]:
        return pulumi.Output.concat(service, ".", lookups.region, ".", lookups.dns_suffix)

    def _consumer(
        self,
        name: str,
        spec: QueueSpec,
        queue: aws.sqs.Queue,
        tags: dict,
        key_arn: Optional[str],
        lookups: Optional["_Lookups"],
        stateless: pulumi.ResourceOptions,
    ) -> aws.lambda_.Function:
        consumer = spec.consumer
        # The queue's key also encrypts the consumer's logs (CKV_AWS_158); the key policy must
        # let CloudWatch Logs use it (README, "Customer-managed keys").
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-consumer-logs", retention_in_days=LOG_RETENTION_DAYS, kms_key_id=key_arn, tags=tags, opts=stateless
        )
        role = aws.iam.Role(
            f"{name}-consumer-role",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
                }
            ),
            tags=tags,
            opts=stateless,
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
        if key_arn and lookups:
            # Messages (through SQS) and the function's environment (through Lambda) only.
            via = [self._via(lookups, "sqs"), self._via(lookups, "lambda")]
            statements.append({"Sid": "DecryptWithQueueKey", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": key_arn, "Condition": {"StringEquals": {"kms:ViaService": via}}})
        if consumer.tracing:
            statements.append({"Sid": "WriteTraces", "Effect": "Allow", "Action": XRAY_ACTIONS, "Resource": "*"})
        network = consumer.network.get("aws")
        if network and lookups:
            ec2 = pulumi.Output.concat("arn:", lookups.partition, ":ec2:", lookups.region, ":", _program_account(self.get_provider("aws::")), ":")
            scoped = [pulumi.Output.concat(ec2, "network-interface/*")]
            scoped += [pulumi.Output.concat(ec2, "subnet/", subnet) for subnet in network["subnet_ids"]]
            scoped += [pulumi.Output.concat(ec2, "security-group/", group) for group in network["security_group_ids"]]
            statements.append({"Sid": "DescribeVpc", "Effect": "Allow", "Action": VPC_DESCRIBE_ACTIONS, "Resource": "*"})
            statements.append({"Sid": "ManageInterfacesInTheseSubnets", "Effect": "Allow", "Action": VPC_INTERFACE_ACTIONS, "Resource": scoped})
        role_policy = aws.iam.RolePolicy(f"{name}-consumer-policy", role=role.id, policy=_policy(*statements), opts=stateless)

        package = artifact.build(consumer.code_path)
        # Requirements go into a layer built for Lambda's platform: a code-only change then
        # re-uploads only the small function zip (see README).
        dependencies = artifact.build_layer(consumer.code_path, artifact.lambda_platform(consumer.runtime, LAMBDA_ARCHITECTURE))
        layers = []
        if dependencies is not None:
            layer = aws.lambda_.LayerVersion(
                f"{name}-dependencies",
                # Layer names are per account and region: unique per project, stack and queue.
                layer_name=f"{name[:80]}-deps-{hashlib.sha256(f'{pulumi.get_project()}/{pulumi.get_stack()}/{name}'.encode()).hexdigest()[:8]}",
                code=pulumi.FileArchive(str(dependencies.path)),
                source_code_hash=dependencies.sha256_base64,
                compatible_runtimes=[consumer.runtime],
                compatible_architectures=[LAMBDA_ARCHITECTURE],
                description=f"Python requirements of the cloudqueue consumer {spec.name}",
                opts=stateless,
            )
            layers = [layer.arn]
        # Lambda and the event source mapping check the role's permissions on create.
        after_policy = pulumi.ResourceOptions.merge(stateless, pulumi.ResourceOptions(depends_on=[role_policy]))
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
            kms_key_arn=key_arn,
            tracing_config={"mode": "Active" if consumer.tracing else "PassThrough"},  # CKV_AWS_50
            vpc_config={"subnet_ids": network["subnet_ids"], "security_group_ids": network["security_group_ids"]} if network else None,
            layers=layers,
            logging_config={"log_format": "Text", "log_group": log_group.name},
            tags=tags,
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
            tags=tags,
            opts=after_policy,
        )
        return function
