"""Delivery semantics end to end: poison, transient, partial-batch, FIFO and malformed messages.

AWS runs on moto's SQS with the queue and dead-letter queue the AWS component records for the
spec (retention, visibility timeout, FIFO and its redrive maxReceiveCount), drained by an
event-source-mapping poller through the real Lambda adapter; moto's clock is moved by hand, so a
visibility timeout passes without being waited for.
Google Cloud runs the generated entry point in the Functions Framework, Azure the generated
trigger with real ServiceBusMessage objects, both under the same load. Every scenario counts:
sent = handled (unique ids) + dead-lettered, with nothing lost and nothing dead-lettered twice.
"""

from __future__ import annotations

import importlib.util
import json
import uuid
import zipfile
from collections import Counter

import functions_framework
import pytest

from components import AwsQueue, artifact
from components import azure as azure_component
from components import gcp as gcp_component
from components.spec import validate
from pulumi_mocks import Engine
from emulators import EventSourceMapping, PushSubscription, ServiceBusQueue, SqsClock, create_queues_like_the_component, drain_messages

SENT = 500

# 5% poison (always raise), 10% transient (fail the first attempt only), the rest healthy.
MIXED_HANDLER = """
import collections
attempts = collections.defaultdict(list)   # n -> delivery attempts seen
handled = {}                               # message id -> n, for every success
order = collections.defaultdict(list)      # group -> n in handled order

def kind(n):
    return "poison" if n % 20 == 0 else "transient" if n % 10 == 5 else "healthy"

def handle(message):
    body = message.json()
    n = body["n"]
    attempts[n].append(message.delivery_attempt)
    if kind(n) == "poison" or (kind(n) == "transient" and len(attempts[n]) == 1):
        raise RuntimeError(f"order {n} failed")
    handled[message.id] = n
    order[body.get("group")].append(n)
"""


def kinds(count: int) -> Counter:
    return Counter("poison" if n % 20 == 0 else "transient" if n % 10 == 5 else "healthy" for n in range(count))


@pytest.fixture
def clock(monkeypatch) -> SqsClock:
    return SqsClock(monkeypatch)


@pytest.fixture
def handler(user_module):
    user_module(MIXED_HANDLER)
    import orders_handler

    return orders_handler


def component_queues(consumer_dir, **spec) -> tuple[dict, dict, dict]:
    """The AWS component's recorded inputs for the queue, its DLQ and its event source mapping."""
    engine = Engine(preview=False)
    engine.run(lambda: AwsQueue("orders", {"consumer": {"code_path": str(consumer_dir), "handler": "handler.handle"}, **spec}))
    queue, dead_letter = engine.one("aws:sqs/queue:Queue", "-queue"), engine.one("aws:sqs/queue:Queue", "-dead-letter")
    return queue.inputs, dead_letter.inputs, engine.one("aws:lambda/eventSourceMapping:EventSourceMapping").inputs


def send(sqs, queue_url: str, bodies: list[dict], fifo: bool = False) -> dict[str, int]:
    """Send in batches of 10, as producers do; returns message id -> n."""
    sent = {}
    for start in range(0, len(bodies), 10):
        chunk = bodies[start : start + 10]
        entries = [
            {"Id": str(i), "MessageBody": json.dumps(body), **({"MessageGroupId": body["group"], "MessageDeduplicationId": str(body["n"])} if fifo else {})}
            for i, body in enumerate(chunk)
        ]
        for done in sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)["Successful"]:
            sent[done["MessageId"]] = chunk[int(done["Id"])]["n"]
    return sent


def test_mixed_load_dead_letters_exactly_the_poison_after_max_attempts_on_sqs(sqs, clock, handler, consumer_dir):
    queue_inputs, dead_letter_inputs, mapping = component_queues(consumer_dir, max_delivery_attempts=5)
    queue, dead_letter = create_queues_like_the_component(sqs, queue_inputs, dead_letter_inputs)
    sent = send(sqs, queue, [{"n": n} for n in range(SENT)])
    EventSourceMapping(sqs, queue, int(mapping["batchSize"]), clock=clock).drain()

    dead = drain_messages(sqs, dead_letter)
    dead_ids = [m["MessageId"] for m in dead]
    assert len(dead_ids) == len(set(dead_ids))  # nothing dead-lettered twice
    assert set(handler.handled) | set(dead_ids) == set(sent) and not set(handler.handled) & set(dead_ids)  # nothing lost
    assert sorted(json.loads(m["Body"])["n"] for m in dead) == sorted(n for n in range(SENT) if n % 20 == 0)
    for n in range(0, SENT, 20):
        assert handler.attempts[n] == [1, 2, 3, 4, 5]  # exactly max_delivery_attempts receives
    assert all(handler.attempts[n] == [1, 2] for n in range(5, SENT, 10))  # every transient handled on its retry
    assert len(handler.handled) == kinds(SENT)["healthy"] + kinds(SENT)["transient"]


def test_one_failure_in_a_batch_of_ten_redelivers_only_that_message(sqs, clock, user_module, consumer_dir):
    user_module("seen = []\ndef handle(message):\n    seen.append(message.id)\n    if message.json()['n'] == 3 and message.delivery_attempt == 1:\n        raise ValueError('once')\n")
    queue_inputs, dead_letter_inputs, mapping = component_queues(consumer_dir)
    queue, dead_letter = create_queues_like_the_component(sqs, queue_inputs, dead_letter_inputs)
    sent = send(sqs, queue, [{"n": n} for n in range(10)])
    poller = EventSourceMapping(sqs, queue, int(mapping["batchSize"]), clock=clock)
    poller.drain()
    retried = next(message_id for message_id, n in sent.items() if n == 3)
    assert poller.receives == {message_id: 2 if message_id == retried else 1 for message_id in sent}
    assert drain_messages(sqs, dead_letter) == []


def test_fifo_keeps_each_groups_order_and_a_failure_blocks_only_its_group(sqs, clock, handler, consumer_dir):
    queue_inputs, dead_letter_inputs, mapping = component_queues(consumer_dir, fifo=True, max_delivery_attempts=5)
    assert queue_inputs["fifoQueue"] is True and queue_inputs["contentBasedDeduplication"] is True
    queue, dead_letter = create_queues_like_the_component(sqs, queue_inputs, dead_letter_inputs)
    # Three groups; order 5 (group "a") is transient: it fails once and must still be handled in place.
    bodies = [{"n": n, "group": "abc"[n % 3]} for n in range(1, 31) if n % 20]
    send(sqs, queue, bodies, fifo=True)
    EventSourceMapping(sqs, queue, int(mapping["batchSize"]), clock=clock).drain()
    for group in "abc":
        assert handler.order[group] == [b["n"] for b in bodies if b["group"] == group]
    assert handler.attempts[5] == [1, 2]
    assert drain_messages(sqs, dead_letter) == []


def test_fifo_adapter_reports_the_rest_of_the_batch_after_the_first_failure(sqs, handler, consumer_dir):
    from cloudqueue_runtime import aws

    records = [{"messageId": f"m{n}", "body": json.dumps({"n": n, "group": "a"}), "attributes": {"ApproximateReceiveCount": "1", "MessageGroupId": "a"}} for n in (1, 5, 6, 7)]
    response = aws.handler({"Records": records}, None)
    assert response == {"batchItemFailures": [{"itemIdentifier": f"m{n}"} for n in (5, 6, 7)]}
    assert handler.order["a"] == [1]


def test_malformed_body_ends_in_the_dead_letter_queue_intact(sqs, clock, handler, consumer_dir):
    queue_inputs, dead_letter_inputs, mapping = component_queues(consumer_dir, max_delivery_attempts=5)
    queue, dead_letter = create_queues_like_the_component(sqs, queue_inputs, dead_letter_inputs)
    sqs.send_message(QueueUrl=queue, MessageBody="{'n': 1,  not json")
    send(sqs, queue, [{"n": 1}])
    EventSourceMapping(sqs, queue, int(mapping["batchSize"]), clock=clock).drain()
    (dead,) = drain_messages(sqs, dead_letter)
    assert dead["Body"] == "{'n': 1,  not json"
    assert list(handler.handled.values()) == [1]


# --- the other clouds' adapters under the same load -------------------------------------------------


def extracted_package(tmp_path, cloud: str, handler_source: str):
    code = tmp_path / "consumer"
    code.mkdir(exist_ok=True)
    (code / "orders_handler.py").write_text(handler_source)
    spec = validate("orders", {"clouds": [cloud], "consumer": {"code_path": str(code), "handler": "orders_handler.handle"}})
    generator = {"azure": azure_component, "gcp": gcp_component}[cloud]
    package = artifact.build(code, out_dir=tmp_path / "out", generated=generator.generated_files(spec))
    site = tmp_path / f"site-{cloud}"
    zipfile.ZipFile(package.path).extractall(site)
    return site


def test_mixed_load_through_the_gcp_entry_point_dead_letters_exactly_the_poison(tmp_path, handler):
    site = extracted_package(tmp_path, "gcp", MIXED_HANDLER)
    client = functions_framework.create_app(target="consume", source=str(site / "main.py"), signature_type="http").test_client()
    subscription = PushSubscription(client, max_delivery_attempts=5)
    for n in range(SENT):
        subscription.publish_and_deliver(json.dumps({"n": n}).encode())
    dead_ids = [message_id for message_id, _, _ in subscription.dead_lettered]
    assert len(subscription.acked) + len(dead_ids) == SENT and len(set(dead_ids)) == len(dead_ids)
    assert sorted(json.loads(data)["n"] for _, data, _ in subscription.dead_lettered) == list(range(0, SENT, 20))
    assert all(attempts == 5 for _, _, attempts in subscription.dead_lettered)
    assert all(handler.attempts[n] == [1, 2] for n in range(5, SENT, 10))


def test_mixed_load_through_the_azure_trigger_dead_letters_exactly_the_poison(tmp_path, handler):
    site = extracted_package(tmp_path, "azure", MIXED_HANDLER)
    module_spec = importlib.util.spec_from_file_location(f"function_app_{uuid.uuid4().hex}", site / "function_app.py")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    (function,) = module.app.get_functions()
    queue = ServiceBusQueue(max_delivery_count=5)
    sent = {queue.send(json.dumps({"n": n}).encode()): n for n in range(SENT)}
    queue.drain(function.get_user_function())
    dead_ids = [message_id for message_id, _, _ in queue.dead_letter]
    assert set(queue.completed) | set(dead_ids) == set(sent) and len(set(dead_ids)) == len(dead_ids)
    assert sorted(sent[m] for m in dead_ids) == list(range(0, SENT, 20))
    assert all(count == 5 for _, _, count in queue.dead_letter)
    assert all(handler.attempts[n] == [1, 2] for n in range(5, SENT, 10))
