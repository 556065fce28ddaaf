"""Behaviour of the service registry: registering, validating, calling, responding."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest
import voluptuous as vol

from linli.bus import Event
from linli.callback import callback
from linli.const import EVENT_CALL_SERVICE, EVENT_SERVICE_REGISTERED, EVENT_SERVICE_REMOVED
from linli.context import Context
from linli.exceptions import LinliError, ServiceNotFound, ServiceValidationError
from linli.hub import Hub
from linli.services import ServiceCall, ServiceResponse, SupportsResponse


def _collect(into: list[Event[Any]]) -> Callable[[Event[Any]], None]:
    @callback
    def listener(event: Event[Any]) -> None:
        into.append(event)

    return listener


def _handler(kind: str, calls: list[ServiceCall], response: ServiceResponse = None) -> Any:
    """A handler of the given kind that records its calls and returns ``response``."""
    if kind == "callback":

        @callback
        def handle_cb(call: ServiceCall) -> ServiceResponse:
            calls.append(call)
            return response

        return handle_cb
    if kind == "coroutine":

        async def handle_coro(call: ServiceCall) -> ServiceResponse:
            await asyncio.sleep(0)
            calls.append(call)
            return response

        return handle_coro

    def handle_blocking(call: ServiceCall) -> ServiceResponse:
        calls.append(call)
        return response

    return handle_blocking


KINDS = ["callback", "coroutine", "blocking"]


# --------------------------------------------------------------------------- register and call


@pytest.mark.parametrize("kind", KINDS)
async def test_register_and_call(hub: Hub, kind: str) -> None:
    calls: list[ServiceCall] = []
    hub.services.async_register("gate", "open", _handler(kind, calls))

    assert hub.services.has_service("gate", "open")
    result = await hub.services.async_call("gate", "open", {"gate": "north"})

    assert result is None
    assert len(calls) == 1
    assert calls[0].domain == "gate"
    assert calls[0].service == "open"
    assert calls[0].data == {"gate": "north"}
    assert calls[0].return_response is False


async def test_handler_kinds_run_where_expected(hub: Hub) -> None:
    loop_thread = threading.get_ident()
    threads: dict[str, int] = {}

    @callback
    def on_loop(call: ServiceCall) -> None:
        threads["callback"] = threading.get_ident()

    async def coro(call: ServiceCall) -> None:
        threads["coroutine"] = threading.get_ident()

    def blocking(call: ServiceCall) -> None:
        threads["blocking"] = threading.get_ident()

    hub.services.async_register("probe", "cb", on_loop)
    hub.services.async_register("probe", "coro", coro)
    hub.services.async_register("probe", "blocking", blocking)
    for name in ("cb", "coro", "blocking"):
        await hub.services.async_call("probe", name)

    assert threads["callback"] == loop_thread
    assert threads["coroutine"] == loop_thread
    assert threads["blocking"] != loop_thread


async def test_names_are_case_insensitive(hub: Hub) -> None:
    calls: list[ServiceCall] = []
    hub.services.async_register("Gate", "Open", _handler("callback", calls))

    assert hub.services.has_service("gate", "open")
    assert hub.services.has_service("GATE", "OPEN")
    await hub.services.async_call("GATE", "open")

    assert calls[0].domain == "gate"
    assert calls[0].service == "open"


async def test_second_registration_replaces_first(hub: Hub) -> None:
    first: list[ServiceCall] = []
    second: list[ServiceCall] = []
    hub.services.async_register("gate", "open", _handler("callback", first))
    hub.services.async_register("gate", "open", _handler("callback", second))

    await hub.services.async_call("gate", "open")

    assert first == []
    assert len(second) == 1
    assert list(hub.services.async_services()["gate"]) == ["open"]


async def test_service_data_is_copied_for_the_handler(hub: Hub) -> None:
    calls: list[ServiceCall] = []
    hub.services.async_register("gate", "open", _handler("callback", calls))
    data = {"gate": "north"}

    await hub.services.async_call("gate", "open", data)
    data["gate"] = "south"

    assert calls[0].data == {"gate": "north"}


# --------------------------------------------------------------------------- schemas


SCHEMA = vol.Schema({vol.Required("floor"): vol.Coerce(int), vol.Optional("note"): str})


@pytest.mark.parametrize(
    ("data", "bad_key"),
    [
        ({"floor": "ground"}, "floor"),
        ({}, "floor"),
        ({"floor": 3, "note": 7}, "note"),
        ({"floor": 3, "colour": "red"}, "colour"),
    ],
)
async def test_schema_error_names_the_key(hub: Hub, data: dict[str, Any], bad_key: str) -> None:
    calls: list[ServiceCall] = []
    events: list[Event[Any]] = []
    hub.services.async_register("elevator", "call", _handler("callback", calls), schema=SCHEMA)
    hub.bus.async_listen(EVENT_CALL_SERVICE, _collect(events))

    with pytest.raises(ServiceValidationError) as err:
        await hub.services.async_call("elevator", "call", data)

    assert bad_key in str(err.value)
    assert "elevator.call" in str(err.value)
    assert isinstance(err.value, ValueError)
    assert calls == []
    assert events == []


async def test_schema_output_reaches_the_handler(hub: Hub) -> None:
    calls: list[ServiceCall] = []
    hub.services.async_register("elevator", "call", _handler("callback", calls), schema=SCHEMA)

    await hub.services.async_call("elevator", "call", {"floor": "12"})

    assert calls[0].data == {"floor": 12}


async def test_schema_is_checked_for_non_blocking_calls_too(hub: Hub) -> None:
    calls: list[ServiceCall] = []
    hub.services.async_register("elevator", "call", _handler("coroutine", calls), schema=SCHEMA)

    with pytest.raises(ServiceValidationError, match="floor"):
        await hub.services.async_call("elevator", "call", {}, blocking=False)
    await hub.async_block_till_done()

    assert calls == []


# --------------------------------------------------------------------------- unknown services


async def test_unknown_service_suggests_close_match(hub: Hub) -> None:
    hub.services.async_register("gate", "open", _handler("callback", []))
    hub.services.async_register("gate", "close", _handler("callback", []))

    with pytest.raises(ServiceNotFound) as err:
        await hub.services.async_call("gate", "opne")

    assert "gate.opne" in str(err.value)
    assert "did you mean gate.open" in str(err.value)
    assert err.value.domain == "gate"
    assert err.value.service == "opne"
    assert isinstance(err.value, LinliError)


async def test_unknown_service_without_close_match(hub: Hub) -> None:
    hub.services.async_register("gate", "open", _handler("callback", []))

    with pytest.raises(ServiceNotFound) as err:
        await hub.services.async_call("parking", "pay_fee", blocking=False)

    assert "parking.pay_fee" in str(err.value)
    assert "did you mean" not in str(err.value)


# --------------------------------------------------------------------------- responses


@pytest.mark.parametrize("kind", KINDS)
async def test_response_returned_when_asked(hub: Hub, kind: str) -> None:
    calls: list[ServiceCall] = []
    hub.services.async_register(
        "parking",
        "quote",
        _handler(kind, calls, {"fee": 12}),
        supports_response=SupportsResponse.OPTIONAL,
    )

    assert await hub.services.async_call("parking", "quote", return_response=True) == {"fee": 12}
    assert calls[0].return_response is True


async def test_optional_response_not_asked_returns_none_but_runs(hub: Hub) -> None:
    calls: list[ServiceCall] = []
    hub.services.async_register(
        "parking",
        "quote",
        _handler("callback", calls, {"fee": 12}),
        supports_response=SupportsResponse.OPTIONAL,
    )

    assert await hub.services.async_call("parking", "quote") is None
    assert len(calls) == 1
    assert calls[0].return_response is False


async def test_only_response_service_needs_return_response(hub: Hub) -> None:
    calls: list[ServiceCall] = []
    hub.services.async_register(
        "parking",
        "quote",
        _handler("callback", calls, {"fee": 12}),
        supports_response=SupportsResponse.ONLY,
    )

    with pytest.raises(LinliError, match="return_response"):
        await hub.services.async_call("parking", "quote")
    assert calls == []
    assert await hub.services.async_call("parking", "quote", return_response=True) == {"fee": 12}


async def test_service_without_response_refuses_return_response(hub: Hub) -> None:
    calls: list[ServiceCall] = []
    hub.services.async_register("gate", "open", _handler("callback", calls, {"x": 1}))

    with pytest.raises(LinliError, match=r"gate\.open"):
        await hub.services.async_call("gate", "open", return_response=True)
    assert calls == []


@pytest.mark.parametrize("supports", [SupportsResponse.OPTIONAL, SupportsResponse.ONLY])
async def test_return_response_needs_blocking(hub: Hub, supports: SupportsResponse) -> None:
    calls: list[ServiceCall] = []
    hub.services.async_register(
        "parking", "quote", _handler("coroutine", calls, {"fee": 1}), supports_response=supports
    )

    with pytest.raises(LinliError, match="blocking"):
        await hub.services.async_call("parking", "quote", blocking=False, return_response=True)
    await hub.async_block_till_done()
    assert calls == []


async def test_non_dict_response_is_an_error(hub: Hub) -> None:
    hub.services.async_register(
        "parking",
        "quote",
        _handler("callback", [], ["not", "a", "dict"]),  # type: ignore[arg-type]
        supports_response=SupportsResponse.ONLY,
    )

    with pytest.raises(LinliError, match="non-dict"):
        await hub.services.async_call("parking", "quote", return_response=True)


# --------------------------------------------------------------------------- blocking or not


async def test_non_blocking_call_runs_as_task(hub: Hub) -> None:
    steps: list[str] = []

    async def slow(call: ServiceCall) -> None:
        steps.append("started")
        for _ in range(3):
            await asyncio.sleep(0)
        steps.append("finished")

    hub.services.async_register("gate", "open", slow)

    assert await hub.services.async_call("gate", "open", blocking=False) is None
    assert "finished" not in steps
    await hub.async_block_till_done()
    assert steps == ["started", "finished"]


async def test_blocking_call_waits_for_the_handler(hub: Hub) -> None:
    steps: list[str] = []

    async def slow(call: ServiceCall) -> None:
        for _ in range(3):
            await asyncio.sleep(0)
        steps.append("finished")

    def blocking(call: ServiceCall) -> None:
        threading.Event().wait(0.02)
        steps.append("blocking finished")

    hub.services.async_register("gate", "open", slow)
    hub.services.async_register("gate", "sync_open", blocking)

    await hub.services.async_call("gate", "open")
    assert steps == ["finished"]
    await hub.services.async_call("gate", "sync_open")
    assert steps == ["finished", "blocking finished"]


@pytest.mark.parametrize("kind", KINDS)
async def test_handler_exception_propagates_to_blocking_caller(hub: Hub, kind: str) -> None:
    def boom(call: ServiceCall) -> None:
        raise RuntimeError("gate jammed")

    async def boom_async(call: ServiceCall) -> None:
        await asyncio.sleep(0)
        raise RuntimeError("gate jammed")

    handler = {"callback": callback(boom), "coroutine": boom_async, "blocking": boom}[kind]
    hub.services.async_register("gate", "open", handler)

    with pytest.raises(RuntimeError, match="gate jammed"):
        await hub.services.async_call("gate", "open")


async def test_non_blocking_handler_exception_is_logged_with_owner(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    async def boom(call: ServiceCall) -> None:
        raise RuntimeError("gate jammed")

    hub.services.async_register("gate", "open", boom, owner="linli_gate")

    with caplog.at_level(logging.ERROR):
        await hub.services.async_call("gate", "open", blocking=False)
        await hub.async_block_till_done()

    assert "linli_gate" in caplog.text
    assert "gate.open" in caplog.text
    assert "gate jammed" in caplog.text


# --------------------------------------------------------------------------- events and context


async def test_call_service_event_with_context(hub: Hub) -> None:
    calls: list[ServiceCall] = []
    events: list[Event[Any]] = []
    hub.services.async_register("gate", "open", _handler("coroutine", calls))
    hub.bus.async_listen(EVENT_CALL_SERVICE, _collect(events))
    context = Context(user_id="guard-3")

    await hub.services.async_call("gate", "open", {"gate": "north"}, context=context)

    assert len(events) == 1
    assert events[0].data == {
        "domain": "gate",
        "service": "open",
        "service_data": {"gate": "north"},
    }
    assert events[0].context is context
    assert calls[0].context is context


async def test_call_without_context_shares_a_new_one_with_its_event(hub: Hub) -> None:
    calls: list[ServiceCall] = []
    events: list[Event[Any]] = []
    hub.services.async_register("gate", "open", _handler("callback", calls))
    hub.bus.async_listen(EVENT_CALL_SERVICE, _collect(events))

    await hub.services.async_call("gate", "open")
    await hub.services.async_call("gate", "open")

    assert events[0].context is calls[0].context
    assert calls[0].context.id != calls[1].context.id


async def test_call_service_event_fired_before_non_blocking_handler(hub: Hub) -> None:
    order: list[str] = []

    async def handler(call: ServiceCall) -> None:
        order.append("handler")

    hub.services.async_register("gate", "open", handler)
    hub.bus.async_listen(EVENT_CALL_SERVICE, callback(lambda e: order.append("event")))

    await hub.services.async_call("gate", "open", blocking=False)
    await hub.async_block_till_done()

    assert order == ["event", "handler"]


async def test_registered_and_removed_events(hub: Hub) -> None:
    registered: list[Event[Any]] = []
    removed: list[Event[Any]] = []
    hub.bus.async_listen(EVENT_SERVICE_REGISTERED, _collect(registered))
    hub.bus.async_listen(EVENT_SERVICE_REMOVED, _collect(removed))

    hub.services.async_register("Gate", "Open", _handler("callback", []))
    hub.services.async_remove("gate", "open")
    hub.services.async_remove("gate", "open")  # a second time: nothing to remove

    assert [e.data for e in registered] == [{"domain": "gate", "service": "open"}]
    assert [e.data for e in removed] == [{"domain": "gate", "service": "open"}]
    assert not hub.services.has_service("gate", "open")
    assert "gate" not in hub.services.async_services()
    with pytest.raises(ServiceNotFound):
        await hub.services.async_call("gate", "open")


async def test_remove_is_case_insensitive_like_register(hub: Hub) -> None:
    removed: list[Event[Any]] = []
    hub.bus.async_listen(EVENT_SERVICE_REMOVED, _collect(removed))
    hub.services.async_register("Gate", "Open", _handler("callback", []))

    hub.services.async_remove("Gate", "Open")

    assert not hub.services.has_service("gate", "open")
    assert [e.data for e in removed] == [{"domain": "gate", "service": "open"}]


async def test_remove_owner_removes_only_its_services(hub: Hub) -> None:
    hub.services.async_register("gate", "open", _handler("callback", []), owner="linli_gate")
    hub.services.async_register("gate", "close", _handler("callback", []), owner="linli_gate")
    hub.services.async_register("parking", "pay", _handler("callback", []), owner="linli_park")

    assert hub.services.async_remove_owner("linli_gate") == 2

    assert not hub.services.has_service("gate", "open")
    assert not hub.services.has_service("gate", "close")
    assert hub.services.has_service("parking", "pay")


async def test_async_services_is_a_snapshot(hub: Hub) -> None:
    hub.services.async_register("gate", "open", _handler("callback", []), description="Open")
    snapshot = hub.services.async_services()

    snapshot["gate"].clear()
    snapshot.clear()

    services = hub.services.async_services()
    assert services["gate"]["open"].description == "Open"
    assert services["gate"]["open"].supports_response is SupportsResponse.NONE
