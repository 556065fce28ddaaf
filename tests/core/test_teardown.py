"""async_teardown undoes parts newest first, awaits what needs it, and survives a failure."""

from __future__ import annotations

import pytest

from linli.helpers.teardown import Teardown, async_teardown


async def test_parts_come_off_newest_first_and_a_failure_does_not_stop_the_rest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    done: list[str] = []

    async def close() -> None:
        done.append("async")

    def broken() -> None:
        raise RuntimeError("stuck")

    parts: list[Teardown] = [
        lambda: done.append("first"),
        broken,
        close,
        lambda: done.append("last"),
    ]

    assert await async_teardown(parts, "gate") == 1
    assert done == ["last", "async", "first"]
    assert parts == []
    assert "Error undoing a part of gate" in caplog.text
    assert "stuck" in caplog.text
    assert await async_teardown(parts, "gate") == 0
