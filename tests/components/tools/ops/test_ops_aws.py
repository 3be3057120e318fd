"""`cloudqueue send` and `cloudqueue dlq` on SQS, against moto's in-process SQS.

moto implements no StartMessageMoveTask / ListMessageMoveTasks (nor does ministack), so the
whole-queue redrive is checked against botocore's Stubber: the request cloudqueue sends and how it
follows the task's progress. Everything else runs on moto's SQS, FIFO included.
"""

from __future__ import annotations


import boto3
import pytest
from moto import mock_aws
from moto.sqs import models as sqs_models

from components.tools import cli
from components.tools.ops import aws as ops_aws
from components.tools.ops.engine import REDRIVE_COUNT_ATTRIBUTE, REDRIVE_LIMIT

REGION = "eu-west-1"


@pytest.fixture
def sqs(aws_env, monkeypatch):
    # moto's SQS is one in-process store: a short poll sees every message, and a last, empty
    # receive need not wait out the long poll (test_receives_long_poll_... checks the real setting).
    monkeypatch.setattr(ops_aws, "RECEIVE_WAIT_SECONDS", 0)
    with mock_aws():
        yield boto3.client("sqs", region_name=REGION)


def test_receives_long_poll_so_a_queue_with_messages_left_is_not_reported_empty():
    class Recording:
        def receive_message(self, **request):
            self.request = request
            return {}

    sqs = Recording()
    names = ops_aws.AwsNames(queue_url="https://sqs.eu-west-1.amazonaws.com/1/q", queue_arn="arn:aws:sqs:eu-west-1:1:q",
                             dlq_url="https://sqs.eu-west-1.amazonaws.com/1/d", dlq_arn="arn:aws:sqs:eu-west-1:1:d")
    assert ops_aws.SqsDeadLetterQueue(sqs, names).receive(10) == []
    assert sqs.request["WaitTimeSeconds"] == ops_aws.RECEIVE_WAIT_SECONDS >= 1
    assert sqs.request["QueueUrl"] == names.dlq_url and sqs.request["MaxNumberOfMessages"] == 10


@pytest.fixture
def deploy(make_sqs_queues, write_outputs):
    """deploy(sqs, project, fifo) -> (aws outputs, outputs file) of a deployed `orders` queue."""

    def made(sqs, project, fifo=False):
        names = make_sqs_queues(sqs, "orders", fifo=fifo)
        return names, write_outputs(project, {"orders": {"aws": names}, "unrelated": "value"})

    return made


def dead_letter(sqs, names, body, group=None, attributes=None, count=None):
    """Put a message in the DLQ as SQS's redrive would leave it; its message id."""
    attrs = {k: {"DataType": "String", "StringValue": v} for k, v in (attributes or {}).items()}
    if count is not None:
        attrs[REDRIVE_COUNT_ATTRIBUTE] = {"DataType": "Number", "StringValue": str(count)}
    extra = {"MessageGroupId": group, "MessageDeduplicationId": f"d-{body}"} if group else {}
    return sqs.send_message(QueueUrl=names["dlq_url"], MessageBody=body, MessageAttributes=attrs, **extra)["MessageId"]


def drain(sqs, url):
    """Every message visible in `url` now (received and deleted), oldest first."""
    out = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"]).get("Messages", [])
        if not batch:
            return out
        out += batch
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])


def run(*argv):
    return cli.main([*argv])


# --- send ------------------------------------------------------------------------------------


def test_send_puts_the_body_and_attributes_on_the_deployed_queue(sqs, project, capsys, deploy):
    names, outputs = deploy(sqs, project)
    assert run("send", "--stack", "prod", "orders", '{"order_id": 7}', "--attr", "source=ops", "--outputs", outputs) == 0
    (message,) = drain(sqs, names["queue_url"])
    assert message["Body"] == '{"order_id": 7}'
    assert message["MessageAttributes"]["source"]["StringValue"] == "ops"
    assert capsys.readouterr().out == f"sent {message['MessageId']} to orders on aws ({names['queue_url']})\n"


def test_send_reads_the_body_from_a_file_and_keeps_the_group_on_a_fifo_queue(sqs, project, capsys, deploy):
    names, outputs = deploy(sqs, project, fifo=True)
    (project / "body.json").write_text('{"a": 1}')
    assert run("send", "-s", "prod", "orders", "@body.json", "--group", "customer-9", "--outputs", outputs) == 0
    assert run("send", "-s", "prod", "orders", "@body.json", "--group", "customer-9", "--outputs", outputs) == 0
    received = drain(sqs, names["queue_url"])
    # Two sends of the same body are two messages: each send has its own deduplication id.
    assert [(m["Body"], m["Attributes"]["MessageGroupId"]) for m in received] == [('{"a": 1}', "customer-9")] * 2


def test_send_refuses_a_body_over_the_smallest_limit_before_sending_anything(sqs, project, capsys, deploy):
    names, outputs = deploy(sqs, project)
    assert run("send", "-s", "prod", "orders", "x" * 262_145, "--outputs", outputs) == 2
    assert "the message is 262145 bytes (body and attributes); the aws queue's limit is 262144 bytes (aws); nothing sent" in capsys.readouterr().err
    assert drain(sqs, names["queue_url"]) == []


def test_send_reads_the_limit_from_the_spec_field_when_the_stack_sets_one(sqs, project, capsys, deploy):
    names, outputs = deploy(sqs, project)
    (project / "Pulumi.yaml").write_text("name: cloudqueue\nruntime: python\n")
    (project / "Pulumi.prod.yaml").write_text("config:\n  cloudqueue:queues:\n    orders:\n      max_message_bytes: 16\n")
    assert run("send", "-s", "prod", "orders", "seventeen bytes!!", "--outputs", outputs) == 2
    assert "the spec's max_message_bytes is 16 bytes" in capsys.readouterr().err
    assert run("send", "-s", "prod", "orders", "sixteen bytes!!!", "--outputs", outputs) == 0


def test_send_needs_exactly_one_of_local_and_stack(project, capsys):
    assert run("send", "orders", "{}") == 2
    assert run("send", "--local", "--stack", "prod", "orders", "{}") == 2
    assert "give --local" in capsys.readouterr().err


# --- peek ------------------------------------------------------------------------------------


def test_peek_shows_dead_letters_and_leaves_them_visible(sqs, project, capsys, deploy):
    names, outputs = deploy(sqs, project)
    first = dead_letter(sqs, names, '{"n": 1}', attributes={"tenant": "a"})
    dead_letter(sqs, names, '{"n": 2}', count=1)
    assert run("dlq", "peek", "-s", "prod", "orders", "--outputs", outputs, "--format", "json") == 0
    import json

    shown = json.loads(capsys.readouterr().out)
    assert [(m["cloud"], m["body"], m["redrive_count"]) for m in shown] == [("aws", '{"n": 1}', 0), ("aws", '{"n": 2}', 1)]
    assert shown[0]["id"] == first and shown[0]["attributes"] == {"tenant": "a"} and shown[0]["dead_letter_queue"] == names["dlq_url"]
    # Given back at once: both can be received again right away.
    assert len(drain(sqs, names["dlq_url"])) == 2


def test_peek_text_stops_at_max(sqs, project, capsys, deploy):
    names, outputs = deploy(sqs, project)
    for n in range(5):
        dead_letter(sqs, names, f"body-{n}")
    assert run("dlq", "peek", "-s", "prod", "orders", "--outputs", outputs, "--max", "3") == 0
    out = capsys.readouterr().out
    assert out.startswith(f"aws  {names['dlq_url']}: 3 message(s) shown")
    assert out.count("    body: body-") == 3


# --- redrive, message by message ---------------------------------------------------------------


def test_redrive_by_id_moves_only_that_message_and_counts_the_redrive(sqs, project, capsys, deploy, journal_records):
    names, outputs = deploy(sqs, project)
    keep = dead_letter(sqs, names, "keep")
    move = dead_letter(sqs, names, "move", attributes={"tenant": "b"})
    assert run("dlq", "redrive", "-s", "prod", "orders", "--outputs", outputs, "--id", move) == 0
    (copy,) = drain(sqs, names["queue_url"])
    assert copy["Body"] == "move"
    assert copy["MessageAttributes"]["tenant"]["StringValue"] == "b"
    assert copy["MessageAttributes"][REDRIVE_COUNT_ATTRIBUTE] == {"StringValue": "1", "DataType": "Number"}
    assert [m["MessageId"] for m in drain(sqs, names["dlq_url"])] == [keep]  # visible again at once
    events = [(r["event"], r["id"]) for r in journal_records(project)]
    assert events == [("sent", move), ("settled", move)]
    assert "journal: " in capsys.readouterr().err


def test_fifo_redrive_keeps_the_group_and_derives_the_deduplication_id(sqs, project, deploy):
    names, outputs = deploy(sqs, project, fifo=True)
    first = dead_letter(sqs, names, "one", group="g1")
    second = dead_letter(sqs, names, "two", group="g1")
    assert run("dlq", "redrive", "-s", "prod", "orders", "--outputs", outputs, "--max", "5") == 0
    copies = drain(sqs, names["queue_url"])
    assert [(m["Body"], m["Attributes"]["MessageGroupId"]) for m in copies] == [("one", "g1"), ("two", "g1")]  # order kept
    assert [m["Attributes"]["MessageDeduplicationId"] for m in copies] == [f"cloudqueue-redrive-{first}", f"cloudqueue-redrive-{second}"]


def test_max_bounds_a_redrive_and_dry_run_moves_nothing(sqs, project, capsys, deploy):
    names, outputs = deploy(sqs, project)
    for n in range(4):
        dead_letter(sqs, names, f"m{n}")
    assert run("dlq", "redrive", "-s", "prod", "orders", "--outputs", outputs, "--max", "3", "--dry-run") == 0
    assert "aws: would move 3 message(s)" in capsys.readouterr().out
    assert drain(sqs, names["queue_url"]) == []
    assert run("dlq", "redrive", "-s", "prod", "orders", "--outputs", outputs, "--max", "2") == 0
    assert len(drain(sqs, names["queue_url"])) == 2
    assert len(drain(sqs, names["dlq_url"])) == 2


def test_a_message_redriven_the_limit_already_is_refused_and_stays(sqs, project, capsys, deploy):
    names, outputs = deploy(sqs, project)
    looping = dead_letter(sqs, names, "loops", count=REDRIVE_LIMIT)
    fine = dead_letter(sqs, names, "fine", count=REDRIVE_LIMIT - 1)
    assert run("dlq", "redrive", "-s", "prod", "orders", "--outputs", outputs, "--max", "10") == 1
    (copy,) = drain(sqs, names["queue_url"])
    assert (copy["Body"], copy["MessageAttributes"][REDRIVE_COUNT_ATTRIBUTE]["StringValue"]) == ("fine", str(REDRIVE_LIMIT))
    assert [m["MessageId"] for m in drain(sqs, names["dlq_url"])] == [looping]
    assert f"refused 1 message(s) redriven {REDRIVE_LIMIT} times already: {looping}" in capsys.readouterr().err
    assert fine != looping


def test_an_unknown_id_is_reported_and_nothing_moves(sqs, project, capsys, deploy):
    names, outputs = deploy(sqs, project)
    dead_letter(sqs, names, "stay")
    assert run("dlq", "redrive", "-s", "prod", "orders", "--outputs", outputs, "--id", "no-such-id") == 1
    assert "not found: no-such-id" in capsys.readouterr().err
    assert drain(sqs, names["queue_url"]) == [] and len(drain(sqs, names["dlq_url"])) == 1


class CrashingSqs:
    """The real (moto) client, except the calls named in `fail` raise as a dying process would."""

    def __init__(self, real, *fail):
        self.real, self.fail = real, set(fail)

    def __getattr__(self, name):
        if name in self.fail:
            def boom(**_):
                raise ConnectionError(f"{name}: connection reset")
            return boom
        return getattr(self.real, name)


def test_a_crash_between_send_and_delete_leaves_a_duplicate_never_a_loss_and_a_rerun_finishes(sqs, project, monkeypatch, capsys, deploy):
    names, outputs = deploy(sqs, project)
    original = dead_letter(sqs, names, "precious")
    monkeypatch.setattr(ops_aws, "VISIBILITY_SECONDS", 1)
    # Delete fails, and so does giving the message back: as if the process died after the send.
    monkeypatch.setattr(ops_aws, "client", lambda n: CrashingSqs(sqs, "delete_message", "change_message_visibility_batch"))
    assert run("dlq", "redrive", "-s", "prod", "orders", "--outputs", outputs, "--id", original) == 1
    assert f"stopped at {original}: ConnectionError" in capsys.readouterr().err
    # The short visibility timeout passes (moto's SQS reads its clock through this name) and gives the original back.
    later = sqs_models.unix_time_millis() + 1200
    monkeypatch.setattr(sqs_models, "unix_time_millis", lambda: later)
    in_dlq = sqs.receive_message(QueueUrl=names["dlq_url"], VisibilityTimeout=0, MessageAttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in in_dlq] == ["precious"]  # not lost
    # The re-run reads the journal: the copy was confirmed, so it only deletes the original.
    monkeypatch.setattr(ops_aws, "client", lambda n: sqs)
    assert run("dlq", "redrive", "-s", "prod", "orders", "--outputs", outputs, "--id", original) == 0
    assert "settled 1 whose copy an earlier run had sent" in capsys.readouterr().out
    assert [m["Body"] for m in drain(sqs, names["queue_url"])] == ["precious"]  # one copy, not two
    assert drain(sqs, names["dlq_url"]) == []


def test_without_the_journal_a_rerun_sends_again_and_fifo_deduplication_drops_it(sqs, project, monkeypatch, deploy):
    names, outputs = deploy(sqs, project, fifo=True)
    original = dead_letter(sqs, names, "once", group="g")
    monkeypatch.setattr(ops_aws, "client", lambda n: CrashingSqs(sqs, "delete_message"))
    assert run("dlq", "redrive", "-s", "prod", "orders", "--outputs", outputs, "--id", original) == 1
    for path in (project / ".cloudqueue" / "journal").glob("*.jsonl"):
        path.unlink()  # the journal is lost: the re-run must send again
    monkeypatch.setattr(ops_aws, "client", lambda n: sqs)
    assert run("dlq", "redrive", "-s", "prod", "orders", "--outputs", outputs, "--id", original) == 0
    # Same derived deduplication id within 5 minutes: SQS keeps one copy.
    assert [m["Body"] for m in drain(sqs, names["queue_url"])] == ["once"]
    assert drain(sqs, names["dlq_url"]) == []


# --- purge -----------------------------------------------------------------------------------


def test_purge_without_yes_names_the_exact_queue_and_deletes_nothing(sqs, project, capsys, deploy):
    names, outputs = deploy(sqs, project)
    dead_letter(sqs, names, "evidence")
    assert run("dlq", "purge", "-s", "prod", "orders", "--cloud", "aws", "--outputs", outputs) == 1
    assert f"would delete every message in {names['dlq_url']} (about 1 message(s)); nothing done. Add --yes" in capsys.readouterr().err
    assert len(drain(sqs, names["dlq_url"])) == 1


def test_purge_with_yes_empties_the_dead_letter_queue_only(sqs, project, capsys, deploy, journal_records):
    names, outputs = deploy(sqs, project)
    dead_letter(sqs, names, "junk")
    sqs.send_message(QueueUrl=names["queue_url"], MessageBody="live")
    assert run("dlq", "purge", "-s", "prod", "orders", "--cloud", "aws", "--outputs", outputs, "--yes") == 0
    assert drain(sqs, names["dlq_url"]) == []
    assert [m["Body"] for m in drain(sqs, names["queue_url"])] == ["live"]
    assert [r["event"] for r in journal_records(project)] == ["purge-requested"]


def test_purge_needs_a_cloud(project, capsys):
    with pytest.raises(SystemExit):
        run("dlq", "purge", "-s", "prod", "orders", "--yes")
    assert "--cloud" in capsys.readouterr().err


def test_a_whole_redrive_first_settles_what_an_interrupted_run_had_sent(sqs, project, monkeypatch, capsys, deploy):
    names, outputs = deploy(sqs, project)
    original = dead_letter(sqs, names, "half-done")
    monkeypatch.setattr(ops_aws, "client", lambda n: CrashingSqs(sqs, "delete_message"))
    assert run("dlq", "redrive", "-s", "prod", "orders", "--outputs", outputs, "--max", "1") == 1
    monkeypatch.setattr(ops_aws, "client", lambda n: sqs)
    # No --max and no --id: a move task would send the original a second time; the pending one goes first.
    assert run("dlq", "redrive", "-s", "prod", "orders", "--outputs", outputs) == 0
    out = capsys.readouterr().out
    assert "settled 1 whose copy an earlier run had sent" in out and "is empty; nothing to redrive" in out
    assert [m["Body"] for m in drain(sqs, names["queue_url"])] == ["half-done"]
    assert original
