"""Spec helpers shared by the component tests."""

from __future__ import annotations

import copy

import pytest

from components.spec import SpecError, validate


def single_cloud_args(base_spec: dict, **changes) -> dict:
    """A single-cloud component's args: `base_spec` without `clouds`, with top-level and consumer changes."""
    args = {k: v for k, v in base_spec.items() if k != "clouds"}
    consumer = {**args["consumer"], **changes.pop("consumer", {})}
    return {**args, **changes, "consumer": consumer}


def issues_for(name: str, spec: dict, **kwargs) -> list[str]:
    """The problems `validate` reports for `spec` (it must report some)."""
    with pytest.raises(SpecError) as caught:
        validate(name, spec, **kwargs)
    return caught.value.issues


def with_changes(spec: dict, **changes) -> dict:
    """A copy of `spec` with dotted-path changes, e.g. consumer__memory_mb=64."""
    changed = copy.deepcopy(spec)
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        target = changed
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = value
    return changed
