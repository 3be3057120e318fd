"""`cloudqueue local` and `cloudqueue send --local`: a consumer author's loop before `pulumi up`.

`local` starts an SQS emulator (moto's server) on 127.0.0.1, creates the queue and its
dead-letter queue with the settings the AWS component would give them (read from the component
itself, run in the mock engine), and feeds the user's handler through the real Lambda adapter the
way the event source mapping does. `send --local` posts a message to it from another terminal.
Ctrl-C stops it and removes what it wrote.
"""

import base64
import contextlib
import json
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

STATE_FILE = Path(".cloudqueue") / "local.json"
REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local", "region_name": REGION}


def lambda_record(message: dict, queue_arn: str) -> dict:
    """The record Lambda's SQS event source builds from one received message."""
    attributes = {}
    for name, value in message.get("MessageAttributes", {}).items():
        binary = value.get("BinaryValue")
        attributes[name] = {
            "stringValue": value.get("StringValue"),
            "binaryValue": base64.b64encode(binary).decode() if binary is not None else None,
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value["DataType"],
        }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message["Attributes"],
        "messageAttributes": attributes,
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


@dataclass(frozen=True)
class QueueSettings:
    """What the AWS component gives a queue, as recorded from its registration."""

    fifo: bool
    visibility_timeout_seconds: int
    message_retention_seconds: int
    dead_letter_retention_seconds: int
    max_receive_count: int
    batch_size: int


def component_settings(name: str, spec: Any) -> QueueSettings:
    """Run AwsQueue for `spec` in the mock engine and read back what it would create."""
    from ..aws import AwsQueue
    from .mocks import Engine

    engine = Engine(preview=True)
    engine.run(lambda: AwsQueue(name, spec))
    queue, dead_letter = engine.one("aws:sqs/queue:Queue", f"{name}-queue"), engine.one("aws:sqs/queue:Queue", f"{name}-dead-letter")
    mapping = engine.one("aws:lambda/eventSourceMapping:EventSourceMapping")
    return QueueSettings(
        fifo=bool(queue.inputs.get("fifoQueue")),
        visibility_timeout_seconds=int(queue.inputs["visibilityTimeoutSeconds"]),
        message_retention_seconds=int(queue.inputs["messageRetentionSeconds"]),
        dead_letter_retention_seconds=int(dead_letter.inputs["messageRetentionSeconds"]),
        max_receive_count=int(json.loads(queue.inputs["redrivePolicy"])["maxReceiveCount"]),
        batch_size=int(mapping.inputs["batchSize"]),
    )


def create_queues(sqs: Any, name: str, settings: QueueSettings, visibility_timeout_seconds: Optional[int] = None) -> tuple[str, str]:
    """The queue and its dead-letter queue, with the component's settings (visibility may be shortened)."""
    suffix = ".fifo" if settings.fifo else ""
    fifo = {"FifoQueue": "true"} if settings.fifo else {}
    dead_letter = sqs.create_queue(QueueName=f"{name}-dead-letter{suffix}", Attributes={**fifo, "MessageRetentionPeriod": str(settings.dead_letter_retention_seconds)})["QueueUrl"]
    dead_letter_arn = sqs.get_queue_attributes(QueueUrl=dead_letter, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    attributes = {
        **fifo,
        "MessageRetentionPeriod": str(settings.message_retention_seconds),
        "VisibilityTimeout": str(visibility_timeout_seconds if visibility_timeout_seconds is not None else settings.visibility_timeout_seconds),
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": settings.max_receive_count}),
    }
    if settings.fifo:
        attributes["ContentBasedDeduplication"] = "true"
    queue = sqs.create_queue(QueueName=f"{name}{suffix}", Attributes=attributes)["QueueUrl"]
    return queue, dead_letter


class Poller:
    """Lambda's SQS event source mapping with ReportBatchItemFailures, against any SQS endpoint."""

    def __init__(self, sqs: Any, queue_url: str, dead_letter_url: str, batch_size: int, report: Callable[[str], None] = print):
        from cloudqueue_runtime import aws

        self.sqs, self.queue_url, self.dead_letter_url = sqs, queue_url, dead_letter_url
        self.batch_size, self.report, self.adapter = batch_size, report, aws.handler
        self.arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.counts = {"handled": 0, "retried": 0, "dead-lettered": 0}

    def _status(self) -> str:
        return ", ".join(f"{count} {label}" for label, count in self.counts.items())

    def once(self, wait_seconds: int = 1) -> int:
        """One receive, invoke and settle; returns how many messages were handed to the adapter."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=self.batch_size, WaitTimeSeconds=wait_seconds, AttributeNames=["All"], MessageAttributeNames=["All"]
        ).get("Messages", [])
        if messages:
            records = [lambda_record(m, self.arn) for m in messages]
            try:
                failed = {item["itemIdentifier"] for item in self.adapter({"Records": records}, None)["batchItemFailures"]}
            except Exception:  # the whole batch fails, as in Lambda
                failed = {r["messageId"] for r in records}
            done = [{"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(records) if r["messageId"] not in failed]
            if done:
                self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=done)
            for record in records:
                outcome = "retried" if record["messageId"] in failed else "handled"
                self.counts[outcome] += 1
                attempt = record["attributes"].get("ApproximateReceiveCount")
                self.report(f"{outcome:>13}  {record['messageId']}  attempt {attempt}  [{self._status()}]")
        self._count_dead_letters()
        return len(messages)

    def _count_dead_letters(self) -> None:
        # SQS moves a message on the receive after its last allowed one; the DLQ's depth tells.
        depth = int(self.sqs.get_queue_attributes(QueueUrl=self.dead_letter_url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"])
        for _ in range(depth - self.counts["dead-lettered"]):
            self.counts["dead-lettered"] += 1
            self.report(f"{'dead-lettered':>13}  a message reached {self.dead_letter_url.rsplit('/', 1)[-1]}  [{self._status()}]")


def _client(endpoint: str) -> Any:
    import boto3

    return boto3.client("sqs", endpoint_url=endpoint, **CREDENTIALS)


def run_local(project_dir: Path, queue_name: str, spec: Any, port: int, retry_after: Optional[int]) -> int:
    """Serve the queue on 127.0.0.1 and consume it with the user's handler until Ctrl-C."""
    from moto.server import ThreadedMotoServer

    settings = component_settings(queue_name, spec)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log between the outcomes
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, bound_port = server.get_host_and_port()
    endpoint = f"http://{host}:{bound_port}"
    sqs = _client(endpoint)
    queue_url, dead_letter_url = create_queues(sqs, queue_name, settings, retry_after)
    state = project_dir / STATE_FILE
    state.parent.mkdir(exist_ok=True)
    state.write_text(json.dumps({"endpoint": endpoint, "pid": os.getpid(), "queues": {queue_name: {"url": queue_url, "dead_letter_url": dead_letter_url, "fifo": settings.fifo}}}))
    # The handler runs as in Lambda: its folder on the path, named by CLOUDQUEUE_HANDLER.
    sys.path.insert(0, str(spec.consumer.code_path))
    os.environ.update({k: str(v) for k, v in spec.function_environment().items()})
    visibility = retry_after if retry_after is not None else settings.visibility_timeout_seconds
    print(
        f"cloudqueue local: queue {queue_name!r} on {endpoint} (SQS emulator), handler {spec.consumer.handler}; "
        f"batch {settings.batch_size}, retry after {visibility} s, dead-letter after {settings.max_receive_count} receives. Ctrl-C stops.",
        flush=True,
    )
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    poller = Poller(sqs, queue_url, dead_letter_url, settings.batch_size, report=lambda line: print(line, flush=True))
    try:
        while not stopping:
            poller.once(wait_seconds=1)
    except KeyboardInterrupt:
        pass
    finally:
        state.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            state.parent.rmdir()  # only when nothing else is in it
        server.stop()
    print(f"cloudqueue local: stopped; {poller._status()}", flush=True)
    return 0


def send_local(project_dir: Path, queue_name: str, body: str, group: str) -> int:
    """Send one message to the queue a running `cloudqueue local` serves."""
    state = project_dir / STATE_FILE
    if not state.is_file():
        print(f"cloudqueue send: no local queue is running here ({state} missing); start `cloudqueue local --stack <stack> {queue_name}` first", file=sys.stderr)
        return 2
    document = json.loads(state.read_text())
    queue = document["queues"].get(queue_name)
    if queue is None:
        print(f"cloudqueue send: the local run serves {', '.join(document['queues'])}, not {queue_name!r}", file=sys.stderr)
        return 2
    extra = {"MessageGroupId": group} if queue["fifo"] else {}
    sent = _client(document["endpoint"]).send_message(QueueUrl=queue["url"], MessageBody=body, **extra)
    print(f"sent {sent['MessageId']} to {queue_name}")
    return 0


def throughput(batch_size: int, messages: int = 200) -> float:
    """Messages per second through the emulator, the adapter and a no-op handler (for `make bench`)."""
    import tempfile

    from moto.server import ThreadedMotoServer

    from cloudqueue_runtime import _handler

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    folder = Path(tempfile.mkdtemp(prefix="cloudqueue-bench-"))
    (folder / "noop_handler.py").write_text("def handle(message):\n    pass\n")
    sys.path.insert(0, str(folder))
    os.environ["CLOUDQUEUE_HANDLER"] = "noop_handler.handle"
    _handler._loaded.clear()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        sqs = _client(f"http://{host}:{port}")
        settings = QueueSettings(False, 30, 345600, 1209600, 5, batch_size)
        queue_url, dead_letter_url = create_queues(sqs, f"bench-{batch_size}", settings)
        for start in range(0, messages, 10):
            sqs.send_message_batch(QueueUrl=queue_url, Entries=[{"Id": str(i), "MessageBody": "{}"} for i in range(min(10, messages - start))])
        poller = Poller(sqs, queue_url, dead_letter_url, batch_size, report=lambda line: None)
        began = time.perf_counter()
        while poller.counts["handled"] < messages:
            poller.once(wait_seconds=0)
        return messages / (time.perf_counter() - began)
    finally:
        server.stop()
