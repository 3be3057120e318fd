"""`cloudqueue send` and `cloudqueue dlq` on Service Bus.

No Service Bus emulator runs here (Microsoft's needs Docker). The dead-lettered messages are real
`ServiceBusReceivedMessage` objects decoded by the SDK from AMQP bytes, as a receiver gets them
off the wire (property keys and string values as bytes, the dead-letter reason among the
application properties, sequence number and enqueued time in the annotations). The client is a
fake ServiceBusClient whose receiver and sender record what is sent and how each message is
settled, in order.
"""

from __future__ import annotations

import datetime
import json

import pytest
from azure.servicebus import ServiceBusMessage, ServiceBusReceivedMessage, ServiceBusReceiveMode, ServiceBusSubQueue
from azure.servicebus._pyamqp.types import TYPE, VALUE, AMQPTypes
from azure.servicebus._transport._pyamqp_transport import PyamqpTransport

from components.tools import cli
from components.tools.ops import azure as ops_azure
from components.tools.ops.engine import REDRIVE_COUNT_ATTRIBUTE, REDRIVE_LIMIT

QUEUE = "orders-queue4f2a9c1e"
OUTPUTS = {"namespace_name": "cloudqueue-ns7d1e2f3a", "queue_name": QUEUE, "dead_letter_path": f"{QUEUE}/$DeadLetterQueue", "function_app_name": "orders-app"}
HOST = "cloudqueue-ns7d1e2f3a.servicebus.windows.net"


def received(sequence: int, body: bytes, *, properties=None, session_id=None, message_id=None, ttl=datetime.timedelta(days=4), reason="MaxDeliveryCountExceeded") -> ServiceBusReceivedMessage:
    """A dead-lettered message as the SDK decodes it from the wire."""
    sent = ServiceBusMessage(
        body, application_properties=properties or {}, message_id=message_id or f"msg-{sequence}", session_id=session_id,
        correlation_id="corr-1", content_type="application/json", subject="order.created", time_to_live=ttl,
    )
    amqp = PyamqpTransport.to_outgoing_amqp_message(sent.raw_amqp_message)
    amqp = amqp._replace(
        application_properties={**(amqp.application_properties or {}), "DeadLetterReason": reason, "DeadLetterErrorDescription": "Message could not be consumed after 5 delivery attempts."},
        message_annotations={b"x-opt-sequence-number": {TYPE: AMQPTypes.long, VALUE: sequence}, b"x-opt-enqueued-time": {TYPE: AMQPTypes.timestamp, VALUE: 1_767_225_600_000}},
    )
    return ServiceBusReceivedMessage.from_bytes(bytes(PyamqpTransport.encode_message(ServiceBusMessage(None, message=amqp))))


class FakeServiceBus:
    """ServiceBusClient's surface the commands use: one queue's dead-letter sub-queue and sender."""

    def __init__(self, dead_letters):
        self.available = list(dead_letters)
        self.locked: dict[int, ServiceBusReceivedMessage] = {}
        self.sent: list[ServiceBusMessage] = []
        self.log: list[tuple] = []
        self.fail: set[str] = set()

    def get_queue_receiver(self, queue_name, **kwargs):
        self.log.append(("receiver", queue_name, kwargs))
        return FakeReceiver(self, kwargs.get("receive_mode", ServiceBusReceiveMode.PEEK_LOCK))

    def get_queue_sender(self, queue_name, **kwargs):
        self.log.append(("sender", queue_name))
        return FakeSender(self)

    def close(self):
        self.log.append(("close",))

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()

    def expire_locks(self):
        self.available = sorted(self.available + list(self.locked.values()), key=lambda m: m.sequence_number)
        self.locked.clear()

    def settled(self) -> list[tuple]:
        return [entry for entry in self.log if entry[0] in ("send", "complete", "abandon")]

    def check(self, step):
        if step in self.fail:
            raise ConnectionError(f"{step}: link detached")


class _Link:
    """What the SDK's receivers and senders do as context managers: here, nothing to close."""

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()


class FakeReceiver(_Link):
    def __init__(self, bus, mode):
        self.bus, self.mode = bus, mode

    def receive_messages(self, max_message_count=1, max_wait_time=None):
        batch, self.bus.available = self.bus.available[:max_message_count], self.bus.available[max_message_count:]
        if self.mode != ServiceBusReceiveMode.RECEIVE_AND_DELETE:
            self.bus.locked.update({m.sequence_number: m for m in batch})
        return batch

    def peek_messages(self, max_message_count=1, sequence_number=0):
        self.bus.log.append(("peek", sequence_number))
        everything = sorted(self.bus.available + list(self.bus.locked.values()), key=lambda m: m.sequence_number)
        return [m for m in everything if m.sequence_number >= sequence_number][:max_message_count]

    def complete_message(self, message):
        self.bus.check("complete")
        assert self.bus.locked.pop(message.sequence_number) is message, "completing a message this receiver does not hold"
        self.bus.log.append(("complete", message.sequence_number))

    def abandon_message(self, message):
        self.bus.check("abandon")
        self.bus.available.append(self.bus.locked.pop(message.sequence_number))
        self.bus.available.sort(key=lambda m: m.sequence_number)
        self.bus.log.append(("abandon", message.sequence_number))


class FakeSender(_Link):
    def __init__(self, bus):
        self.bus = bus

    def send_messages(self, message):
        self.bus.check("send")
        self.bus.sent.append(message)
        self.bus.log.append(("send", message.message_id))


@pytest.fixture
def bus(monkeypatch):
    """bus(messages) -> the fake client the commands will get, holding `messages` dead-lettered."""
    made = {}

    def make(messages=()):
        made["bus"] = FakeServiceBus(messages)
        return made["bus"]

    monkeypatch.setattr(ops_azure, "client", lambda names: made["bus"].log.append(("client", names.namespace_host)) or made["bus"])
    return make


@pytest.fixture
def outputs(project, write_outputs):
    return write_outputs(project, {"orders": {"azure": OUTPUTS}})


def run(*argv):
    return cli.main(list(argv))


def test_the_dead_letter_sub_queue_is_read_with_a_plain_receiver_even_for_a_session_queue(bus, outputs):
    fake = bus([received(7, b"{}", session_id="customer-1")])
    assert run("dlq", "redrive", "-s", "prod", "orders", "--outputs", outputs) == 0
    assert ("client", HOST) in fake.log
    (receiver,) = [entry for entry in fake.log if entry[0] == "receiver"]
    assert receiver == ("receiver", QUEUE, {"sub_queue": ServiceBusSubQueue.DEAD_LETTER, "prefetch_count": 0})  # no session id: not a session receiver


def test_redrive_sends_a_faithful_copy_then_completes_the_original(bus, outputs, project, journal_records):
    fake = bus([received(7, b'{"order": 1}', properties={"tenant": "a", "attempt": 2}, session_id="customer-1", ttl=datetime.timedelta(hours=6))])
    assert run("dlq", "redrive", "-s", "prod", "orders", "--outputs", outputs) == 0
    (copy,) = fake.sent
    assert b"".join(copy.body) == b'{"order": 1}'
    assert (copy.message_id, copy.session_id, copy.correlation_id, copy.content_type, copy.subject) == ("msg-7", "customer-1", "corr-1", "application/json", "order.created")
    assert copy.time_to_live == datetime.timedelta(hours=6)
    # The broker's DeadLetterReason/Description are gone; the keys and values came back as bytes and go out as text.
    assert copy.application_properties == {"tenant": "a", "attempt": 2, REDRIVE_COUNT_ATTRIBUTE: 1}
    assert fake.settled() == [("send", "msg-7"), ("complete", 7)]
    assert [r["event"] for r in journal_records(project)] == ["sent", "settled"]


def test_peek_browses_without_locking_or_settling(bus, outputs, capsys):
    fake = bus([received(1, b"first", properties={"tenant": "a"}), received(2, b"second")])
    assert run("dlq", "peek", "-s", "prod", "orders", "--outputs", outputs, "--format", "json") == 0
    shown = json.loads(capsys.readouterr().out)
    assert [(m["id"], m["body"], m["attributes"]) for m in shown] == [("msg-1", "first", {"tenant": "a"}), ("msg-2", "second", {})]
    assert shown[0]["reason"] == "MaxDeliveryCountExceeded - Message could not be consumed after 5 delivery attempts."
    assert shown[0]["dead_letter_queue"] == f"{HOST}/{QUEUE}/$DeadLetterQueue" and shown[0]["sent_at"] == "2026-01-01T00:00:00+00:00"
    assert fake.settled() == [] and len(fake.available) == 2


def test_redrive_by_id_gives_the_others_back(bus, outputs):
    fake = bus([received(1, b"stay"), received(2, b"go", message_id="wanted")])
    assert run("dlq", "redrive", "-s", "prod", "orders", "--outputs", outputs, "--id", "wanted") == 0
    assert fake.settled() == [("send", "wanted"), ("complete", 2), ("abandon", 1)]
    assert [m.sequence_number for m in fake.available] == [1]


def test_a_message_redriven_the_limit_already_is_abandoned_not_sent(bus, outputs, capsys):
    fake = bus([received(3, b"loop", properties={REDRIVE_COUNT_ATTRIBUTE: REDRIVE_LIMIT})])
    assert run("dlq", "redrive", "-s", "prod", "orders", "--outputs", outputs) == 1
    assert fake.settled() == [("abandon", 3)] and fake.sent == []
    assert "refused 1 message(s)" in capsys.readouterr().err


def test_a_crash_between_send_and_complete_leaves_a_duplicate_never_a_loss_and_a_rerun_finishes(bus, outputs, capsys):
    fake = bus([received(5, b"precious")])
    fake.fail = {"complete", "abandon"}  # the link dies after the send
    assert run("dlq", "redrive", "-s", "prod", "orders", "--outputs", outputs) == 1
    assert "stopped at msg-5: ConnectionError" in capsys.readouterr().err
    assert [m.message_id for m in fake.sent] == ["msg-5"] and 5 in fake.locked  # sent, and still in the sub-queue
    fake.fail = set()
    fake.expire_locks()  # the peek-lock runs out: the original is back
    assert run("dlq", "redrive", "-s", "prod", "orders", "--outputs", outputs) == 0
    assert "settled 1 whose copy an earlier run had sent" in capsys.readouterr().out
    assert [m.message_id for m in fake.sent] == ["msg-5"]  # no second copy
    assert fake.settled()[-1] == ("complete", 5) and not fake.available and not fake.locked


def test_a_failed_send_completes_nothing(bus, outputs):
    fake = bus([received(5, b"kept"), received(6, b"untouched")])
    fake.fail = {"send"}
    assert run("dlq", "redrive", "-s", "prod", "orders", "--outputs", outputs) == 1
    assert [e for e in fake.settled() if e[0] == "complete"] == []
    assert sorted(m.sequence_number for m in fake.available) == [5, 6]  # both given back


def test_purge_needs_yes_then_receives_and_deletes_journaling_each_message(bus, outputs, capsys, project, journal_records):
    fake = bus([received(1, b"a"), received(2, b"b")])
    assert run("dlq", "purge", "-s", "prod", "orders", "--cloud", "azure", "--outputs", outputs) == 1
    assert f"would delete every message in {HOST}/{QUEUE}/$DeadLetterQueue; nothing done" in capsys.readouterr().err
    assert not [e for e in fake.log if e[0] == "receiver"] and len(fake.available) == 2
    assert run("dlq", "purge", "-s", "prod", "orders", "--cloud", "azure", "--outputs", outputs, "--yes") == 0
    (receiver,) = [e for e in fake.log if e[0] == "receiver"]
    assert receiver[2]["receive_mode"] == ServiceBusReceiveMode.RECEIVE_AND_DELETE and receiver[2]["sub_queue"] == ServiceBusSubQueue.DEAD_LETTER
    assert not fake.available and [(r["event"], r["body"]) for r in journal_records(project)] == [("purged", "a"), ("purged", "b")]


def test_send_uses_the_group_as_session_id_and_the_namespace_host_output_when_there_is_one(bus, project, write_outputs, capsys):
    fake = bus()
    outputs = write_outputs(project, {"orders": {"azure": {**OUTPUTS, "namespace_host": "ns.servicebus.chinacloudapi.cn"}}})
    assert run("send", "-s", "prod", "orders", "hello", "--group", "customer-3", "--attr", "kind=test", "--outputs", outputs) == 0
    (message,) = fake.sent
    assert (b"".join(message.body), message.session_id, message.application_properties) == (b"hello", "customer-3", {"kind": "test"})
    assert ("client", "ns.servicebus.chinacloudapi.cn") in fake.log
    assert f"sent {message.message_id} to orders on azure (ns.servicebus.chinacloudapi.cn/{QUEUE}), group customer-3" in capsys.readouterr().out
