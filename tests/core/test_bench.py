"""The benchmark runner: output format, name checking, budgets. Never a timing assertion."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import pytest

from linli import bench
from linli.hub import Hub

LINE = re.compile(
    r"^(?P<name>\w+): (?P<seconds>\d+\.\d+) s \((?P<rate>[\d,]+) (?P<unit>\w+)/s(?P<rest>.*)\)$"
)


@pytest.mark.slow
def test_runs_one_benchmark_in_a_subprocess() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "linli.bench", "valid_entity_id"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    match = LINE.match(lines[0])
    assert match, lines[0]
    assert match["name"] == "valid_entity_id"
    assert match["unit"] == "calls"
    assert match["rest"] == ""


@pytest.mark.slow
def test_unknown_name_lists_the_valid_ones() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "linli.bench", "fire_events", "no_such_bench"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert "no_such_bench" in result.stderr
    for name in bench.BENCHMARKS:
        assert name in result.stderr


def test_home_assistant_names_are_all_there() -> None:
    assert list(bench.BENCHMARKS) == [
        "fire_events",
        "fire_events_with_filter",
        "state_changed_helper",
        "state_changed_event_helper",
        "state_changed_event_filter_helper",
        "filtering_entity_id",
        "valid_entity_id",
        "json_serialize_states",
        "states_set",
    ]


def test_format_with_budget() -> None:
    fire = bench.BENCHMARKS["fire_events"]
    line, ok = bench.format_result(fire, 0.5)
    assert ok
    assert line == (
        "fire_events: 0.50 s (2,000,000 events/s; "
        "budget ≥ 246,000/s = 3 × HA 2024.3's 82,000/s: ok)"
    )
    line, ok = bench.format_result(fire, 10.0)
    assert not ok
    assert line.endswith("MISSED)")
    assert LINE.match(line)


def test_format_without_budget_and_small_times() -> None:
    line, ok = bench.format_result(bench.BENCHMARKS["filtering_entity_id"], 0.0523)
    assert ok
    assert line == "filtering_entity_id: 0.052 s (1,912,000 calls/s)"


def fake(
    name: str, seconds: float, budget: bench.Budget | None, fail: bool = False
) -> bench.Benchmark:
    """A benchmark that reports a fixed time (or a wrong count) instead of measuring."""

    async def run(hub: Hub) -> float:
        if fail:
            bench._expect("listener calls", 3, 5)
        return seconds

    return bench.Benchmark(name, run, 1_000, "events", budget)


def test_missed_budget_exits_1_after_printing_all(
    monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setattr(
        bench,
        "BENCHMARKS",
        {"slow": fake("slow", 10.0, bench.Budget(3, 82_000)), "quick": fake("quick", 0.001, None)},
    )
    assert bench.main(["slow", "quick"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2
    assert out[0].endswith("MISSED)")
    assert out[1].startswith("quick: 0.0010 s (1,000,000 events/s")


def test_wrong_count_fails_loudly(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.setattr(bench, "BENCHMARKS", {"broken": fake("broken", 1.0, None, fail=True)})
    assert bench.main(["broken"]) == 1
    captured = capsys.readouterr()
    assert "broken: FAILED (BenchmarkError: listener calls: 3, expected 5)" in captured.out
    assert "Traceback" in captured.err


def test_repeat_must_be_positive(capsys: Any) -> None:
    with pytest.raises(SystemExit) as exc:
        bench.main(["--repeat", "0"])
    assert exc.value.code == 2
