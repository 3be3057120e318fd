"""The Pub/Sub contract tests of `cloudqueue send` and `cloudqueue dlq` (gcp_contract.py), in a process of their own.

google-cloud-pubsub loads googleapis-common-protos' `google/rpc/status.proto`, and the Pulumi SDK's
provider host (imported by the component-package tests) registers its own copy of the same
`google.rpc.Status` under another file name; protobuf refuses the second in one process
("duplicate symbol 'google.rpc.Status'"). The CLI never loads both, so only the tests need apart.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pulumi_mocks import REPO

CONTRACT = Path(__file__).with_name("gcp_contract.py")


def test_gcp_send_peek_redrive_and_purge_hold_their_contract_against_the_pubsub_client():
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(CONTRACT), "-q", "-p", "no:cacheprovider", "-n0", "-W", "ignore::FutureWarning"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and " failed" not in result.stdout
