"""The benchmark runner: output format, name checking, budgets. Never a timing assertion."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import pytest
import yaml

from linli import bench
from linli.components.automation.config import validate_automation
from linli.hub import Hub

LINE = re.compile(
    r"^(?P<name>\w+): (?P<seconds>\d+\.\d+) s \((?P<rate>[\d,]+) (?P<unit>\w+)/s(?P<rest>.*)\)$"
)
LATENCY_LINE = re.compile(
    r"^(?P<name>automation_latency_p\d+_ms): (?P<ms>\d+\.\d+) ms "
    r"\((?P<actions>[\d,]+) actions of (?P<automations>[\d,]+) automations in "
    r"(?P<seconds>[\d.]+) s, worst (?P<worst>\d+\.\d) ms(?P<rest>.*)\)$"
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


@pytest.mark.slow
def test_quick_latency_run_prints_both_figures() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "linli.bench",
            "automation_latency_p50_ms",
            "automation_latency_p99_ms",
            "--quick",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # 1 is a missed budget: a timing outcome, which is not for a test to judge.
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2, result.stdout
    matches = [LATENCY_LINE.match(line) for line in lines]
    assert all(matches), lines
    p50, p99 = (m for m in matches if m is not None)
    assert p50["name"] == "automation_latency_p50_ms"
    assert p50["rest"] == ""
    assert p99["name"] == "automation_latency_p99_ms"
    assert p99["rest"] in ("; budget ≤ 20 ms: ok", "; budget ≤ 20 ms: MISSED")
    assert p50["actions"] == p99["actions"] != "0"
    assert p50["automations"] == p99["automations"] == f"{bench.QUICK_LATENCY.automations:,}"
    assert float(p50["ms"]) <= float(p99["ms"]) <= float(p99["worst"]) + 0.05


def test_figures_are_listed_core_first_then_latency_then_components(capsys: Any) -> None:
    assert list(bench.LATENCY_FIGURES) == [
        "automation_latency_p50_ms",
        "automation_latency_p99_ms",
    ]
    assert list(bench.COMPONENT_FIGURES) == [
        "history_query_ms",
        "rest_get_states_rps",
        "ws_fanout_delivered_per_s",
        "cold_start_s",
        "idle_rss_mib",
        "mqtt_ingest_msg_per_s",
        "mqtt_ingest_lost",
        "mqtt_ingest_p99_ms",
        "plate_decision_p99_ms",
        "face_match_10k_ms",
    ]
    assert bench._figure_names() == [
        *bench.BENCHMARKS,
        *bench.LATENCY_FIGURES,
        *bench.COMPONENT_FIGURES,
    ]
    with pytest.raises(SystemExit):
        bench.main(["--help"])
    help_text = capsys.readouterr().out
    assert "automation_latency_p99_ms" in help_text
    assert "ws_fanout_delivered_per_s" in help_text


def test_component_figure_lines_compare_against_their_budget() -> None:
    line, ok = bench.format_figure(("history_query_ms", 12.345, "ms", "budget ≤ 50 ms", True))
    assert (line, ok) == ("history_query_ms: 12.35 ms (budget ≤ 50 ms: ok)", True)
    line, ok = bench.format_figure(("rest_get_states_rps", 40.0, "req/s", "budget ≥ 50/s", False))
    assert (line, ok) == ("rest_get_states_rps: 40.00 req/s (budget ≥ 50/s: MISSED)", False)
    line, ok = bench.format_figure(("ws_fanout_delivered_per_s", 51_234.0, "msg/s", "", True))
    assert (line, ok) == ("ws_fanout_delivered_per_s: 51,000 msg/s", True)


def test_latency_automations_mix() -> None:
    configs = yaml.safe_load(
        "".join(bench._automation_yaml(index) for index in range(bench.QUICK_LATENCY.automations))
    )
    validated = [validate_automation(config) for config in configs]
    with_for = [c for c in validated if "for" in c["triggers"][0]]
    with_condition = [c for c in validated if c["conditions"]]
    assert len(validated) == 100
    assert len(with_for) == 10
    assert {c["triggers"][0]["for"].total_seconds() for c in with_for} == {0.1, 0.2, 0.3}
    assert len(with_condition) == 20
    assert not [c for c in with_for if c["conditions"]]
    assert {c["triggers"][0]["entity_id"][0] for c in validated} == {
        f"sensor.bench_{index}" for index in range(100)
    }


def test_percentile_is_nearest_rank() -> None:
    result = bench.Latencies([float(n) for n in range(1, 201)], 10, 1.0)
    assert result.percentile(50) == 100.0
    assert result.percentile(99) == 198.0
    assert result.percentile(100) == 200.0
    assert bench.Latencies([3.0], 1, 1.0).percentile(99) == 3.0


def test_format_latency_with_and_without_budget() -> None:
    runs = [
        bench.Latencies([0.2] * 98 + [25.0, 40.0], 1_000, 20.0),
        bench.Latencies([0.17] * 98 + [0.5, 3.25], 1_000, 20.0),
    ]
    p50, p99 = bench.LATENCY_FIGURES.values()
    line, ok = bench.format_latency(p50, runs)
    assert ok
    assert line == (
        "automation_latency_p50_ms: 0.17 ms (100 actions of 1,000 automations in 20 s, "
        "worst 3.2 ms)"
    )
    line, ok = bench.format_latency(p99, runs)  # the best run of the two
    assert ok
    assert line.startswith("automation_latency_p99_ms: 0.50 ms (100 actions")
    assert line.endswith("; budget ≤ 20 ms: ok)")
    line, ok = bench.format_latency(p99, runs[:1])
    assert not ok
    assert line.startswith("automation_latency_p99_ms: 25.00 ms (")
    assert line.endswith("worst 40.0 ms; budget ≤ 20 ms: MISSED)")
    assert LATENCY_LINE.match(line)


def test_one_latency_run_gives_both_figures(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    calls: list[tuple[bench.LatencyWorkload, int]] = []

    def run_latency(workload: bench.LatencyWorkload, repeat: int) -> list[bench.Latencies]:
        calls.append((workload, repeat))
        return [bench.Latencies([1.0] * 99 + [30.0, 30.0], 100, 0.5)]

    monkeypatch.setattr(bench, "run_latency", run_latency)
    status = bench.main(["automation_latency_p99_ms", "automation_latency_p50_ms", "--quick"])
    out = capsys.readouterr().out.splitlines()
    assert calls == [(bench.QUICK_LATENCY, 1)]
    assert [line.split(":")[0] for line in out] == [
        "automation_latency_p99_ms",
        "automation_latency_p50_ms",
    ]
    assert out[0].endswith("MISSED)")
    assert status == 1


def test_failed_latency_run_fails_both_figures(
    monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    def run_latency(workload: bench.LatencyWorkload, repeat: int) -> list[bench.Latencies]:
        bench._expect("actions run", 2_468, 2_469)
        return []

    monkeypatch.setattr(bench, "run_latency", run_latency)
    assert bench.main(["automation_latency_p50_ms", "automation_latency_p99_ms"]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        f"{name}: FAILED (BenchmarkError: actions run: 2,468, expected 2,469)"
        for name in ("automation_latency_p50_ms", "automation_latency_p99_ms")
    ]
    assert captured.err.count("Traceback") == 1


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
