"""Face templates and matching with numpy: decode, normalise, cosine similarity (no I/O).

A template is a float32 vector (128 to 1024 dimensions, little-endian bytes; base64 on the
wire). :class:`FaceIndex` keeps the enrolled templates as one L2-normalised matrix per
dimension count, so matching one probe against 10,000 templates is one matrix-vector product.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from linli_face_access.const import MAX_DIMS, MIN_DIMS

Vector = npt.NDArray[np.float32]


class TemplateError(ValueError):
    """A face template that cannot be used (bad base64, size, values)."""


def template_from_bytes(raw: bytes) -> Vector:
    """Return the float32 vector of little-endian bytes; :class:`TemplateError` if unusable."""
    if len(raw) % 4:
        raise TemplateError(
            f"a template is float32 values: {len(raw)} bytes is not a multiple of 4"
        )
    dims = len(raw) // 4
    if not MIN_DIMS <= dims <= MAX_DIMS:
        raise TemplateError(f"a template has {MIN_DIMS} to {MAX_DIMS} dimensions, not {dims}")
    vector = np.frombuffer(raw, dtype="<f4").astype(np.float32)
    if not np.all(np.isfinite(vector)):
        raise TemplateError("a template must hold finite numbers only")
    if float(np.linalg.norm(vector)) == 0.0:
        raise TemplateError("a template must not be all zeros")
    return vector


def decode_template(text: str) -> Vector:
    """Decode a base64 template (float32 little-endian)."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as err:
        raise TemplateError("a template must be base64") from err
    return template_from_bytes(raw)


def encode_template(vector: Vector) -> str:
    """Encode a vector as base64 of float32 little-endian bytes."""
    return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode("ascii")


def template_bytes(vector: Vector) -> bytes:
    """The float32 little-endian bytes of a vector (for storage)."""
    return np.asarray(vector, dtype="<f4").tobytes()


def normalised(vector: Vector) -> Vector:
    """The vector scaled to unit length."""
    norm = float(np.linalg.norm(vector))
    return (vector / norm).astype(np.float32)


def cosine(a: Vector, b: Vector) -> float:
    """Cosine similarity of two vectors of the same size (-1..1)."""
    return float(np.dot(normalised(a), normalised(b)))


@dataclass(frozen=True, slots=True)
class Match:
    """The best enrolled template for a probe."""

    person_id: str
    template_id: str
    score: float


class FaceIndex:
    """Enrolled templates as one normalised matrix per dimension count."""

    def __init__(self) -> None:
        self._matrices: dict[int, Vector] = {}
        self._keys: dict[int, list[tuple[str, str]]] = {}
        self.size = 0

    def rebuild(self, templates: Iterable[tuple[str, str, Vector]]) -> None:
        """Replace the index with ``(template_id, person_id, vector)`` items."""
        rows: dict[int, list[Vector]] = {}
        keys: dict[int, list[tuple[str, str]]] = {}
        for template_id, person_id, vector in templates:
            dims = int(vector.shape[0])
            rows.setdefault(dims, []).append(normalised(vector))
            keys.setdefault(dims, []).append((template_id, person_id))
        self._matrices = {dims: np.vstack(items) for dims, items in rows.items()}
        self._keys = keys
        self.size = sum(len(items) for items in keys.values())

    def best(self, probe: Vector) -> Match | None:
        """The most similar enrolled template of the probe's size, or None."""
        dims = int(probe.shape[0])
        matrix = self._matrices.get(dims)
        if matrix is None:
            return None
        scores = matrix @ normalised(probe)
        index = int(np.argmax(scores))
        template_id, person_id = self._keys[dims][index]
        return Match(person_id, template_id, float(scores[index]))

    def match(self, probe: Vector, threshold: float) -> Match | None:
        """The best match when its similarity reaches ``threshold``, else None."""
        best = self.best(probe)
        return best if best is not None and best.score >= threshold else None


class FaceClusters:
    """Faces seen with one credential in one day, grouped by similarity (kept in memory only).

    Each cluster keeps the normalised mean of its members; a new face joins the most
    similar cluster at or above the threshold, or starts a new one.
    """

    def __init__(self) -> None:
        self._centroids: list[Vector] = []
        self._counts: list[int] = []

    def __len__(self) -> int:
        return len(self._centroids)

    def add(self, vector: Vector, threshold: float) -> int:
        """Place a face; return the index of its cluster."""
        probe = normalised(vector)
        best, best_score = -1, threshold
        for index, centroid in enumerate(self._centroids):
            if centroid.shape != probe.shape:
                continue
            score = float(np.dot(centroid, probe))
            if score >= best_score:
                best, best_score = index, score
        if best < 0:
            self._centroids.append(probe)
            self._counts.append(1)
            return len(self._centroids) - 1
        count = self._counts[best]
        self._centroids[best] = normalised(self._centroids[best] * count + probe)
        self._counts[best] = count + 1
        return best
