"""`make bench`: cloudqueue's performance as a user feels it, each figure next to its target, in at most five minutes.

Set-up (setup_time.py), `cloudqueue validate` and `plan` (stack_time.py), imports, adapters and artifacts
(runtime_cost.py); what each figure means and how it is measured: docs/performance.md.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import runtime_cost
import setup_time
import stack_time
from workloads import ALL_CLOUDS

BENCH_TARGET_S = 300


def setup_and_runtime() -> list[str]:
    """Print the set-up figures; return the runtime ones, measured on the core pip's install leaves."""
    scratch = Path(tempfile.mkdtemp(prefix="cloudqueue-setup-"))
    try:
        install_s, test_s, copy = setup_time.fresh_make_test(scratch)  # alone, as is the plan below: then pip takes one core
        cold_install_s, plan_s = setup_time.fresh_make_plan(scratch)
        print("set-up, a fresh copy of this work tree (what a clone holds):")
        print(f"  make test, green, with this machine's caches (CI, a second clone): {install_s + test_s:5.1f} s (target <= 45 s): "
              f"make install {install_s:.1f} s (uv in, .venv filled), make test {test_s:.1f} s")
        print(f"  the same on a new machine, empty uv and pip caches:               {cold_install_s + test_s:5.1f} s: make install {cold_install_s:.1f} s "
              "(in the plan's copy below), the same make test")
        print(f"  make plan STACK=dev to its first line, empty caches:              {cold_install_s + plan_s:5.1f} s (target <= 20 s): "
              f"make install {cold_install_s:.1f} s, make plan {plan_s:.1f} s", flush=True)
        pins = setup_time.locked_pins(scratch)
        with ThreadPoolExecutor(max_workers=1) as pool:
            pip = pool.submit(setup_time.cold_and_warm_s, "pip", pins, scratch)
            uv_cold_s, uv_warm_s = setup_time.cold_and_warm_s("uv", pins, scratch)
            wheel_kb, installs = setup_time.wheel_figures(copy, scratch)
            lines = runtime_lines()
            pip_cold_s, pip_warm_s = pip.result()
        print(f"set-up, the {setup_time.pin_count(pins)} locked pins (uv export of uv.lock) into a new virtualenv:")
        warm = f"{pip_warm_s:6.1f} s" if pip_warm_s is not None else "not measurable here: pip stored nothing in its cache"
        print(f"  pip, empty cache {pip_cold_s:6.1f} s, warm cache {warm}   (for comparison; pip compiles bytecode as it installs)")
        print(f"  uv,  empty cache {uv_cold_s:6.1f} s, warm cache {uv_warm_s:6.1f} s   (targets <= 15 s and <= 5 s; on the core pip left)")
        (aws_s, aws_mb, aws_others), (all_s, all_mb, _) = installs["aws"], installs["all"]
        print(f"install from the wheel ({wheel_kb:.0f} KB) into a new virtualenv, uv, empty cache:")
        print(f"  cloudqueue[aws] {aws_s:5.1f} s, {aws_mb:5.0f} MB on disk; cloudqueue[all] {all_s:5.1f} s, {all_mb:5.0f} MB: "
              f"{aws_mb / all_mb:.0%} of the bytes; Azure or Google Cloud SDKs in [aws]: {', '.join(aws_others) or 'none'} (target: none)")
        return lines
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def runtime_lines() -> list[str]:
    """The adapters' cost per message and the artifacts: computed on one core, unswayed by the other."""
    lines = [f"adapter cloudqueue_runtime.{cloud + ':':6} {runtime_cost.adapter_overhead_us(cloud):5.1f} µs per message over calling the handler (target <= 50 µs)"
             for cloud in ALL_CLOUDS]
    lines += [f"function package, {cloud + ':':6} {size:6.1f} KB   (target <= 50 KB, third-party dependencies apart)" for cloud, size in runtime_cost.package_kb().items()]
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
    print(f"  cost per added queue, last against first: {marginal[-1][2] / marginal[0][2]:.2f}x (target <= 1.20x: flat)")


def main() -> None:
    start = time.perf_counter()
    print(f"cloudqueue bench, each figure next to its target; {setup_time.load_average()} at the start")
    lines = setup_and_runtime()
    print("adapters and artifacts, measured on the core pip's install left:")
    for line in lines:
        print(f"  {line}")
    print_imports()
    print_stacks()
    print(f"bench: {time.perf_counter() - start:.0f} s (target <= {BENCH_TARGET_S} s); {setup_time.load_average()} at the end")


if __name__ == "__main__":
    main()
