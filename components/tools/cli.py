"""The `cloudqueue` command (also `python -m cloudqueue`).

    cloudqueue validate --stack dev [--cwd PROJECT_DIR]
    cloudqueue plan --stack dev [--format text|json|markdown] [--graph FILE.mmd|FILE.dot]
    cloudqueue local --stack dev orders [--port 4566] [--retry-after SECONDS]
    cloudqueue send --local orders '{"order_id": 1}' [--group GROUP]
    cloudqueue send --stack prod orders BODY|@file [--cloud C] [--group G] [--attr k=v]... [--outputs FILE]
    cloudqueue dlq peek    --stack prod orders [--cloud C] [--max N] [--format text|json] [--outputs FILE]
    cloudqueue dlq redrive --stack prod orders [--cloud C] [--max N] [--rate R] [--id ID]... [--dry-run]
    cloudqueue dlq purge   --stack prod orders --cloud C [--yes]

`validate` reads `Pulumi.<stack>.yaml` the way the Pulumi CLI hands config to a program (project
defaults from Pulumi.yaml, then the stack's own values; a key without a namespace belongs to the
project), validates every queue under `cloudqueue:queues` against every targeted cloud, prints
every problem, and exits 2 on a spec error and 0 when clean. It never starts the Pulumi engine, so
it is fast enough for a pre-commit hook. Later subcommands plug into `COMMANDS`.

`send --stack` and `dlq` work on a deployed stack, through `cloudqueue.tools.ops` (imported only when
they run, with the cloud SDKs of the `ops` extra); see that package for what each does per cloud.
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable, Optional

from .stack_config import QUEUES_KEY, StackFileError, read_stack_config

EXIT_OK = 0
EXIT_POLICY = 1
EXIT_INVALID = 2
# QUEUES_KEY, StackFileError and read_stack_config live in stack_config.py (the ops commands read
# the stack file too); imported above, they stay importable from here.


def _load(args: argparse.Namespace) -> tuple[Path, dict[str, Any], Any]:
    """(project folder, stack config, validated specs); raises StackFileError or SpecError."""
    from ..spec import validate_all  # pulumi is only imported once there is a stack to check

    project_dir = Path(args.cwd).resolve()
    config = read_stack_config(project_dir, args.stack)
    if QUEUES_KEY not in config:
        raise StackFileError(f"Pulumi.{args.stack}.yaml sets no {QUEUES_KEY}")
    return project_dir, config, validate_all(config[QUEUES_KEY], base_dir=project_dir)


def _checked(args: argparse.Namespace, command: str) -> Optional[tuple[Path, dict[str, Any], Any]]:
    """`_load`, printing a stack or spec error the same way for every command."""
    from ..spec import SpecError

    try:
        return _load(args)
    except StackFileError as error:
        print(f"cloudqueue {command}: {error}", file=sys.stderr)
    except SpecError as error:
        print(f"Pulumi.{args.stack}.yaml: {len(error.issues)} problem(s)", file=sys.stderr)
        for issue in error.issues:
            print(f"  {issue}", file=sys.stderr)
    return None


def validate_command(args: argparse.Namespace) -> int:
    loaded = _checked(args, "validate")
    if loaded is None:
        return EXIT_INVALID
    for name, spec in loaded[2].items():
        print(f"queues.{name}: valid on {', '.join(spec.clouds)}")
    return EXIT_OK


def plan_command(args: argparse.Namespace) -> int:
    loaded = _checked(args, "plan")
    if loaded is None:
        return EXIT_INVALID
    project_dir, config, _ = loaded
    import yaml

    from . import plan

    project = (yaml.safe_load((project_dir / "Pulumi.yaml").read_text()) or {}).get("name", "project")
    result = plan.build(project_dir, args.stack, config, project)
    if args.format == "json":
        print(json.dumps(result.to_json(), indent=2))
    elif args.format == "markdown":
        print(plan.render_markdown(result), end="")
    elif sys.stdout.isatty() and _has_rich():
        from rich.console import Console

        plan.render_rich(result, Console())
    else:
        print(plan.render_text(result), end="")
    if args.graph:
        target = Path(args.graph)
        target.write_text(plan.graph(result, mermaid=target.suffix not in (".dot", ".gv")))
        print(f"resource graph written to {target}", file=sys.stderr)
    return EXIT_POLICY if result.mandatory else EXIT_OK


def local_command(args: argparse.Namespace) -> int:
    loaded = _checked(args, "local")
    if loaded is None:
        return EXIT_INVALID
    project_dir, _, specs = loaded
    if args.queue not in specs:
        print(f"cloudqueue local: Pulumi.{args.stack}.yaml has no queue {args.queue!r} (queues: {', '.join(specs)})", file=sys.stderr)
        return EXIT_INVALID
    from .local import run_local

    return run_local(project_dir, args.queue, specs[args.queue], args.port, args.retry_after)


def send_command(args: argparse.Namespace) -> int:
    if args.local == bool(args.stack):
        print("cloudqueue send: give --local (the queue `cloudqueue local` serves) or --stack S (a deployed stack)", file=sys.stderr)
        return EXIT_INVALID
    if args.stack:
        from .ops import commands

        return commands.send(args)
    if args.cloud or args.attr or args.outputs:
        print("cloudqueue send: --cloud, --attr and --outputs go with --stack, not --local", file=sys.stderr)
        return EXIT_INVALID
    from .local import send_local

    return send_local(Path(args.cwd).resolve(), args.queue, args.body, args.group or "default")


def dlq_command(args: argparse.Namespace) -> int:
    from .ops import commands

    return {"peek": commands.peek, "redrive": commands.redrive, "purge": commands.purge}[args.dlq_command](args)


def _has_rich() -> bool:
    import importlib.util

    return importlib.util.find_spec("rich") is not None


COMMANDS: dict[str, tuple[str, Callable[[argparse.Namespace], int]]] = {
    "validate": ("check every queue of a stack against every targeted cloud's limits", validate_command),
    "plan": ("show offline what `pulumi up` would create on each cloud, with the policy pack's verdict", plan_command),
    "local": ("run a queue's handler against an SQS emulator on 127.0.0.1 with the spec's AWS settings", local_command),
    "send": ("send a message to a deployed queue (--stack) or to the one `cloudqueue local` serves (--local)", send_command),
    "dlq": ("look into, redrive or purge a deployed queue's dead-letter queue", dlq_command),
}
CLOUD_CHOICES = ("aws", "azure", "gcp")


def _positive(kind: type) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text} must be above 0")
        return value

    return parse


def _sqs_visibility_range() -> tuple[int, int]:
    """The spec's AWS visibility timeout range (SQS's own): the emulator refuses anything else, but only once it runs."""
    from ..spec.limits import _limit

    limit = _limit("visibility_timeout_seconds", "aws")
    return limit.low, limit.high


def _retry_after(text: str) -> int:
    low, high = _sqs_visibility_range()
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of seconds") from None
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"{value} is outside SQS's visibility timeout range ({low} to {high} seconds)")
    return value


def _deployed_arguments(parser: argparse.ArgumentParser, stack_required: bool = True) -> None:
    """--stack, --cwd and --outputs: where a deployed queue's names come from."""
    parser.add_argument("--stack", "-s", required=stack_required, help="the deployed stack")
    parser.add_argument("--cwd", "-C", default=".", help="the Pulumi project folder (default: the current one)")
    parser.add_argument("--outputs", metavar="FILE", help="what `pulumi stack output --json --stack S` prints (default: run it)")


def _dlq_arguments(dlq: argparse.ArgumentParser) -> None:
    actions = dlq.add_subparsers(dest="dlq_command", required=True)
    helps = {
        "peek": "show dead-lettered messages without taking them",
        "redrive": "send dead-lettered messages back to the queue, then delete them from the dead-letter queue",
        "purge": "delete every message in one cloud's dead-letter queue (needs --yes)",
    }
    for name, summary in helps.items():
        action = actions.add_parser(name, help=summary, description=summary)
        _deployed_arguments(action)
        action.add_argument("queue", help="the queue, a key of cloudqueue:queues (a stack export)")
        action.add_argument("--cloud", choices=CLOUD_CHOICES, required=name == "purge", help="one cloud" + ("" if name == "purge" else " (default: every cloud the queue is on)"))
        if name == "peek":
            action.add_argument("--max", type=_positive(int), default=10, help="show at most N messages per cloud (default 10)")
            action.add_argument("--format", choices=("text", "json"), default="text")
        if name == "redrive":
            action.add_argument("--max", type=_positive(int), help="move at most N messages per cloud (on AWS: through cloudqueue, not a move task)")
            action.add_argument("--rate", type=_positive(float), help="at most R messages per second")
            action.add_argument("--id", action="append", default=[], metavar="ID", help="only this message id (repeatable)")
            action.add_argument("--dry-run", action="store_true", help="show what would be moved; move nothing")
        if name == "purge":
            action.add_argument("--yes", action="store_true", help="really delete; without it nothing is done")


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="cloudqueue", description="One queue spec on AWS, Azure and Google Cloud.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, (summary, _) in COMMANDS.items():
        command = commands.add_parser(name, help=summary, description=summary)
        if name == "dlq":
            _dlq_arguments(command)
            continue
        if name == "send":
            _deployed_arguments(command, stack_required=False)
        else:
            command.add_argument("--stack", "-s", required=True, help="stack name: reads Pulumi.<stack>.yaml")
            command.add_argument("--cwd", "-C", default=".", help="the Pulumi project folder (default: the current one)")
        if name == "local":
            command.add_argument("queue", help="the queue to serve, a key of cloudqueue:queues")
            command.add_argument("--port", type=int, default=4566, help="the emulator's port on 127.0.0.1 (0 picks a free one)")
            command.add_argument("--retry-after", type=_retry_after, metavar="SECONDS", help="shorten the visibility timeout, so a failure comes back sooner ({} to {})".format(*_sqs_visibility_range()))
        if name == "send":
            command.add_argument("--local", action="store_true", help="send to the queue `cloudqueue local` serves")
            command.add_argument("queue", help="the queue name")
            command.add_argument("body", help="the message body (with --stack, @FILE sends a file's bytes)")
            command.add_argument("--group", help="the message group / session / ordering key, for FIFO queues (default: default)")
            command.add_argument("--cloud", choices=CLOUD_CHOICES, help="one cloud (default: every cloud the queue is on)")
            command.add_argument("--attr", action="append", default=[], metavar="KEY=VALUE", help="a message attribute (repeatable)")
        if name == "plan":
            command.add_argument("--format", choices=("text", "json", "markdown"), default="text", help="text (a table on a terminal), json for CI, markdown for a pull request")
            command.add_argument("--graph", metavar="FILE", help="also write the resource graph: Mermaid (.mmd) or Graphviz DOT (.dot)")
    args = parser.parse_args(argv)
    return COMMANDS[args.command][1](args)


if __name__ == "__main__":
    sys.exit(main())
