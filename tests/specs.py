"""Spec helpers shared by the component tests."""

from __future__ import annotations


def single_cloud_args(base_spec: dict, **changes) -> dict:
    """A single-cloud component's args: `base_spec` without `clouds`, with top-level and consumer changes."""
    args = {k: v for k, v in base_spec.items() if k != "clouds"}
    consumer = {**args["consumer"], **changes.pop("consumer", {})}
    return {**args, **changes, "consumer": consumer}
