"""cloudqueue's performance figures, printed; targets are shown next to each, never asserted in tests.

    make bench            # or: .venv/bin/python bench/bench.py [--skip-suite] [--skip-instructions]

Figures:
- the test suite's own run time (target: at most 60 s on 2 cores);
- what importing each cloud's adapter adds to a bare Python start (target: at most 20 ms);
- the size of the example consumer's function package per cloud, generated entry points
  included (target: at most 50 KB);
- component overhead: AwsQueue, AzureQueue and GcpQueue programs against raw programs that
  register the same resources with the same inputs (tests/bench checks that), under the mock
  engine: CPU instructions of one run per side under callgrind (bench/instructions.py), which
  move by about 1% between runs; best/best and the median of paired runs, timed; and the
  function calls and new objects of one run (target: at most 1.15x, flat per queue);
- a whole stack of N queues on all three clouds: cost per queue at 48 queues against 8
  (target: at most 1.3x; blocking invokes per queue would make it quadratic);
- what `import cloudqueue` costs an AWS-only program against importing the pulumi_aws modules
  AwsQueue uses (target: within 10%), and with all three clouds;
- `cloudqueue plan`: the dev stack, and generated stacks of 10 and 100 queues on all three clouds
  against a hand-written program of the same raw resources under the same mocks (targets: at
  most 1.15x, cost per queue at 100 within 20% of that at 10);
- the local run: messages per second through the SQS emulator, the Lambda adapter and a no-op
  handler, with batches of 1 and 10; and the adapter's own cost per message against calling
  the handler directly (target: at most 50 µs).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "bench")]


def suite_seconds() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=REPO, check=True, capture_output=True)
    return time.perf_counter() - start


# Installed packages carry their bytecode (pip compiles at install); a machine that sets
# PYTHONDONTWRITEBYTECODE would otherwise make this repository's modules compile on every start.
WITH_BYTECODE = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def start_ms(code: str, runs: int = 30) -> float:
    """Median wall time of a fresh interpreter running `code`, in ms (after one run that writes bytecode)."""
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, env=WITH_BYTECODE)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, env=WITH_BYTECODE)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def import_cost_ms(module: str) -> tuple[float, float]:
    bare = start_ms("pass")
    with_adapter = start_ms(f"import {module}")
    # -X importtime gives the adapter's own cumulative import time, free of process noise.
    trace = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"], cwd=REPO, capture_output=True, text=True, check=True, env=WITH_BYTECODE).stderr
    own_us = sum(int(line.split("|")[1]) for line in trace.splitlines() if line.strip().endswith(module))
    return with_adapter - bare, own_us / 1000


# The provider classes each component uses, loaded for real (the SDKs load submodules lazily):
# what a hand-written program of the same resources imports.
PROVIDER_IMPORTS = {
    "aws": "import pulumi_aws as aws; aws.sqs.Queue, aws.sqs.QueuePolicy, aws.iam.Role, aws.iam.Policy, aws.lambda_.Function, aws.lambda_.EventSourceMapping, aws.cloudwatch.LogGroup",
    "azure": "import pulumi_azure_native as az; az.servicebus.Queue, az.storage.StorageAccount, az.web.WebApp, az.authorization.RoleAssignment, az.resources.ResourceGroup, az.operationalinsights.Workspace, az.applicationinsights.Component",
    "gcp": "import pulumi_gcp as gcp; gcp.pubsub.Topic, gcp.storage.Bucket, gcp.serviceaccount.Account, gcp.cloudfunctionsv2.Function, gcp.cloudrunv2.ServiceIamMember, gcp.projects.IAMMember, gcp.kms.CryptoKeyIAMMember, gcp.storage.BucketIAMMember, gcp.artifactregistry.Repository",
}


def package_import_ms(runs: int = 7) -> list[tuple[str, float, float]]:
    """(program, with cloudqueue ms, provider classes alone ms), medians of fresh interpreters.

    Both sides load the provider classes the components use, as any program registering those
    resources does; the difference is what cloudqueue itself adds.
    """
    every = "; ".join(PROVIDER_IMPORTS.values())
    return [
        ("AWS only", start_ms(f"from cloudqueue import AwsQueue; {PROVIDER_IMPORTS['aws']}", runs), start_ms(PROVIDER_IMPORTS["aws"], runs)),
        ("all three clouds", start_ms(f"from cloudqueue import AwsQueue, AzureQueue, GcpQueue; {every}", runs), start_ms(every, runs)),
    ]


def package_kb() -> dict[str, float]:
    """Each cloud's package for the example consumer, with the files cloudqueue generates."""
    from components import artifact, azure, gcp
    from components.spec import validate

    code = REPO / "consumers" / "orders"
    spec = validate("orders", {"clouds": ["aws", "azure", "gcp"], "consumer": {"code_path": str(code), "handler": "handler.handle"}})
    generated = {"aws": {}, "azure": azure.generated_files(spec), "gcp": gcp.generated_files(spec)}
    return {cloud: len(artifact.build_bytes(code, files)) / 1024 for cloud, files in generated.items()}


def requirements_figures() -> dict[str, float]:
    """The example consumer's AWS artifacts with its requirements: build times cold and warm, and sizes."""
    import os
    import tempfile

    from components import artifact

    code = REPO / "consumers" / "orders"
    platform = artifact.lambda_platform("python3.12", "arm64")
    figures = {}
    os.environ[artifact.CACHE_ENV] = tempfile.mkdtemp(prefix="cloudqueue-cache-")  # cold: an empty cache
    start = time.perf_counter()
    layer = artifact.build_layer(code, platform)
    function = artifact.build_bytes(code)
    figures["cold"] = time.perf_counter() - start

    def median_seconds(work, runs: int = 50) -> float:
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            work()
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    # Warm: what a second program run pays, the layer found in the cache by its key.
    figures["warm"] = median_seconds(lambda: (artifact.build_layer(code, platform), artifact.build_bytes(code)))
    figures["without"] = median_seconds(lambda: artifact.build_bytes(code))
    figures["function_kb"], figures["layer_kb"] = len(function) / 1024, layer.size / 1024
    del os.environ[artifact.CACHE_ENV]
    return figures


def timed_run(program, preview: bool = False) -> tuple[float, int]:
    import gc

    from pulumi_mocks import Engine

    engine = Engine(preview=preview)
    gc.collect()  # start every run from the same heap, so one side does not pay the other's garbage
    start = time.perf_counter()
    engine.run(program)
    return time.perf_counter() - start, len([r for r in engine.all() if r.custom])


def programs() -> dict[str, tuple]:
    """Per cloud: (component program, raw program), each taking a queue count."""
    from components import AwsQueue, AzureQueue, GcpQueue, artifact, azure, gcp
    from components.spec import validate
    from raw_program import raw_azure_queue, raw_azure_shared, raw_gcp_queue, raw_gcp_shared, raw_queue

    code = REPO / "consumers" / "orders"
    spec = {"consumer": {"code_path": str(code), "handler": "handler.handle"}}
    resolved = validate("orders", {**spec, "clouds": ["aws", "azure", "gcp"]})
    aws_package = artifact.build(code)
    aws_layer = artifact.build_layer(code, artifact.lambda_platform("python3.12", "arm64"))
    azure_package = artifact.build(code, generated=azure.generated_files(resolved))
    gcp_package = artifact.build(code, generated=gcp.generated_files(resolved))

    def raw_azure(count: int) -> None:
        shared = raw_azure_shared()
        for i in range(count):
            raw_azure_queue(f"q{i}", shared, str(azure_package.path), azure_package.sha256_hex)

    def raw_gcp(count: int) -> None:
        shared = raw_gcp_shared()
        for i in range(count):
            raw_gcp_queue(f"q{i}", shared, str(gcp_package.path), gcp_package.sha256_hex)

    return {
        "aws": (
            lambda count: [AwsQueue(f"q{i}", spec) for i in range(count)],
            lambda count: [raw_queue(f"q{i}", str(aws_package.path), aws_package.sha256_base64, aws_layer) for i in range(count)],
        ),
        "azure": (lambda count: [AzureQueue(f"q{i}", spec) for i in range(count)], raw_azure),
        "gcp": (lambda count: [GcpQueue(f"q{i}", spec) for i in range(count)], raw_gcp),
    }


def raw_all_clouds() -> Callable[[int], list]:
    """The three clouds' raw programs as one, the baseline for a stack on all three (the plan's)."""
    raws = [raw for _, raw in programs().values()]
    return lambda count: [raw(count) for raw in raws]


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

    import instructions

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

    code = REPO / "consumers" / "orders"
    spec = {"clouds": ["aws", "azure", "gcp"], "consumer": {"code_path": str(code), "handler": "handler.handle"}}

    def stack(count: int) -> None:
        for name, resolved in validate_all({f"q{i}": spec for i in range(count)}).items():
            Queue(name, resolved)

    timed_run(lambda: stack(1))
    rows = []
    for count in counts:
        seconds, resources = min(timed_run(lambda: stack(count)) for _ in range(repeats))
        rows.append((count, resources, seconds))
    return rows


def generated_project(count: int) -> Path:
    """A copy of this project whose `bench` stack has `count` queues on all three clouds."""
    import shutil
    import tempfile

    import yaml

    folder = Path(tempfile.mkdtemp(prefix="cloudqueue-plan-"))
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(REPO / name, folder / name)
    for name in ("consumers", "policy"):
        shutil.copytree(REPO / name, folder / name, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    spec = {"clouds": ["aws", "azure", "gcp"], "consumer": {"code_path": "consumers/orders", "handler": "handler.handle"}}
    (folder / "Pulumi.bench.yaml").write_text(yaml.safe_dump({"config": {"cloudqueue:queues": {f"q{i}": spec for i in range(count)}}}))
    return folder


def plan_seconds(folder: Path, stack: str) -> tuple[float, int]:
    from components import cli, plan

    start = time.perf_counter()
    result = plan.build(folder, stack, cli.read_stack_config(folder, stack), "cloudqueue")
    return time.perf_counter() - start, result.resource_count


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


def adapter_overhead_us(messages: int = 20000) -> float:
    """Microseconds the Lambda adapter adds per message, over calling the handler directly."""
    import os
    import tempfile

    from cloudqueue_runtime import _handler, aws
    from cloudqueue_runtime.message import Message

    folder = tempfile.mkdtemp(prefix="cloudqueue-noop-")
    Path(folder, "noop_handler.py").write_text("def handle(message):\n    pass\n")
    sys.path.insert(0, folder)
    os.environ["CLOUDQUEUE_HANDLER"] = "noop_handler.handle"
    _handler._loaded.clear()
    handle = _handler.user_handler()
    records = [{"messageId": str(i), "body": "{}", "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {}, "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q"} for i in range(10)]
    event = {"Records": records}
    start = time.perf_counter()
    for _ in range(messages // 10):
        aws.handler(event, None)
    through_adapter = time.perf_counter() - start
    message = Message(id="1", body=b"{}", cloud="aws")
    start = time.perf_counter()
    for _ in range(messages):
        handle(message)
    direct = time.perf_counter() - start
    return (through_adapter - direct) / messages * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-suite", action="store_true", help="do not time the test suite")
    parser.add_argument("--skip-instructions", action="store_true", help="do not count instructions under Valgrind (about 35 min)")
    args = parser.parse_args()

    if not args.skip_suite:
        print(f"test suite:               {suite_seconds():7.1f} s    (target <= 60 s)")
    for cloud in ("aws", "azure", "gcp"):
        added, own = import_cost_ms(f"cloudqueue_runtime.{cloud}")
        print(f"import cloudqueue_runtime.{cloud + ':':6} +{added:5.1f} ms over a bare start, {own:.1f} ms own import time (target <= 20 ms)")
    for program, cloudqueue_ms, providers_ms in package_import_ms():
        print(f"import cloudqueue, {program + ':':17} {cloudqueue_ms:6.0f} ms vs {providers_ms:6.0f} ms for the provider classes alone: {cloudqueue_ms / providers_ms:4.2f}x (target <= 1.10x for AWS only)")
    for cloud, size in package_kb().items():
        print(f"example package, {cloud + ':':6} {size:7.1f} KB   (target <= 50 KB, third-party dependencies apart)")
    figures = requirements_figures()
    print(
        f"AWS artifacts with requirements.txt: cold {figures['cold'] * 1000:.0f} ms (pip into an empty cache), warm {figures['warm'] * 1000:.0f} ms, "
        f"without requirements {figures['without'] * 1000:.0f} ms: warm {figures['warm'] / figures['without']:.2f}x (target <= 1.2x); "
        f"function zip {figures['function_kb']:.1f} KB, layer {figures['layer_kb']:.0f} KB (the dependencies in the function zip instead: both together)"
    )
    counts = (1, 10, 50, 100)
    # Before the timed figures: Valgrind runs would otherwise compete with them for the cores.
    counted, skipped = ({}, "skipped (--skip-instructions)") if args.skip_instructions else instruction_counts(counts, (10,))
    for cloud in ("aws", "azure", "gcp"):
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
    dev_s, dev_resources = plan_seconds(REPO, "dev")
    print(f"cloudqueue plan, dev stack: {dev_s:.2f} s for {dev_resources} resources (program, policy pack and grouping)")
    print("cloudqueue plan, generated stacks on aws+azure+gcp, against the raw resources by hand:")
    print("  queues  resources  plan s   raw s   ratio  ms/queue  instructions")
    plan_rows = plan_figures((10, 100))
    for count, resources, seconds, raw_s in plan_rows:
        mine, by_hand = counted.get("plan", {}).get(count, (0, 0))
        instr = f"{mine / by_hand:11.3f}x" if by_hand else f"{'-':>12}"
        print(f"  {count:6d}  {resources:9d}  {seconds:6.2f}  {raw_s:6.2f}  {seconds / raw_s:5.2f}x  {seconds * 1000 / count:8.1f}  {instr}")
    (small, _, small_s, _), (large, _, large_s, _) = plan_rows
    print(f"  per-queue cost at {large} vs {small} queues: {(large_s / large) / (small_s / small):.2f}x (target within 1.20x; ratio target <= 1.15x)")
    from components.local import throughput

    for batch in (1, 10):
        print(f"local run, batch {batch:2d}: {throughput(batch):7.0f} messages/s through the SQS emulator, the adapter and a no-op handler (moto's ReceiveMessage dominates)")
    print(f"Lambda adapter overhead: {adapter_overhead_us():.1f} µs per message over calling the handler directly (target <= 50 µs)")


CLASS_NAMES = {"aws": "AwsQueue", "azure": "AzureQueue", "gcp": "GcpQueue"}


if __name__ == "__main__":
    main()
