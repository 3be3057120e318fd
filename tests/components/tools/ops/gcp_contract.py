"""`cloudqueue send` and `cloudqueue dlq` on Pub/Sub: the real google-cloud-pubsub client against
an in-process gRPC stand-in, reached the way the client library reaches an emulator
(`PUBSUB_EMULATOR_HOST`).

A contract test, not an emulator: the stand-in serves only Publish, Pull, Acknowledge,
ModifyAckDeadline and Seek, with the request and response types the client library ships
(google.pubsub_v1.types); it keeps messages per subscription with ack deadlines, and records every
call so the tests can check what was sent, and in what order. Retry policies, ordering guarantees,
exactly-once delivery and dead-lettering itself are Pub/Sub's and are not modelled.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from concurrent import futures

import warnings

import grpc
import pytest
from google.protobuf import timestamp_pb2

with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)  # google-api-core's Python end-of-life notice
    from google.pubsub_v1.types import pubsub as types

from components.tools import cli
from components.tools.ops import gcp as ops_gcp
from components.tools.ops.engine import REDRIVE_COUNT_ATTRIBUTE, REDRIVE_LIMIT

PROJECT = "projects/demo-123"
NAMES = {
    "topic_id": f"{PROJECT}/topics/orders-topic-1a2b3c4",
    "subscription_id": f"{PROJECT}/subscriptions/orders-subscription-5d6e7f8",
    "dead_letter_topic_id": f"{PROJECT}/topics/orders-dead-letter-9a8b7c6",
    "dead_letter_subscription_id": f"{PROJECT}/subscriptions/orders-dead-letter-subscription-0f1e2d3",
    "function_name": "orders-consumer",
}
DLQ_SUB, MAIN_SUB = NAMES["dead_letter_subscription_id"], NAMES["subscription_id"]


class PubSubStandIn:
    """Topics fan out to their subscriptions; a pulled message is hidden until its ack deadline."""

    def __init__(self):
        self.lock = threading.Lock()
        self.subscriptions = {MAIN_SUB: NAMES["topic_id"], DLQ_SUB: NAMES["dead_letter_topic_id"]}
        self.entries: dict[str, dict[str, dict]] = {sub: {} for sub in self.subscriptions}  # sub -> message id -> entry
        self.ids = itertools.count(1000)
        self.calls: list[tuple[str, object]] = []
        self.fail = lambda name, request: False
        """Which calls to refuse (FAILED_PRECONDITION, which the client does not retry)."""
        self.elapsed = 0.0
        """Seconds the tests moved the stand-in's clock on: an ack deadline passes without a sleep."""

    def now(self) -> float:
        return time.monotonic() + self.elapsed

    # --- the RPCs ----------------------------------------------------------------------------

    def Publish(self, request: types.PublishRequest, context) -> types.PublishResponse:
        ids = [self.store(request.topic, m) for m in request.messages]
        return types.PublishResponse(message_ids=ids)

    def Pull(self, request: types.PullRequest, context) -> types.PullResponse:
        now, out = self.now(), []
        for entry in list(self.entries[request.subscription].values()):
            if len(out) == request.max_messages:
                break
            if entry["visible_at"] <= now:
                entry["deliveries"] += 1
                entry["ack_id"] = f"{entry['message'].message_id}/{entry['deliveries']}"
                entry["visible_at"] = now + 600  # the dead-letter subscription's ack deadline
                out.append(types.ReceivedMessage(ack_id=entry["ack_id"], message=entry["message"]))
        return types.PullResponse(received_messages=out)

    def Acknowledge(self, request: types.AcknowledgeRequest, context):
        for entry in self.by_ack_id(request.subscription, request.ack_ids):
            del self.entries[request.subscription][entry["message"].message_id]
        return b""

    def ModifyAckDeadline(self, request: types.ModifyAckDeadlineRequest, context):
        for entry in self.by_ack_id(request.subscription, request.ack_ids):
            entry["visible_at"] = self.now() + request.ack_deadline_seconds
        return b""

    def Seek(self, request: types.SeekRequest, context) -> types.SeekResponse:
        cutoff = request.time.timestamp()
        entries = self.entries[request.subscription]
        for message_id in [i for i, e in entries.items() if e["message"].publish_time.timestamp() <= cutoff]:
            del entries[message_id]
        return types.SeekResponse()

    # --- helpers ---------------------------------------------------------------------------------

    def store(self, topic: str, message: types.PubsubMessage) -> str:
        message_id = str(next(self.ids))
        published = timestamp_pb2.Timestamp()
        published.GetCurrentTime()
        stored = types.PubsubMessage(data=message.data, attributes=dict(message.attributes), ordering_key=message.ordering_key, message_id=message_id, publish_time=published)
        for sub, subscribed in self.subscriptions.items():
            if subscribed == topic:
                self.entries[sub][message_id] = {"message": stored, "visible_at": 0.0, "deliveries": 0, "ack_id": None}
        return message_id

    def by_ack_id(self, subscription: str, ack_ids) -> list[dict]:
        return [e for e in self.entries[subscription].values() if e["ack_id"] in set(ack_ids)]

    def dead_letter(self, data: bytes, attributes=None, ordering_key="") -> str:
        """A message as Pub/Sub forwards it to the dead-letter topic."""
        forwarded = {**(attributes or {}), "CloudPubSubDeadLetterSourceDeliveryCount": "5", "CloudPubSubDeadLetterSourceSubscription": "orders-subscription-5d6e7f8",
                     "CloudPubSubDeadLetterSourceSubscriptionProject": "demo-123", "CloudPubSubDeadLetterSourceTopicPublishTime": "2026-01-01T00:00:00Z"}
        with self.lock:
            return self.store(NAMES["dead_letter_topic_id"], types.PubsubMessage(data=data, attributes=forwarded, ordering_key=ordering_key))

    def messages(self, subscription: str) -> list[types.PubsubMessage]:
        return [e["message"] for e in self.entries[subscription].values()]

    def names_of_calls(self) -> list[str]:
        return [name for name, _ in self.calls]

    def handler(self, service: str, methods: dict) -> grpc.GenericRpcHandler:
        def wrap(name, function):
            def call(request, context):
                with self.lock:
                    self.calls.append((name, request))
                    if self.fail(name, request):
                        context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"{name} refused by the test")
                    return function(request, context)
            return call

        return grpc.method_handlers_generic_handler(service, {
            name: grpc.unary_unary_rpc_method_handler(wrap(name, getattr(self, name)), request_deserializer=request.deserialize, response_serializer=serializer)
            for name, (request, serializer) in methods.items()
        })


@pytest.fixture
def pubsub(monkeypatch, project):
    standin = PubSubStandIn()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((
        standin.handler("google.pubsub.v1.Publisher", {"Publish": (types.PublishRequest, types.PublishResponse.serialize)}),
        standin.handler("google.pubsub.v1.Subscriber", {
            "Pull": (types.PullRequest, types.PullResponse.serialize),
            "Acknowledge": (types.AcknowledgeRequest, lambda _: b""),  # google.protobuf.Empty
            "ModifyAckDeadline": (types.ModifyAckDeadlineRequest, lambda _: b""),
            "Seek": (types.SeekRequest, types.SeekResponse.serialize),
        }),
    ))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", f"127.0.0.1:{port}")
    yield standin
    server.stop(None)


@pytest.fixture
def outputs(project, write_outputs):
    return write_outputs(project, {"orders": {"gcp": NAMES}})


def run(*argv):
    return cli.main(list(argv))


def test_send_publishes_body_attributes_and_ordering_key_to_the_topic(pubsub, outputs, capsys):
    assert run("send", "-s", "prod", "orders", '{"id": 3}', "--cloud", "gcp", "--group", "customer-1", "--attr", "kind=test", "--outputs", outputs) == 0
    (message,) = pubsub.messages(MAIN_SUB)
    assert (message.data, dict(message.attributes), message.ordering_key) == (b'{"id": 3}', {"kind": "test"}, "customer-1")
    assert capsys.readouterr().out == f"sent {message.message_id} to orders on gcp ({NAMES['topic_id']}), group customer-1\n"


def test_peek_shows_dead_letters_with_why_they_failed_and_gives_them_straight_back(pubsub, outputs, capsys):
    first = pubsub.dead_letter(b"one", {"tenant": "a"})
    pubsub.dead_letter(b"two")
    assert run("dlq", "peek", "-s", "prod", "orders", "--outputs", outputs, "--format", "json") == 0
    shown = json.loads(capsys.readouterr().out)
    assert [(m["id"], m["body"]) for m in shown] == [(first, "one"), (str(int(first) + 1), "two")]
    assert shown[0]["attributes"] == {"tenant": "a"}  # the CloudPubSubDeadLetter* ones are reported as the reason
    assert shown[0]["reason"] == "delivered 5 times on orders-subscription-5d6e7f8" and shown[0]["sent_at"] == "2026-01-01T00:00:00Z"
    given_back = [r for name, r in pubsub.calls if name == "ModifyAckDeadline" and r.ack_deadline_seconds == 0]
    assert given_back and "Acknowledge" not in pubsub.names_of_calls()
    assert len(pubsub.messages(DLQ_SUB)) == 2 and all(e["visible_at"] <= pubsub.now() for e in pubsub.entries[DLQ_SUB].values())


def test_redrive_republishes_without_dead_letter_attributes_keeps_the_ordering_key_then_acks(pubsub, outputs, journal_records, project):
    original = pubsub.dead_letter(b"retry me", {"tenant": "b"}, ordering_key="customer-2")
    assert run("dlq", "redrive", "-s", "prod", "orders", "--outputs", outputs) == 0
    (copy,) = pubsub.messages(MAIN_SUB)
    assert (copy.data, copy.ordering_key) == (b"retry me", "customer-2")
    assert dict(copy.attributes) == {"tenant": "b", REDRIVE_COUNT_ATTRIBUTE: "1"}
    assert pubsub.messages(DLQ_SUB) == []
    calls = pubsub.names_of_calls()
    assert calls.index("Publish") < calls.index("Acknowledge")  # publish confirmed before the ack
    assert [(r["event"], r["id"]) for r in journal_records(project)] == [("sent", original), ("settled", original)]


def test_redrive_by_id_leaves_the_others_available(pubsub, outputs):
    pubsub.dead_letter(b"stay")
    move = pubsub.dead_letter(b"go")
    assert run("dlq", "redrive", "-s", "prod", "orders", "--outputs", outputs, "--id", move) == 0
    assert [m.data for m in pubsub.messages(MAIN_SUB)] == [b"go"]
    assert [m.data for m in pubsub.messages(DLQ_SUB)] == [b"stay"]
    assert all(e["visible_at"] <= pubsub.now() for e in pubsub.entries[DLQ_SUB].values())


def test_a_message_redriven_the_limit_already_is_refused(pubsub, outputs, capsys):
    looping = pubsub.dead_letter(b"loop", {REDRIVE_COUNT_ATTRIBUTE: str(REDRIVE_LIMIT)})
    assert run("dlq", "redrive", "-s", "prod", "orders", "--outputs", outputs) == 1
    assert pubsub.messages(MAIN_SUB) == [] and [m.message_id for m in pubsub.messages(DLQ_SUB)] == [looping]
    assert "refused 1 message(s)" in capsys.readouterr().err


def test_a_crash_between_publish_and_ack_leaves_a_duplicate_never_a_loss_and_a_rerun_finishes(pubsub, outputs, monkeypatch, capsys):
    pubsub.dead_letter(b"precious")
    monkeypatch.setattr(ops_gcp, "ACK_DEADLINE_SECONDS", 1)
    # The ack fails, and so does giving the message back: as if the process died after the publish.
    pubsub.fail = lambda name, request: name == "Acknowledge" or (name == "ModifyAckDeadline" and request.ack_deadline_seconds == 0)
    assert run("dlq", "redrive", "-s", "prod", "orders", "--outputs", outputs) == 1
    assert "stopped at" in capsys.readouterr().err
    assert [m.data for m in pubsub.messages(MAIN_SUB)] == [b"precious"]
    assert [m.data for m in pubsub.messages(DLQ_SUB)] == [b"precious"]  # not lost
    pubsub.fail = lambda name, request: False
    pubsub.elapsed += 1.1  # the short ack deadline the redrive set passes: Pub/Sub delivers it again
    assert run("dlq", "redrive", "-s", "prod", "orders", "--outputs", outputs) == 0
    assert "settled 1 whose copy an earlier run had sent" in capsys.readouterr().out
    assert [m.data for m in pubsub.messages(MAIN_SUB)] == [b"precious"]  # still one copy
    assert pubsub.messages(DLQ_SUB) == [] and pubsub.names_of_calls().count("Publish") == 1


def test_purge_needs_yes_then_seeks_the_dead_letter_subscription_to_now(pubsub, outputs, capsys, journal_records, project):
    pubsub.dead_letter(b"junk")
    assert run("dlq", "purge", "-s", "prod", "orders", "--cloud", "gcp", "--outputs", outputs) == 1
    assert f"would delete every message in {DLQ_SUB}; nothing done. Add --yes" in capsys.readouterr().err
    assert "Seek" not in pubsub.names_of_calls() and len(pubsub.messages(DLQ_SUB)) == 1
    before = time.time()
    assert run("dlq", "purge", "-s", "prod", "orders", "--cloud", "gcp", "--outputs", outputs, "--yes") == 0
    ((_, seek),) = [c for c in pubsub.calls if c[0] == "Seek"]
    assert seek.subscription == DLQ_SUB and before - 1 <= seek.time.timestamp() <= time.time()
    assert pubsub.messages(DLQ_SUB) == []
    assert journal_records(project)[0]["event"] == "purged"


@pytest.fixture
def two_clouds(pubsub, project, aws_env, make_sqs_queues, write_outputs):
    """`orders` on AWS (moto) and Google Cloud (the stand-in): (sqs client, aws outputs, outputs file)."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        sqs = boto3.client("sqs", region_name="eu-west-1")
        aws = make_sqs_queues(sqs, "orders")
        yield sqs, aws, write_outputs(project, {"orders": {"aws": aws, "gcp": NAMES}})


def test_send_without_cloud_sends_to_every_cloud_the_queue_is_on(two_clouds, pubsub, capsys):
    sqs, aws, path = two_clouds
    assert run("send", "-s", "prod", "orders", "both", "--outputs", path) == 0
    assert [m.data for m in pubsub.messages(MAIN_SUB)] == [b"both"]
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=aws["queue_url"])["Messages"]] == ["both"]
    assert [line.split(" on ")[1].split(" ")[0] for line in capsys.readouterr().out.splitlines()] == ["aws", "gcp"]


def test_the_size_check_takes_the_smallest_limit_of_the_clouds_sent_to(two_clouds, pubsub, capsys):
    sqs, aws, path = two_clouds
    body = "x" * 300_000  # over SQS's 256 KiB, well under Pub/Sub's 10 MB
    assert run("send", "-s", "prod", "orders", body, "--outputs", path) == 2
    assert "the aws queue's limit is 262144 bytes (aws, gcp); nothing sent" in capsys.readouterr().err
    assert pubsub.messages(MAIN_SUB) == [] and "Messages" not in sqs.receive_message(QueueUrl=aws["queue_url"])
    assert run("send", "-s", "prod", "orders", body, "--cloud", "gcp", "--outputs", path) == 0
    assert [len(m.data) for m in pubsub.messages(MAIN_SUB)] == [300_000]
