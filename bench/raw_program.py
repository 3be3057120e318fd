"""The baseline for component overhead: the AWS resources of one queue, written by hand.

Same resources, same inputs and the same Output wiring as AwsQueue, but no component, no
validation and no artifact builder: what a user without cloudqueue would write. It exists only
to be timed against AwsQueue in bench.py.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

TRUST = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}'


def doc(*statements: dict) -> pulumi.Output[str]:
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": list(statements)})


def deny_insecure(arn: pulumi.Output[str]) -> dict:
    return {"Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": arn, "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


def raw_queue(name: str, archive: str, code_hash: str) -> None:
    tags = {"cloudqueue:queue": name}
    dlq = aws.sqs.Queue(f"{name}-dead-letter", message_retention_seconds=1209600, sqs_managed_sse_enabled=True, tags=tags)
    queue = aws.sqs.Queue(
        f"{name}-queue",
        message_retention_seconds=345600,
        visibility_timeout_seconds=180,
        redrive_policy=pulumi.Output.json_dumps({"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 5}),
        sqs_managed_sse_enabled=True,
        tags=tags,
    )
    aws.sqs.RedriveAllowPolicy(
        f"{name}-dead-letter-redrive-allow",
        queue_url=dlq.url,
        redrive_allow_policy=pulumi.Output.json_dumps({"redrivePermission": "byQueue", "sourceQueueArns": [queue.arn]}),
    )
    aws.sqs.QueuePolicy(f"{name}-queue-policy", queue_url=queue.url, policy=doc(deny_insecure(queue.arn)))
    aws.sqs.QueuePolicy(f"{name}-dead-letter-policy", queue_url=dlq.url, policy=doc(deny_insecure(dlq.arn)))
    aws.iam.Policy(f"{name}-producer-policy", policy=doc({"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": queue.arn}), tags=tags)
    logs = aws.cloudwatch.LogGroup(f"{name}-consumer-logs", retention_in_days=30, tags=tags)
    role = aws.iam.Role(f"{name}-consumer-role", assume_role_policy=TRUST, tags=tags)
    role_policy = aws.iam.RolePolicy(
        f"{name}-consumer-policy",
        role=role.id,
        policy=doc(
            {"Effect": "Allow", "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage"], "Resource": queue.arn},
            {"Effect": "Allow", "Action": ["logs:PutLogEvents"], "Resource": pulumi.Output.concat(logs.arn, ":*")},
        ),
    )
    after = pulumi.ResourceOptions(depends_on=[role_policy])
    function = aws.lambda_.Function(
        f"{name}-consumer",
        role=role.arn,
        runtime="python3.12",
        handler="cloudqueue_runtime.aws.handler",
        architectures=["arm64"],
        code=pulumi.FileArchive(archive),
        source_code_hash=code_hash,
        memory_size=256,
        timeout=30,
        environment={"variables": {"CLOUDQUEUE_HANDLER": "handler.handle"}},
        logging_config={"log_format": "Text", "log_group": logs.name},
        tags=tags,
        opts=after,
    )
    aws.lambda_.EventSourceMapping(
        f"{name}-consumer-trigger",
        event_source_arn=queue.arn,
        function_name=function.arn,
        batch_size=10,
        maximum_batching_window_in_seconds=0,
        function_response_types=["ReportBatchItemFailures"],
        scaling_config={"maximum_concurrency": 10},
        tags=tags,
        opts=after,
    )
