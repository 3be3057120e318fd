"""Component overhead counted in CPU instructions under Valgrind's callgrind, free of machine noise.

Wall time on a shared 2-core VM swings by tens of percent between runs of the same program, so
a 1.15x target sits inside the noise of any timed ratio. Instructions executed do not swing:
the same program with the same hash seed runs the same instructions, collector included. Each
cloud's component and raw programs run in one Valgrind process; instrumentation is on only
while a program runs (client requests from a tiny C helper), and each run is dumped on its own.

    .venv/bin/python bench/instructions.py aws 1 10   # prints queues, component Ir, raw Ir

Needs `valgrind` with its `callgrind.h` header and a C compiler; `unavailable()` says which is
missing, and the bench then prints that instead of the figures.
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

    `totals:` is the sum of the part's cost lines. (A later part's `summary:` can leave out costs
    carried over from the stopped instrumentation; `totals:` matches the first part's own figure.)
    """
    counts: dict[str, int] = {}
    for path in sorted(folder.glob("callgrind.out.*")):
        text = path.read_text(errors="replace")
        label = re.search(r"^desc: Trigger: Client Request: (.+)$", text, re.MULTILINE)
        totals = re.search(r"^totals: (\d+)", text, re.MULTILINE)
        if label and totals:
            counts[label.group(1).strip()] = int(totals.group(1))
    return counts


def count(cloud: str, counts: tuple[int, ...]) -> list[tuple[int, int, int]]:
    """(queues, component Ir, raw Ir) per count: one Valgrind process runs both sides of `cloud`."""
    with tempfile.TemporaryDirectory(prefix=f"cloudqueue-callgrind-{cloud}-") as folder:
        command = [
            "valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={folder}/callgrind.out",
            sys.executable, str(Path(__file__).resolve()), cloud, *map(str, counts),
        ]
        # A fixed hash seed: dict and set layouts, and so the instructions, repeat run to run.
        environment = {**os.environ, "PYTHONHASHSEED": "0", HELPER_ENV: str(helper())}
        subprocess.run(command, check=True, capture_output=True, text=True, env=environment)
        found = parse_dumps(Path(folder))
    missing = [f"{side}-{queues}" for queues in counts for side in SIDES if f"{side}-{queues}" not in found]
    if missing:
        raise RuntimeError(f"callgrind wrote no figures for {', '.join(missing)}")
    return [(queues, found[f"component-{queues}"], found[f"raw-{queues}"]) for queues in counts]


def _measure(cloud: str, counts: list[int]) -> None:
    """Under Valgrind: run each side at each count with instrumentation on for that run only."""
    sys.path[:0] = [str(HERE.parent), str(HERE.parent / "tests"), str(HERE)]
    from bench import programs
    from pulumi_mocks import Engine

    helper_library = ctypes.CDLL(os.environ[HELPER_ENV])
    component, raw = programs()[cloud]
    sides = {"component": component, "raw": raw}

    def run(program, queues: int, label: str | None = None) -> None:
        engine = Engine(preview=False)
        gc.collect()  # every run starts from the same heap, as in the timed figures
        if label:
            helper_library.cq_start()
        engine.run(lambda: program(queues))
        if label:
            helper_library.cq_stop(label.encode())

    for program in sides.values():
        run(program, 1)  # imports and caches warm, uncounted
    for queues in counts:
        for side, program in sides.items():
            run(program, queues, f"{side}-{queues}")


if __name__ == "__main__":
    if HELPER_ENV in os.environ:
        _measure(sys.argv[1], [int(value) for value in sys.argv[2:]])
    else:
        for row in count(sys.argv[1], tuple(int(value) for value in sys.argv[2:])):
            print(*row)
