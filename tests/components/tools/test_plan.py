"""`cloudqueue plan`: the real stack program in the mock engine, grouped, compared, checked and drawn."""

from __future__ import annotations

import io
import json
import re
import shutil
from collections import Counter

from pathlib import Path

import pytest
import yaml

from components.tools import cli, plan
from pulumi_mocks import REPO, ran_stack

# One worker runs this file, so what it builds once (module-scoped) is built once.
pytestmark = pytest.mark.xdist_group("stacks")



def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def project(tmp_path):
    """A copy of this project (program, stacks, consumer, policy pack) to change at will."""
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml", "__main__.py"):
        shutil.copy(REPO / name, tmp_path / name)
    for folder in ("consumers", "policy"):
        shutil.copytree(REPO / folder, tmp_path / folder, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    return tmp_path


_BUILT: dict[str, plan.Plan] = {}
_build = plan.build


def built(stack: str) -> plan.Plan:
    """This repository's plan for `stack`, built once per test process: the stack files do not change."""
    if stack not in _BUILT:
        _BUILT[stack] = _build(REPO, stack, cli.read_stack_config(REPO, stack), "cloudqueue")
    return _BUILT[stack]


@pytest.fixture
def repo_plans(monkeypatch):
    """`cloudqueue plan` on this repository reuses the plan built once; the views are what is tested."""
    monkeypatch.setattr(plan, "build", lambda folder, stack, config, project: built(stack) if Path(folder) == REPO else _build(folder, stack, config, project))


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_plan_holds_exactly_what_the_stack_program_registers(stack):
    engine, _ = ran_stack(stack, True)
    expected = Counter((r.type, r.name) for r in engine.all() if r.custom)
    result = built(stack)
    planned = Counter((r.type, r.name) for clouds in result.queues.values() for items in clouds.values() for r in items)
    planned += Counter((r.type, r.name) for items in result.shared.values() for r in items)
    assert planned == expected
    assert result.resource_count == sum(expected.values())


def test_dev_plan_groups_resources_by_queue_and_cloud_as_the_components_build_them(in_repo):
    result = built("dev")
    assert {cloud: len(items) for cloud, items in result.queues["orders"].items()} == {"aws": 15, "azure": 11, "gcp": 15}
    assert {cloud: len(items) for cloud, items in result.shared.items()} == {"azure": 5, "gcp": 18}
    queue = next(r for r in result.queues["orders"]["aws"] if r.name == "orders-aws-queue")
    assert (queue.type, queue.parent, queue.protect) == ("aws:sqs/queue:Queue", "orders-aws", False)
    assert queue.key_inputs()["visibilityTimeoutSeconds"] == 180


def test_equivalence_table_gives_each_field_per_cloud_with_notes(in_repo):
    rows = {row["field"]: row for row in built("prod").equivalence["orders"]}
    assert (rows["max_delivery_attempts"]["aws"], rows["max_delivery_attempts"]["azure"], rows["max_delivery_attempts"]["gcp"]) == ("5", "5", "5")
    assert (rows["visibility_timeout_seconds"]["aws"], rows["visibility_timeout_seconds"]["azure"], rows["visibility_timeout_seconds"]["gcp"]) == ("360", "PT5M", "360")
    assert "renewed" in rows["visibility_timeout_seconds"]["note"]
    assert (rows["consumer.batch_size"]["aws"], rows["consumer.batch_size"]["gcp"]) == ("10", "1")
    assert "one message per call" in rows["consumer.batch_size"]["note"]
    assert rows["consumer.max_concurrency"]["azure"] == "4 x 12"



def test_equivalence_table_states_each_clouds_overload_behaviour_with_the_gcp_burst_bound_from_recorded_values(in_repo):
    # dev orders on Google Cloud: 5 instances x 1 request, 5 attempts, 30 s timeout -> ceil(5 x 5 x 10 / 30) = 9
    row = next(row for row in built("dev").equivalence["orders"] if row["field"] == "under overload")
    assert (row["aws"], row["azure"]) == ("waits in the queue", "waits unlocked in the queue (prefetch 0)")
    assert row["gcp"] == "a burst of at most 9 never dead-letters a message unrun"
    assert "429" in row["note"]

def test_equivalence_table_states_the_dead_letter_alarms_message_size_and_operators_per_cloud(in_repo):
    # prod orders: e-mailed alarms and one operator per cloud, 7 days of dead-letter retention.
    rows = {row["field"]: row for row in built("prod").equivalence["orders"]}
    alarm, age = rows["dead-letter alarm"], rows["dead-letter age alarm"]
    assert alarm["aws"] == "ApproximateNumberOfMessagesVisible Maximum > 0 over 60 s, 1 action(s)"
    assert alarm["azure"] == "DeadletteredMessages Maximum > 0 for EntityName over PT1M, 1 action group(s)"
    assert alarm["gcp"] == "num_undelivered_messages > 0, 1 channel(s)"
    assert age["aws"] == "ApproximateAgeOfOldestMessage Maximum > 302400 over 60 s, 1 action(s)"
    assert age["gcp"] == "oldest_unacked_message_age > 302400, 1 channel(s)" and "does not expire" in age["azure"]
    assert (rows["max_message_bytes"]["aws"], rows["max_message_bytes"]["azure"], rows["max_message_bytes"]["gcp"]) == ("262144", "262144 (Standard tier, fixed)", "10000000 (fixed)")
    operators = rows["operators"]
    assert operators["aws"].endswith("grants for 1 operator(s)") and operators["azure"].startswith("1 operator(s)") and operators["gcp"].startswith("1 operator(s)")
    # payments has the alarms and no one to e-mail.
    payments = {row["field"]: row for row in built("prod").equivalence["payments"]}
    assert payments["dead-letter alarm"]["aws"].endswith(", 0 action(s)")


def test_the_plan_shows_what_each_alarm_watches_among_its_key_inputs(in_repo):
    alarms = [r for r in built("dev").queues["orders"]["aws"] if r.type == "aws:cloudwatch/metricAlarm:MetricAlarm"]
    shown = {r.name: r.key_inputs() for r in alarms}
    assert {v["metricName"] for v in shown.values()} == {"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"}
    assert all(v["treatMissingData"] == "notBreaching" and v["dimensions"]["QueueName"].startswith("orders-aws-dead-letter-") for v in shown.values())


def test_text_output_says_it_is_an_offline_plan_and_lists_every_resource(in_repo, repo_plans, capsys):
    code, out, _ = run_cli(capsys, "plan", "--stack", "dev")
    assert code == 0
    assert plan.OFFLINE_NOTE in out and "not a diff against deployed state" in out
    assert len(re.findall(r"^  \+ ", out, flags=re.M)) == 64
    assert "equivalence for queue orders" in out and "policy pack policy/cloudqueue_policy.py: 0 mandatory" in out


def test_json_output_is_valid_and_complete(in_repo, repo_plans, capsys):
    code, out, _ = run_cli(capsys, "plan", "--stack", "prod", "--format", "json")
    document = json.loads(out)
    assert code == 0 and document["note"] == plan.OFFLINE_NOTE
    resources = [r for q in document["queues"].values() for items in q["clouds"].values() for r in items]
    resources += [r for items in document["shared"].values() for r in items]
    # orders 17 + 15 + 19 (layer, producers, operators, telemetry, trace writer, dead-letter alarms and what
    # e-mails them), payments 15 + 11 + 15 (dead-letter alarms, no one to e-mail); shared: Azure 3 +
    # monitoring 2, Google Cloud 4 + per key (2) 5 agent grants and an image repository with its writer grant

    assert len(resources) == document["resourceCount"] == 124
    assert all({"type", "name", "parent", "protect", "inputs", "dependsOn"} <= set(r) for r in resources)
    assert {row["field"] for row in document["queues"]["payments"]["equivalence"]} >= {"max_delivery_attempts", "fifo", "visibility_timeout_seconds"}
    assert document["policy"]["mandatory"] == 0 and document["policy"]["advisory"] == 0
    lambda_code = next(r for r in resources if r["type"] == "aws:lambda/function:Function")["inputs"]["code"]
    assert lambda_code["asset"].endswith(".zip")


def test_markdown_output_is_tables_for_a_pull_request(in_repo, repo_plans, capsys):
    code, out, _ = run_cli(capsys, "plan", "--stack", "dev", "--format", "markdown")
    assert code == 0 and out.startswith("## cloudqueue plan: `dev` (64 resources)")
    assert "| `aws:sqs/queue:Queue` | `orders-aws-queue` | `orders-aws` |" in out
    assert "### equivalence: orders" in out and f"> {plan.OFFLINE_NOTE}" in out


def test_rich_view_renders_tables_on_a_terminal(in_repo):
    from rich.console import Console

    console = Console(file=io.StringIO(), width=200, record=True)
    plan.render_rich(built("dev"), console)
    text = console.export_text()
    assert "cloudqueue plan: dev (64 resources)" in text and "not a diff against deployed state" in text
    assert "orders-aws-queue" in text and "equivalence: orders" in text


def test_a_broken_stack_file_exits_two_with_the_spec_error(project, capsys):
    document = yaml.safe_load((project / "Pulumi.dev.yaml").read_text())
    document["config"]["cloudqueue:queues"]["orders"]["max_delivery_attempts"] = 200
    (project / "Pulumi.dev.yaml").write_text(yaml.safe_dump(document))
    code, out, err = run_cli(capsys, "plan", "--stack", "dev", "--cwd", str(project))
    assert code == 2 and out == ""
    assert "queues.orders.max_delivery_attempts: 200 is above Google Cloud Pub/Sub's maximum of 100 (allowed 5..100 when gcp is targeted)" in err


def test_unreadable_stack_yaml_exits_two(project, capsys):
    (project / "Pulumi.dev.yaml").write_text("config: [unclosed\n")
    code, _, err = run_cli(capsys, "plan", "--stack", "dev", "--cwd", str(project))
    assert code == 2 and "Pulumi.dev.yaml: not valid YAML" in err


def test_a_mandatory_policy_violation_exits_one(project, capsys):
    program = (project / "__main__.py").read_text()
    (project / "__main__.py").write_text(program + "\nimport pulumi_aws\n\npulumi_aws.sqs.Queue(\"legacy\")  # no redrive, no encryption\n")
    code, out, _ = run_cli(capsys, "plan", "--stack", "dev", "--cwd", str(project))
    assert code == 1
    assert "2 mandatory" in out
    assert "mandatory sqs-queue-has-dead-letter-queue" in out and "mandatory sqs-queue-encrypted-at-rest" in out


def _edges(text: str, mermaid: bool) -> set[tuple[str, str]]:
    if mermaid:
        names = dict(re.findall(r'^\s+(n\d+)\["([^<]+)<br/>', text, flags=re.M))
        pairs = re.findall(r"^\s+(n\d+) --> (n\d+)$", text, flags=re.M)
    else:
        names = dict(re.findall(r'^\s+(n\d+) \[label="([^\\]+)\\n', text, flags=re.M))
        pairs = re.findall(r"^\s+(n\d+) -> (n\d+);$", text, flags=re.M)
    return {(names[a], names[b]) for a, b in pairs}


@pytest.mark.parametrize("suffix", [".mmd", ".dot"])
def test_graph_has_an_edge_for_each_redrive_dead_letter_binding_and_trigger(in_repo, repo_plans, capsys, tmp_path, suffix):
    target = tmp_path / f"dev{suffix}"
    code, _, err = run_cli(capsys, "plan", "--stack", "dev", "--graph", str(target))
    assert code == 0 and f"resource graph written to {target}" in err
    text = target.read_text()
    edges = _edges(text, mermaid=suffix == ".mmd")
    assert ("orders-aws-queue", "orders-aws-dead-letter") in edges  # redrive
    assert ("orders-aws-dead-letter-redrive-allow", "orders-aws-queue") in edges
    assert ("orders-gcp-subscription", "orders-gcp-dead-letter") in edges  # dead-letter policy
    assert ("orders-gcp-dead-letter-publisher", "orders-gcp-dead-letter") in edges  # service agent binding
    assert ("orders-gcp-dead-letter-subscriber", "orders-gcp-subscription") in edges
    assert ("orders-aws-consumer-trigger", "orders-aws-queue") in edges and ("orders-aws-consumer-trigger", "orders-aws-consumer") in edges
    assert ("orders-gcp-subscription", "orders-gcp-consumer") in edges  # push to the function
    assert ("orders-azure-receiver", "orders-azure-queue") in edges
    for cloud in ("aws", "azure-native", "gcp"):
        assert (f"subgraph {cloud.replace('-', '_')}[{cloud}]" if suffix == ".mmd" else f'label="{cloud}"') in text
