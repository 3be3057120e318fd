"""The `cloudqueue` command (also `python -m cloudqueue`).

    cloudqueue validate --stack dev [--cwd PROJECT_DIR]
    cloudqueue plan --stack dev [--format text|json|markdown] [--graph FILE.mmd|FILE.dot]
    cloudqueue local --stack dev orders [--port 4566] [--retry-after SECONDS]
    cloudqueue send --local orders '{"order_id": 1}' [--group GROUP]

`validate` reads `Pulumi.<stack>.yaml` the way the Pulumi CLI hands config to a program (project
defaults from Pulumi.yaml, then the stack's own values; a key without a namespace belongs to the
project), validates every queue under `cloudqueue:queues` against every targeted cloud, prints
every problem, and exits 2 on a spec error and 0 when clean. It never starts the Pulumi engine, so
it is fast enough for a pre-commit hook. Later subcommands plug into `COMMANDS`.
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable, Optional

EXIT_OK = 0
EXIT_POLICY = 1
EXIT_INVALID = 2
QUEUES_KEY = "cloudqueue:queues"


class StackFileError(Exception):
    """The project or stack file is missing or unreadable."""


def _namespaced(key: str, project: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def read_stack_config(project_dir: Path, stack: str, stack_file: Optional[Path] = None) -> dict[str, Any]:
    """Config for `stack` as Pulumi resolves it: Pulumi.yaml defaults overlaid by Pulumi.<stack>.yaml (or `stack_file`)."""
    import yaml  # pulumi's own dependency; imported here so `--help` stays instant

    project_file = project_dir / "Pulumi.yaml"
    stack_file = stack_file or project_dir / f"Pulumi.{stack}.yaml"
    if not project_file.is_file():
        raise StackFileError(f"{project_file}: not found; run from the Pulumi project folder or pass --cwd")
    if not stack_file.is_file():
        stacks = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))
        raise StackFileError(f"{stack_file}: no such stack file (stacks here: {', '.join(stacks) or 'none'})")
    try:
        project = yaml.safe_load(project_file.read_text()) or {}
        document = yaml.safe_load(stack_file.read_text()) or {}
    except yaml.YAMLError as error:
        raise StackFileError(f"{stack_file}: not valid YAML: {error}") from None
    name = project.get("name", "")
    config: dict[str, Any] = {}
    for key, declared in (project.get("config") or {}).items():
        value = declared.get("value", declared.get("default")) if isinstance(declared, dict) else declared
        if value is not None:
            config[_namespaced(key, name)] = value
    for key, value in (document.get("config") or {}).items():
        config[_namespaced(key, name)] = value
    return config


def _load(args: argparse.Namespace) -> tuple[Path, dict[str, Any], Any]:
    """(project folder, stack config, validated specs); raises StackFileError or SpecError."""
    from .spec import validate_all  # pulumi is only imported once there is a stack to check

    project_dir = Path(args.cwd).resolve()
    config = read_stack_config(project_dir, args.stack)
    if QUEUES_KEY not in config:
        raise StackFileError(f"Pulumi.{args.stack}.yaml sets no {QUEUES_KEY}")
    return project_dir, config, validate_all(config[QUEUES_KEY], base_dir=project_dir)


def _checked(args: argparse.Namespace, command: str) -> Optional[tuple[Path, dict[str, Any], Any]]:
    """`_load`, printing a stack or spec error the same way for every command."""
    from .spec import SpecError

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
    if not args.local:
        print("cloudqueue send: only --local is supported; use the cloud's own SDK or CLI for deployed queues", file=sys.stderr)
        return EXIT_INVALID
    from .local import send_local

    return send_local(Path(args.cwd).resolve(), args.queue, args.body, args.group)


def _has_rich() -> bool:
    import importlib.util

    return importlib.util.find_spec("rich") is not None


COMMANDS: dict[str, tuple[str, Callable[[argparse.Namespace], int]]] = {
    "validate": ("check every queue of a stack against every targeted cloud's limits", validate_command),
    "plan": ("show offline what `pulumi up` would create on each cloud, with the policy pack's verdict", plan_command),
    "local": ("run a queue's handler against an SQS emulator on 127.0.0.1 with the spec's AWS settings", local_command),
    "send": ("send a message to the queue `cloudqueue local` serves", send_command),
}


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="cloudqueue", description="One queue spec on AWS, Azure and Google Cloud.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, (summary, _) in COMMANDS.items():
        command = commands.add_parser(name, help=summary, description=summary)
        if name != "send":
            command.add_argument("--stack", "-s", required=True, help="stack name: reads Pulumi.<stack>.yaml")
        command.add_argument("--cwd", "-C", default=".", help="the Pulumi project folder (default: the current one)")
        if name == "local":
            command.add_argument("queue", help="the queue to serve, a key of cloudqueue:queues")
            command.add_argument("--port", type=int, default=4566, help="the emulator's port on 127.0.0.1 (0 picks a free one)")
            command.add_argument("--retry-after", type=int, metavar="SECONDS", help="shorten the visibility timeout, so a failure comes back sooner")
        if name == "send":
            command.add_argument("--local", action="store_true", help="send to the queue `cloudqueue local` serves")
            command.add_argument("queue", help="the queue name")
            command.add_argument("body", help="the message body")
            command.add_argument("--group", default="default", help="the message group, for FIFO queues")
        if name == "plan":
            command.add_argument("--format", choices=("text", "json", "markdown"), default="text", help="text (a table on a terminal), json for CI, markdown for a pull request")
            command.add_argument("--graph", metavar="FILE", help="also write the resource graph: Mermaid (.mmd) or Graphviz DOT (.dot)")
    args = parser.parse_args(argv)
    return COMMANDS[args.command][1](args)


if __name__ == "__main__":
    sys.exit(main())
