"""The components against hand-written programs of the same resources: `make bench-instructions`.

    make bench-instructions   # or: .venv/bin/python bench/overhead.py [--skip-instructions]

AwsQueue, AzureQueue and GcpQueue programs against bench/raw_program.py, which registers the same
resources with the same inputs (tests/bench/test_raw_program.py checks that), under the mock engine:
- CPU instructions of one run per side under Valgrind's callgrind (bench/instructions.py), which
  move by about 1% between runs, the figure the 1.15x target is read from; about half an hour;
- best/best and the median of paired runs, timed (5 to 30 interleaved runs per side);
- the function calls and new objects of one run;
- a whole stack of N queues on all three clouds: cost per queue at 48 queues against 8 (target at
  most 1.3x), and `cloudqueue plan` of generated stacks against the raw programs, previewed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess

import instructions
from workloads import ALL_CLOUDS, CODE, generated_project, plan_seconds, programs, raw_all_clouds, timed_run

CLASS_NAMES = {"aws": "AwsQueue", "azure": "AzureQueue", "gcp": "GcpQueue"}


def component_overhead(cloud: str, counts: tuple[int, ...], budget_s: float = 4.0) -> list[tuple[int, int, float, float, list[float]]]:
    """(queues, resources, component s, raw s, quartiles of the ratios of pairs): N interleaved runs per side.

    Runs under a second swing by tens of percent on a shared machine, so short programs are
    repeated until about `budget_s` of sampling per side (at least 5 runs, at most 30), and the two
    sides alternate, in alternating order, so drift in machine load hits both alike. The seconds
    are each side's best run; the median of the run-by-run ratios is less swayed by one lucky or
    unlucky run on either side, and its quartiles show how far the machine moves it.
    """
    component, raw = programs()[cloud]
    # Warm up imports and caches once, so neither side pays first-use costs.
    timed_run(lambda: component(1))
    timed_run(lambda: raw(1))
    rows = []
    for count in counts:
        first_s, resources = timed_run(lambda: raw(count))
        repeats = max(5, min(30, int(budget_s / max(first_s, 1e-3))))
        component_runs, raw_runs = [], []
        for index in range(repeats):
            pair = ((component_runs, component), (raw_runs, raw))
            for runs, program in pair if index % 2 else reversed(pair):
                runs.append(timed_run(lambda: program(count))[0])
        ratios = [mine / by_hand for mine, by_hand in zip(component_runs, raw_runs)]
        rows.append((count, resources, min(component_runs), min(raw_runs), statistics.quantiles(ratios, n=4, method="inclusive")))
    return rows


def instruction_counts(counts: tuple[int, ...], plan_counts: tuple[int, ...]) -> tuple[dict[str, dict[int, tuple[int, int]]], str | None]:
    """Per cloud (and `plan`) and count, (component, raw) instructions under callgrind; or why none were counted.

    The jobs run side by side, one Valgrind process per core: each is 20-50x slower than a plain run.
    """
    from concurrent.futures import ThreadPoolExecutor

    reason = instructions.unavailable()
    if reason:
        return {}, f"not counted: {reason}"
    jobs = {"azure": counts, "aws": counts, "gcp": counts, "plan": plan_counts}  # the longest first
    try:
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            results = list(pool.map(lambda job: instructions.count(*job), jobs.items()))
    except (subprocess.CalledProcessError, RuntimeError) as error:  # the timed figures still follow
        detail = error.stderr.strip().splitlines()[-1:] if isinstance(error, subprocess.CalledProcessError) and error.stderr else [str(error)]
        return {}, f"not counted: {' '.join(detail)}"
    return {target: {queues: (mine, by_hand) for queues, mine, by_hand in rows} for target, rows in zip(jobs, results)}, None


def work_done(program, count: int) -> tuple[int, int]:
    """(function calls, net new garbage-collected objects) of one run: its work, free of machine noise.

    Calls count the Python work (the SDK's serialisation, the mocks, cloudqueue's own code);
    the objects are what drives the collector, which is half the wall time of these programs.
    """
    import cProfile
    import gc
    import pstats

    from pulumi_mocks import Engine

    engine = Engine(preview=False)
    gc.collect()
    gc.disable()  # the generation-0 count then only grows by what the run keeps allocating
    try:
        before = gc.get_count()[0]
        profile = cProfile.Profile()
        profile.enable()
        engine.run(lambda: program(count))
        profile.disable()
        objects = gc.get_count()[0] - before
    finally:
        gc.enable()
    return pstats.Stats(profile).total_calls, objects


def component_work(cloud: str, counts: tuple[int, ...]) -> list[tuple[int, float, float]]:
    """(queues, component/raw function calls, component/raw new objects) per count."""
    component, raw = programs()[cloud]
    work_done(component, 1)
    work_done(raw, 1)
    rows = []
    for count in counts:
        (mine_calls, mine_objects), (raw_calls, raw_objects) = work_done(component, count), work_done(raw, count)
        rows.append((count, mine_calls / raw_calls, mine_objects / raw_objects))
    return rows


def stack_per_queue(counts: tuple[int, ...], repeats: int = 2) -> list[tuple[int, int, float]]:
    """A stack of N queues on all three clouds, as __main__.py builds it."""
    from components import Queue, validate_all

    spec = {"clouds": ALL_CLOUDS, "consumer": {"code_path": str(CODE), "handler": "handler.handle"}}

    def stack(count: int) -> None:
        for name, resolved in validate_all({f"q{i}": spec for i in range(count)}).items():
            Queue(name, resolved)

    timed_run(lambda: stack(1))
    rows = []
    for count in counts:
        seconds, resources = min(timed_run(lambda: stack(count)) for _ in range(repeats))
        rows.append((count, resources, seconds))
    return rows


def plan_figures(counts: tuple[int, ...]) -> list[tuple[int, int, float, float]]:
    """(queues, resources, plan seconds, raw seconds) per generated stack; best of 3 up to 10 queues, else 1."""
    raw = raw_all_clouds()
    rows = []
    for count in counts:
        repeats = 3 if count <= 10 else 1
        folder = generated_project(count)
        seconds, resources = min(plan_seconds(folder, "bench") for _ in range(repeats))
        raw_s = min(timed_run(lambda: raw(count), preview=True)[0] for _ in range(repeats))  # the plan previews
        rows.append((count, resources, seconds, raw_s))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-instructions", action="store_true", help="do not count instructions under Valgrind (about 30 min)")
    args = parser.parse_args()

    counts = (1, 10, 50, 100)
    # Before the timed figures: Valgrind runs would otherwise compete with them for the cores.
    counted, skipped = ({}, "skipped (--skip-instructions)") if args.skip_instructions else instruction_counts(counts, (10,))
    for cloud in ALL_CLOUDS:
        print(f"component overhead, {cloud} (mock engine, {CLASS_NAMES[cloud]} vs bench/raw_program.py):")
        print("  queues  resources  instructions  M instr/queue  |  timed: best/best  median of pairs (quartiles)  ms/queue  |  calls  objects")
        work = {count: (calls, objects) for count, calls, objects in component_work(cloud, counts)}
        for count, resources, component_s, raw_s, (low, median_ratio, high) in component_overhead(cloud, counts):
            calls, objects = work[count]
            if cloud in counted:
                mine, by_hand = counted[cloud][count]
                instr = f"{mine / by_hand:11.3f}x  {mine / count / 1e6:13.1f}"
            else:
                instr = f"{'-':>12}  {'-':>13}"
            print(
                f"  {count:6d}  {resources:9d}  {instr}  |  {component_s / raw_s:16.3f}x  {median_ratio:7.3f}x ({low:.2f}-{high:.2f}x)  {component_s * 1000 / count:8.1f}"
                f"  |  {calls:5.3f}x  {objects:6.3f}x"
            )
        print(
            "  (target: ratio <= 1.15x, cost per queue flat from 1 to 100 queues. instructions: callgrind's count of one run per side,"
            " collector included, within about 1% run to run; timed: 5 to 30 interleaved runs per side on this shared VM;"
            " calls and objects: cProfile's call count and new GC-tracked objects of one run)"
        )
    if skipped:
        print(f"  instructions: {skipped}")
    print("whole stack on aws+azure+gcp (Queue per spec, as __main__.py does, best of 2):")
    print("  queues  resources  seconds  ms/queue")
    rows = stack_per_queue((8, 48))
    for count, resources, seconds in rows:
        print(f"  {count:6d}  {resources:9d}  {seconds:7.2f}  {seconds * 1000 / count:8.1f}")
    (small, _, small_s), (large, _, large_s) = rows
    print(f"  per-queue cost at {large} vs {small} queues: {(large_s / large) / (small_s / small):.2f}x (target <= 1.3x)")
    print("cloudqueue plan, generated stacks on aws+azure+gcp, against the raw resources by hand (in process):")
    print("  queues  resources  plan s   raw s   ratio  ms/queue  instructions")
    plan_rows = plan_figures((10, 100))
    for count, resources, seconds, raw_s in plan_rows:
        mine, by_hand = counted.get("plan", {}).get(count, (0, 0))
        instr = f"{mine / by_hand:11.3f}x" if by_hand else f"{'-':>12}"
        print(f"  {count:6d}  {resources:9d}  {seconds:6.2f}  {raw_s:6.2f}  {seconds / raw_s:5.2f}x  {seconds * 1000 / count:8.1f}  {instr}")
    (small, _, small_s, _), (large, _, large_s, _) = plan_rows
    print(f"  per-queue cost at {large} vs {small} queues: {(large_s / large) / (small_s / small):.2f}x (target within 1.20x; ratio target <= 1.15x)")


if __name__ == "__main__":
    main()
