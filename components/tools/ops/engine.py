"""The cloud-neutral loops behind `cloudqueue dlq`: peek and redrive, with the safety rules.

Each cloud supplies a `DeadLetterQueue` (ops/aws.py, ops/azure.py, ops/gcp.py); the rules live here
once, so they are the same on every cloud:
- send -> confirm -> settle (delete / complete / ack), never the other way round: a crash in
  between leaves a duplicate, never a loss; the journal lets a re-run settle it without resending;
- stop at the first error, giving back (making visible again) whatever is still held;
- `--max` and `--rate` bound the run; `--id` picks messages; `--dry-run` moves nothing;
- every copy carries REDRIVE_COUNT_ATTRIBUTE, and a message redriven REDRIVE_LIMIT times already
  is refused (left in the dead-letter queue): a message that keeps failing does not ping-pong.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional, Protocol, TextIO

from .journal import Journal, body_fields

REDRIVE_COUNT_ATTRIBUTE = "cloudqueue-redrive-count"
"""Attribute / application property holding how many times a message was redriven."""
REDRIVE_LIMIT = 3
"""A message already redriven this many times is refused: fix the consumer, or purge it."""
RECEIVE_BATCH = 10
"""Messages per receive: SQS's maximum, and a small unit of work on the other clouds."""


@dataclass
class DeadLetter:
    """One dead-lettered message as the loops see it, whatever the cloud."""

    key: str
    """Unique identity in the dead-letter queue (journal key): SQS and Pub/Sub message id, Service Bus sequence number."""
    id: str
    """The id an operator sees in `peek` and passes to `--id`."""
    body: bytes
    attributes: dict[str, str]
    group: Optional[str] = None
    """SQS message group, Service Bus session, Pub/Sub ordering key."""
    redrive_count: int = 0
    reason: Optional[str] = None
    """Why it was dead-lettered, as far as the cloud tells."""
    sent_at: Optional[str] = None
    """When the original message was first sent (enqueued, published)."""
    handle: Any = field(default=None, repr=False)
    """The cloud's own message or receipt handle, to settle or release it."""

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id}
        if self.group:
            out["group"] = self.group
        out.update(redrive_count=self.redrive_count, reason=self.reason, sent_at=self.sent_at, attributes=self.attributes)
        out.update(body_fields(self.body))
        return out


class DeadLetterQueue(Protocol):
    cloud: str
    source: str
    """The dead-letter queue, named exactly (URL, path, subscription)."""
    destination: str
    """Where a redrive sends copies (the queue / topic)."""

    def receive(self, count: int) -> list[DeadLetter]: ...
    def browse(self, count: int) -> list[DeadLetter]: ...
    def send_copy(self, message: DeadLetter, redrive_count: int) -> str: ...
    def settle(self, message: DeadLetter) -> None: ...
    def release(self, messages: list[DeadLetter]) -> None: ...


def receive_then_release(queue: "DeadLetterQueue", count: int) -> list[DeadLetter]:
    """Receive up to `count` distinct messages, then give them all back at once (peek on clouds without a peek call).

    A message received twice keeps its newest handle, the one that can give it back.
    """
    found: dict[str, DeadLetter] = {}
    try:
        while len(found) < count:
            batch = queue.receive(count - len(found))
            fresh = [m for m in batch if m.key not in found]
            for message in batch:
                found[message.key] = message
            if not fresh:
                break
    finally:
        queue.release(list(found.values()))
    return list(found.values())[:count]


def redrive_count(value: Any) -> int:
    """The count attribute as an int; absent or unreadable counts as 0 (never redriven by cloudqueue)."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


class Pacer:
    """At most `rate` sends per second (None: no limit)."""

    def __init__(self, rate: Optional[float], clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self.interval = 1.0 / rate if rate else 0.0
        self.clock, self.sleep, self.next = clock, sleep, None

    def wait(self) -> None:
        if not self.interval:
            return
        now = self.clock()
        if self.next is not None and now < self.next:
            self.sleep(self.next - now)
            now = self.next
        self.next = now + self.interval


class Progress:
    """One rewritten status line on a terminal; nothing when the stream is not one."""

    def __init__(self, label: str, stream: Optional[TextIO] = None, every: float = 0.2):
        self.label, self.stream, self.every = label, stream or sys.stderr, every
        self.live = getattr(self.stream, "isatty", lambda: False)()
        self.last = 0.0
        self.shown = False
        self.text = ""

    def update(self, text: str, force: bool = False) -> None:
        self.text = text
        if not self.live:
            return
        now = time.monotonic()
        if force or now - self.last >= self.every:
            self.stream.write(f"\r\x1b[K{self.label}: {text}")
            self.stream.flush()
            self.last, self.shown = now, True

    def say(self, line: str, out: Optional[TextIO] = None) -> None:
        """Print a line above the status line, which is then drawn again."""
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
        print(line, file=out or sys.stdout, flush=True)
        if self.shown:
            self.stream.write(f"{self.label}: {self.text}")
            self.stream.flush()

    def done(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


@dataclass
class RedriveResult:
    moved: list[tuple[str, str]] = field(default_factory=list)
    """(original id, id of the copy) per message moved."""
    resumed: list[str] = field(default_factory=list)
    """Ids settled without a send: an earlier run had confirmed their copy."""
    refused: list[DeadLetter] = field(default_factory=list)
    would: list[DeadLetter] = field(default_factory=list)
    """--dry-run: what would be moved."""
    not_found: list[str] = field(default_factory=list)


class RedriveError(Exception):
    """A step failed; the run stopped there. Carries what was done before it."""

    def __init__(self, message: str, result: RedriveResult):
        super().__init__(message)
        self.result = result


def redrive(
    queue: DeadLetterQueue,
    journal: Journal,
    *,
    max_messages: Optional[int] = None,
    rate: Optional[float] = None,
    ids: Iterable[str] = (),
    dry_run: bool = False,
    progress: Optional[Progress] = None,
    pacer: Optional[Pacer] = None,
    report: Optional[Callable[[str], None]] = None,
) -> RedriveResult:
    """Move messages from the dead-letter queue back to the queue, one confirmed step at a time."""
    report = report or (progress.say if progress else print)
    wanted = set(ids)
    result = RedriveResult()
    pending = journal.pending()
    pacer = pacer or Pacer(rate)
    held: dict[str, DeadLetter] = {}  # received and not settled: given back at the end, whatever happens
    seen: set[str] = set()
    current: Optional[DeadLetter] = None

    def done() -> int:
        return len(result.moved) + len(result.resumed) + len(result.would)

    try:
        while (max_messages is None or done() < max_messages) and (not wanted or wanted - _found(result)):
            room = RECEIVE_BATCH if max_messages is None or wanted else min(RECEIVE_BATCH, max_messages - done())
            batch = queue.receive(room)
            fresh = [m for m in batch if m.key not in seen]
            for message in batch:
                if message.key in seen and message.key in held:
                    held[message.key] = message  # came back: its newest handle is the one to give back
                seen.add(message.key)
                held.setdefault(message.key, message)
            if not fresh:
                break  # empty, or only messages already looked at: the queue has been gone through
            for message in fresh:
                if (wanted and message.id not in wanted) or (max_messages is not None and done() >= max_messages):
                    continue
                current = message
                if message.key in pending:
                    copy = pending[message.key].get("new_id")
                    if dry_run:
                        result.would.append(message)
                        report(f"would settle {message.id}: its copy {copy} was sent by an earlier run")
                        continue
                    queue.settle(message)
                    del held[message.key]
                    journal.write("settled", key=message.key, id=message.id, resumed=True, copy=copy)
                    result.resumed.append(message.id)
                    report(f"settled {message.id} (copy {copy} sent by an earlier run)")
                    continue
                if message.redrive_count >= REDRIVE_LIMIT:
                    journal.write("refused", key=message.key, id=message.id, redrive_count=message.redrive_count, limit=REDRIVE_LIMIT)
                    result.refused.append(message)
                    report(f"refused {message.id}: redriven {message.redrive_count} times already (limit {REDRIVE_LIMIT}); left in {queue.source}")
                    continue
                if dry_run:
                    result.would.append(message)
                    report(f"would redrive {message.id} to {queue.destination}")
                    continue
                pacer.wait()
                new_id = queue.send_copy(message, message.redrive_count + 1)
                journal.write(
                    "sent", key=message.key, id=message.id, new_id=new_id, source=queue.source, destination=queue.destination,
                    group=message.group, attributes=message.attributes, redrive_count=message.redrive_count + 1, **body_fields(message.body),
                )
                queue.settle(message)
                del held[message.key]
                journal.write("settled", key=message.key, id=message.id)
                result.moved.append((message.id, new_id))
                report(f"redriven {message.id} -> {new_id}")
                if progress:
                    progress.update(f"{len(result.moved)} moved" + (f" of at most {max_messages}" if max_messages else ""))
            current = None
    except Exception as error:
        step = f" at {current.id}" if current else ""
        first_line = (str(error).strip().splitlines() or [""])[0]
        raise RedriveError(f"stopped{step}: {type(error).__name__}: {first_line}", result) from error
    finally:
        if progress:
            progress.done()
        if held:
            try:
                queue.release(list(held.values()))
            except Exception as error:  # the cloud's own lock timeout gives them back anyway
                report(f"could not give back {len(held)} held message(s) now ({error}); they become visible again when their short lock runs out")
    result.not_found = sorted(wanted - _found(result))
    return result


def _found(result: RedriveResult) -> set[str]:
    return {original for original, _ in result.moved} | set(result.resumed) | {m.id for m in result.would} | {m.id for m in result.refused}


def peek(queue: DeadLetterQueue, max_messages: int) -> list[DeadLetter]:
    """Up to `max_messages` dead-lettered messages, left where they are."""
    return queue.browse(max_messages)
