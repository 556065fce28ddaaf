"""The OpenAPI document of /api/linli: complete, valid, and no 5xx under schemathesis."""

from __future__ import annotations

import asyncio
from collections import Counter

from schemathesis import checks

from linli.components.api.openapi import PATHS
from linli.testing.openapi import assert_routes_documented, fuzz_operations, served_linli_routes
from tests.core.components.api.conftest import Community

MAX_EXAMPLES = 25


async def test_document_describes_every_linli_route(community: Community) -> None:
    response = await community.admin.get("/api/linli/openapi.json", auth=False)
    assert response.status == 200
    document = await response.json()
    assert document["openapi"] == "3.1.0"
    assert_routes_documented(document, served_linli_routes(community.admin.hub), PATHS)


def _fuzz(base_url: str, token: str) -> tuple[list[str], Counter[int]]:
    """Valid input for every operation; a failure is a 5xx (blocking: a worker thread)."""
    failures, per_operation = fuzz_operations(
        base_url,
        token,
        max_examples=MAX_EXAMPLES,
        negative=False,
        response_checks=[checks.not_a_server_error],
    )
    return failures, sum(per_operation.values(), Counter[int]())


async def test_schemathesis_finds_no_server_error(community: Community) -> None:
    from linli.components.alert import get_manager

    await get_manager(community.admin.hub).async_raise("smoke", "Smoke", area_id="b1-u1-1201")
    failures, statuses = await asyncio.get_running_loop().run_in_executor(
        None, _fuzz, community.admin.base_url, community.admin.token
    )
    assert failures == []
    assert sum(statuses.values()) >= 100
    assert 200 in statuses  # some generated requests got through, not only 4xx
