"""Example consumer: the same business code runs on AWS, Azure and Google Cloud."""

from dateutil import parser as dates  # a third-party package, from requirements.txt


def handle(message):
    """Process one order; raising marks the message failed so it is retried, then dead-lettered."""
    order = message.json()
    if "order_id" not in order:
        raise ValueError(f"message {message.id} has no order_id")
    placed = dates.isoparse(order["placed_at"]) if "placed_at" in order else None
    print(f"order {order['order_id']} placed {placed or 'at an unknown time'} received on {message.cloud} (attempt {message.delivery_attempt})")
