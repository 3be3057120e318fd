"""What the ops commands know about a deployed queue: its names (stack outputs) and spec values.

Deployed names are auto-named by Pulumi, so they are read from the stack's outputs, never
re-derived from the spec: `--outputs FILE` (what `pulumi stack output --json --stack S` prints),
else that command itself when `pulumi` is on PATH. Spec values (fifo, the message size limit) come
from `Pulumi.<stack>.yaml` when it is there, each through one function with a documented default.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from ..stack_config import QUEUES_KEY, StackFileError, read_stack_config

CLOUDS = ("aws", "azure", "gcp")

# Azure's public-cloud Service Bus suffix; a `namespace_host` output wins when the stack has one
# (sovereign clouds use other suffixes).
SERVICE_BUS_SUFFIX = ".servicebus.windows.net"

# Largest message each deployed queue accepts when the stack file is not at hand, body and attributes together:
# - AWS: the queue's MaximumMessageSize, which the component sets to the spec's max_message_bytes
#   (262,144 by default; SQS allows up to 1 MiB since 2025, the provider's own default is 262,144).
# - Azure: Service Bus Standard tier, 256 KB including headers and properties.
# - Google Cloud: Pub/Sub's 10 MB per message.
CLOUD_MESSAGE_LIMITS = {"aws": 262_144, "azure": 262_144, "gcp": 10_000_000}
DEFAULT_MAX_MESSAGE_BYTES = 262_144
"""256 KiB: the lowest common limit, what `max_message_bytes` defaults to in the spec."""


class OutputsError(Exception):
    """The stack's outputs are missing, unreadable, or lack the queue or cloud asked for."""


@dataclass(frozen=True)
class AwsNames:
    queue_url: str
    queue_arn: str
    dlq_url: str
    dlq_arn: str

    @property
    def region(self) -> str:
        # arn:aws:sqs:<region>:<account>:<name>: the deployed queue's region, whatever the profile says.
        return self.queue_arn.split(":")[3]

    @property
    def fifo(self) -> bool:
        return self.queue_url.endswith(".fifo")


@dataclass(frozen=True)
class AzureNames:
    namespace_host: str
    queue_name: str

    @property
    def dead_letter_path(self) -> str:
        return f"{self.queue_name}/$DeadLetterQueue"


@dataclass(frozen=True)
class GcpNames:
    topic_id: str
    subscription_id: str
    dead_letter_topic_id: str
    dead_letter_subscription_id: str


def load_stack_outputs(stack: str, outputs_file: Optional[str], project_dir: Path) -> dict[str, Any]:
    """The stack's exports: from `outputs_file`, else from `pulumi stack output --json`, else an error naming both."""
    if outputs_file:
        path = Path(outputs_file)
        try:
            document = json.loads(path.read_text())
        except OSError as error:
            raise OutputsError(f"--outputs {path}: {error.strerror}") from None
        except json.JSONDecodeError as error:
            raise OutputsError(f"--outputs {path}: not JSON ({error}); write it with `pulumi stack output --json --stack {stack} > {path}`") from None
    elif shutil.which("pulumi"):
        command = ["pulumi", "stack", "output", "--json", "--stack", stack]
        result = subprocess.run(command, cwd=project_dir, capture_output=True, text=True)
        if result.returncode != 0:
            raise OutputsError(f"`{' '.join(command)}` failed: {result.stderr.strip() or result.stdout.strip()}")
        document = json.loads(result.stdout or "{}")
    else:
        raise OutputsError(
            f"no stack outputs for {stack!r}: pass --outputs FILE holding what `pulumi stack output --json --stack {stack}` prints, "
            "or install the Pulumi CLI (and log in to the stack's backend) so cloudqueue can run it"
        )
    if not isinstance(document, dict):
        raise OutputsError(f"stack outputs of {stack!r}: expected a JSON object of exports, got {type(document).__name__}")
    return document


def queue_outputs(outputs: dict[str, Any], stack: str, queue: str) -> dict[str, dict[str, Any]]:
    """The queue's export, `{cloud: {output: value}}`."""
    exported = outputs.get(queue)
    if not isinstance(exported, dict) or not any(cloud in exported for cloud in CLOUDS):
        queues = sorted(k for k, v in outputs.items() if isinstance(v, dict) and any(c in v for c in CLOUDS))
        raise OutputsError(f"stack {stack!r} exports no queue {queue!r} (queues: {', '.join(queues) or 'none'})")
    return {cloud: exported[cloud] for cloud in CLOUDS if isinstance(exported.get(cloud), dict)}


def target_clouds(deployed: dict[str, Any], stack: str, queue: str, cloud: Optional[str]) -> list[str]:
    """`cloud` when given (it must be deployed), else every cloud the queue is deployed on."""
    if cloud is None:
        return list(deployed)
    if cloud not in deployed:
        raise OutputsError(f"queue {queue!r} of stack {stack!r} is not deployed on {cloud} (deployed on: {', '.join(deployed)})")
    return [cloud]


def _require(values: dict[str, Any], cloud: str, queue: str, *fields: str) -> list[str]:
    missing = [f for f in fields if not isinstance(values.get(f), str) or not values.get(f)]
    if missing:
        raise OutputsError(f"the {cloud} outputs of queue {queue!r} lack {', '.join(missing)} (have: {', '.join(sorted(values)) or 'nothing'})")
    return [values[f] for f in fields]


def aws_names(deployed: dict[str, Any], queue: str) -> AwsNames:
    return AwsNames(*_require(deployed["aws"], "aws", queue, "queue_url", "queue_arn", "dlq_url", "dlq_arn"))


def azure_names(deployed: dict[str, Any], queue: str) -> AzureNames:
    values = deployed["azure"]
    (queue_name,) = _require(values, "azure", queue, "queue_name")
    host = values.get("namespace_host")
    if not host:
        (namespace,) = _require(values, "azure", queue, "namespace_name")
        host = f"{namespace}{SERVICE_BUS_SUFFIX}"
    return AzureNames(namespace_host=host, queue_name=queue_name)


def gcp_names(deployed: dict[str, Any], queue: str) -> GcpNames:
    names = GcpNames(*_require(deployed["gcp"], "gcp", queue, "topic_id", "subscription_id", "dead_letter_topic_id", "dead_letter_subscription_id"))
    for field, value in vars(names).items():
        if not value.startswith("projects/"):
            raise OutputsError(f"the gcp output {field} of queue {queue!r} is {value!r}, not a full resource name (projects/<project>/...)")
    return names


# --- Spec values --------------------------------------------------------------------------------


def queue_spec(project_dir: Path, stack: str, queue: str) -> dict[str, Any]:
    """The queue's raw spec from Pulumi.<stack>.yaml, or {} when there is no readable stack file.

    Raw, not validated: these commands only read a couple of fields, each with a default, and must
    also run where only the outputs file is at hand.
    """
    try:
        config = read_stack_config(project_dir, stack)
    except (StackFileError, OSError):
        return {}
    spec = (config.get(QUEUES_KEY) or {}).get(queue)
    return spec if isinstance(spec, dict) else {}


def max_message_bytes(spec: dict[str, Any], clouds: list[str]) -> tuple[int, str]:
    """The largest message `send` accepts for `clouds`, and who sets it.

    The spec's `max_message_bytes` when it has one (the field is validated against every
    targeted cloud by the spec); otherwise the smallest of CLOUD_MESSAGE_LIMITS over `clouds`.
    """
    value = spec.get("max_message_bytes")
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value, "the spec's max_message_bytes"
    cloud = min(clouds, key=lambda c: CLOUD_MESSAGE_LIMITS[c])
    return CLOUD_MESSAGE_LIMITS[cloud], f"the {cloud} queue's limit"


def is_fifo(spec: dict[str, Any], cloud: str, deployed: dict[str, Any]) -> bool:
    """Whether the queue is ordered; the deployed SQS queue's `.fifo` name wins, then the spec (default false)."""
    if cloud == "aws" and isinstance(deployed.get("aws", {}).get("queue_url"), str):
        return deployed["aws"]["queue_url"].endswith(".fifo")
    return bool(spec.get("fifo", False))
