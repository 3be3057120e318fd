"""Waiting for Google Cloud IAM grants to take effect, as a Pulumi dynamic resource.

IAM is eventually consistent: a new grant "typically" takes effect within 2 minutes, "potentially 7
minutes or longer" (https://cloud.google.com/iam/docs/access-change-propagation). The API answers as
soon as the policy is stored, so a resource that uses the grant right away can still be refused:
a function build fails with "Access to bucket gcf-v2-sources-... denied" although the grant exists
(hashicorp/terraform-provider-google#20571; GoogleCloudPlatform/magic-modules#11909 doubled the
wait of the provider's own test for it). The provider's example for a custom build account puts a
`time.Sleep` between the grants and the function; pulumiverse-time is not a dependency here, so
this resource does the same: it waits on create, and again whenever the set of grants it follows
changes. It waits for nothing on an unchanged `pulumi up`, and never in a preview.

Bounded: it sleeps `seconds` (GRANT_PROPAGATION_SECONDS, the documented typical time) and does not
poll, because nothing tells when another principal's permission is effective. A grant slower than
that still fails its user, which reports the cloud's own error; running `pulumi up` again retries.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any, Optional, Sequence

import pulumi
import pulumi.dynamic

# "Typically 2 minutes" (IAM access change propagation).
GRANT_PROPAGATION_SECONDS = 120


def _identity(grants: Sequence[str]) -> str:
    return "grants-" + hashlib.sha256("\n".join(sorted(grants)).encode()).hexdigest()[:16]


class GrantPropagationProvider(pulumi.dynamic.ResourceProvider):
    """Sleeps when its grants are new or changed; nothing to read back or delete."""

    serialize_as_secret_always = False  # it captures nothing secret

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        time.sleep(int(props["seconds"]))
        return pulumi.dynamic.CreateResult(id_=_identity(props["grants"]), outs=props)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        changed = sorted(olds.get("grants") or []) != sorted(news.get("grants") or []) or olds.get("seconds") != news.get("seconds")
        return pulumi.dynamic.DiffResult(changes=changed, replaces=[], delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        time.sleep(int(news["seconds"]))
        return pulumi.dynamic.UpdateResult(outs=news)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Nothing to undo: waiting leaves nothing behind."""


class GrantPropagation(pulumi.dynamic.Resource, module="cloudqueue", name="GrantPropagation"):
    """Done `seconds` after every grant in `grants` was created: depend on it instead of on the grants alone."""

    grants: pulumi.Output[list]
    """Ids of the grants waited for."""
    seconds: pulumi.Output[int]
    """How long it waited after them."""

    def __init__(
        self,
        name: str,
        grants: Sequence[pulumi.CustomResource],
        seconds: int = GRANT_PROPAGATION_SECONDS,
        opts: Optional[pulumi.ResourceOptions] = None,
    ):
        inputs = {"grants": [grant.id for grant in grants], "seconds": seconds}
        after = pulumi.ResourceOptions(depends_on=list(grants))
        super().__init__(GrantPropagationProvider(), name, inputs, pulumi.ResourceOptions.merge(opts, after))
