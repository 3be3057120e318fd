"""Component overhead counted in CPU instructions under Valgrind's callgrind, free of machine noise.

Wall time on a shared 2-core VM swings by tens of percent between runs of the same program, so
a 1.15x target sits inside the noise of any timed ratio. Instructions executed hardly swing:
the same program with the same hash seed runs nearly the same instructions. What still moves them,
by about 1%, is when the garbage collector runs (it stays on, as in a real run), which depends on
the heap the process has built so far. Each cloud's component and raw programs (or the plan and
the raw programs) run in one Valgrind process; instrumentation is on only while a program runs
(client requests from a tiny C helper), and each run is dumped on its own.

    .venv/bin/python bench/instructions.py aws 1 10   # prints queues, component Ir, raw Ir
    .venv/bin/python bench/instructions.py plan 10    # `cloudqueue plan` against the raw programs

Needs `valgrind` with its `callgrind.h` header and a C compiler; `unavailable()` says which is
missing, and `make bench-instructions` (bench/overhead.py) then prints that instead of the figures.
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
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
HELPER_ENV = "CLOUDQUEUE_CALLGRIND_HELPER"
SIDES = ("component", "raw")

# Zero, then count only the measured program; dumping resets the counters for the next one.
_HELPER_SOURCE = """
#include <valgrind/callgrind.h>
void cq_start(void) { CALLGRIND_ZERO_STATS; CALLGRIND_START_INSTRUMENTATION; }
void cq_stop(const char *label) { CALLGRIND_DUMP_STATS_AT(label); CALLGRIND_STOP_INSTRUMENTATION; }
"""


def unavailable() -> str | None:
    """Why instructions cannot be counted on this machine, or None when they can."""
    if not shutil.which("valgrind"):
        return "valgrind is not installed"
    if not (shutil.which("cc") or shutil.which("gcc")):
        return "no C compiler for the callgrind helper"
    try:
        helper()
    except subprocess.CalledProcessError as error:
        return f"the callgrind helper does not compile (valgrind/callgrind.h missing?): {error.stderr.strip()[-200:]}"
    return None


def helper() -> Path:
    """The compiled client-request helper, built once per source into the temp directory."""
    digest = hashlib.sha256(_HELPER_SOURCE.encode()).hexdigest()[:16]
    library = Path(tempfile.gettempdir()) / f"cloudqueue-callgrind-{digest}.so"
    if not library.exists():
        source = library.with_suffix(".c")
        source.write_text(_HELPER_SOURCE)
        partial = library.with_name(f"{library.name}.{os.getpid()}.tmp")
        compiler = shutil.which("cc") or "gcc"
        subprocess.run([compiler, "-O2", "-shared", "-fPIC", "-o", str(partial), str(source)], check=True, capture_output=True, text=True)
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
    """(queues, component Ir, raw Ir) per count: one Valgrind process runs both sides of `target` (a cloud, or `plan`)."""
    with tempfile.TemporaryDirectory(prefix=f"cloudqueue-callgrind-{target}-") as folder:
        command = [
            "valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={folder}/callgrind.out",
            sys.executable, str(Path(__file__).resolve()), target, *map(str, counts),
        ]
        # A fixed hash seed: dict and set layouts stay the same run to run.
        environment = {**os.environ, "PYTHONHASHSEED": "0", HELPER_ENV: str(helper())}
        subprocess.run(command, check=True, capture_output=True, text=True, env=environment)
        found = parse_dumps(Path(folder))
    missing = [f"{side}-{queues}" for queues in counts for side in SIDES if f"{side}-{queues}" not in found]
    if missing:
        raise RuntimeError(f"callgrind wrote no figures for {', '.join(missing)}")
    return [(queues, found[f"component-{queues}"], found[f"raw-{queues}"]) for queues in counts]


def _sides(target: str, counts: list[int]) -> dict[str, Callable[[int], Callable[[], object]]]:
    """Per side, given a queue count, the measured run, prepared (its engine or stack file ready).

    A cloud: its component program against the raw one, as the timed figures run them. `plan`:
    `cloudqueue plan` of a generated stack on all three clouds against the raw programs of all
    three, previewed, as overhead.py's `plan_figures` times them.
    """
    from pulumi_mocks import Engine
    from workloads import generated_project, programs, raw_all_clouds

    if target == "plan":
        from components.tools import cli, plan

        raw_all = raw_all_clouds()
        folders = {queues: generated_project(queues) for queues in {1, *counts}}

        def planned(queues: int) -> Callable[[], object]:
            config = cli.read_stack_config(folders[queues], "bench")
            return lambda: plan.build(folders[queues], "bench", config, "cloudqueue")

        def by_hand(queues: int) -> Callable[[], object]:
            engine = Engine(preview=True)  # the plan previews
            return lambda: engine.run(lambda: raw_all(queues))

        return {"component": planned, "raw": by_hand}

    def side(program: Callable[[int], object]) -> Callable[[int], Callable[[], object]]:
        def prepared(queues: int) -> Callable[[], object]:
            engine = Engine(preview=False)
            return lambda: engine.run(lambda: program(queues))

        return prepared

    component, raw = programs()[target]
    return {"component": side(component), "raw": side(raw)}


def _measure(target: str, counts: list[int]) -> None:
    """Under Valgrind: run each side at each count with instrumentation on for that run only."""
    sys.path[:0] = [str(HERE.parent), str(HERE.parent / "tests"), str(HERE)]
    helper_library = ctypes.CDLL(os.environ[HELPER_ENV])
    sides = _sides(target, counts)

    def run(side: str, queues: int, label: str | None = None) -> None:
        work = sides[side](queues)
        gc.collect()  # every run starts from the same heap, as in the timed figures
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


if __name__ == "__main__":
    if HELPER_ENV in os.environ:
        _measure(sys.argv[1], [int(value) for value in sys.argv[2:]])
    else:
        for row in count(sys.argv[1], tuple(int(value) for value in sys.argv[2:])):
            print(*row)
