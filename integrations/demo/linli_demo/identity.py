"""Made-up identities of the simulated residents: face vectors, card numbers, licence plates.

Pure functions, no I/O. Nothing here comes from a real person: a "face" is a seeded random
unit vector of 128 float32 numbers (what a recognition model would output), a capture is that
vector with noise, a card number and a plate are derived from a hash of the person's or the
household's id. The snapshots are tiny flat-grey JPEGs generated here, not photographs.
"""

from __future__ import annotations

import base64
import hashlib
import math
import random
import struct
from array import array
from collections.abc import Sequence
from typing import Final

FACE_DIMS: Final = 128
CAPTURE_NOISE: Final = 0.25
"""Noise of a capture of the same face, relative to the vector's length: cosine ≈ 0.97."""

# GA 36-2018: provinces, issuing authority letters, serial characters (no I, no O).
PROVINCES: Final = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
AUTHORITIES: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ"
SERIAL: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
DIGITS: Final = "0123456789"
HOME_PREFIX: Final = "湘A"
"""The demo community's local plates (Changsha)."""


class PlateColor:
    """The LPR push's ``colorType`` codes."""

    UNKNOWN: Final = 0
    BLUE: Final = 1
    YELLOW: Final = 2
    WHITE: Final = 3
    BLACK: Final = 4
    GREEN: Final = 5


def _rng(*parts: object) -> random.Random:
    """A random source seeded from ``parts`` (stable across runs and machines)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


# ---------------------------------------------------------------------- faces
def _normalised(values: Sequence[float]) -> list[float]:
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


def face_vector(person_id: str, seed: int = 0, dims: int = FACE_DIMS) -> list[float]:
    """The synthetic face of ``person_id``: a unit vector, the same for the same person."""
    rng = _rng("face", seed, person_id)
    return _normalised([rng.gauss(0.0, 1.0) for _ in range(dims)])


def capture(face: Sequence[float], rng: random.Random, noise: float = CAPTURE_NOISE) -> list[float]:
    """What a camera sees of ``face`` this time: the vector with noise, normalised again."""
    scale = noise / math.sqrt(len(face))
    return _normalised([v + rng.gauss(0.0, scale) for v in face])


def stranger(rng: random.Random, dims: int = FACE_DIMS) -> list[float]:
    """A face nobody enrolled."""
    return _normalised([rng.gauss(0.0, 1.0) for _ in range(dims)])


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity of two vectors."""
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / ((math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))) or 1.0)


def encode_template(vector: Sequence[float]) -> str:
    """A template on the wire: base64 of float32 little-endian."""
    values = array("f", vector)
    if struct.pack("=f", 1.0) != struct.pack("<f", 1.0):  # pragma: no cover - big-endian hosts
        values.byteswap()
    return base64.b64encode(values.tobytes()).decode("ascii")


def decode_template(text: str) -> list[float]:
    """Read a template from the wire; ValueError when it is not 128..1024 float32 numbers."""
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError as err:
        raise ValueError("a template must be base64") from err
    if len(raw) % 4 or not 128 <= len(raw) // 4 <= 1024:
        raise ValueError("a template must hold 128 to 1024 float32 numbers")
    values = array("f")
    values.frombytes(raw)
    if struct.pack("=f", 1.0) != struct.pack("<f", 1.0):  # pragma: no cover - big-endian hosts
        values.byteswap()
    return list(values)


# ---------------------------------------------------------------------- cards
def card_number(person_id: str, seed: int = 0) -> str:
    """The access card of ``person_id``: ten digits, as printed on common Mifare cards."""
    rng = _rng("card", seed, person_id)
    return str(rng.randrange(1_000_000_000, 4_294_967_296)).zfill(10)


# ---------------------------------------------------------------------- licence plates
def _ordinary(rng: random.Random, prefix: str) -> str:
    # Most ordinary plates have at most two letters among the five serial characters.
    serial = [rng.choice(DIGITS) for _ in range(5)]
    for index in rng.sample(range(5), rng.choice((0, 1, 1, 2))):
        serial[index] = rng.choice(AUTHORITIES)
    return prefix + "".join(serial)


def _new_energy(rng: random.Random, prefix: str) -> str:
    return prefix + rng.choice("DF") + rng.choice(SERIAL) + "".join(rng.choices(DIGITS, k=4))


def household_plates(household_id: str, seed: int = 0) -> list[tuple[str, int]]:
    """The cars of a household, ``(plate, colorType)``: none, one or two, mostly local.

    Valid GA 36-2018 plates (ordinary blue ones of 7 characters, green new-energy ones of 8),
    the same for the same household; they are made up and belong to nobody.
    """
    rng = _rng("plates", seed, household_id)
    cars = rng.choices((0, 1, 2), weights=(35, 50, 15))[0]
    plates = []
    for _ in range(cars):
        prefix = HOME_PREFIX if rng.random() < 0.85 else rng.choice(PROVINCES) + "A"
        if rng.random() < 0.3:
            plates.append((_new_energy(rng, prefix), PlateColor.GREEN))
        else:
            plates.append((_ordinary(rng, prefix), PlateColor.BLUE))
    return plates


def visitor_plate(rng: random.Random) -> tuple[str, int]:
    """A visiting car's plate: any province, any authority."""
    prefix = rng.choice(PROVINCES) + rng.choice(AUTHORITIES)
    if rng.random() < 0.25:
        return _new_energy(rng, prefix), PlateColor.GREEN
    return _ordinary(rng, prefix), PlateColor.BLUE


def display_plate(plate: str) -> str:
    """How a plate is printed: ``湘A·D12345``."""
    return f"{plate[:2]}·{plate[2:]}"


# ---------------------------------------------------------------------- snapshots
def _marker(code: int, payload: bytes) -> bytes:
    return bytes((0xFF, code)) + struct.pack(">H", len(payload) + 2) + payload


def tiny_jpeg(seed: object, blocks_wide: int = 4, blocks_high: int = 3) -> bytes:
    """A small baseline JPEG (8×8 flat grey blocks), different for each ``seed``.

    Stands in for a terminal's snapshot: a valid image of a few hundred bytes, no one on it.
    """
    rng = _rng("jpeg", seed)
    width, height = blocks_wide * 8, blocks_high * 8
    # DC: the twelve categories 0..11, each a 4-bit code (its own number); AC: one code "0",
    # end of block. So a block is its DC category, the difference's bits, and "0".
    dht_dc = bytes((0x00, 0, 0, 0, 12, *([0] * 12), *range(12)))
    dht_ac = bytes((0x10, 1, *([0] * 15), 0x00))
    header = (
        b"\xff\xd8"
        + _marker(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
        + _marker(0xFE, b"Linli demo snapshot")
        + _marker(0xDB, bytes((0x00, *([1] * 64))))
        + _marker(0xC0, struct.pack(">BHHB", 8, height, width, 1) + bytes((1, 0x11, 0)))
        + _marker(0xC4, dht_dc)
        + _marker(0xC4, dht_ac)
        + _marker(0xDA, bytes((1, 1, 0x00, 0, 63, 0)))
    )
    bits: list[int] = []
    previous = 0
    for _ in range(blocks_wide * blocks_high):
        dc = 8 * (rng.randrange(60, 200) - 128)
        diff, previous = dc - previous, dc
        size = abs(diff).bit_length()
        value = diff if diff >= 0 else diff + (1 << size) - 1
        bits.extend((size >> shift) & 1 for shift in range(3, -1, -1))
        bits.extend((value >> shift) & 1 for shift in range(size - 1, -1, -1))
        bits.append(0)
    bits.extend([1] * (-len(bits) % 8))
    data = bytearray()
    for start in range(0, len(bits), 8):
        byte = 0
        for bit in bits[start : start + 8]:
            byte = byte << 1 | bit
        data.append(byte)
        if byte == 0xFF:
            data.append(0x00)
    return header + bytes(data) + b"\xff\xd9"
