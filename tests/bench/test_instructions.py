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


def test_each_side_is_a_prepared_run_of_its_program_on_a_fresh_engine():
    sides = instructions._sides("aws")
    assert set(sides) == set(instructions.SIDES)
    mine, by_hand = sides["component"](2)(), sides["raw"](2)()  # each run on an engine of its own
    assert [type(queue).__name__ for queue in mine] == ["AwsQueue", "AwsQueue"] and by_hand == [None, None]


def test_a_failed_valgrind_job_says_why_and_the_command_fails(monkeypatch, capsys):
    def failing(target, counts):
        raise subprocess.CalledProcessError(1, ["valgrind"], "", "==1== fatal error: out of memory\n")

    monkeypatch.setattr(instructions, "unavailable", lambda: None)
    monkeypatch.setattr(instructions, "count", failing)
    assert instructions.count_all({"aws": (1,)}) == ({}, "not counted: ==1== fatal error: out of memory")
    assert instructions.main() == 1
    assert capsys.readouterr().out == "component overhead: not counted: ==1== fatal error: out of memory\n"


def test_without_valgrind_the_command_says_what_is_missing(monkeypatch):
    monkeypatch.setattr(instructions.shutil, "which", lambda name: None)
    assert instructions.unavailable() == "valgrind or a C compiler (cc) is not installed"
    assert instructions.count_all({"aws": (1,)}) == ({}, "not counted: valgrind or a C compiler (cc) is not installed")
