"""The args as the SDK's schema analyzer reads them: each component's args class declares, with its
description, every field it takes, and a field declared in two classes is declared the same way."""

from __future__ import annotations

import ast
import inspect
import textwrap
from typing import Required, TypedDict

import pulumi
import pytest

from components import AwsQueue, AzureQueue, GcpQueue, Queue
from components.spec import CloudQueueArgs

COMPONENTS = [Queue, AwsQueue, AzureQueue, GcpQueue]
EXTRA_FIELDS = {
    "Queue": {"clouds"},
    "AwsQueue": set(),
    "AzureQueue": {"resource_group_name", "namespace_name", "storage_account_name"},
    "GcpQueue": set(),
}


def declarations(typed_dict: type) -> dict[str, tuple[str, str | None]]:
    """Each field the class statement itself declares: name -> (type as written, its docstring)."""
    (statement,) = ast.parse(textwrap.dedent(inspect.getsource(typed_dict))).body
    found = {}
    for node, after in zip(statement.body, [*statement.body[1:], None]):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            described = isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant) and isinstance(after.value.value, str)
            found[node.target.id] = (ast.unparse(node.annotation), after.value.value if described else None)
    return found


def drift(shared: type, other: type) -> list[str]:
    """Where `other`'s own declarations of `shared`'s fields differ from `shared`'s: type or description."""
    own = declarations(other)
    return [f"{other.__name__}.{name}: {own.get(name)} != {declared}" for name, declared in declarations(shared).items() if own.get(name) != declared]


def args_class(component: type) -> type:
    return inspect.get_annotations(component.__init__)["args"]


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.__name__)
def test_each_components_args_class_declares_every_field_it_takes_with_a_description(component):
    args = args_class(component)
    declared = declarations(args)
    # The analyzer reads descriptions from this class statement only, so nothing may come from a base.
    assert set(declared) == set(inspect.get_annotations(args))
    assert [name for name, (_, doc) in declared.items() if not doc] == []


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.__name__)
def test_every_repeated_declaration_of_a_cloud_queue_field_matches_cloud_queue_args(component):
    args = args_class(component)
    assert drift(CloudQueueArgs, args) == []
    assert set(declarations(args)) - set(declarations(CloudQueueArgs)) == EXTRA_FIELDS[component.__name__]


def test_a_redeclared_field_whose_type_or_description_drifted_is_reported():
    class Drifted(TypedDict, total=False):
        fifo: int
        """Ordered delivery: SQS FIFO, Service Bus sessions, Pub/Sub ordering keys."""
        consumer: Required[dict]
        """The consuming function."""
        tags: dict[str, pulumi.Input[str]]
        """Tags on every resource."""

    reported = {line.split(":")[0] for line in drift(CloudQueueArgs, Drifted)}
    missing = set(declarations(CloudQueueArgs)) - {"fifo", "consumer", "tags"}
    assert reported == {f"Drifted.{name}" for name in {"fifo", "consumer", "tags", *missing}}


def test_the_single_cloud_components_take_cloud_queue_args_itself():
    assert args_class(AwsQueue) is CloudQueueArgs and args_class(GcpQueue) is CloudQueueArgs
