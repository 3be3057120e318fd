"""GrantPropagation's dynamic provider: when it waits for IAM grants to take effect, and when it does not."""

from __future__ import annotations

from components.gcp import propagation


def test_gcp_grant_propagation_waits_on_create_and_when_its_grants_change_only(monkeypatch):
    slept = []
    monkeypatch.setattr(propagation.time, "sleep", slept.append)
    provider = propagation.GrantPropagationProvider()
    props = {"grants": ["b", "a"], "seconds": 120}
    created = provider.create(props)
    assert slept == [120] and created.id == provider.create({"grants": ["a", "b"], "seconds": 120}).id
    assert not provider.diff(created.id, props, {"grants": ["a", "b"], "seconds": 120}).changes  # an unchanged `pulumi up` waits for nothing
    assert provider.diff(created.id, props, {"grants": ["a", "b", "c"], "seconds": 120}).changes
    assert provider.diff(created.id, props, {"grants": ["a", "b"], "seconds": 300}).changes
    provider.update(created.id, props, {"grants": ["a", "c"], "seconds": 90})
    assert slept == [120, 120, 90]
