"""Group-rental facts: per credential and local day, uses and distinct people (in memory).

People are told apart by the persons recognised with a credential, or — for faces captured
with a card or QR code that match nobody enrolled — by clusters of those faces (cosine
threshold). The clusters live in memory for the day only and are never stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from linli_face_access.matcher import FaceClusters, Vector


def _clusters() -> FaceClusters:
    from linli_face_access.matcher import FaceClusters  # numpy: only once faces are counted

    return FaceClusters()


@dataclass
class DayUsage:
    """One credential's use on one day."""

    uses: int = 0
    persons: set[str] = field(default_factory=set)
    clusters: FaceClusters = field(default_factory=_clusters)

    @property
    def distinct_people(self) -> int:
        """Persons recognised plus unmatched face clusters."""
        return len(self.persons) + len(self.clusters)


class UsageCounter:
    """Today's usage per credential; a new day starts empty."""

    def __init__(self) -> None:
        self.day: str | None = None
        self._usage: dict[str, DayUsage] = {}

    def record(
        self,
        credential_id: str,
        day: str,
        *,
        person_id: str | None,
        face: Vector | None,
        threshold: float,
    ) -> DayUsage:
        """Count one use; ``person_id`` recognised, else ``face`` clustered."""
        if day != self.day:
            self.day = day
            self._usage = {}
        usage = self._usage.setdefault(credential_id, DayUsage())
        usage.uses += 1
        if person_id is not None:
            usage.persons.add(person_id)
        elif face is not None:
            usage.clusters.add(face, threshold)
        return usage
