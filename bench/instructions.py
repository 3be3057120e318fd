"""`make bench-instructions`: each cloud's component against bench/raw_program.py, the same resources
by hand, in CPU instructions counted by Valgrind's callgrind (about 6 minutes on 2 cores; the method and the
figures: docs/performance.md). Needs valgrind, its callgrind.h header and a C compiler.
"""

from __future__ import annotations

import ctypes
import gc
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
HELPER_ENV = "CLOUDQUEUE_CALLGRIND_HELPER"
SIDES = ("component", "raw")
JOBS = {"azure": (1, 10, 50), "aws": (1, 10, 50), "gcp": (1, 10, 50)}  # the longest first

# Zero, then count only the measured program; dumping resets the counters for the next one.
_HELPER_SOURCE = """
#include <valgrind/callgrind.h>
void cq_start(void) { CALLGRIND_ZERO_STATS; CALLGRIND_START_INSTRUMENTATION; }
void cq_stop(const char *label) { CALLGRIND_DUMP_STATS_AT(label); CALLGRIND_STOP_INSTRUMENTATION; }
"""


def unavailable() -> str | None:
    """Why instructions cannot be counted on this machine, or None when they can."""
    if not shutil.which("valgrind") or not shutil.which("cc"):
        return "valgrind or a C compiler (cc) is not installed"
    try:
        helper()
    except subprocess.CalledProcessError as error:
        return f"the callgrind helper does not compile (valgrind/callgrind.h missing?): {error.stderr.strip()[-200:]}"
    return None


def helper() -> Path:
    """The compiled client-request helper, built once per source into the temp directory."""
    library = Path(tempfile.gettempdir()) / f"cloudqueue-callgrind-{hashlib.sha256(_HELPER_SOURCE.encode()).hexdigest()[:16]}.so"
    if not library.exists():
        source, partial = library.with_suffix(".c"), library.with_name(f"{library.name}.{os.getpid()}.tmp")
        source.write_text(_HELPER_SOURCE)
        subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", str(partial), str(source)], check=True, capture_output=True, text=True)
        partial.replace(library)
    return library


def parse_dumps(folder: Path) -> dict[str, int]:
    """Instructions per dump label, from callgrind's `<out>.<part>` files in `folder`.

    `totals:` is the sum of the part's cost lines. A later part's `summary:` came out 7% under its
    `totals:` here, and under the same run's figure as a first part; `totals:` matched it.
    """
    counts: dict[str, int] = {}
    for path in sorted(folder.glob("callgrind.out.*")):
        text = path.read_text(errors="replace")
        label = re.search(r"^desc: Trigger: Client Request: (.+)$", text, re.MULTILINE)
        totals = re.search(r"^totals: (\d+)", text, re.MULTILINE)
        if label and totals:
            counts[label.group(1).strip()] = int(totals.group(1))
    return counts


def count(target: str, counts: tuple[int, ...]) -> list[tuple[int, int, int]]:
    """(queues, component Ir, raw Ir) per count: one Valgrind process, a fixed hash seed, both sides of `target` (a cloud)."""
    with tempfile.TemporaryDirectory(prefix=f"cloudqueue-callgrind-{target}-") as folder:
        command = [
            "valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={folder}/callgrind.out",
            sys.executable, str(Path(__file__).resolve()), target, *map(str, counts),
        ]
        environment = {**os.environ, "PYTHONHASHSEED": "0", HELPER_ENV: str(helper())}
        subprocess.run(command, check=True, capture_output=True, text=True, env=environment)
        found = parse_dumps(Path(folder))
    missing = [f"{side}-{queues}" for queues in counts for side in SIDES if f"{side}-{queues}" not in found]
    if missing:
        raise RuntimeError(f"callgrind wrote no figures for {', '.join(missing)}")
    return [(queues, found[f"component-{queues}"], found[f"raw-{queues}"]) for queues in counts]


def count_all(jobs: dict[str, tuple[int, ...]]) -> tuple[dict[str, list[tuple[int, int, int]]], str | None]:
    """Every job's rows, one Valgrind process per core (each is 20-50x slower than a plain run); or why none."""
    reason = unavailable()
    if reason:
        return {}, f"not counted: {reason}"
    try:
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            return dict(zip(jobs, pool.map(lambda job: count(*job), jobs.items()))), None
    except (subprocess.CalledProcessError, RuntimeError) as error:
        detail = error.stderr.strip().splitlines()[-1:] if isinstance(error, subprocess.CalledProcessError) and error.stderr else [str(error)]
        return {}, f"not counted: {' '.join(detail)}"


def _sides(cloud: str) -> dict[str, Callable[[int], Callable[[], object]]]:
    """Per side, given a queue count, the measured run with its engine ready."""
    from pulumi_mocks import Engine
    from workloads import programs

    def prepared(program: Callable[[int], object]) -> Callable[[int], Callable[[], object]]:
        def run(queues: int) -> Callable[[], object]:
            engine = Engine(preview=False)
            return lambda: engine.run(lambda: program(queues))

        return run

    return dict(zip(SIDES, map(prepared, programs()[cloud])))


def _measure(target: str, counts: list[int]) -> None:
    """Under Valgrind: run each side at each count with instrumentation on for that run only."""
    sys.path[:0] = [str(HERE.parent), str(HERE.parent / "tests"), str(HERE)]
    helper_library = ctypes.CDLL(os.environ[HELPER_ENV])
    sides = _sides(target)

    def run(side: str, queues: int, label: str | None = None) -> None:
        work = sides[side](queues)
        gc.collect()  # every run starts from the same heap
        if label:
            helper_library.cq_start()
        work()
        if label:
            helper_library.cq_stop(label.encode())

    for side in sides:
        run(side, 1)  # imports and caches warm, uncounted
    for queues in counts:
        for side in sides:
            run(side, queues, f"{side}-{queues}")


def main() -> int:
    rows, reason = count_all(JOBS)
    if reason:
        print(f"component overhead: {reason}")
        return 1
    print("component overhead in CPU instructions (callgrind, one run per side; moves about 1% run to run):")
    print("  cloud   queues  component Mi  by hand Mi   ratio  M instr/queue")
    for target, found in rows.items():
        for queues, mine, by_hand in found:
            print(f"  {target:7} {queues:6d}  {mine / 1e6:12.0f}  {by_hand / 1e6:10.0f}  {mine / by_hand:5.3f}x  {mine / queues / 1e6:13.1f}")
    print("  (target: ratio <= 1.15x, met and no longer chased; instructions per queue flat from 10 to 50 queues)")
    return 0


if __name__ == "__main__":
    if HELPER_ENV in os.environ:  # the process count() runs under Valgrind
        _measure(sys.argv[1], [int(value) for value in sys.argv[2:]])
    else:
        sys.exit(main())
