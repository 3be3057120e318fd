"""The policy runner (components/tools/policy_check.py) with this repository's pack, as the tests use it."""

from __future__ import annotations

from typing import Optional

import cloudqueue_policy
from components.tools import policy_check
from components.tools.policy_check import UNKNOWN, Violation, mandatory  # noqa: F401 - re-exported for the tests


class Analyzer(policy_check.Analyzer):
    """The analyzer with cloudqueue's own rules."""

    def __init__(self, config: Optional[dict[str, dict]] = None):
        super().__init__(cloudqueue_policy.POLICIES, config)
