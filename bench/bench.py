"""cloudqueue's performance figures as a user feels them, each next to its target, in at most five minutes.

    make bench            # or: .venv/bin/python bench/bench.py [--skip-setup]  (with make's uv: UV=.tools/bin/uv)

Figures (no test times anything; the targets are printed, never asserted):
- set-up (bench/setup_time.py): a fresh copy of this work tree -> `make test` green and -> the first
  line of `make plan STACK=dev`, with empty caches; the locked pins into a new virtualenv by pip and
  by uv, empty cache and warm; `cloudqueue[aws]` from the built wheel against `cloudqueue[all]`,
  time and size on disk; the test suite's own time;
- `cloudqueue validate` and `cloudqueue plan`, each a fresh process, for the dev stack and generated
  stacks of 10, 50 and 100 queues on all three clouds, and the cost of each added queue
  (bench/stack_time.py);
- `import cloudqueue` per cloud against the provider classes alone; the consumer adapters' import
  time and cost per message; the function packages, the dependency layer and the wheel
  (bench/runtime_cost.py).
The fresh-copy `make test` and `make plan` run alone. To stay within five minutes on two cores,
pip's install (one process on one core) runs while uv, the wheel, the adapters' cost per message
and the artifacts are measured on the other core (start-up times in milliseconds are not), and the generated stacks are planned two at a time, one per core.
The components against hand-written programs of the same resources (Valgrind instruction counts,
timed ratios, calls and objects) are `make bench-instructions` (bench/overhead.py).
"""

from __future__ import annotations

import argparse
import shutil
import time
from concurrent.futures import ThreadPoolExecutor

import runtime_cost
import setup_time
import stack_time
from workloads import ALL_CLOUDS

BENCH_TARGET_S = 300


def setup_and_runtime() -> list[str]:
    """The set-up figures, and the runtime ones measured on one core while pip installs on the other."""
    scratch = setup_time.scratch_folder()
    try:
        fresh = setup_time.fresh_make_test(scratch)
        print("set-up, a fresh copy of this work tree (what a clone holds), empty uv, pip and cloudqueue caches:")
        print(f"  make test, green:                       {fresh.test_s:6.1f} s   (target <= 45 s)")
        print(f"    make install (uv in, .venv filled):   {fresh.install_s:6.1f} s, then the test suite {fresh.suite_s:5.1f} s (target <= 60 s)")
        first_line_s, _ = setup_time.fresh_make_plan(scratch)
        print(f"  make plan STACK=dev, to its first line: {first_line_s:6.1f} s   (target <= 20 s)", flush=True)
        pins = setup_time.locked_pins(scratch)
        # pip keeps one core busy for a minute and a half (it installs, then compiles, file by file):
        # the other core measures uv, the wheel, the adapters and the artifacts meanwhile.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pip = pool.submit(setup_time.pip_figures, pins, scratch)
            uv_cold_s, uv_warm_s = setup_time.uv_figures(pins, scratch)
            wheel = setup_time.wheel_figures(fresh.copy, scratch)
            lines = runtime_lines()
            pip_result = pip.result()
        print(f"set-up, the {setup_time.pin_count(pins)} locked pins (uv export of uv.lock) into a new virtualenv:")
        warm = f"{pip_result.warm_s:6.1f} s" if pip_result.warm_s is not None else "not measurable here: pip stored nothing in its cache"
        print(f"  pip, empty cache {pip_result.cold_s:6.1f} s, warm cache {warm}   (for comparison; pip compiles bytecode as it installs)")
        print(f"  uv,  empty cache {uv_cold_s:6.1f} s, warm cache {uv_warm_s:6.1f} s   (targets <= 15 s and <= 5 s; on the core pip left)")
        (aws_s, aws_mb, aws_others), (all_s, all_mb, _) = wheel.installs["aws"], wheel.installs["all"]
        print(f"install from the wheel ({wheel.wheel_kb:.0f} KB) into a new virtualenv, uv, empty cache:")
        print(f"  cloudqueue[aws] {aws_s:5.1f} s, {aws_mb:5.0f} MB on disk; cloudqueue[all] {all_s:5.1f} s, {all_mb:5.0f} MB: "
              f"{aws_mb / all_mb:.0%} of the bytes; Azure or Google Cloud SDKs in [aws]: {', '.join(aws_others) or 'none'} (target: none)")
        return lines
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def print_stacks() -> None:
    rows = stack_time.stack_rows()
    print("cloudqueue validate and plan, a fresh process each (generated stacks: aws+azure+gcp, two at a time, one per core):")
    print("  stack        resources  validate s  plan s")
    for row in rows:
        name = "dev" if row.queues is None else f"{row.queues} queues"
        print(f"  {name:11}  {row.resources:9d}  {row.validate_s:10.2f}  {row.plan_s:6.1f}")
    print("  (targets: validate <= 1 s; plan of the dev stack <= 20 s)")
    marginal = stack_time.marginal_ms_per_queue(rows)
    for low, high, ms in marginal:
        print(f"  each queue added from {low} to {high}: {ms:6.0f} ms of plan")
    (_, _, first), (_, _, last) = marginal[0], marginal[-1]
    print(f"  cost per added queue, last against first: {last / first:.2f}x (target <= 1.20x: flat)")


def runtime_lines() -> list[str]:
    """The adapters' cost per message and the artifacts: computed on one core, unswayed by the other."""
    lines = []
    for cloud in ALL_CLOUDS:
        lines.append(f"adapter cloudqueue_runtime.{cloud + ':':6} {runtime_cost.adapter_overhead_us(cloud):5.1f} µs per message over calling the handler (target <= 50 µs)")
    for cloud, size in runtime_cost.package_kb().items():
        lines.append(f"function package, {cloud + ':':6} {size:6.1f} KB   (target <= 50 KB, third-party dependencies apart)")
    layer = runtime_cost.layer_figures()
    lines.append(f"dependency layer (consumers/orders/requirements.txt for Lambda): {layer['layer_kb']:.0f} KB, built in {layer['cold_s']:.1f} s "
                 f"with an empty cache, {layer['warm_ms']:.1f} ms from the cache (target <= 50 ms)")
    return lines


def print_imports() -> None:
    """Start-up figures, in milliseconds: measured with nothing of the bench's own beside them."""
    print("imports, fresh interpreters, median of 3 alternating runs per side:")
    for program, (mine, providers) in runtime_cost.package_import_ms().items():
        label = "all three clouds" if program == "all" else program
        print(f"  import cloudqueue, {label + ':':17} {mine:6.0f} ms vs {providers:6.0f} ms for the provider classes alone: {mine / providers:4.2f}x (target <= 1.10x)")
    for cloud in ALL_CLOUDS:
        added, own = runtime_cost.adapter_import_ms(cloud)
        print(f"  adapter cloudqueue_runtime.{cloud + ':':6} {added:+5.1f} ms over a bare start ({own:.1f} ms own import time; target <= 20 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-setup", action="store_true", help="skip the fresh-copy, install and wheel figures (about three minutes)")
    args = parser.parse_args()
    start = time.perf_counter()
    print(f"cloudqueue bench, each figure next to its target; {setup_time.load_average()} at the start")
    if args.skip_setup:
        lines = runtime_lines()
    else:
        lines = setup_and_runtime()
    print("adapters and artifacts" + ("" if args.skip_setup else ", measured on the core pip's install left") + ":")
    for line in lines:
        print(f"  {line}")
    print_imports()
    print_stacks()
    elapsed = time.perf_counter() - start
    print(f"bench: {elapsed:.0f} s (target <= {BENCH_TARGET_S} s); {setup_time.load_average()} at the end")


if __name__ == "__main__":
    main()
