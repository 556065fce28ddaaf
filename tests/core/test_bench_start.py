"""The start-up figures run a real `linli run` on config_example and read its memory."""

from __future__ import annotations

from linli import bench_start


async def test_quick_start_figures_measure_a_real_process() -> None:
    figures = {name: (value, unit, note) for name, value, unit, note, _ok in
               await bench_start.run(None, quick=True)}  # fmt: skip

    start, unit, note = figures["cold_start_s"]
    assert unit == "s"
    assert 0.05 < start < 30
    assert "median of 2" in note
    rss, unit, note = figures["idle_rss_mib"]
    assert unit == "MiB"
    # More than an empty interpreter, far less than a runaway.
    assert 30 < rss < 1024
    assert "1,000 more entities" in note
