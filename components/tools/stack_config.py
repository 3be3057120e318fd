"""A stack's config as the Pulumi CLI hands it to a program: Pulumi.yaml's defaults, then Pulumi.<stack>.yaml.

Read by the `cloudqueue` command and by the ops commands (a queue's raw spec), without Pulumi.
"""

from pathlib import Path
from typing import Any, Optional

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
