"""cloudqueue's performance figures, printed; targets are shown next to each, never asserted in tests.

    make bench            # or: .venv/bin/python bench/bench.py [--skip-suite]

Figures:
- the test suite's own run time (target: at most 60 s on 2 cores);
- what importing `cloudqueue_runtime.aws` adds to a bare Python start (target: at most 20 ms);
- the size of the example consumer's function artifact (target: at most 50 KB);
- component overhead: AwsQueue programs against a raw program registering the same resources
  with the same inputs, under the mock engine (target: at most 1.15x, flat per queue).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "bench")]


def suite_seconds() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=REPO, check=True, capture_output=True)
    return time.perf_counter() - start


def start_ms(code: str, runs: int = 30) -> float:
    """Median wall time of a fresh interpreter running `code`, in ms."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def import_cost_ms() -> tuple[float, float]:
    bare = start_ms("pass")
    with_adapter = start_ms("import cloudqueue_runtime.aws")
    # -X importtime gives the adapter's own cumulative import time, free of process noise.
    trace = subprocess.run([sys.executable, "-X", "importtime", "-c", "import cloudqueue_runtime.aws"], cwd=REPO, capture_output=True, text=True, check=True).stderr
    own_us = sum(int(line.split("|")[1]) for line in trace.splitlines() if line.strip().endswith("cloudqueue_runtime.aws"))
    return with_adapter - bare, own_us / 1000


def artifact_kb() -> float:
    from components import artifact

    return len(artifact.build_bytes(REPO / "consumers" / "orders")) / 1024


def timed_run(program) -> tuple[float, int]:
    from pulumi_mocks import Engine

    engine = Engine(preview=False)
    start = time.perf_counter()
    engine.run(program)
    return time.perf_counter() - start, len([r for r in engine.all() if r.custom])


def component_overhead(counts: tuple[int, ...], repeats: int = 3) -> list[tuple[int, int, float, float]]:
    from components import AwsQueue, artifact
    from raw_program import raw_queue

    code = REPO / "consumers" / "orders"
    spec = {"consumer": {"code_path": str(code), "handler": "handler.handle"}}
    package = artifact.build(code)
    # Warm up imports and caches once, so neither side pays first-use costs.
    timed_run(lambda: AwsQueue("warm", spec))
    timed_run(lambda: raw_queue("warm", str(package.path), package.sha256_base64))
    rows = []
    for count in counts:
        component_s = min(timed_run(lambda: [AwsQueue(f"q{i}", spec) for i in range(count)])[0] for _ in range(repeats))
        raw_runs = [timed_run(lambda: [raw_queue(f"q{i}", str(package.path), package.sha256_base64) for i in range(count)]) for _ in range(repeats)]
        raw_s, resources = min(raw_runs)
        rows.append((count, resources, component_s, raw_s))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-suite", action="store_true", help="do not time the test suite")
    args = parser.parse_args()

    if not args.skip_suite:
        print(f"test suite:               {suite_seconds():7.1f} s    (target <= 60 s)")
    added, own = import_cost_ms()
    print(f"import cloudqueue_runtime.aws: +{added:5.1f} ms over a bare start, {own:.1f} ms own import time (target <= 20 ms)")
    print(f"example artifact:         {artifact_kb():7.1f} KB   (target <= 50 KB)")
    print("component overhead (mock engine, AwsQueue vs bench/raw_program.py, best of 3):")
    print("  queues  resources  component s  raw s   ratio  ms/queue")
    for count, resources, component_s, raw_s in component_overhead((1, 10, 50, 100)):
        print(f"  {count:6d}  {resources:9d}  {component_s:11.2f}  {raw_s:5.2f}  {component_s / raw_s:5.2f}x  {component_s * 1000 / count:8.1f}")
    print("  (target: ratio <= 1.15x, ms/queue flat from 1 to 100 queues)")


if __name__ == "__main__":
    main()
