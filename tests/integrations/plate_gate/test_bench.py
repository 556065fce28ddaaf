"""The plate figure runs (not a timed test: the numbers are for ``script/bench``)."""

from __future__ import annotations

from linli_plate_gate import bench


async def test_plate_decision_figure_runs(mqtt_broker: tuple[str, int]) -> None:
    assert await bench.run({"something_else"}, quick=True) == []
    ((name, value, unit, note, _ok),) = await bench.run({"plate_decision_p99_ms"}, quick=True)
    assert (name, unit) == ("plate_decision_p99_ms", "ms")
    assert value > 0
    assert "100 pushes from 20 gates" in note
