"""AWS end to end on ministack: what AwsQueue registers, applied and run under the mixed load.

The component runs under the mock engine; tests/e2e/deploy.py applies its recorded inputs to
ministack (1.5.33, tests/e2e/ministack-requirements.txt) through boto3: the queue and its
dead-letter queue with the redrive policy and message size, the redrive-allow policy, both queue
policies, the role and its policy, the producer and operator policies, the log group, the
dependency layer built from consumers/orders/requirements.txt, the function from the zip the
program built and hashed, the event source mapping (batch size, batching window,
ReportBatchItemFailures, maximum concurrency), the two dead-letter alarms and, with
`alarms.notify`, the SNS topic and its e-mail subscription. ministack's own mapping then polls
the queue and invokes the function in local worker processes, which run the real
cloudqueue_runtime.aws adapter.

Changed from what the component records: only the queues' visibility timeout, from the derived
180 s (6 x the 30 s function timeout) to VISIBILITY_SECONDS, so that a retry takes seconds. Lambda
refuses a mapping whose queue's visibility timeout is below the function timeout
(https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html); ministack does not
check it, which is what lets the shortened value run. Before a load, the function's workers are
started with empty events (`warm_workers`): a ministack cold start takes seconds on 2 cores.

What ministack 1.5.33 does not do, read in its source (services/sqs.py, services/lambda_svc.py,
core/lambda_runtime.py, core/iam_evaluator.py), so these tests cannot show it:
- SQS: no StartMessageMoveTask, ListMessageMoveTasks or CancelMessageMoveTask (the DLQ redrive the
  RedriveAllowPolicy is for); the RedriveAllowPolicy is stored, never enforced. No encryption:
  SqsManagedSseEnabled/KmsMasterKeyId are stored as given, no KMS key is checked or used.
- The mapping ignores MaximumBatchingWindowInSeconds (it polls as soon as a batch slot is free)
  and takes at most 10 messages per batch; it does not check that the queue's visibility
  timeout is at least the function timeout (AWS refuses the mapping otherwise, which is why
  the shortened timeout works here and would not on AWS); a FIFO mapping runs one batch at a
  time; throttling is its in-flight cap (ScalingConfig.MaximumConcurrency), nothing more.
- IAM is not evaluated (AUTH is off): the role's policy, the queue policies (their
  DenyInsecureTransport over this plain-HTTP endpoint included) and the producer policy are
  stored and read back, never enforced; the mapping reads the queue without the role.
- CloudWatch: ministack evaluates an alarm on the data points of its metric name whatever their
  dimensions, and its SQS publishes no AWS/SQS metrics, so no message moves an alarm here: the
  alarm is moved with SetAlarmState, and what is checked is its definition and that its state
  change reaches the topic. SNS confirms an e-mail subscription at once (AWS waits for the
  recipient) and sends no e-mail; the topic's KMS key is stored, not used.
- Lambda runs the function on ministack's own interpreter (the venv's Python, not the
  python3.12 runtime) on this machine's architecture (not arm64); the layer is extracted and put
  first on sys.path, as Lambda does with /opt/python. No KMS for the environment, no X-Ray
  segments (only the _X_AMZN_TRACE_ID variable), no VPC.
"""

from __future__ import annotations

import json
import shutil
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import botocore.exceptions
import pytest

from components import AwsQueue
from e2e.consumer.orders_handler import kind
from e2e.deploy import ALARM, COMPONENT, FUNCTION, LAYER, MAPPING, QUEUE, ROLE_POLICY, TOPIC, apply
from emulators import drain_messages
from pulumi_mocks import REPO, Engine, load_stack_config, run_main
from tests.cloudqueue_runtime.test_delivery_semantics import SENT, kinds, send

pytestmark = pytest.mark.xdist_group("ministack")

# Shortened from the component's 180 s (see the module docstring). A warm batch takes
# milliseconds; cold workers are started before the load (`warm_workers`).
VISIBILITY_SECONDS = 4
MAX_DELIVERY_ATTEMPTS = 5
DRAIN_TIMEOUT_SECONDS = 150
MALFORMED = ["{'n': 1,  not json", "<order n='2'/>", "order 3", '{"n": 4', "\u00e9t\u00e9"]


@pytest.fixture
def e2e_consumer(tmp_path) -> Path:
    """The end-to-end handler with the requirements of the shipped consumer (so a real layer)."""
    folder = tmp_path / "consumer"
    folder.mkdir()
    shutil.copy(Path(__file__).parent / "consumer" / "orders_handler.py", folder / "orders_handler.py")
    shutil.copy(REPO / "consumers" / "orders" / "requirements.txt", folder / "requirements.txt")
    return folder


def registered(consumer_dir: Path, **spec) -> Engine:
    engine = Engine(preview=False)
    engine.run(lambda: AwsQueue("orders", {"consumer": {"code_path": str(consumer_dir), "handler": "orders_handler.handle"}, **spec}))
    return engine


def wait_until_drained(sqs, queue_url: str, server) -> float:
    """Seconds until nothing is left on the queue, visible or in flight; bounded."""
    started = time.monotonic()
    while time.monotonic() - started < DRAIN_TIMEOUT_SECONDS:
        attributes = sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"]
        )["Attributes"]
        if all(value == "0" for value in attributes.values()):
            return time.monotonic() - started
        time.sleep(0.5)
    raise TimeoutError(f"{queue_url} not drained in {DRAIN_TIMEOUT_SECONDS} s: {attributes}\n{server.log_tail()}")


def warm_workers(lambda_, engine: Engine) -> None:
    """Start as many workers as the mapping may run at once, before the load arrives.

    Each ministack worker imports botocore when it starts: ten of them at once on two cores take
    seconds, longer than the shortened visibility timeout, so a first batch would reappear and run
    twice. On Lambda a cold start is well under a second against the recorded 180 s. The warm-up
    is an empty SQS event through the real adapter, invoked concurrently.
    """
    concurrency = int(engine.one(MAPPING).inputs["scalingConfig"]["maximumConcurrency"])
    name = engine.one(FUNCTION).outputs["name"]

    def invoke(_):
        response = lambda_.invoke(FunctionName=name, Payload=json.dumps({"Records": []}).encode())
        return response.get("FunctionError"), json.loads(response["Payload"].read())

    with ThreadPoolExecutor(concurrency) as pool:
        assert set(map(json.dumps, (result for result in pool.map(invoke, range(concurrency))))) == {json.dumps([None, {"batchItemFailures": []}])}


def attempts_by_message(results_file: Path) -> tuple[list[dict], dict[str, list[dict]]]:
    lines = [json.loads(line) for line in results_file.read_text().splitlines()] if results_file.exists() else []
    by_id: dict[str, list[dict]] = defaultdict(list)
    for line in lines:
        by_id[line["id"]].append(line)
    return lines, by_id


def test_ministack_holds_what_aws_queue_registered_under_the_same_arns(ministack, e2e_consumer):
    engine = registered(e2e_consumer, max_delivery_attempts=MAX_DELIVERY_ATTEMPTS)
    deployment = apply(engine.all(), ministack.client, visibility_timeout=VISIBILITY_SECONDS)
    sqs, lambda_, iam = ministack.client("sqs"), ministack.client("lambda"), ministack.client("iam")
    # Every resource the component registered was applied, each with its own call(s).
    assert {call.split()[1] for call in deployment.calls} == {r.name for r in engine.all() if r.type != COMPONENT}

    for queue in engine.all(QUEUE):
        held = sqs.get_queue_attributes(QueueUrl=deployment.queue_urls[queue.name], AttributeNames=["All"])["Attributes"]
        assert held["QueueArn"] == queue.outputs["arn"]  # what the redrive policy, policies and mapping name
        assert deployment.responses[queue.name]["attributes"].items() <= held.items()
    assert deployment.visibility == {"orders-queue": (180, VISIBILITY_SECONDS)}  # the only value changed
    dead_letter = sqs.get_queue_attributes(QueueUrl=deployment.queue_urls["orders-dead-letter"], AttributeNames=["All"])["Attributes"]
    assert json.loads(dead_letter["RedriveAllowPolicy"]) == {"redrivePermission": "byQueue", "sourceQueueArns": [engine.one(QUEUE, "-queue").outputs["arn"]]}
    for policy in engine.all("aws:sqs/queuePolicy:QueuePolicy"):
        held = sqs.get_queue_attributes(QueueUrl=deployment.mock_queue_urls[policy.inputs["queueUrl"]], AttributeNames=["Policy"])["Attributes"]
        assert json.loads(held["Policy"]) == json.loads(policy.inputs["policy"])

    role_policy = engine.one(ROLE_POLICY)
    held = iam.get_role_policy(RoleName=role_policy.inputs["role"], PolicyName=role_policy.outputs["name"])["PolicyDocument"]
    assert (json.loads(held) if isinstance(held, str) else held) == json.loads(role_policy.inputs["policy"])

    layer, function, mapping = engine.one(LAYER), engine.one(FUNCTION), engine.one(MAPPING)
    assert deployment.responses[layer.name]["LayerVersionArn"] == function.inputs["layers"][0]
    assert deployment.responses[layer.name]["Content"]["CodeSha256"] == layer.inputs["sourceCodeHash"]
    config = lambda_.get_function_configuration(FunctionName=function.outputs["name"])
    assert config["FunctionArn"] == mapping.inputs["functionName"] == function.outputs["arn"]
    assert config["CodeSha256"] == function.inputs["sourceCodeHash"]
    assert [layer["Arn"] for layer in config["Layers"]] == function.inputs["layers"]
    assert config["Environment"]["Variables"] == function.inputs["environment"]["variables"]
    assert config["LoggingConfig"]["LogGroup"] == engine.one("aws:cloudwatch/logGroup:LogGroup").outputs["name"]
    assert (config["Role"], config["Handler"], config["Runtime"], config["Architectures"]) == (
        function.inputs["role"], "cloudqueue_runtime.aws.handler", "python3.12", ["arm64"]
    )
    held = lambda_.get_event_source_mapping(UUID=deployment.responses[mapping.name]["UUID"])
    assert held["EventSourceArn"] == mapping.inputs["eventSourceArn"] == engine.one(QUEUE, "-queue").outputs["arn"]
    assert held["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert (held["BatchSize"], held["MaximumBatchingWindowInSeconds"], held["ScalingConfig"]) == (
        int(mapping.inputs["batchSize"]), int(mapping.inputs["maximumBatchingWindowInSeconds"]), {"MaximumConcurrency": int(mapping.inputs["scalingConfig"]["maximumConcurrency"])}
    )
    # The redrive the RedriveAllowPolicy exists for cannot be tried here: when this starts to
    # pass, a ministack upgrade brought message move tasks, and a redrive test belongs here.
    with pytest.raises(botocore.exceptions.ClientError, match="InvalidAction"):
        sqs.start_message_move_task(SourceArn=engine.one(QUEUE, "-dead-letter").outputs["arn"])


def test_the_dead_letter_alarms_are_defined_on_the_dlq_and_their_state_change_reaches_the_topic(ministack, e2e_consumer):
    engine = registered(e2e_consumer, alarms={"notify": {"aws": ["ops@example.com"]}})
    deployment = apply(engine.all(), ministack.client, visibility_timeout=VISIBILITY_SECONDS)
    assert {call.split()[1] for call in deployment.calls} == {r.name for r in engine.all() if r.type != COMPONENT}
    cloudwatch, sns, sqs = ministack.client("cloudwatch"), ministack.client("sns"), ministack.client("sqs")
    topic, dead_letter = engine.one(TOPIC).outputs["arn"], engine.one(QUEUE, "-dead-letter").outputs["name"]
    held = {alarm["AlarmName"]: alarm for alarm in cloudwatch.describe_alarms()["MetricAlarms"]}
    for alarm in engine.all(ALARM):
        stored = held[alarm.outputs["name"]]
        assert stored["Dimensions"] == [{"Name": "QueueName", "Value": dead_letter}]
        assert (stored["Namespace"], stored["MetricName"], stored["Statistic"], stored["Period"]) == ("AWS/SQS", alarm.inputs["metricName"], "Maximum", 60)
        assert stored["AlarmActions"] == stored["OKActions"] == [topic]
    assert [(s["Protocol"], s["Endpoint"]) for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]] == [("email", "ops@example.com")]

    # A probe the test adds (not the component): an SQS queue subscribed to the alarm topic.
    probe = sqs.create_queue(QueueName="alarm-probe")["QueueUrl"]
    probe_arn = sqs.get_queue_attributes(QueueUrl=probe, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=probe_arn)
    count_alarm = engine.one(ALARM, "-dead-letter-alarm").outputs["name"]
    cloudwatch.set_alarm_state(AlarmName=count_alarm, StateValue="ALARM", StateReason="e2e: a message was dead-lettered")
    # SNS delivers asynchronously: wait for it, bounded.
    received = sqs.receive_message(QueueUrl=probe, MaxNumberOfMessages=10, WaitTimeSeconds=10).get("Messages", [])
    (message,) = received + drain_messages(sqs, probe)
    envelope = json.loads(message["Body"])
    notification = json.loads(envelope["Message"]) if envelope.get("Type") == "Notification" else envelope
    assert (notification["AlarmName"], notification["NewStateValue"]) == (count_alarm, "ALARM")
    assert notification["Trigger"]["MetricName"] == "ApproximateNumberOfMessagesVisible" and "cloudqueue dlq peek" in notification["AlarmDescription"]


def test_mixed_load_through_ministacks_mapping_dead_letters_exactly_the_poison_and_malformed(ministack, e2e_consumer, results_file):
    assert Counter(kind(n) for n in range(SENT)) == kinds(SENT)  # the consumer's load is the emulated tests' load
    engine = registered(e2e_consumer, max_delivery_attempts=MAX_DELIVERY_ATTEMPTS)
    assert json.loads(engine.one(QUEUE, "-queue").inputs["redrivePolicy"])["maxReceiveCount"] == MAX_DELIVERY_ATTEMPTS
    deployment = apply(engine.all(), ministack.client, visibility_timeout=VISIBILITY_SECONDS)
    sqs = ministack.client("sqs")
    queue, dead_letter = deployment.queue_urls["orders-queue"], deployment.queue_urls["orders-dead-letter"]

    warm_workers(ministack.client("lambda"), engine)
    sent = send(sqs, queue, [{"n": n} for n in range(SENT)])
    malformed = {sqs.send_message(QueueUrl=queue, MessageBody=body)["MessageId"]: body for body in MALFORMED}
    elapsed = wait_until_drained(sqs, queue, ministack)
    dead = drain_messages(sqs, dead_letter)

    lines, attempts = attempts_by_message(results_file)
    handled = [line["id"] for line in lines if line["outcome"] == "handled"]
    dead_ids = [m["MessageId"] for m in dead]
    assert len(set(sent) | set(malformed)) == SENT + len(MALFORMED)
    # Sent = handled + dead-lettered: nothing lost, nothing handled twice, nothing dead-lettered twice.
    assert sorted(handled + dead_ids) == sorted([*sent, *malformed])
    assert Counter(attempts[i][-1]["kind"] for i in handled) == {"healthy": kinds(SENT)["healthy"], "transient": kinds(SENT)["transient"]}
    # Exactly the poison and the malformed bodies are dead-lettered: nothing healthy, bodies intact.
    assert sorted(sent[m["MessageId"]] for m in dead if m["MessageId"] in sent) == list(range(0, SENT, 20))
    assert {m["MessageId"]: m["Body"] for m in dead if m["MessageId"] in malformed} == malformed
    assert {m["Attributes"]["DeadLetterQueueSourceArn"] for m in dead} == {engine.one(QUEUE, "-queue").outputs["arn"]}
    # Each dead-lettered message was received exactly max_delivery_attempts times; a transient one twice.
    for message_id in dead_ids:
        assert [line["attempt"] for line in attempts[message_id]] == list(range(1, MAX_DELIVERY_ATTEMPTS + 1)), message_id
    expected = {"healthy": [1], "transient": [1, 2], "poison": list(range(1, MAX_DELIVERY_ATTEMPTS + 1))}
    for message_id, n in sent.items():
        assert [line["attempt"] for line in attempts[message_id]] == expected[kind(n)], (n, attempts[message_id])
    # The handler's third-party import came from the layer, not from ministack's own venv.
    assert {line["dateutil"].endswith("/python/dateutil/__init__.py") and str(ministack.venv) not in line["dateutil"] for line in lines} == {True}
    print(
        f"\nministack mixed load: sent {len(sent) + len(malformed)}, handled {len(handled)}, dead-lettered {len(dead_ids)} "
        f"({len(dead_ids) - len(malformed)} poison, {len(malformed)} malformed), {len(lines)} deliveries, drained in {elapsed:.1f} s, "
        f"{len({line['pid'] for line in lines})} worker processes on Python {lines[0]['python']}"
    )


def test_fifo_through_ministacks_mapping_keeps_each_groups_order(ministack, e2e_consumer, results_file):
    engine = registered(e2e_consumer, fifo=True, max_delivery_attempts=MAX_DELIVERY_ATTEMPTS)
    mapping = engine.one(MAPPING)
    assert "maximumBatchingWindowInSeconds" not in mapping.inputs  # FIFO sources reject a batching window
    deployment = apply(engine.all(), ministack.client, visibility_timeout=VISIBILITY_SECONDS)
    sqs = ministack.client("sqs")
    queue, dead_letter = deployment.queue_urls["orders-queue"], deployment.queue_urls["orders-dead-letter"]
    assert queue.endswith(".fifo") and dead_letter.endswith(".fifo")

    # As in the emulated FIFO test: three groups, no poison (a poison message blocks its group
    # until it is dead-lettered), transient orders that fail once and must still be handled in place.
    bodies = [{"n": n, "group": "abc"[n % 3]} for n in range(1, 61) if n % 20]
    warm_workers(ministack.client("lambda"), engine)
    sent = send(sqs, queue, bodies, fifo=True)
    wait_until_drained(sqs, queue, ministack)

    lines, attempts = attempts_by_message(results_file)
    handled = [line for line in lines if line["outcome"] == "handled"]
    assert sorted(line["id"] for line in handled) == sorted(sent)  # each handled once
    for group in "abc":
        assert [line["n"] for line in handled if line["group"] == group] == [b["n"] for b in bodies if b["group"] == group]
    # A transient order fails once, then is handled. The records after a failure in a batch are
    # returned unprocessed (the adapter stops at a FIFO failure): they come back, in place, with a
    # higher receive count, so an order may be handled on a later attempt without failing first.
    for message_id, n in sent.items():
        seen = attempts[message_id]
        fails_once = kind(n) == "transient" and seen[0]["attempt"] == 1
        assert [line["outcome"] for line in seen] == ["failed"] * fails_once + ["handled"], (n, seen)
        assert seen[0]["attempt"] < MAX_DELIVERY_ATTEMPTS and [line["attempt"] for line in seen] == sorted({line["attempt"] for line in seen}), (n, seen)
    assert drain_messages(sqs, dead_letter) == []


def test_dev_stack_as_shipped_runs_the_orders_consumer_on_ministack(ministack):
    """The dev stack's AWS resources, unchanged but for the visibility timeout: the real consumers/orders
    handler with its dateutil layer, its customer-managed key ARNs (stored; ministack encrypts nothing)
    and its log group, where the function's output lands."""
    engine = Engine(preview=False, stack="dev")
    run_main(engine, load_stack_config("dev"))
    aws = [r for r in engine.all() if r.type.startswith("aws:")]
    deployment = apply(aws, ministack.client, visibility_timeout=VISIBILITY_SECONDS)
    sqs, logs = ministack.client("sqs"), ministack.client("logs")
    (queue,) = [r for r in aws if r.type == QUEUE and "redrivePolicy" in r.inputs]
    (dead_letter,) = [r for r in aws if r.type == QUEUE and "redrivePolicy" not in r.inputs]
    function = engine.one(FUNCTION)
    held = sqs.get_queue_attributes(QueueUrl=deployment.queue_urls[queue.name], AttributeNames=["KmsMasterKeyId"])["Attributes"]
    assert held["KmsMasterKeyId"] == queue.inputs["kmsMasterKeyId"] == json.loads(load_stack_config("dev")["cloudqueue:queues"])["orders"]["encryption_keys"]["aws"]

    warm_workers(ministack.client("lambda"), engine)
    for body in ({"order_id": 1, "placed_at": "2026-11-29T10:00:00Z"}, {"order_id": 2}):
        sqs.send_message(QueueUrl=deployment.queue_urls[queue.name], MessageBody=json.dumps(body))
    bad = sqs.send_message(QueueUrl=deployment.queue_urls[queue.name], MessageBody=json.dumps({"n": 3}))["MessageId"]
    wait_until_drained(sqs, deployment.queue_urls[queue.name], ministack)

    events = [e["message"] for page in logs.get_paginator("filter_log_events").paginate(logGroupName=function.inputs["loggingConfig"]["logGroup"]) for e in page["events"]]
    assert "order 1 placed 2026-11-29 10:00:00+00:00 received on aws (attempt 1)" in events  # dateutil, from the layer
    assert "order 2 placed at an unknown time received on aws (attempt 1)" in events
    failures = [json.loads(e) for e in events if e.startswith("{") and '"cloudqueue: message failed"' in e]
    assert sorted(f["delivery_attempt"] for f in failures if f["message_id"] == bad) == list(range(1, MAX_DELIVERY_ATTEMPTS + 1))
    assert {(f["queue"], f["exception_type"]) for f in failures} == {("orders", "ValueError")}
    assert [m["MessageId"] for m in drain_messages(sqs, deployment.queue_urls[dead_letter.name])] == [bad]
