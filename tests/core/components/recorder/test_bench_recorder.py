"""The recorder benchmark module: its figure, in the shape ``script/bench`` prints (no timing
assertion)."""

from __future__ import annotations

from linli import bench_recorder


async def test_quick_history_query_figure() -> None:
    [(name, value, unit, budget, ok)] = await bench_recorder.run(None, quick=True)
    assert (name, unit) == ("history_query_ms", "ms")
    assert value > 0
    assert budget == "1 entity of 100,000 rows; budget ≤ 50 ms"
    assert isinstance(ok, bool)
    assert await bench_recorder.run({"something_else"}, quick=True) == []
