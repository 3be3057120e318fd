"""The one message type every cloud's adapter hands to the user's handler."""

from __future__ import annotations

# No dataclasses or typing here: both pull in modules (inspect, re) that cost cold-start time.


class Message:
    """A queue message, the same shape on every cloud."""

    __slots__ = ("id", "body", "attributes", "delivery_attempt", "cloud")

    def __init__(self, id: str, body: bytes, attributes: dict[str, str] | None = None,
                 delivery_attempt: int | None = None, cloud: str = "") -> None:
        self.id = id
        """The cloud's message id."""
        self.body = body
        """The payload as sent."""
        self.attributes = attributes if attributes is not None else {}
        """Application attributes / properties sent with the message."""
        self.delivery_attempt = delivery_attempt
        """1 on the first delivery; None where the cloud does not report it."""
        self.cloud = cloud
        """Which cloud delivered it: aws, azure or gcp."""

    @property
    def text(self) -> str:
        """The payload decoded as UTF-8."""
        return self.body.decode("utf-8")

    def json(self):
        """The payload parsed as JSON; raises ValueError when it is not JSON."""
        import json  # only handlers that ask for JSON pay for the import

        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"Message(id={self.id!r}, cloud={self.cloud!r}, delivery_attempt={self.delivery_attempt!r}, body={self.body[:64]!r})"
