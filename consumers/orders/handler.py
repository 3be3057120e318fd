"""Example consumer: the same business code runs on AWS, Azure and Google Cloud."""


def handle(message):
    """Process one order; raising marks the message failed so it is retried, then dead-lettered."""
    order = message.json()
    if "order_id" not in order:
        raise ValueError(f"message {message.id} has no order_id")
    print(f"order {order['order_id']} received on {message.cloud} (attempt {message.delivery_attempt})")
