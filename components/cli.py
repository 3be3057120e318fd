"""The `cloudqueue` command (also `python -m cloudqueue`).

    cloudqueue validate --stack dev [--cwd PROJECT_DIR]

`validate` reads `Pulumi.<stack>.yaml` the way the Pulumi CLI hands config to a program (project
defaults from Pulumi.yaml, then the stack's own values; a key without a namespace belongs to the
project), validates every queue under `cloudqueue:queues` against every targeted cloud, prints
every problem, and exits 2 on a spec error and 0 when clean. It never starts the Pulumi engine, so
it is fast enough for a pre-commit hook. Later subcommands plug into `COMMANDS`.
"""

import argparse
import sys
from pathlib import Path
from typing import Any, Callable, Optional

EXIT_OK = 0
EXIT_INVALID = 2
QUEUES_KEY = "cloudqueue:queues"


class StackFileError(Exception):
    """The project or stack file is missing or unreadable."""


def _namespaced(key: str, project: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def read_stack_config(project_dir: Path, stack: str) -> dict[str, Any]:
    """Config for `stack` as Pulumi resolves it: Pulumi.yaml defaults overlaid by Pulumi.<stack>.yaml."""
    import yaml  # pulumi's own dependency; imported here so `--help` stays instant

    project_file = project_dir / "Pulumi.yaml"
    stack_file = project_dir / f"Pulumi.{stack}.yaml"
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


def validate_command(args: argparse.Namespace) -> int:
    from .spec import SpecError, validate_all  # pulumi is only imported once there is a stack to check

    project_dir = Path(args.cwd).resolve()
    try:
        config = read_stack_config(project_dir, args.stack)
    except StackFileError as error:
        print(f"cloudqueue validate: {error}", file=sys.stderr)
        return EXIT_INVALID
    if QUEUES_KEY not in config:
        print(f"cloudqueue validate: Pulumi.{args.stack}.yaml sets no {QUEUES_KEY}", file=sys.stderr)
        return EXIT_INVALID
    try:
        specs = validate_all(config[QUEUES_KEY], base_dir=project_dir)
    except SpecError as error:
        print(f"Pulumi.{args.stack}.yaml: {len(error.issues)} problem(s)", file=sys.stderr)
        for issue in error.issues:
            print(f"  {issue}", file=sys.stderr)
        return EXIT_INVALID
    for name, spec in specs.items():
        print(f"queues.{name}: valid on {', '.join(spec.clouds)}")
    return EXIT_OK


COMMANDS: dict[str, tuple[str, Callable[[argparse.Namespace], int]]] = {
    "validate": ("check every queue of a stack against every targeted cloud's limits", validate_command),
}


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="cloudqueue", description="One queue spec on AWS, Azure and Google Cloud.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, (summary, _) in COMMANDS.items():
        command = commands.add_parser(name, help=summary, description=summary)
        command.add_argument("--stack", "-s", required=True, help="stack name: reads Pulumi.<stack>.yaml")
        command.add_argument("--cwd", "-C", default=".", help="the Pulumi project folder (default: the current one)")
    args = parser.parse_args(argv)
    return COMMANDS[args.command][1](args)


if __name__ == "__main__":
    sys.exit(main())
