"""The instruction counts `make bench-instructions` prints come from callgrind's dumps, one per measured run."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import instructions


def dump(folder: Path, part: int, trigger: str, summary: int, totals: int) -> None:
    (folder / f"callgrind.out.{part}").write_text(
        f"version: 1\ncreator: callgrind-3.19.0\ncmd:  python bench/instructions.py aws 1\npart: {part}\n"
        f"desc: Timerange: Basic block 0 - 1\ndesc: Trigger: {trigger}\n\npositions: line\nevents: Ir\n"
        f"summary: {summary}\n\nfl=(1) a.c\nfn=(1) f\n1 {totals}\n\ntotals: {totals}\n"
    )


def test_parse_dumps_takes_each_runs_totals_by_label_and_ignores_the_exit_dump(tmp_path):
    dump(tmp_path, 1, "Client Request: component-10", 1_288_903_408, 1_288_903_408)
    dump(tmp_path, 2, "Client Request: raw-10", 1_130_404_527, 1_216_927_968)
    dump(tmp_path, 3, "Program termination", 5, 5)

    assert instructions.parse_dumps(tmp_path) == {"component-10": 1_288_903_408, "raw-10": 1_216_927_968}


def test_count_fails_when_a_run_left_no_dump(monkeypatch):
    monkeypatch.setattr(instructions, "helper", lambda: Path("/nonexistent/helper.so"))

    def valgrind(command, **_):
        folder = Path(next(arg for arg in command if arg.startswith("--callgrind-out-file=")).split("=", 1)[1]).parent
        dump(folder, 1, "Client Request: component-1", 10, 10)  # the raw run never dumped
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(instructions.subprocess, "run", valgrind)
    with pytest.raises(RuntimeError, match="no figures for raw-1"):
        instructions.count("aws", (1,))


def test_count_runs_python_under_callgrind_with_a_fixed_hash_seed(monkeypatch):
    monkeypatch.setattr(instructions, "helper", lambda: Path("/nonexistent/helper.so"))
    seen = {}

    def valgrind(command, env, **_):
        seen.update(command=command, env=env)
        folder = Path(next(arg for arg in command if arg.startswith("--callgrind-out-file=")).split("=", 1)[1]).parent
        dump(folder, 1, "Client Request: component-1", 110, 110)
        dump(folder, 2, "Client Request: raw-1", 100, 100)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(instructions.subprocess, "run", valgrind)
    assert instructions.count("gcp", (1,)) == [(1, 110, 100)]
    assert seen["command"][:3] == ["valgrind", "--tool=callgrind", "--instr-atstart=no"]
    assert seen["command"][-2:] == ["gcp", "1"]
    assert seen["env"]["PYTHONHASHSEED"] == "0"
    assert seen["env"][instructions.HELPER_ENV] == "/nonexistent/helper.so"


def test_the_plans_counted_run_and_the_raw_programs_register_the_same_resources():
    import workloads

    sides = instructions._sides("plan", [2])
    planned = sides["component"](2)()
    sides["raw"](2)()  # the counted raw run works as prepared
    _, by_hand = workloads.timed_run(lambda: workloads.raw_all_clouds()(2), preview=True)

    # Both sides register the same resources (test_raw_program compares them input for input), so
    # the same count, whatever each component registers per queue.
    assert planned.resource_count == by_hand > 2 * 3  # at least a queue per cloud and queue


def test_a_failed_valgrind_job_leaves_the_bench_running_and_says_why(monkeypatch):
    import overhead

    def failing(target, counts):
        raise subprocess.CalledProcessError(1, ["valgrind"], "", "==1== fatal error: out of memory\n")

    monkeypatch.setattr(instructions, "unavailable", lambda: None)
    monkeypatch.setattr(instructions, "count", failing)
    assert overhead.instruction_counts((1,), (1,)) == ({}, "not counted: ==1== fatal error: out of memory")
