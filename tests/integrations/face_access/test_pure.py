"""Pure parts: configuration and door lint, templates and matching, secrets, the ISAPI parser,
the benchmark."""

from __future__ import annotations

import json

import numpy as np
import pytest
import voluptuous as vol

from linli_face_access import bench
from linli_face_access.config import CONFIG_SCHEMA, doors_from_config, lint_doors
from linli_face_access.credentials import CredentialError, check_pin, hash_pin, verify_pin
from linli_face_access.hikvision import HikvisionError, parse_push
from linli_face_access.matcher import FaceClusters, FaceIndex, TemplateError, decode_template

from .conftest import b64, near, template, tiny_jpeg


def _door(**overrides: object) -> dict[str, object]:
    return {"id": "d1", "name": "Door", "terminals": [{"id": "t1", "kind": "mqtt"}], **overrides}


def _hik(**overrides: object) -> dict[str, object]:
    return {"id": "h1", "kind": "hikvision", "webhook_id": "hook-0123456789abcdef", **overrides}


def test_terminal_hosts_are_names_or_addresses() -> None:
    hosts = ["192.168.1.64", "fe80::1", "hik-b1-02.local"]
    doors = doors_from_config(
        CONFIG_SCHEMA(
            {
                "doors": [
                    _door(
                        terminals=[
                            _hik(
                                id=f"h{n}",
                                webhook_id=f"hook-{n}-0123456789abcdef",
                                host=host,
                                username="admin",
                            )
                            for n, host in enumerate(hosts)
                        ]
                    )
                ]
            }
        )
    )
    assert [t.host for t in doors[0].terminals] == hosts
    assert {t.port for t in doors[0].terminals} == {80}


def test_defaults_keep_no_snapshots() -> None:
    config = CONFIG_SCHEMA(None)
    assert config["match_threshold"] == 0.6
    assert config["store_snapshots"] is False
    assert config["doors"] == []


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"match_threshold": 1.5}, "value must be at most 1"),
        ({"doors": [_door(methods=["iris"])]}, "unknown method 'iris'"),
        ({"doors": [_door(terminals=[{"id": "t1", "kind": "hikvision"}])]}, "needs a webhook_id"),
        ({"doors": [_door(), _door()]}, "door id 'd1' is used twice"),
        ({"doors": [_door(id="a b")]}, "expected an id"),
        ({"doors": [_door(terminals=[])]}, "length of value must be at least 1"),
        ({"doors": [_door(terminals=[_hik(host="http://192.168.1.64")])]}, "no scheme"),
        ({"doors": [_door(terminals=[_hik(host="192.168.1.64:8080")])]}, "no scheme, port"),
        ({"doors": [_door(terminals=[_hik(host="192.168.1.64")])]}, "needs a username"),
    ],
)
def test_bad_configuration_is_explained(section: dict[str, object], message: str) -> None:
    with pytest.raises(vol.Invalid) as caught:
        CONFIG_SCHEMA(section)
    assert message in str(caught.value)


def test_lint_warns_about_a_face_only_door() -> None:
    doors = doors_from_config(
        CONFIG_SCHEMA(
            {
                "doors": [
                    _door(methods=["face"]),
                    _door(
                        id="d2", methods=["face", "pin"], terminals=[{"id": "t2", "kind": "mqtt"}]
                    ),
                ]
            }
        )
    )
    (issue,) = lint_doors(doors)
    assert issue.door_id == "d1"
    assert issue.code == "no_non_biometric_method"


def test_templates_are_checked() -> None:
    assert decode_template(b64(template(1))).shape == (128,)
    for bad in ("not base64!", b64(np.zeros(128, np.float32)), b64(template(1, dims=64))):
        with pytest.raises(TemplateError):
            decode_template(bad)
    nan = template(1)
    nan[3] = np.nan
    with pytest.raises(TemplateError, match="finite"):
        decode_template(b64(nan))


def test_index_matches_the_nearest_above_the_threshold() -> None:
    index = FaceIndex()
    index.rebuild((f"t{i}", f"p{i}", template(i)) for i in range(50))
    match = index.match(near(template(7), 1), 0.6)
    assert match is not None
    assert match.person_id == "p7"
    assert index.match(template(999), 0.6) is None
    assert index.match(template(1, dims=256), 0.0) is None  # no templates of that size


def test_clusters_tell_faces_apart() -> None:
    clusters = FaceClusters()
    assert clusters.add(template(1), 0.6) == 0
    assert clusters.add(near(template(1), 2), 0.6) == 0
    assert clusters.add(template(2), 0.6) == 1
    assert len(clusters) == 2


def test_pins_are_hashed() -> None:
    stored = hash_pin("2468")
    assert "2468" not in stored
    assert verify_pin("2468", stored)
    assert not verify_pin("1357", stored)
    assert not verify_pin("2468", "garbage")
    for bad in ("12", "12a4", "123456789"):
        with pytest.raises(CredentialError):
            check_pin(bad)


def _event(minor: int, **fields: object) -> dict[str, object]:
    return {
        "ipAddress": "192.0.2.10",
        "dateTime": "2026-03-01T16:00:00+08:00",
        "eventType": "AccessControllerEvent",
        "AccessControllerEvent": {"majorEventType": 5, "subEventType": minor, **fields},
    }


def _multipart(
    event: dict[str, object], picture: bytes | None, name: str = "AccessControllerEvent"
) -> bytes:
    body = (
        (
            f'--MIME_boundary\r\nContent-Disposition: form-data; name="{name}"\r\n'
            "Content-Type: application/json\r\n\r\n"
        ).encode()
        + json.dumps(event).encode()
        + b"\r\n"
    )
    if picture is not None:
        body += (
            b'--MIME_boundary\r\nContent-Disposition: form-data; name="Picture"; '
            b'filename="Picture.jpg"\r\nContent-Type: image/jpeg\r\n\r\n' + picture + b"\r\n"
        )
    return body + b"--MIME_boundary--\r\n"


MULTIPART = "multipart/form-data; boundary=MIME_boundary"


def test_isapi_face_passed_with_picture() -> None:
    picture = tiny_jpeg(3)
    event = parse_push(
        MULTIPART,
        _multipart(
            _event(75, employeeNoString="p-1", serialNo=12, currentVerifyMode="face"), picture
        ),
    )
    assert (event.action, event.method, event.granted) == ("access", "face", True)
    assert event.person_ref == "p-1"
    assert event.serial_no == 12
    assert event.picture == picture


@pytest.mark.parametrize(
    ("minor", "expected"),
    [
        (76, ("access", "face", False, None)),
        (1, ("access", "card", True, None)),
        (0x85, ("anomaly", None, None, "tailgating")),
        (0x86, ("anomaly", None, None, "reverse_passing")),
        (22, ("ignored", None, None, None)),
    ],
)
def test_isapi_minor_types(minor: int, expected: tuple[object, ...]) -> None:
    body = json.dumps(_event(minor, cardNo="A1B2C3D4", serialNo=5)).encode()
    event = parse_push("application/json", body)
    assert (event.action, event.method, event.granted, event.anomaly) == expected


def test_isapi_event_log_part_name_and_heartbeat() -> None:
    event = parse_push(MULTIPART, _multipart(_event(1, cardNo="X123"), None, name="event_log"))
    assert event.card_no == "X123"
    assert parse_push("application/json", b'{"eventType": "heartBeat"}').action == "ignored"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b"{not json"),
        ("application/json", b"[1, 2]"),
        ("multipart/form-data", b"--x\r\n"),
        (MULTIPART, _multipart(_event(75), b"GIF89a not a jpeg")),
        (MULTIPART, b"--MIME_boundary--\r\n"),
        ("application/json", json.dumps(_event(75, serialNo="twelve")).encode()),
    ],
)
def test_isapi_garbage_is_refused(content_type: str, body: bytes) -> None:
    with pytest.raises(HikvisionError):
        parse_push(content_type, body)


async def test_bench_runs() -> None:
    ((name, value, unit, _note, _ok),) = await bench.run(None, quick=True)
    assert (name, unit) == ("face_match_10k_ms", "ms")
    assert value > 0
    assert await bench.run({"other"}, quick=True) == []
