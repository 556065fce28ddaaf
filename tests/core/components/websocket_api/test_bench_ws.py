"""The fan-out benchmark runs end to end and counts every message (small, to stay fast)."""

from __future__ import annotations

import pytest

from linli import bench_ws


@pytest.mark.slow
async def test_fanout_bench_counts_every_message() -> None:
    rate, delivered, expected = await bench_ws.measure(0.3, subscribers=20)
    assert expected == 30 * 20
    assert delivered == expected
    assert rate > 0
