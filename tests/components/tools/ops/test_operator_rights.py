"""What `operators` are granted is exactly what `cloudqueue send` and `cloudqueue dlq` call, read from the ops code itself.

Each cloud's ops module is parsed: the SDK calls it makes, and on which queue, become the rights they
need; the component's grants to an operator must hold every one of them, and nothing else. A call
added to the ops code without a grant, or a grant the commands never use, fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import botocore.session
from botocore import xform_name

from components import AwsQueue, AzureQueue, GcpQueue
from components.azure import SERVICE_BUS_DATA_RECEIVER, SERVICE_BUS_DATA_SENDER
from pulumi_mocks import ACCOUNT, REPO, Engine

OPS = REPO / "components" / "tools" / "ops"


def calls(module: Path, receivers: set[str]) -> list[ast.Call]:
    """Every call `<receiver>.<method>(...)` in `module` whose receiver's source text is one of `receivers`."""
    tree = ast.parse(module.read_text())
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and ast.unparse(node.func.value) in receivers
    ]


def spec(consumer_dir, cloud: str, operator: str) -> dict:
    return {"consumer": {"code_path": str(consumer_dir), "handler": "handler.handle"}, "operators": {cloud: [operator]}}


# --- AWS -------------------------------------------------------------------------------------------------

# A move task acts as its caller on both queues (SQS developer guide, "Troubleshoot dead-letter queue
# redrive issues", AccessDenied): the request names the DLQ as the source and the queue as the destination.
MOVE_TASK_NEEDS = {
    "StartMessageMoveTask": {("sqs:StartMessageMoveTask", "dlq"), ("sqs:ReceiveMessage", "dlq"), ("sqs:DeleteMessage", "dlq"), ("sqs:GetQueueAttributes", "dlq"), ("sqs:SendMessage", "queue")},
    "ListMessageMoveTasks": {("sqs:ListMessageMoveTasks", "dlq"), ("sqs:GetQueueAttributes", "dlq")},
}


def sqs_needs() -> set[tuple[str, str]]:
    """(IAM action, "queue" or "dlq") for every SQS call ops/aws.py makes."""
    operations = {xform_name(name): name for name in botocore.session.get_session().get_service_model("sqs").operation_names}
    needs = set()
    for call in calls(OPS / "aws.py", {"self.sqs", "sqs"}):
        operation = operations[call.func.attr]  # a KeyError here: not an SQS operation
        if operation in MOVE_TASK_NEEDS:
            needs |= MOVE_TASK_NEEDS[operation]
            continue
        (url,) = [ast.unparse(k.value) for k in call.keywords if k.arg == "QueueUrl"]
        # The batch calls are authorised by their single-message action (SQS API permissions reference).
        needs.add((f"sqs:{operation.removesuffix('Batch')}", "dlq" if "dlq" in url else "queue"))
    return needs


def test_the_operator_policy_holds_exactly_the_sqs_actions_the_commands_call_on_each_queue(consumer_dir):
    engine = Engine(preview=False)
    engine.run(lambda: AwsQueue("orders", spec(consumer_dir, "aws", f"arn:aws:iam::{ACCOUNT}:role/ops")))
    where = {engine.one("aws:sqs/queue:Queue", "-queue").outputs["arn"]: "queue", engine.one("aws:sqs/queue:Queue", "-dead-letter").outputs["arn"]: "dlq"}
    policy = engine.policy(engine.one("aws:iam/policy:Policy", "-operator-policy"))
    granted = {(action, where[s["Resource"]]) for s in policy["Statement"] for action in s["Action"]}
    needs = sqs_needs()
    assert {"sqs:SendMessage", "sqs:PurgeQueue", "sqs:ChangeMessageVisibility"} <= {action for action, _ in needs}  # the parse found the calls
    assert granted == needs


# --- Azure -----------------------------------------------------------------------------------------------

# Service Bus data-plane roles (Azure built-in roles): a sender and a receiver on the queue (its $DeadLetterQueue included).
AZURE_CLIENT_CALLS = {"get_queue_sender": SERVICE_BUS_DATA_SENDER, "get_queue_receiver": SERVICE_BUS_DATA_RECEIVER}


def test_each_operator_holds_the_service_bus_roles_the_commands_open_clients_for_and_no_other(consumer_dir):
    used = {call.func.attr for call in calls(OPS / "azure.py", {"self.client", "client"})} - {"close"}
    assert used == set(AZURE_CLIENT_CALLS)  # a new kind of client (administration, topics) needs a decision here
    engine = Engine(preview=False)
    engine.run(lambda: AzureQueue("orders", spec(consumer_dir, "azure", "User:0f3c2b1a-9d8e-4f7a-b6c5-d4e3f2a1b0c9")))
    queue_id = engine.one("azure-native:servicebus:Queue").id
    grants = [r.inputs for r in engine.all("azure-native:authorization:RoleAssignment") if "-operator-" in r.name]
    assert {g["scope"] for g in grants} == {queue_id}
    assert sorted(g["roleDefinitionId"].rsplit("/", 1)[1] for g in grants) == sorted(AZURE_CLIENT_CALLS[name] for name in used)


# --- Google Cloud -------------------------------------------------------------------------------------

# The permission each call needs (Pub/Sub access control): publishing needs pubsub.topics.publish;
# pull, acknowledge, modifyAckDeadline and a seek to a time need pubsub.subscriptions.consume.
PUBSUB_PERMISSIONS = {
    "publish": ("topic", "pubsub.topics.publish"),
    "pull": ("dead-letter subscription", "pubsub.subscriptions.consume"),
    "acknowledge": ("dead-letter subscription", "pubsub.subscriptions.consume"),
    "modify_ack_deadline": ("dead-letter subscription", "pubsub.subscriptions.consume"),
    "seek": ("dead-letter subscription", "pubsub.subscriptions.consume"),
}
# What the predefined roles hold of those (Pub/Sub access control, "Roles").
ROLE_PERMISSIONS = {"roles/pubsub.publisher": {"pubsub.topics.publish"}, "roles/pubsub.subscriber": {"pubsub.subscriptions.consume"}}


def test_each_operator_holds_the_pubsub_roles_the_commands_calls_need_on_the_topic_and_dead_letter_subscription(consumer_dir):
    used = {call.func.attr for call in calls(OPS / "gcp.py", {"self.publisher", "publisher", "self.subscriber", "subscriber"})}
    assert used == set(PUBSUB_PERMISSIONS)
    needs = {PUBSUB_PERMISSIONS[name] for name in used}
    engine = Engine(preview=False)
    engine.run(lambda: GcpQueue("orders", spec(consumer_dir, "gcp", "group:ops@example.com")))
    where = {engine.one("gcp:pubsub/topic:Topic", "-topic").id: "topic", engine.one("gcp:pubsub/subscription:Subscription", "-dead-letter-subscription").id: "dead-letter subscription"}
    members = [r.inputs for r in engine.all() if r.custom and "-operator-" in r.name]
    granted = {(where[m.get("topic") or m.get("subscription")], permission) for m in members for permission in ROLE_PERMISSIONS[m["role"]]}
    assert granted == needs and len(members) == 2
