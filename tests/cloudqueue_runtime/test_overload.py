"""Equivalent semantics under overload: a burst of 10x the consumer's capacity on each cloud.

Every consumer setting comes from what the dev stack registers for its `orders` queue (the mock
engine's recorded inputs and the function packages it built), never re-typed. The handler takes
a fixed simulated time per message; the clocks are simulated, so nothing sleeps.
- AWS: moto SQS with the component's queue and redrive, drained by a mapping that keeps at most
  `scalingConfig.maximumConcurrency` batches in flight, through the real Lambda adapter.
- Azure: the generated trigger from the dev package, fed by a Functions host of
  `maximumInstanceCount` x host.json `maxConcurrentCalls` slots with host.json's prefetch.
- Google Cloud: the generated entry point in the Functions Framework behind a Cloud Run model of
  `maxInstanceCount` x `maxInstanceRequestConcurrency`, pushed by Pub/Sub with the subscription's
  dead-letter and retry policies; refused pushes (429) count as delivery attempts.
Run with `-s` to print the figures the README quotes.
"""

from __future__ import annotations

import importlib.util
import json
import random
import uuid
import zipfile
from importlib import import_module

import functions_framework
import pytest

from components.spec import LIMITS, gcp_attempts_for_burst, gcp_safe_burst
from emulators import (
    CLOUD_RUN_PENDING_SECONDS,
    CappedPushSubscription,
    ConcurrencyLimitedMapping,
    FunctionsHost,
    ServiceBusQueue,
    SqsClock,
    create_queues_like_the_component,
    drain_messages,
)
from pulumi_mocks import ran_stack

pytestmark = pytest.mark.xdist_group("stacks")  # the dev stack runs once per worker (ran_stack)

BURST = 10  # times the consumer's capacity
HANDLER_SECONDS = 2  # the workload: each message takes 2 s; a batch of 10 fits the dev Lambda's 30 s

OVERLOAD_HANDLER = """
runs = {}  # message id -> the delivery attempt each run saw
def handle(message):
    runs.setdefault(message.id, []).append(message.delivery_attempt)
"""


def report(cloud: str, capacity: int, sent: int, handled: int, dead: list, unrun: int, note: str) -> None:
    print(f"\noverload | {cloud} | capacity {capacity} | sent {sent} | handled {handled} | dead-lettered {len(dead)} ({unrun} never run) | {note}")


def seconds(duration: str) -> float:
    """A Pub/Sub duration ("600s") in seconds."""
    return float(duration.removesuffix("s"))


def iso_seconds(duration: str) -> int:
    """An ISO 8601 time duration as Service Bus takes it (PT3M, PT30S) in seconds."""
    units = {"H": 3600, "M": 60, "S": 1}
    total, number = 0, ""
    for char in duration.removeprefix("PT"):
        if char.isdigit():
            number += char
        else:
            total, number = total + int(number) * units[char], ""
    return total


def clock_seconds(duration: str) -> int:
    """A host.json time span ("00:00:30") in seconds."""
    hours, minutes, secs = (int(part) for part in duration.split(":"))
    return hours * 3600 + minutes * 60 + secs


@pytest.fixture(scope="module")
def dev():
    """The dev stack as the mock engine recorded it."""
    return ran_stack("dev", False)[0]


@pytest.fixture
def handler(user_module):
    user_module(OVERLOAD_HANDLER)
    return import_module("orders_handler")


def extracted(package: str, tmp_path, cloud: str):
    site = tmp_path / f"site-{cloud}"
    zipfile.ZipFile(package).extractall(site)
    return site


# --- AWS ---------------------------------------------------------------------------------------


def test_aws_burst_waits_in_the_queue_and_nothing_unprocessed_is_dead_lettered(dev, sqs, monkeypatch, handler):
    queue_inputs = dev.one("aws:sqs/queue:Queue", "orders-aws-queue").inputs
    dead_letter_inputs = dev.one("aws:sqs/queue:Queue", "orders-aws-dead-letter").inputs
    mapping = dev.one("aws:lambda/eventSourceMapping:EventSourceMapping", "orders-aws-consumer-trigger").inputs
    function = dev.one("aws:lambda/function:Function", "orders-aws-consumer").inputs
    batch_size, concurrency = int(mapping["batchSize"]), int(mapping["scalingConfig"]["maximumConcurrency"])
    assert batch_size * HANDLER_SECONDS < function["timeout"]  # a full batch finishes inside the Lambda timeout
    module, _, name = function["handler"].rpartition(".")
    clock = SqsClock(monkeypatch)
    started = clock.now
    queue, dead_letter = create_queues_like_the_component(sqs, queue_inputs, dead_letter_inputs)
    capacity = concurrency * batch_size
    sent = set()
    for start in range(0, BURST * capacity, 10):
        entries = [{"Id": str(i), "MessageBody": json.dumps({"n": start + i})} for i in range(10)]
        sent |= {done["MessageId"] for done in sqs.send_message_batch(QueueUrl=queue, Entries=entries)["Successful"]}

    poller = ConcurrencyLimitedMapping(sqs, queue, batch_size, concurrency, HANDLER_SECONDS, clock, getattr(import_module(module), name))
    poller.drain()

    dead = drain_messages(sqs, dead_letter)
    report("aws", capacity, len(sent), len(handler.runs), dead, len(dead), f"receive counts {sorted(set(poller.receives.values()))}; drained in {clock.now - started:.0f} s")
    assert dead == [] and set(handler.runs) == sent
    assert set(poller.receives.values()) == {1}  # waiting for a free batch never counted as a receive
    assert poller.most_in_flight == concurrency


# --- Azure -------------------------------------------------------------------------------------


def azure_consumer(dev, tmp_path):
    """(trigger, instances, host.json, queue inputs) of the dev orders queue."""
    package = dev.one("pulumi-python:dynamic/cloudqueue:FunctionAppPackage", "orders-azure-package").inputs["package_path"]
    site = extracted(package, tmp_path, "azure")
    module_spec = importlib.util.spec_from_file_location(f"function_app_{uuid.uuid4().hex}", site / "function_app.py")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    (function,) = module.app.get_functions()
    app = dev.one("azure-native:web:WebApp", "orders-azure-consumer").inputs
    instances = int(app["functionAppConfig"]["scaleAndConcurrency"]["maximumInstanceCount"])
    host_json = json.loads((site / "host.json").read_text())
    return function.get_user_function(), instances, host_json, dev.one("azure-native:servicebus:Queue", "orders-azure-queue").inputs


def azure_burst(dev, tmp_path, handler_seconds: float, prefetch: int | None = None) -> tuple[ServiceBusQueue, FunctionsHost, dict[str, int]]:
    trigger, instances, host_json, queue_inputs = azure_consumer(dev, tmp_path)
    service_bus = host_json["extensions"]["serviceBus"]
    calls = service_bus["maxConcurrentCalls"]
    queue = ServiceBusQueue(max_delivery_count=int(queue_inputs["maxDeliveryCount"]))
    sent = {queue.send(json.dumps({"n": n}).encode()): n for n in range(BURST * instances * calls)}
    host = FunctionsHost(
        queue, instances, calls, handler_seconds, iso_seconds(queue_inputs["lockDuration"]), service_bus["prefetchCount"] if prefetch is None else prefetch
    )
    host.run(trigger)
    return queue, host, sent


def test_azure_burst_waits_unlocked_in_the_queue_and_nothing_unprocessed_is_dead_lettered(dev, tmp_path, handler):
    queue, host, sent = azure_burst(dev, tmp_path, HANDLER_SECONDS)
    capacity = host.capacity
    report("azure", capacity, len(sent), len(handler.runs), queue.dead_letter, len(queue.dead_letter), f"drained in {host.loop.now:.0f} s")
    assert queue.dead_letter == [] and set(queue.completed) == set(sent)
    assert {attempts[0] for attempts in handler.runs.values()} == {1}  # waiting for a slot never counted a delivery
    assert host.most_busy == capacity


def test_azure_prefetch_zero_keeps_slow_messages_from_burning_delivery_counts_while_they_wait(dev, tmp_path, handler):
    """With a prefetch (100 in Microsoft's host.json samples) locks run out in the buffer and count deliveries."""
    timeout = clock_seconds(azure_consumer(dev, tmp_path / "probe")[2]["functionTimeout"])
    queue, host, sent = azure_burst(dev, tmp_path, timeout)
    report("azure (handler at its timeout)", host.capacity, len(sent), len(queue.completed), queue.dead_letter, 0, f"prefetch {host.prefetch}; drained in {host.loop.now:.0f} s")
    assert host.prefetch == 0 and queue.dead_letter == [] and set(queue.completed) == set(sent)
    assert {handler.runs[message_id][0] for message_id in sent} == {1}

    prefetching, host, sent = azure_burst(dev, tmp_path / "prefetch", timeout, prefetch=100)
    burnt = [message_id for message_id in sent if handler.runs[message_id][0] > 1]
    report("azure (prefetch 100)", host.capacity, len(sent), len(prefetching.completed), prefetching.dead_letter, 0, f"handler {timeout} s: {len(burnt)} messages ran first on delivery 2+")
    assert burnt and set(prefetching.completed) == set(sent)


# --- Google Cloud ------------------------------------------------------------------------------


def gcp_subscription(dev, tmp_path, handler_seconds: float, max_delivery_attempts: int | None = None, push_window: int | None = None) -> CappedPushSubscription:
    """The dev orders subscription pushing into its function, capped as the function is."""
    function = dev.one("gcp:cloudfunctionsv2/function:Function", "orders-gcp-consumer").inputs
    subscription = dev.one("gcp:pubsub/subscription:Subscription", "orders-gcp-subscription").inputs
    package = dev.one("gcp:storage/bucketObject:BucketObject", "orders-gcp-source").inputs["source"].path
    site = extracted(package, tmp_path, "gcp")
    client = functions_framework.create_app(target=function["buildConfig"]["entryPoint"], source=str(site / "main.py"), signature_type="http").test_client()
    service = function["serviceConfig"]
    return CappedPushSubscription(
        client,
        max_delivery_attempts or int(subscription["deadLetterPolicy"]["maxDeliveryAttempts"]),
        seconds(subscription["retryPolicy"]["minimumBackoff"]),
        seconds(subscription["retryPolicy"]["maximumBackoff"]),
        int(service["maxInstanceCount"]),
        int(service["maxInstanceRequestConcurrency"]),
        handler_seconds,
        push_window=push_window,
    )


def unrun(subscription: CappedPushSubscription) -> list[str]:
    return [message_id for message_id, _, _ in subscription.dead_lettered if not subscription.runs[message_id]]


def test_gcp_burst_at_the_workload_handler_time_is_within_the_bound_and_nothing_unprocessed_is_dead_lettered(dev, tmp_path, handler):
    subscription = gcp_subscription(dev, tmp_path, HANDLER_SECONDS)
    capacity, attempts = subscription.capacity, subscription.max_delivery_attempts
    subscription.burst([json.dumps({"n": n}).encode() for n in range(BURST * capacity)])
    safe = gcp_safe_burst(capacity, attempts, HANDLER_SECONDS)
    report("gcp", capacity, BURST * capacity, len(handler.runs), subscription.dead_lettered, len(unrun(subscription)), f"{subscription.refused} pushes refused (429); guaranteed burst {safe}")
    assert BURST * capacity <= safe
    assert subscription.dead_lettered == [] and len(subscription.acked) == BURST * capacity
    # Refusals were counted: messages the function ran once saw deliveryAttempt 2.
    assert subscription.refused and {attempts[0] for attempts in handler.runs.values()} == {1, 2}
    assert all(len(attempts) == 1 for attempts in handler.runs.values())


def test_gcp_defaults_dead_letter_unprocessed_messages_when_each_takes_the_function_timeout(dev, tmp_path, handler):
    timeout = dev.one("gcp:cloudfunctionsv2/function:Function", "orders-gcp-consumer").inputs["serviceConfig"]["timeoutSeconds"]
    subscription = gcp_subscription(dev, tmp_path, timeout)
    capacity, attempts = subscription.capacity, subscription.max_delivery_attempts
    subscription.burst([json.dumps({"n": n}).encode() for n in range(BURST * capacity)])
    report("gcp (handler at its timeout)", capacity, BURST * capacity, len(handler.runs), subscription.dead_lettered, len(unrun(subscription)), f"{subscription.refused} refused; guaranteed burst {gcp_safe_burst(capacity, attempts, timeout)}")
    assert BURST * capacity > gcp_safe_burst(capacity, attempts, timeout)
    assert unrun(subscription) and len(unrun(subscription)) == len(subscription.dead_lettered)
    assert len(subscription.acked) + len(subscription.dead_lettered) == BURST * capacity


@pytest.mark.parametrize("arrival", ["all-at-once", "over-the-drain-time", "push-window"])
def test_gcp_delivery_attempts_from_the_bound_keep_a_slow_burst_out_of_the_dead_letter_topic(dev, tmp_path, handler, arrival):
    timeout = dev.one("gcp:cloudfunctionsv2/function:Function", "orders-gcp-consumer").inputs["serviceConfig"]["timeoutSeconds"]
    capacity = gcp_subscription(dev, tmp_path / "probe", timeout).capacity
    burst = BURST * capacity
    attempts = gcp_attempts_for_burst(burst, capacity, timeout)
    (most,) = [limit.high for limit in LIMITS if limit.field == "max_delivery_attempts" and limit.cloud == "gcp"]
    assert attempts <= most  # reachable with a setting Pub/Sub accepts
    subscription = gcp_subscription(dev, tmp_path, timeout, max_delivery_attempts=attempts, push_window=3 if arrival == "push-window" else None)
    drain = burst * timeout / capacity
    subscription.burst([json.dumps({"n": n}).encode() for n in range(burst)], [n * drain / burst for n in range(burst)] if arrival == "over-the-drain-time" else None)
    report(f"gcp (max_delivery_attempts {attempts}, {arrival})", capacity, burst, len(handler.runs), subscription.dead_lettered, len(unrun(subscription)), f"{subscription.refused} refused; drained in {subscription.loop.now:.0f} s")
    assert gcp_safe_burst(capacity, attempts, timeout) >= burst > gcp_safe_burst(capacity, attempts - 1, timeout)
    assert subscription.dead_lettered == [] and len(subscription.acked) == burst


def test_gcp_bound_holds_for_random_bursts_capacities_handler_times_and_push_windows(tmp_path, handler):
    site = tmp_path / "site"
    site.mkdir()
    (site / "main.py").write_text("import functions_framework\nfrom cloudqueue_runtime.gcp import push\n\n@functions_framework.http\ndef consume(request):\n    return push(request)\n")
    client = functions_framework.create_app(target="consume", source=str(site / "main.py"), signature_type="http").test_client()
    rng = random.Random(18_11)
    for _ in range(12):
        instances, attempts, handler_seconds = rng.randint(1, 5), rng.randint(5, 8), rng.choice([1, 3, 7, 12, 30, 45])
        burst = min(gcp_safe_burst(instances, attempts, handler_seconds), 300)
        window = rng.choice([None, rng.randint(1, 8)])
        subscription = CappedPushSubscription(client, attempts, 10, 600, instances, 1, handler_seconds, push_window=window)
        spread = rng.uniform(0, burst * handler_seconds / instances)
        subscription.burst([b"{}"] * burst, sorted(rng.uniform(0, spread) for _ in range(burst)))
        assert unrun(subscription) == [], (instances, attempts, handler_seconds, burst, window)
        assert len(subscription.acked) == burst
