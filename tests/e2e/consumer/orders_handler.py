"""The end-to-end consumer: the mixed load of tests/cloudqueue_runtime/test_delivery_semantics.py,
run by ministack's Lambda workers, with every attempt written where the test reads it back.

The workers are separate processes (up to the mapping's maximum concurrency) and a retry may land
on another one, so nothing is kept in memory: whether a transient order fails depends on its
delivery attempt alone. Each attempt is one line appended to $CLOUDQUEUE_E2E_RESULTS, a variable
of ministack's own environment (its workers inherit it), so the function's environment stays
exactly what the component recorded.
"""

import json
import os
import sys

import dateutil  # from the dependency layer (consumers/orders/requirements.txt)

def kind(n):
    """5% poison (always raise), 10% transient (fail the first attempt only), the rest healthy."""
    return "poison" if n % 20 == 0 else "transient" if n % 10 == 5 else "healthy"


def _record(**fields):
    line = json.dumps({**fields, "pid": os.getpid(), "python": sys.version.split()[0], "dateutil": dateutil.__file__}) + "\n"
    # One write to an O_APPEND file: lines from concurrent workers never interleave, and their
    # order in the file is the order the attempts ran in.
    fd = os.open(os.environ["CLOUDQUEUE_E2E_RESULTS"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def handle(message):
    try:
        body = message.json()
    except ValueError:
        _record(id=message.id, attempt=message.delivery_attempt, kind="malformed", outcome="failed")
        raise
    n, group = body["n"], body.get("group")
    if kind(n) == "poison" or (kind(n) == "transient" and message.delivery_attempt == 1):
        _record(id=message.id, attempt=message.delivery_attempt, n=n, group=group, kind=kind(n), outcome="failed")
        raise RuntimeError(f"order {n} failed")
    _record(id=message.id, attempt=message.delivery_attempt, n=n, group=group, kind=kind(n), outcome="handled")
