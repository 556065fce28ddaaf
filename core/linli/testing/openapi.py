"""Test helpers for an integration's routes in the hub's OpenAPI document.

Check that what a hub serves under ``/api/linli/`` and what ``/api/linli/openapi.json``
describes agree, with :func:`served_linli_routes` and :func:`assert_routes_documented`; then
fuzz the described operations with schemathesis, :func:`fuzz_operations` (blocking, so run it
in a worker thread)::

    document = await (await client.get("/api/linli/openapi.json", auth=False)).json()
    assert_routes_documented(document, served_linli_routes(client.hub), OPENAPI_PATHS)
    failures, statuses = await asyncio.get_running_loop().run_in_executor(
        None, fuzz_operations, client.base_url, client.token, lambda m, p: p in OPENAPI_PATHS
    )
    assert failures == []

Needs the ``test`` extra (schemathesis, hypothesis, requests).
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import hypothesis
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode, checks
from schemathesis.core.result import Err

from linli.components.http import get_http

if TYPE_CHECKING:
    from linli.hub import Hub

__all__ = [
    "CONFORMANCE_CHECKS",
    "ExplicitCases",
    "Route",
    "assert_routes_documented",
    "described_routes",
    "fuzz_operations",
    "served_linli_routes",
]

Route = tuple[str, str]
"""An operation: its upper-case HTTP method and its path template."""
ExplicitCases = Mapping[Route, Sequence[Mapping[str, Any]]]
"""Cases tried before the generated ones, per operation: ``operation.Case`` keyword
arguments (``path_parameters``, ``query``, ``body`` …); a case with a ``body`` is JSON."""

CONFORMANCE_CHECKS: Final[Sequence[Callable[..., Any]]] = (
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
)
"""No 5xx, and only documented status codes, content types and bodies."""

_DOCUMENT: Final = "/api/linli/openapi.json"
_ALERT_ACTION: Final = "/api/linli/alerts/{alert_id}/{action}"
_ALERT_ACTIONS: Final = ("acknowledge", "assign", "resolve")


def served_linli_routes(hub: Hub) -> set[Route]:
    """The routes ``hub`` serves under ``/api/linli/``, as the document names them.

    The document itself is left out; the core's one alert-action route counts as its three
    described paths.
    """
    served: set[Route] = set()
    for route in get_http(hub).app.router.routes():
        resource = route.resource
        if resource is None or not resource.canonical.startswith("/api/linli/"):
            continue
        if resource.canonical == _ALERT_ACTION and route.method == "POST":
            served |= {("POST", f"/api/linli/alerts/{{alert_id}}/{a}") for a in _ALERT_ACTIONS}
        elif (route.method, resource.canonical) != ("GET", _DOCUMENT):
            served.add((route.method, resource.canonical))
    return served


def described_routes(paths: Mapping[str, Any]) -> set[Route]:
    """The operations of an OpenAPI ``paths`` object."""
    return {(method.upper(), path) for path, item in paths.items() for method in item}


def assert_routes_documented(
    document: Mapping[str, Any], served: Collection[Route], paths: Mapping[str, Any]
) -> None:
    """Assert that ``paths`` (an integration's) are in ``document`` as written and served,
    and that every served route is described."""
    described = described_routes(document["paths"])
    ours = {(method, path) for method, path in described if path in paths}
    written = described_routes(paths)
    assert ours == written, (sorted(written - ours), sorted(ours - written))
    assert ours <= set(served), sorted(ours - set(served))
    assert set(served) == described, (
        sorted(set(served) - described),
        sorted(described - set(served)),
    )


def fuzz_operations(
    base_url: str,
    token: str,
    operation_filter: Callable[[str, str], bool] | None = None,
    explicit_cases: ExplicitCases | None = None,
    *,
    max_examples: int = 80,
    negative: bool = True,
    response_checks: Sequence[Callable[..., Any]] = CONFORMANCE_CHECKS,
) -> tuple[list[str], dict[str, Counter[int]]]:
    """Fuzz the hub's described operations; blocking, so run it in a worker thread.

    Every operation ``operation_filter(METHOD, path)`` accepts (all without one) gets its
    ``explicit_cases``, then ``max_examples`` generated requests: valid input, and invalid
    input too when ``negative``. Returns a line per response failing ``response_checks``,
    and the statuses seen per operation (keyed ``"METHOD path"``).
    """
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_url(f"{base_url}{_DOCUMENT}")
    failures: list[str] = []
    statuses: dict[str, Counter[int]] = {}
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        operation = result.ok()
        route = (operation.method.upper(), operation.path)
        if operation_filter is None or operation_filter(*route):
            statuses[" ".join(route)] = _fuzz_operation(
                operation,
                base_url,
                headers,
                (explicit_cases or {}).get(route, ()),
                failures,
                max_examples=max_examples,
                negative=negative,
                response_checks=response_checks,
            )
    return failures, statuses


def _fuzz_operation(
    operation: Any,
    base_url: str,
    headers: dict[str, str],
    examples: Sequence[Mapping[str, Any]],
    failures: list[str],
    *,
    max_examples: int,
    negative: bool,
    response_checks: Sequence[Callable[..., Any]],
) -> Counter[int]:
    """Fuzz one operation: the statuses seen; failures appended."""
    seen: Counter[int] = Counter()
    session = requests.Session()
    strategy = operation.as_strategy()
    if negative:
        strategy |= operation.as_strategy(GenerationMode.NEGATIVE)

    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    @hypothesis.given(case=strategy)
    def check(case: schemathesis.Case[Any]) -> None:
        response = case.call(base_url=base_url, session=session, headers=headers)
        seen[response.status_code] += 1
        try:
            case.validate_response(response, checks=list(response_checks), headers=headers)
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
