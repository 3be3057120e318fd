"""Message: the one shape every adapter hands to the user's handler."""

from __future__ import annotations

import pytest

from cloudqueue_runtime import Message


def test_text_and_json_decode_the_body():
    message = Message(id="1", body=b'{"order_id": 7}', cloud="aws")
    assert message.text == '{"order_id": 7}'
    assert message.json() == {"order_id": 7}
    assert message.attributes == {} and message.delivery_attempt is None


def test_json_of_a_non_json_body_raises_so_the_message_is_retried():
    with pytest.raises(ValueError):
        Message(id="1", body=b"not json").json()
