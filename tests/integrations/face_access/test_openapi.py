"""face_access in the hub's OpenAPI document: every route described, and schemathesis finds
no server error and no undocumented status, content type or body."""

from __future__ import annotations

import asyncio
import base64
import warnings
from collections import Counter
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode, checks

from linli.components.http import get_http
from linli.db.testing import db_url
from linli.testing.community import Community
from linli_face_access import get_face_access
from linli_face_access.openapi import OPENAPI_PATHS

from .conftest import FaceTerminal, b64, grant_face_consent, near, template, tiny_jpeg

__all__ = ["db_url"]

MAX_EXAMPLES = 80
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]

Examples = dict[tuple[str, str], list[dict[str, Any]]]


@pytest.fixture
def hub_config(hub_config: str, db_url: str) -> str:
    """The face_access hub on each database (SQLite, PostgreSQL)."""
    return hub_config + f"recorder:\n  db_url: {db_url}\n"


async def test_document_describes_every_face_access_route(community: Community) -> None:
    response = await community.admin.get("/api/linli/openapi.json", auth=False)
    assert response.status == 200
    document = await response.json()
    served = {
        (route.method, route.resource.canonical)  # type: ignore[union-attr]
        for route in get_http(community.admin.hub).app.router.routes()
        if route.resource is not None and route.resource.canonical.startswith("/api/linli/")
    }
    described = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    ours = {(m, p) for m, p in described if p in OPENAPI_PATHS}
    assert ours == {(m.upper(), p) for p, item in OPENAPI_PATHS.items() for m in item}
    assert ours <= served
    # And every Linli route of this hub is described (the core's alert actions are one route).
    action = "/api/linli/alerts/{alert_id}/{action}"
    if ("POST", action) in served:
        served = {(m, p) for m, p in served if p != action} | {
            ("POST", f"/api/linli/alerts/{{alert_id}}/{a}")
            for a in ("acknowledge", "assign", "resolve")
        }
    assert served - {("GET", "/api/linli/openapi.json")} == described


def _fuzz_operation(
    operation: Any,
    base_url: str,
    headers: dict[str, str],
    examples: list[dict[str, Any]],
    failures: list[str],
) -> Counter[int]:
    """Fuzz one operation, valid and invalid input: the statuses seen; failures appended."""
    seen: Counter[int] = Counter()
    session = requests.Session()

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    @hypothesis.given(case=operation.as_strategy() | operation.as_strategy(GenerationMode.NEGATIVE))
    def check(case: schemathesis.Case) -> None:
        response = case.call(base_url=base_url, session=session, headers=headers)
        seen[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (AssertionError, BaseExceptionGroup) as err:
            failures.append(f"{case.method} {case.formatted_path}: {err}")

    for example in examples:
        media = {"media_type": "application/json"} if "body" in example else {}
        check = hypothesis.example(case=operation.Case(**example, **media))(check)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check()
    session.close()
    return seen


def _fuzz(
    base_url: str, token: str, examples: Examples
) -> tuple[list[str], dict[str, Counter[int]]]:
    """Run schemathesis on face_access's operations (blocking: runs in a worker thread)."""
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_url(f"{base_url}/api/linli/openapi.json")
    failures: list[str] = []
    statuses: dict[str, Counter[int]] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in OPENAPI_PATHS:
            method = operation.method.upper()
            statuses[f"{method} {operation.path}"] = _fuzz_operation(
                operation, base_url, headers, examples.get((method, operation.path), []), failures
            )
    return failures, statuses


async def test_schemathesis_finds_no_server_error(
    community: Community, terminal: FaceTerminal
) -> None:
    hub = community.admin.hub
    person, household = community.person_1201, community.household_1201
    await grant_face_consent(community.resident, person)
    face = get_face_access(hub)
    await face.async_enroll_face(person, b64(template(1)), None)
    answer = await terminal.request(
        "face",
        template=b64(near(template(1), 4)),
        snapshot=base64.b64encode(tiny_jpeg()).decode(),
    )
    assert answer["command"] == "open"
    await hub.async_block_till_done()
    (row,) = await face.store.async_query_log()
    assert row["snapshot_id"] is not None
    issued = await community.admin.post(
        "/api/linli/credentials", json={"type": "pin", "person_id": person, "pin": "4821"}
    )
    assert issued.status == 201, await issued.text()
    credential_id = (await issued.json())["credential"]["id"]

    examples: Examples = {
        ("GET", "/api/linli/access_log"): [
            {"query": {}},
            {"query": {"household_id": household, "since": "2020-01-01T00:00:00+08:00"}},
            {"query": {"since": "0001-01-01T00:00:00+01:00", "door_id": "b1\x00"}},
        ],
        ("GET", "/api/linli/credentials"): [
            {"query": {"person_id": person}},
            {"query": {"household_id": household}},
        ],
        ("POST", "/api/linli/credentials"): [
            {"body": {"type": "card", "person_id": person, "card_no": "C0FFEE01"}},
            {"body": {"type": "visitor_qr", "household_id": household, "valid_hours": 2}},
        ],
        ("POST", "/api/linli/credentials/{credential_id}/revoke"): [
            {"path_parameters": {"credential_id": credential_id}},
        ],
        ("GET", "/api/linli/face_access/snapshots/{snapshot_id}"): [
            {"path_parameters": {"snapshot_id": row["snapshot_id"]}},
        ],
    }
    failures, statuses = await asyncio.get_running_loop().run_in_executor(
        None, _fuzz, community.admin.base_url, community.admin.token, examples
    )
    assert failures == []
    assert set(statuses) == {
        f"{method.upper()} {path}" for path, item in OPENAPI_PATHS.items() for method in item
    }
    for operation, seen in statuses.items():
        assert any(200 <= status < 300 for status in seen), (operation, seen)
    assert sum(sum(seen.values()) for seen in statuses.values()) >= 100


async def test_bad_text_is_refused_not_a_server_error(community: Community) -> None:
    """Times out of range and NUL characters (PostgreSQL refuses them) answer 400."""
    admin, person = community.admin, community.person_1201
    cases = [
        ("/api/linli/access_log", {"since": "0001-01-01T00:00:00+01:00"}, "invalid date"),
        ("/api/linli/access_log", {"door_id": "b1\x00"}, "'door_id' should not contain NUL"),
        ("/api/linli/credentials", {"household_id": "\x00"}, "'household_id' should not"),
    ]
    for path, params, message in cases:
        response = await admin.get(path, params=params)
        assert response.status == 400, (params, await response.text())
        assert message in (await response.json())["message"]
    response = await admin.post(
        "/api/linli/credentials", json={"type": "qr", "person_id": person, "label": "a\x00b"}
    )
    assert response.status == 400
    assert "should not contain NUL" in (await response.json())["message"]
    response = await admin.post("/api/linli/credentials/a%00b/revoke")
    assert response.status == 400
