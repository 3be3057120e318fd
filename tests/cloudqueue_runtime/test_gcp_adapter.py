"""The generated Cloud Functions entry point, served by the real Functions Framework, fed real push envelopes.

`PushSubscription` plays Pub/Sub's part: it posts one envelope per message, acks on 2xx,
redelivers otherwise, and forwards a message to the dead-letter topic once
`max_delivery_attempts` deliveries have failed.
"""

from __future__ import annotations

import json
import zipfile

import functions_framework
import pytest

from components import artifact
from components.gcp import ENTRY_POINT, generated_files
from components.spec import validate
from emulators import SUBSCRIPTION, PushSubscription, envelope


@pytest.fixture
def client(tmp_path, recording_handler):
    """A test client for the generated `main.py`, extracted from the built source package."""
    code = tmp_path / "consumer"
    code.mkdir()
    (code / "orders_handler.py").write_text(recording_handler)
    spec = validate("orders", {"clouds": ["gcp"], "consumer": {"code_path": str(code), "handler": "orders_handler.handle"}})
    package = artifact.build(code, out_dir=tmp_path / "out", generated=generated_files(spec))
    site = tmp_path / "site"
    zipfile.ZipFile(package.path).extractall(site)
    assert "functions-framework" in (site / "requirements.txt").read_text()
    app = functions_framework.create_app(target=ENTRY_POINT, source=str(site / "main.py"), signature_type="http")
    return app.test_client()


def test_handled_message_is_acked_with_2xx(client):
    response = client.post("/", json=envelope(b'{"n": 1}'))
    assert response.status_code == 204
    import orders_handler

    assert [m.json() for m in orders_handler.seen] == [{"n": 1}]


def test_handler_failure_answers_non_2xx_so_pubsub_redelivers(client):
    assert client.post("/", json=envelope(b'{"n": 2, "fail": true}')).status_code == 500


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        json.dumps({"subscription": SUBSCRIPTION}).encode(),  # no message
        json.dumps({"message": {"data": "aGk="}}).encode(),  # no messageId
        json.dumps({"message": {"data": "***", "messageId": "1"}}).encode(),  # data not base64
        json.dumps({"message": {"data": "aGk=", "messageId": "1"}, "deliveryAttempt": "two"}).encode(),
    ],
    ids=["not-json", "no-message", "no-id", "bad-base64", "bad-attempt"],
)
def test_malformed_envelope_answers_non_2xx_and_is_never_acked(client, body):
    response = client.post("/", data=body, content_type="application/json")
    assert response.status_code == 400
    import orders_handler

    assert orders_handler.seen == []


def test_delivery_attempt_attributes_and_id_come_from_the_envelope(client):
    assert client.post("/", json=envelope(b'{"n": 3}', attempt=4, attributes={"source": "api"}, message_id="1234567890")).status_code == 204
    import orders_handler

    (message,) = orders_handler.seen
    assert (message.id, message.delivery_attempt, message.cloud) == ("1234567890", 4, "gcp")
    assert message.attributes == {"source": "api"}
    assert message.body == b'{"n": 3}'


def test_an_envelope_without_delivery_attempt_gives_none(client):
    assert client.post("/", json=envelope(b'{"n": 5}', attempt=None)).status_code == 204
    import orders_handler

    assert orders_handler.seen[0].delivery_attempt is None


def test_poison_and_malformed_bodies_reach_the_dead_letter_topic_after_max_attempts_intact(client):
    subscription = PushSubscription(client, max_delivery_attempts=5)
    for n in range(6):
        subscription.publish_and_deliver(json.dumps({"n": n}).encode())
    subscription.publish_and_deliver(b'{"n": 99, "fail": true}')
    subscription.publish_and_deliver(b"\xff not json")
    assert len(subscription.acked) == 6
    assert [(data, attempts) for _, data, attempts in subscription.dead_lettered] == [(b'{"n": 99, "fail": true}', 5), (b"\xff not json", 5)]
