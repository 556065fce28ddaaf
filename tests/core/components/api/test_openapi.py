"""The OpenAPI document of /api/linli: complete, valid, and no 5xx under schemathesis."""

from __future__ import annotations

import asyncio
import warnings

import hypothesis
import requests
import schemathesis
from hypothesis import HealthCheck, settings

from linli.components.api.openapi import PATHS
from linli.components.http import get_http
from tests.core.components.api.conftest import Community

MAX_EXAMPLES = 25


async def test_document_describes_every_linli_route(community: Community) -> None:
    response = await community.admin.get("/api/linli/openapi.json", auth=False)
    assert response.status == 200
    document = await response.json()
    assert document["openapi"] == "3.1.0"
    served = {
        (route.method, route.resource.canonical)  # type: ignore[union-attr]
        for route in get_http(community.admin.hub).app.router.routes()
        if route.resource is not None and route.resource.canonical.startswith("/api/linli/")
    }
    served.discard(("GET", "/api/linli/openapi.json"))
    described = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    action = "/api/linli/alerts/{alert_id}/{action}"
    served = {(m, p) for m, p in served if p != action} | {
        ("POST", f"/api/linli/alerts/{{alert_id}}/{a}")
        for a in ("acknowledge", "assign", "resolve")
    }
    assert served == described
    assert set(PATHS) <= {path for _, path in described}


def _fuzz(base_url: str, token: str) -> tuple[list[str], dict[int, int]]:
    """Run schemathesis on every operation (blocking: runs in a worker thread)."""
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_url(f"{base_url}/api/linli/openapi.json")
    failures: list[str] = []
    statuses: dict[int, int] = {}
    session = requests.Session()
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        )
        @hypothesis.given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            response = case.call(base_url=base_url, session=session, headers=headers)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code}")

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            check()
    session.close()
    return failures, statuses


async def test_schemathesis_finds_no_server_error(community: Community) -> None:
    from linli.components.alert import get_manager

    await get_manager(community.admin.hub).async_raise("smoke", "Smoke", area_id="b1-u1-1201")
    failures, statuses = await asyncio.get_running_loop().run_in_executor(
        None, _fuzz, community.admin.base_url, community.admin.token
    )
    assert failures == []
    assert sum(statuses.values()) >= 100
    assert 200 in statuses  # some generated requests got through, not only 4xx
