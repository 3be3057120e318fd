"""`cloudqueue local` and `cloudqueue send --local`, run as a consumer author runs them, on 127.0.0.1."""

from __future__ import annotations

import json
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest
import yaml

from components.tools import cli, local
from pulumi_mocks import REPO


@pytest.fixture
def project(tmp_path):
    """This project's example consumer with an AWS-only stack that dead-letters after 2 receives."""
    shutil.copy(REPO / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    shutil.copytree(REPO / "consumers", tmp_path / "consumers")
    queues = {"orders": {"clouds": ["aws"], "max_delivery_attempts": 2, "consumer": {"code_path": "consumers/orders", "handler": "handler.handle"}}}
    (tmp_path / "Pulumi.local.yaml").write_text(yaml.safe_dump({"config": {"cloudqueue:queues": queues}}))
    return tmp_path


class Running:
    """A `cloudqueue local` process whose output lines arrive on a queue."""

    def __init__(self, project):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cloudqueue", "local", "--stack", "local", "orders", "--port", "0", "--retry-after", "0", "--cwd", str(project)],
            cwd=project,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            # As from a terminal: a shell that runs the suite in the background passes SIGINT on ignored.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        self.lines: "queue.Queue[str]" = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=lambda: [self.lines.put(line.rstrip()) for line in self.process.stdout], daemon=True).start()

    def wait_for(self, text: str, seconds: float = 30) -> str:
        """The first line that starts with `text` (outcome lines are right-aligned)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            self.seen.append(line)
            if line.strip().startswith(text):
                return line
        raise AssertionError(f"{text!r} not seen in {self.seen}")


def send(project, body: str) -> str:
    result = subprocess.run([sys.executable, "-m", "cloudqueue", "send", "--local", "orders", body, "--cwd", str(project)], capture_output=True, text=True, cwd=project)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()[1]


def test_local_run_handles_retries_and_dead_letters_and_stops_cleanly_on_ctrl_c(project):
    running = Running(project)
    try:
        banner = running.wait_for("cloudqueue local: queue 'orders' on http://127.0.0.1:")
        assert "dead-letter after 2 receives" in banner and "retry after 0 s" in banner
        state = json.loads((project / ".cloudqueue" / "local.json").read_text())
        assert state["endpoint"].startswith("http://127.0.0.1:")
        good = send(project, json.dumps({"order_id": 7}))
        assert good in running.wait_for("handled")
        bad = send(project, json.dumps({"no_order_id": True}))  # the example handler raises
        assert bad in running.wait_for("retried")
        # The runtime's failure line names the queue, as on every cloud.
        failure = next(json.loads(line) for line in running.seen if line.startswith('{"severity"'))
        assert (failure["queue"], failure["message_id"]) == ("orders", bad)
        running.wait_for("dead-lettered")
    finally:
        running.process.send_signal(signal.SIGINT)
    assert running.process.wait(timeout=20) == 0
    running.wait_for("cloudqueue local: stopped; 1 handled, 2 retried, 1 dead-lettered")
    assert not (project / ".cloudqueue").exists()


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("-1", "-1 is outside SQS's visibility timeout range (0 to 43200 seconds)"),
        ("43201", "43201 is outside SQS's visibility timeout range (0 to 43200 seconds)"),
        ("soon", "'soon' is not a whole number of seconds"),
    ],
)
def test_retry_after_outside_sqs_visibility_range_is_refused_before_anything_starts(value, reason, capsys, tmp_path):
    with pytest.raises(SystemExit) as stopped:  # an empty folder: had the value passed, the run would stop at the missing stack file
        cli.main(["local", "--stack", "dev", "orders", "--retry-after", value, "--cwd", str(tmp_path)])
    assert stopped.value.code == 2
    assert f"argument --retry-after: {reason}" in capsys.readouterr().err


def test_retry_after_takes_both_ends_of_sqs_visibility_range():
    assert [cli._retry_after(value) for value in ("0", "43200")] == [0, 43200]


def test_send_without_a_running_local_queue_says_what_to_start(project, capsys):
    assert local.send_local(project, "orders", "{}", "default") == 2
    assert "start `cloudqueue local --stack <stack> orders` first" in capsys.readouterr().err


def test_local_settings_are_the_aws_components_own(consumer_dir):
    from components.spec import validate

    spec = validate("orders", {"clouds": ["aws"], "fifo": True, "max_delivery_attempts": 4, "consumer": {"code_path": str(consumer_dir), "handler": "handler.handle", "timeout_seconds": 20, "batch_size": 5}})
    assert local.component_settings("orders", spec) == local.QueueSettings(
        fifo=True, visibility_timeout_seconds=120, message_retention_seconds=345600, dead_letter_retention_seconds=1209600, max_receive_count=4, batch_size=5
    )
