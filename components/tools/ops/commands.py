"""`cloudqueue send --stack` and `cloudqueue dlq peek|redrive|purge`: the commands, per cloud.

Exit codes: 0 done; 1 the operation stopped, refused a message, missed an `--id`, or (purge) was
not confirmed; 2 the command cannot start (outputs, arguments, a missing SDK, an oversized body).
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

from . import engine
from .journal import Journal
from .outputs import OutputsError, aws_names, azure_names, gcp_names, is_fifo, load_stack_outputs, max_message_bytes, queue_outputs, queue_spec, target_clouds

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_INTERRUPTED = 0, 1, 2, 130
DEFAULT_GROUP = "default"
"""The message group / session / ordering key `send` uses on an ordered queue without --group (as `send --local`)."""
MOVE_TASK_MAX_RATE = 500  # SQS MaxNumberOfMessagesPerSecond
SDK_HINT = "install the ops extra: pip install 'cloudqueue[ops]'"


class CommandError(Exception):
    """The command cannot start: exit 2 with this message."""


def _err(command: str, text: str) -> None:
    print(f"cloudqueue {command}: {text}", file=sys.stderr)


def _context(args: argparse.Namespace) -> tuple[Path, dict[str, Any], list[str]]:
    project_dir = Path(args.cwd).resolve()
    deployed = queue_outputs(load_stack_outputs(args.stack, args.outputs, project_dir), args.stack, args.queue)
    return project_dir, deployed, target_clouds(deployed, args.stack, args.queue, args.cloud)


def open_dead_letter_queue(cloud: str, deployed: dict[str, Any], queue: str, stack: ExitStack) -> Any:
    """The cloud's DeadLetterQueue over the SDK's default client; closed with `stack`."""
    if cloud == "aws":
        from . import aws

        names = aws_names(deployed, queue)
        return aws.SqsDeadLetterQueue(aws.client(names), names)
    if cloud == "azure":
        from . import azure

        names = azure_names(deployed, queue)
        adapter = azure.ServiceBusDeadLetterQueue(azure.client(names), names)
        stack.callback(adapter.close)
        return adapter
    from . import gcp

    names = gcp_names(deployed, queue)
    publisher, subscriber = gcp.publisher(), gcp.subscriber()
    stack.callback(subscriber.close)
    stack.callback(publisher.stop)
    return gcp.PubSubDeadLetterQueue(publisher, subscriber, names)


def _guarded(command: str, run: Callable[[], int]) -> int:
    """Run a command, turning the expected failures into one line and an exit code."""
    try:
        return run()
    except (OutputsError, CommandError) as error:
        _err(command, str(error))
        return EXIT_INVALID
    except ImportError as error:
        _err(command, f"{error.name or error}: not installed; {SDK_HINT}")
        return EXIT_INVALID
    except KeyboardInterrupt:
        _err(command, "interrupted")
        return EXIT_INTERRUPTED
    except CloudError as error:
        _err(command, str(error))
        return EXIT_FAILED
    except Exception as error:  # the cloud's own error, named as the SDK names it
        _err(command, _one_line(error))
        return EXIT_FAILED


class CloudError(Exception):
    """A cloud's SDK raised while a command worked on that cloud."""


@contextmanager
def _on(cloud: str) -> Iterator[None]:
    """Name the cloud in whatever its SDK raises."""
    try:
        yield
    except (OutputsError, CommandError, ImportError, KeyboardInterrupt):
        raise
    except Exception as error:
        raise CloudError(f"{cloud}: {_one_line(error)}") from error


def _one_line(error: BaseException) -> str:
    """The error's type and first line (some endpoints answer with a whole HTML page)."""
    lines = str(error).strip().splitlines() or [""]
    return f"{type(error).__name__}: {lines[0]}" + (" [...]" if len(lines) > 1 else "")


# --- send ------------------------------------------------------------------------------------


def read_body(value: str) -> bytes:
    """BODY as given, or the bytes of a file for `@path`."""
    if value.startswith("@"):
        path = Path(value[1:])
        try:
            return path.read_bytes()
        except OSError as error:
            raise CommandError(f"{value}: {error.strerror}") from None
    return value.encode("utf-8")


def parse_attributes(pairs: list[str]) -> dict[str, str]:
    attributes = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CommandError(f"--attr {pair!r}: expected key=value")
        attributes[key] = value
    return attributes


def message_size(body: bytes, attributes: dict[str, str]) -> int:
    """Body plus attribute names and values: what SQS, Service Bus and Pub/Sub count against their limit."""
    return len(body) + sum(len(k.encode()) + len(v.encode()) for k, v in attributes.items())


def send(args: argparse.Namespace) -> int:
    def run() -> int:
        project_dir, deployed, clouds = _context(args)
        body, attributes = read_body(args.body), parse_attributes(args.attr)
        spec = queue_spec(project_dir, args.stack, args.queue)
        limit, source = max_message_bytes(spec, clouds)
        size = message_size(body, attributes)
        if size > limit:
            raise CommandError(f"the message is {size} bytes (body and attributes); {source} is {limit} bytes ({', '.join(clouds)}); nothing sent")
        if "aws" in clouds:
            try:
                body.decode("utf-8")
            except UnicodeDecodeError:
                raise CommandError("SQS message bodies are text and this body is not UTF-8; nothing sent") from None
        for cloud in clouds:  # one after another; the first failure stops the rest
            group = args.group or (DEFAULT_GROUP if is_fifo(spec, cloud, deployed) else None)
            with _on(cloud):
                message_id, target = _send_one(cloud, deployed, args.queue, body, attributes, group)
            print(f"sent {message_id} to {args.queue} on {cloud} ({target})" + (f", group {group}" if group else ""))
        return EXIT_OK

    return _guarded("send", run)


def _send_one(cloud: str, deployed: dict[str, Any], queue: str, body: bytes, attributes: dict[str, str], group: Optional[str]) -> tuple[str, str]:
    if cloud == "aws":
        from . import aws

        names = aws_names(deployed, queue)
        return aws.send(aws.client(names), names, body, attributes, group), names.queue_url
    if cloud == "azure":
        from . import azure

        names = azure_names(deployed, queue)
        sb = azure.client(names)
        with sb:
            return azure.send(sb, names, body, attributes, group), f"{names.namespace_host}/{names.queue_name}"
    from . import gcp

    names = gcp_names(deployed, queue)
    publisher = gcp.publisher()
    try:
        return gcp.send(publisher, names, body, attributes, group), names.topic_id
    finally:
        publisher.stop()


# --- dlq peek --------------------------------------------------------------------------------


def peek(args: argparse.Namespace) -> int:
    def run() -> int:
        _, deployed, clouds = _context(args)
        shown: list[dict[str, Any]] = []
        with ExitStack() as stack:
            for cloud in clouds:
                with _on(cloud):
                    queue = open_dead_letter_queue(cloud, deployed, args.queue, stack)
                    messages = engine.peek(queue, args.max)
                if args.format == "json":
                    shown.extend({"cloud": cloud, "dead_letter_queue": queue.source, **m.describe()} for m in messages)
                else:
                    _print_messages(cloud, queue.source, messages)
        if args.format == "json":
            print(json.dumps(shown, indent=2))
        return EXIT_OK

    return _guarded("dlq peek", run)


def _print_messages(cloud: str, source: str, messages: list[engine.DeadLetter]) -> None:
    print(f"{cloud}  {source}: {len(messages)} message(s) shown")
    for message in messages:
        described = message.describe()
        body = described.get("body", f"<{len(message.body)} bytes, base64> {described.get('body_base64', '')}")
        print(f"  {message.id}" + (f"  group {message.group}" if message.group else "") + f"  redriven {message.redrive_count}x")
        for label, value in (("reason", message.reason), ("sent", message.sent_at)):
            if value:
                print(f"    {label}: {value}")
        if message.attributes:
            print(f"    attributes: {json.dumps(message.attributes, sort_keys=True)}")
        print(f"    body: {body[:200]}{'...' if len(body) > 200 else ''}")


# --- dlq redrive -----------------------------------------------------------------------------


def redrive(args: argparse.Namespace) -> int:
    def run() -> int:
        project_dir, deployed, clouds = _context(args)
        whole_aws = "aws" in clouds and not args.id and args.max is None
        if whole_aws and args.rate is not None and (args.rate != int(args.rate) or not 1 <= args.rate <= MOVE_TASK_MAX_RATE):
            raise CommandError(f"--rate {args.rate:g}: a whole-queue SQS redrive moves 1..{MOVE_TASK_MAX_RATE} messages per second, a whole number (MaxNumberOfMessagesPerSecond)")
        with ExitStack() as stack:
            for cloud in clouds:  # the first cloud that fails stops the others
                journal = stack.enter_context(Journal(project_dir, args.stack, args.queue, cloud, "redrive"))
                try:
                    with _on(cloud):
                        queue = open_dead_letter_queue(cloud, deployed, args.queue, stack)
                        code = _aws_move_task(args, queue, journal) if cloud == "aws" and whole_aws else _redrive_messages(args, cloud, queue, journal)
                finally:
                    if journal.written:
                        print(f"journal: {journal.path}", file=sys.stderr)
                if code != EXIT_OK:
                    return code
        return EXIT_OK

    return _guarded("dlq redrive", run)


def _redrive_messages(args: argparse.Namespace, cloud: str, queue: Any, journal: Journal, ids: Optional[list[str]] = None) -> int:
    progress = engine.Progress(f"redrive {cloud}")
    try:
        result = engine.redrive(queue, journal, max_messages=args.max, rate=args.rate, ids=ids if ids is not None else (args.id or ()), dry_run=args.dry_run, progress=progress)
    except engine.RedriveError as error:
        done = error.result
        _err("dlq redrive", f"{cloud}: {error}; {len(done.moved)} moved before it. Nothing was deleted before its copy was confirmed; run the same command again to finish.")
        return EXIT_FAILED
    verb = "would move" if args.dry_run else "moved"
    count = len(result.would) if args.dry_run else len(result.moved)
    summary = f"{cloud}: {verb} {count} message(s) from {queue.source} to {queue.destination}"
    if result.resumed:
        summary += f"; settled {len(result.resumed)} whose copy an earlier run had sent"
    print(summary)
    problems = []
    if result.refused:
        problems.append(f"refused {len(result.refused)} message(s) redriven {engine.REDRIVE_LIMIT} times already: {', '.join(m.id for m in result.refused)}")
    if result.not_found:
        hint = " (in a FIFO queue a message waits behind the earlier ones of its group)" if queue.destination.endswith(".fifo") else ""
        problems.append(f"not found: {', '.join(result.not_found)}{hint}")
    for problem in problems:
        _err("dlq redrive", f"{cloud}: {problem}")
    return EXIT_FAILED if problems else EXIT_OK


def _aws_move_task(args: argparse.Namespace, queue: Any, journal: Journal) -> int:
    pending = journal.pending()
    if pending:  # copies an interrupted run sent: delete their originals first, or the task would send them again
        code = _redrive_messages(args, "aws", queue, journal, ids=sorted({r["id"] for r in pending.values()}))
        if code != EXIT_OK:
            return code
    depth = queue.depth()
    rate = f" at {int(args.rate)} messages/s" if args.rate else ""
    if args.dry_run:
        print(f"aws: would start an SQS message move task{rate}: about {depth} message(s) from {queue.names.dlq_arn} to {queue.names.queue_arn}")
        return EXIT_OK
    if depth == 0:
        print(f"aws: {queue.source} is empty; nothing to redrive")
        return EXIT_OK
    handle = queue.start_move_task(args.rate)
    journal.write("move-task-started", task_handle=handle, source=queue.names.dlq_arn, destination=queue.names.queue_arn, rate=args.rate, approximate_messages=depth)
    print(f"aws: message move task started{rate}: about {depth} message(s) from {queue.names.dlq_arn} to {queue.names.queue_arn}")
    print(f"  note: SQS moves the messages itself; {engine.REDRIVE_COUNT_ATTRIBUTE} is neither raised nor checked (use --max N for that)", file=sys.stderr)
    try:
        task = queue.wait_move_task(handle, progress=engine.Progress("redrive aws"))
    except KeyboardInterrupt:
        _err("dlq redrive", f"aws: stopped watching; the task keeps running (stop it with `aws sqs cancel-message-move-task --task-handle {handle}`)")
        return EXIT_INTERRUPTED
    journal.write("move-task-finished", task_handle=handle, status=task["Status"], moved=task.get("ApproximateNumberOfMessagesMoved"), failure_reason=task.get("FailureReason"))
    if task["Status"] != "COMPLETED":
        _err("dlq redrive", f"aws: the move task ended {task['Status']}: {task.get('FailureReason', 'no reason given')}; {task.get('ApproximateNumberOfMessagesMoved', 0)} moved")
        return EXIT_FAILED
    print(f"aws: moved {task.get('ApproximateNumberOfMessagesMoved', 0)} message(s) from {queue.source} to {queue.destination}")
    return EXIT_OK


# --- dlq purge -------------------------------------------------------------------------------


def purge(args: argparse.Namespace) -> int:
    def run() -> int:
        project_dir, deployed, (cloud,) = _context(args)
        with ExitStack() as stack, _on(cloud):
            queue = open_dead_letter_queue(cloud, deployed, args.queue, stack)
            depth = f" (about {queue.depth()} message(s))" if cloud == "aws" else ""
            if not args.yes:
                _err("dlq purge", f"would delete every message in {queue.source}{depth}; nothing done. Add --yes to purge it.")
                return EXIT_FAILED
            journal = stack.enter_context(Journal(project_dir, args.stack, args.queue, cloud, "purge"))
            if cloud == "aws":
                journal.write("purge-requested", queue=queue.source, approximate_messages=queue.depth())
                queue.purge()
                print(f"aws: purging {queue.source}{depth}; SQS finishes within 60 seconds")
            elif cloud == "azure":
                count = queue.purge(lambda m: journal.write("purged", key=m.key, id=m.id, group=m.group, attributes=m.attributes, **engine.body_fields(m.body)))
                print(f"azure: purged {count} message(s) from {queue.source}")
            else:
                when = queue.purge()
                journal.write("purged", subscription=queue.source, seek_time=when)
                print(f"gcp: purged {queue.source}: every message published before {when} is acknowledged")
            print(f"journal: {journal.path}", file=sys.stderr)
        return EXIT_OK

    return _guarded("dlq purge", run)
