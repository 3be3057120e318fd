"""Every adapter logs one JSON line per failed message, with ids, attempt, cloud, queue and exception, never the body."""

from __future__ import annotations

import json
import logging

import pytest

from cloudqueue_runtime import aws, azure, gcp
from emulators import envelope, service_bus_message

SECRET = "4111-1111-1111-1111"  # a card number in the body: personal data that must never be logged
BODY = json.dumps({"n": 7, "fail": True, "card": SECRET}).encode()
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def assert_failure_record(record: dict, cloud: str, message_id: str, attempt: int) -> None:
    assert record["cloud"] == cloud and record["queue"] == "orders"
    assert (record["message_id"], record["delivery_attempt"]) == (message_id, attempt)
    assert (record["exception_type"], record["exception_message"]) == ("RuntimeError", "cannot process order 7")
    assert record["severity"] == "ERROR" and "orders_handler.py" in record["stack"]


@pytest.fixture(autouse=True)
def queue_name(monkeypatch):
    monkeypatch.setenv("CLOUDQUEUE_QUEUE", "orders")


def test_aws_logs_one_json_line_per_failed_record_with_its_x_ray_trace(recording_handler, capsys, monkeypatch):
    monkeypatch.setenv("_X_AMZN_TRACE_ID", f"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
    record = {"messageId": "m-1", "body": BODY.decode(), "attributes": {"ApproximateReceiveCount": "3"}, "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:orders"}
    ok = {**record, "messageId": "m-2", "body": '{"n": 1}'}
    assert aws.handler({"Records": [record, ok]}) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    err = capsys.readouterr().err
    (logged,) = lines(err)
    assert_failure_record(logged, "aws", "m-1", 3)
    assert logged["xray_trace_id"] == "1-5759e988-bd862e3fe1be46a994272793"
    assert SECRET not in err and len(err.strip().splitlines()) == 1


def test_azure_logs_the_line_through_logging_so_the_host_ties_it_to_the_invocation(recording_handler, caplog, capsys):
    with caplog.at_level(logging.ERROR, logger="cloudqueue"), pytest.raises(RuntimeError):
        azure.process(service_bus_message(BODY, delivery_count=2, message_id="sb-9"))
    (logged,) = [json.loads(r.getMessage()) for r in caplog.records if r.name == "cloudqueue"]
    assert_failure_record(logged, "azure", "sb-9", 2)
    assert SECRET not in caplog.text and SECRET not in capsys.readouterr().err


class Request:
    """The two things the GCP adapter reads from the Functions Framework's Flask request."""

    def __init__(self, body: dict, headers: dict):
        self._body, self.headers = json.dumps(body).encode(), headers

    def get_data(self) -> bytes:
        return self._body


@pytest.mark.parametrize(
    "headers",
    [{"traceparent": f"00-{TRACE}-00f067aa0ba902b7-01"}, {"X-Cloud-Trace-Context": f"{TRACE}/67667974448284343;o=1"}],
    ids=["w3c", "x-cloud-trace-context"],
)
def test_gcp_logs_a_structured_line_under_the_requests_trace(recording_handler, capsys, monkeypatch, headers):
    monkeypatch.setenv(gcp.TRACE_PROJECT_ENV, "my-project")
    assert gcp.push(Request(envelope(BODY, attempt=4, message_id="ps-1"), headers))[1] == gcp.FAILED
    err = capsys.readouterr().err
    (logged,) = lines(err)
    assert_failure_record(logged, "gcp", "ps-1", 4)
    assert logged["logging.googleapis.com/trace"] == f"projects/my-project/traces/{TRACE}"
    assert logged["logging.googleapis.com/trace_sampled"] is True
    assert len(logged["logging.googleapis.com/spanId"]) == 16
    assert SECRET not in err


def test_gcp_without_tracing_logs_no_trace_fields(recording_handler, capsys, monkeypatch):
    monkeypatch.delenv(gcp.TRACE_PROJECT_ENV, raising=False)
    gcp.push(Request(envelope(BODY, message_id="ps-2"), {"traceparent": f"00-{TRACE}-00f067aa0ba902b7-01"}))
    (logged,) = lines(capsys.readouterr().err)
    assert not [key for key in logged if key.startswith("logging.googleapis.com/")]


def test_a_malformed_push_is_logged_without_its_body(recording_handler, capsys):
    assert gcp.push(Request({"message": {"data": "!!", "attributes": {"card": SECRET}}}, {}))[1] == gcp.MALFORMED
    err = capsys.readouterr().err
    (logged,) = lines(err)
    assert logged["message_id"] is None and logged["exception_type"].endswith("MalformedEnvelope")
    assert SECRET not in err


def test_a_long_exception_message_is_cut_so_a_handler_cannot_flood_the_logs(user_module, capsys):
    user_module("def handle(message):\n    raise ValueError('x' * 5000)\n")
    aws.handler({"Records": [{"messageId": "m-3", "body": "{}", "attributes": {}}]})
    (logged,) = lines(capsys.readouterr().err)
    assert len(logged["exception_message"]) == 1000
