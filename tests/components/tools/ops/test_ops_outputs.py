"""Where the ops commands get deployed names and spec values, and what they import."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap

import pytest

from components.tools import cli
from components.tools.ops import outputs as ops_outputs
from components.tools.ops.engine import Pacer
from components.tools.ops.journal import Journal
from pulumi_mocks import REPO

EXPORTS = {
    "orders": {
        "aws": {"queue_url": "https://sqs.eu-west-1.amazonaws.com/123456789012/orders-queue-1a2b3c4", "queue_arn": "arn:aws:sqs:eu-west-1:123456789012:orders-queue-1a2b3c4",
                "dlq_url": "https://sqs.eu-west-1.amazonaws.com/123456789012/orders-dead-letter-5d6e7f8", "dlq_arn": "arn:aws:sqs:eu-west-1:123456789012:orders-dead-letter-5d6e7f8"},
        "azure": {"namespace_name": "cloudqueue-ns7d1e2f3a", "queue_name": "orders-queue4f2a9c1e", "dead_letter_path": "orders-queue4f2a9c1e/$DeadLetterQueue"},
        "gcp": {"topic_id": "projects/p/topics/t", "subscription_id": "projects/p/subscriptions/s", "dead_letter_topic_id": "projects/p/topics/d", "dead_letter_subscription_id": "projects/p/subscriptions/ds"},
    },
    "payments": {"aws": {}},
}


def test_the_outputs_file_gives_each_clouds_deployed_names(project, write_outputs):
    path = write_outputs(project, EXPORTS)
    deployed = ops_outputs.queue_outputs(ops_outputs.load_stack_outputs("prod", path, project), "prod", "orders")
    aws = ops_outputs.aws_names(deployed, "orders")
    assert (aws.region, aws.fifo, aws.dlq_arn) == ("eu-west-1", False, EXPORTS["orders"]["aws"]["dlq_arn"])
    azure = ops_outputs.azure_names(deployed, "orders")
    assert (azure.namespace_host, azure.dead_letter_path) == ("cloudqueue-ns7d1e2f3a.servicebus.windows.net", "orders-queue4f2a9c1e/$DeadLetterQueue")
    assert ops_outputs.gcp_names(deployed, "orders").dead_letter_subscription_id == "projects/p/subscriptions/ds"


def test_a_namespace_host_output_wins_over_the_public_cloud_suffix():
    deployed = {"azure": {**EXPORTS["orders"]["azure"], "namespace_host": "ns.servicebus.usgovcloudapi.net"}}
    assert ops_outputs.azure_names(deployed, "orders").namespace_host == "ns.servicebus.usgovcloudapi.net"


def test_without_an_outputs_file_or_pulumi_on_path_the_error_names_both_ways(project, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(project))  # no `pulumi` here
    assert cli.main(["dlq", "peek", "-s", "prod", "orders"]) == 2
    err = capsys.readouterr().err
    assert "pass --outputs FILE holding what `pulumi stack output --json --stack prod` prints" in err
    assert "or install the Pulumi CLI" in err


def test_with_pulumi_on_path_the_outputs_come_from_pulumi_stack_output(project, monkeypatch):
    bin_dir = project / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "pulumi"
    fake.write_text(f"#!/bin/sh\necho \"$@\" > {project / 'args.txt'}\npwd >> {project / 'args.txt'}\necho '{json.dumps(EXPORTS)}'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    assert ops_outputs.load_stack_outputs("prod", None, project) == EXPORTS
    assert (project / "args.txt").read_text().splitlines() == ["stack output --json --stack prod", str(project)]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["dlq", "peek", "-s", "prod", "shipping"], "stack 'prod' exports no queue 'shipping' (queues: orders, payments)"),
        (["dlq", "peek", "-s", "prod", "payments", "--cloud", "gcp"], "queue 'payments' of stack 'prod' is not deployed on gcp (deployed on: aws)"),
        (["dlq", "peek", "-s", "prod", "payments"], "the aws outputs of queue 'payments' lack queue_url, queue_arn, dlq_url, dlq_arn"),
    ],
)
def test_a_queue_or_cloud_the_outputs_lack_is_named(project, write_outputs, capsys, argv, message):
    path = write_outputs(project, EXPORTS)
    assert cli.main([*argv, "--outputs", path]) == 2
    assert message in capsys.readouterr().err


def test_the_message_limit_is_the_smallest_of_the_targeted_clouds_unless_the_spec_sets_one():
    assert ops_outputs.max_message_bytes({}, ["gcp"]) == (10_000_000, "the gcp queue's limit")
    assert ops_outputs.max_message_bytes({}, ["gcp", "azure"]) == (262_144, "the azure queue's limit")
    assert ops_outputs.max_message_bytes({"max_message_bytes": 1_048_576}, ["aws"]) == (1_048_576, "the spec's max_message_bytes")
    assert ops_outputs.DEFAULT_MAX_MESSAGE_BYTES == min(ops_outputs.CLOUD_MESSAGE_LIMITS.values())


def test_fifo_comes_from_the_deployed_sqs_name_then_the_spec():
    deployed = {"aws": {"queue_url": "https://sqs/1/q.fifo"}, "gcp": {}}
    assert ops_outputs.is_fifo({}, "aws", deployed) is True
    assert ops_outputs.is_fifo({}, "gcp", deployed) is False
    assert ops_outputs.is_fifo({"fifo": True}, "gcp", deployed) is True


def test_the_library_never_imports_ops_and_the_cli_only_inside_its_commands():
    tools = REPO / "components" / "tools"
    library = [path for path in (REPO / "components").rglob("*.py") if not path.is_relative_to(tools)]
    for path in [*library, tools / "cli.py"]:
        tree = ast.parse(path.read_text())
        nodes = tree.body if path.name == "cli.py" else list(ast.walk(tree))  # cli: only top-level imports are forbidden
        for node in nodes:
            if isinstance(node, ast.ImportFrom):
                module = (node.module or "").split(".")
                assert "ops" not in module and "ops" not in [alias.name for alias in node.names], f"{path} imports ops ({node.module})"


def test_the_cli_and_the_ops_modules_import_no_cloud_sdk_until_a_command_runs():
    code = textwrap.dedent(
        """
        import sys
        from components.tools import cli
        from components.tools.ops import aws, azure, commands, engine, gcp, journal, outputs
        sdks = {"boto3", "botocore", "azure.servicebus", "azure.identity", "google.cloud.pubsub_v1", "google.api_core", "grpc"}
        print(sorted(set(sys.modules) & sdks))
        """
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert (result.returncode, result.stdout.strip()) == (0, "[]"), result.stderr


def test_the_pacer_keeps_to_the_rate():
    now, slept = [0.0], []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    pacer = Pacer(2.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(4):
        pacer.wait()
    assert slept == [0.5, 0.5, 0.5]


def test_pending_is_what_an_earlier_run_sent_and_did_not_settle(project):
    first = Journal(project, "prod", "orders", "aws", "redrive")
    first.write("sent", key="a", id="a", new_id="a2")
    first.write("settled", key="a", id="a")
    first.write("sent", key="b", id="b", new_id="b2")
    first.close()
    with open(first.path, "a") as cut:
        cut.write('{"event": "sent", "key": "c"')  # a crash mid-line: that step was never confirmed
    other_queue = Journal(project, "prod", "payments", "aws", "redrive")
    other_queue.write("sent", key="d", id="d", new_id="d2")
    other_queue.close()
    later = Journal(project, "prod", "orders", "aws", "redrive")
    assert list(later.pending()) == ["b"]


class FakeTerminal:
    def __init__(self):
        self.text = ""

    def isatty(self):
        return True

    def write(self, text):
        self.text += text

    def flush(self):
        pass


def test_progress_rewrites_one_status_line_on_a_terminal_and_keeps_printed_lines_above_it(capsys):
    from components.tools.ops.engine import Progress

    terminal = FakeTerminal()
    progress = Progress("redrive aws", stream=terminal, every=0)
    progress.update("1 moved")
    progress.say("redriven a -> b")
    progress.update("2 moved")
    progress.done()
    assert terminal.text == "\r\x1b[Kredrive aws: 1 moved\r\x1b[Kredrive aws: 1 moved\r\x1b[Kredrive aws: 2 moved\n"
    assert capsys.readouterr().out == "redriven a -> b\n"


def test_progress_stays_silent_when_the_output_is_not_a_terminal(capsys):
    from components.tools.ops.engine import Progress

    progress = Progress("redrive aws", stream=sys.stderr)
    progress.update("1 moved")
    progress.done()
    assert capsys.readouterr().err == ""
