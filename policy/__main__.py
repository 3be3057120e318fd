"""cloudqueue's policy pack. The rules live in cloudqueue_policy.py; this file only builds the pack."""

from pulumi_policy import EnforcementLevel, PolicyPack

from cloudqueue_policy import POLICIES

PolicyPack(name="cloudqueue", enforcement_level=EnforcementLevel.MANDATORY, policies=POLICIES)
