"""`cloudqueue validate` and `cloudqueue plan` as a user runs them: a fresh process each, the dev stack
and generated stacks of N queues on all three clouds (workloads.generated_project)."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from workloads import REPO, generated_project

# The generated copies hold the stack program, whose `__main__.py` imports this repository's `components`.
_ENVIRONMENT = {**os.environ, "PYTHONPATH": str(REPO)}
_RESOURCES = re.compile(r"^cloudqueue plan: stack \S+ of project \S+, (\d+) resources", re.MULTILINE)


def cli_seconds(folder: Path, stack: str, command: str) -> tuple[float, str]:
    """(seconds, stdout) of `python -m cloudqueue <command> --stack <stack>` in `folder`."""
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "cloudqueue", command, "--stack", stack], cwd=folder, env=_ENVIRONMENT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"cloudqueue {command} --stack {stack} in {folder} exited {result.returncode}: {result.stderr.strip()[-500:]}")
    return seconds, result.stdout


@dataclass
class StackRow:
    queues: int | None
    """None for the dev stack."""
    resources: int
    validate_s: float
    plan_s: float


def _row(queues: int | None, validate_runs: int) -> StackRow:
    folder, stack = (REPO, "dev") if queues is None else (generated_project(queues), "bench")
    validate_s = min(cli_seconds(folder, stack, "validate")[0] for _ in range(validate_runs))
    plan_s, printed = cli_seconds(folder, stack, "plan")
    return StackRow(queues, planned_resources(printed), validate_s, plan_s)


def planned_resources(printed: str) -> int:
    """The resource count from the plan's first line."""
    found = _RESOURCES.search(printed)
    if not found:
        raise RuntimeError(f"cloudqueue plan printed no resource count: {printed[:200]!r}")
    return int(found.group(1))


def stack_rows(counts: tuple[int, ...] = (10, 50, 100)) -> list[StackRow]:
    """The dev stack, then each generated stack: those two at a time, one per core (a plan is one process),
    the largest first, so the bench stays within five minutes; each figure is still one process's wall time."""
    rows = [_row(None, validate_runs=3)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        generated = dict(zip(sorted(counts, reverse=True), pool.map(lambda count: _row(count, validate_runs=2), sorted(counts, reverse=True))))
    return rows + [generated[count] for count in counts]


def marginal_ms_per_queue(rows: list[StackRow]) -> list[tuple[int, int, float]]:
    """(from, to, ms per added queue) between successive generated stacks: flat when the cost per queue is."""
    generated = [row for row in rows if row.queues is not None]
    return [(low.queues, high.queues, (high.plan_s - low.plan_s) * 1000 / (high.queues - low.queues)) for low, high in itertools.pairwise(generated)]
