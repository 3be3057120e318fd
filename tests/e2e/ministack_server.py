"""ministack, started from its own venv on a free port of 127.0.0.1, and stopped by its process id.

The server gets a clean environment: no AWS credentials or settings of this machine reach it, and
its temporary files (each Lambda worker's extracted code and layers) stay in a folder of its own.
Whatever the Lambda functions it runs need to read from the host comes through `extra_env`, which
ministack passes on to its worker processes.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from components.tools.mocks import ACCOUNT, REGION

HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 30
STOP_TIMEOUT_SECONDS = 10


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class Ministack:
    """One ministack server process; `endpoint` is its URL."""

    def __init__(self, venv: Path, workdir: Path, extra_env: dict[str, str] | None = None):
        self.venv, self.workdir = venv.absolute(), workdir
        self.port = free_port()
        self.endpoint = f"http://{HOST}:{self.port}"
        self.log_path = workdir / "ministack.log"
        tmp = workdir / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(workdir),
            "LANG": "C.UTF-8",
            "TMPDIR": str(tmp),
            "BIND_HOST": HOST,  # never 0.0.0.0, ministack's default
            "GATEWAY_PORT": str(self.port),
            # The mocks' account and region, so every ARN the program recorded names a resource here.
            "MINISTACK_ACCOUNT_ID": ACCOUNT,
            "MINISTACK_REGION": REGION,
            "LOG_LEVEL": "INFO",
            **(extra_env or {}),
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> "Ministack":
        log = self.log_path.open("wb")
        # A session of its own: stop() ends the server and the Lambda workers it spawned, and nothing else.
        self.process = subprocess.Popen(
            [str(self.venv / "bin" / "python"), "-m", "ministack"],
            cwd=self.workdir, env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"ministack exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/_ministack/health", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"ministack not healthy on {self.endpoint} within {START_TIMEOUT_SECONDS} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        group = self.process.pid  # the session leader's id is its group's id
        os.killpg(group, signal.SIGTERM)
        try:
            self.process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(group, signal.SIGKILL)
            self.process.wait(STOP_TIMEOUT_SECONDS)
        try:
            os.killpg(group, signal.SIGKILL)  # workers that outlived their server
        except ProcessLookupError:
            pass

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no ministack log)"

    def client(self, service: str):
        """A boto3 client for this server, as the mocks' account and region.

        A 12-digit access key is the account ministack files everything under.
        """
        import boto3
        from botocore.config import Config

        return boto3.client(
            service, endpoint_url=self.endpoint, region_name=REGION, aws_access_key_id=ACCOUNT, aws_secret_access_key="e2e",
            config=Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=30),
        )
