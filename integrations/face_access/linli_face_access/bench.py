"""Face matching figure: one probe template against 10,000 enrolled ones, with numpy.

* ``face_match_10k_ms``: the median time of one :meth:`FaceIndex.match` (normalise the probe,
  one matrix-vector product, the best score) over 10,000 synthetic 512-dimension templates.
  The design sets no budget; 50 ms is used here (a door decision must feel instant).

Run alone: ``python -m linli_face_access.bench [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Final

import numpy as np

from linli.bench import Figure
from linli_face_access.matcher import FaceIndex

NAME: Final = "face_match_10k_ms"
BUDGET_MS: Final = 50.0
ENROLLED: Final = 10_000
DIMS: Final = 512


def measure(quick: bool) -> float:
    """Median milliseconds of one match against :data:`ENROLLED` synthetic templates."""
    rng = np.random.default_rng(42)
    vectors = rng.standard_normal((ENROLLED, DIMS)).astype(np.float32)
    index = FaceIndex()
    index.rebuild((f"t{i}", f"p{i}", vectors[i]) for i in range(ENROLLED))
    probes = vectors[rng.integers(0, ENROLLED, 20 if quick else 200)]
    probes = probes + 0.1 * rng.standard_normal(probes.shape).astype(np.float32)
    times = []
    for probe in probes:
        started = time.perf_counter()
        index.match(probe, 0.6)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def run(names: set[str] | None, quick: bool) -> list[Figure]:
    """Measure ``face_match_10k_ms`` (when wanted)."""
    if names is not None and NAME not in names:
        return []
    value = await asyncio.get_running_loop().run_in_executor(None, measure, quick)
    note = f"one probe vs {ENROLLED:,} templates of {DIMS} dims (budget {BUDGET_MS:g} ms, set here)"
    return [(NAME, round(value, 3), "ms", note, value <= BUDGET_MS)]


def main() -> None:
    """Print the figure."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    for name, value, unit, note, ok in asyncio.run(run(None, args.quick)):
        print(f"{name}: {value} {unit} ({note}){'' if ok else ' OVER BUDGET'}")


if __name__ == "__main__":
    main()
