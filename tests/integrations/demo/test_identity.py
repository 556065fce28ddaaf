"""The simulated residents' made-up faces, cards and plates, and the terminals' snapshots."""

from __future__ import annotations

import base64
import random
import re
import struct

import pytest

from linli_demo.identity import (
    FACE_DIMS,
    PlateColor,
    capture,
    card_number,
    cosine,
    decode_template,
    display_plate,
    encode_template,
    face_vector,
    household_plates,
    stranger,
    tiny_jpeg,
    visitor_plate,
)

from .contract import template_dims

# GA 36-2018, as the domain notes give it.
PROV = "[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼]"
AUTH = "[A-HJ-Z]"
SER = "[A-HJ-NP-Z0-9]"
ORDINARY = re.compile(f"{PROV}{AUTH}{SER}{{5}}")
NEW_ENERGY = re.compile(f"{PROV}{AUTH}[DF]{SER}[0-9]{{4}}")


def test_a_face_is_a_stable_unit_vector_and_captures_stay_close() -> None:
    face = face_vector("person-1")
    assert len(face) == FACE_DIMS
    assert face == face_vector("person-1")
    assert face != face_vector("person-1", seed=1)
    assert abs(sum(v * v for v in face) - 1) < 1e-9
    rng = random.Random(0)
    same = [cosine(face, capture(face, rng)) for _ in range(50)]
    others = [cosine(face, face_vector(f"person-{n}")) for n in range(2, 52)]
    strangers = [cosine(face, stranger(rng)) for _ in range(50)]
    # A threshold anywhere in 0.5..0.9 tells a resident from anyone else.
    assert min(same) > 0.9
    assert max(others) < 0.5
    assert max(strangers) < 0.5


def test_templates_go_over_the_wire_as_float32_little_endian() -> None:
    face = face_vector("person-1")
    text = encode_template(face)
    assert template_dims(text) == 128
    raw = base64.b64decode(text)
    assert struct.unpack("<f", raw[:4])[0] == pytest.approx(face[0], rel=1e-6)
    back = decode_template(text)
    assert cosine(back, face) == pytest.approx(1.0, abs=1e-6)
    for bad in ("not base64!", encode_template(face[:100]), "AAAA"):
        with pytest.raises(ValueError, match="template"):
            decode_template(bad)


def test_cards_are_ten_digits_and_stable() -> None:
    cards = {card_number(f"p{n}") for n in range(200)}
    assert len(cards) == 200
    assert all(re.fullmatch(r"\d{10}", c) for c in cards)
    assert card_number("p1") == card_number("p1")


def test_household_plates_are_valid_stable_and_mostly_local() -> None:
    plates = [p for n in range(300) for p in household_plates(f"household-{n}")]
    assert household_plates("household-7") == household_plates("household-7")
    assert 200 < len(plates) < 450  # most households have a car, some two, some none
    assert any(not household_plates(f"household-{n}") for n in range(300))
    for plate, color in plates:
        if color == PlateColor.GREEN:
            assert NEW_ENERGY.fullmatch(plate), plate
        else:
            assert color == PlateColor.BLUE
            assert ORDINARY.fullmatch(plate), plate
    local = sum(1 for p, _ in plates if p.startswith("湘A"))
    assert local > 0.7 * len(plates)
    assert {c for _, c in plates} == {PlateColor.BLUE, PlateColor.GREEN}
    assert display_plate("湘AD12345") == "湘A·D12345"


def test_visitor_plates_are_valid() -> None:
    rng = random.Random(1)
    for _ in range(300):
        plate, color = visitor_plate(rng)
        pattern = NEW_ENERGY if color == PlateColor.GREEN else ORDINARY
        assert pattern.fullmatch(plate), plate


def test_tiny_jpeg_is_a_baseline_jpeg() -> None:
    image = tiny_jpeg("t1")
    assert image.startswith(b"\xff\xd8")
    assert image.endswith(b"\xff\xd9")
    assert len(image) < 1024
    assert image != tiny_jpeg("t2")
    sof = image.index(b"\xff\xc0")
    precision, height, width, components = struct.unpack(">BHHB", image[sof + 4 : sof + 10])
    assert (precision, height, width, components) == (8, 24, 32, 1)
    # The entropy-coded data never holds a bare 0xFF (it is stuffed), so markers parse.
    scan = image[image.index(b"\xff\xda") :]
    body = scan[2 + struct.unpack(">H", scan[2:4])[0] : -2]
    assert all(body[i + 1] == 0 for i in range(len(body) - 1) if body[i] == 0xFF)
