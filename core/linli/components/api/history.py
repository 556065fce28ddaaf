"""``/api/history/period`` and ``/api/logbook``: the recorder's history, filtered by permission."""

from __future__ import annotations

from datetime import datetime, timedelta
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, ClassVar
from zoneinfo import ZoneInfo

from aiohttp import web

from linli.components.http import KEY_HUB, KEY_PERMISSIONS, BadRequest, HubView, json_response
from linli.exceptions import LinliError
from linli.state import valid_entity_id

if TYPE_CHECKING:
    from linli.auth import Permissions
    from linli.hub import Hub

DEFAULT_PERIOD = timedelta(days=1)


def parse_time(hub: Hub, text: str, what: str) -> datetime:
    """Parse an ISO 8601 time; a naive one is in the community's time zone."""
    for candidate in (text, text.replace(" ", "+")):  # '+' arrives as ' ' in a query
        try:
            value = datetime.fromisoformat(candidate)
        except ValueError:
            continue
        if value.tzinfo is None:
            value = value.replace(tzinfo=ZoneInfo(hub.config.time_zone))
        return value
    raise BadRequest(f"Invalid {what}")


def _period(request: web.Request, start_text: str | None) -> tuple[datetime, datetime]:
    hub: Hub = request.app[KEY_HUB]
    now = hub.clock.utcnow()
    start = now - DEFAULT_PERIOD if start_text is None else parse_time(hub, start_text, "datetime")
    end_text = request.query.get("end_time")
    if end_text is not None:
        end = parse_time(hub, end_text, "end_time")
    elif "period" in request.query:
        try:
            days = int(request.query["period"])
        except ValueError:
            raise BadRequest("Invalid period") from None
        if not 0 < days <= 366:
            raise BadRequest("Invalid period")
        end = start + timedelta(days=days)
    else:
        end = start + DEFAULT_PERIOD
    return start, end


def _recorder(hub: Hub) -> Any:
    from linli.components.recorder import get_recorder

    try:
        return get_recorder(hub)
    except LinliError as err:
        raise BadRequest(
            f"History is not available: {err}", HTTPStatus.SERVICE_UNAVAILABLE
        ) from err


def _readable_ids(request: web.Request, wanted: list[str] | None) -> list[str] | None:
    """The entity ids to query: as asked for admins, cut to the readable ones for others."""
    permissions: Permissions = request[KEY_PERMISSIONS]
    if permissions.is_admin:
        return wanted
    if wanted is not None:
        return [entity_id for entity_id in wanted if permissions.can_read_entity(entity_id)]
    hub: Hub = request.app[KEY_HUB]
    ids = {state.entity_id for state in permissions.filter_states(hub.states.async_all())}
    ids |= {
        entity_id
        for entity_id in hub.registries.entities.entities
        if permissions.can_read_entity(entity_id)
    }
    return sorted(ids)


class HistoryPeriodView(HubView):
    """``GET /api/history/period[/<start>]``: state changes, one list per entity."""

    url = "/api/history/period"
    extra_urls: ClassVar[list[str]] = ["/api/history/period/{timestamp}"]
    name = "api:history:period"

    async def get(self, request: web.Request, timestamp: str | None = None) -> web.StreamResponse:
        """Return ``[[state, …], …]`` as Home Assistant does."""
        hub: Hub = request.app[KEY_HUB]
        start, end = _period(request, timestamp)
        if start > hub.clock.utcnow():
            return json_response([])
        wanted: list[str] | None = None
        if "filter_entity_id" in request.query:
            wanted = [
                part.strip().lower()
                for part in request.query["filter_entity_id"].split(",")
                if part.strip()
            ]
            if not wanted or not all(valid_entity_id(entity_id) for entity_id in wanted):
                raise BadRequest("Invalid filter_entity_id")
        entity_ids = _readable_ids(request, wanted)
        if entity_ids is not None and not entity_ids:
            return json_response([])
        query = request.query
        result = await _recorder(hub).async_state_changes_during_period(
            start,
            end,
            entity_ids,
            significant_changes_only=query.get("significant_changes_only", "1") != "0",
            minimal_response="minimal_response" in query,
            no_attributes="no_attributes" in query,
        )
        return json_response([rows for rows in result.values() if rows])


class LogbookView(HubView):
    """``GET /api/logbook[/<start>]``: logbook entries (``entity``, ``end_time``, ``period``)."""

    url = "/api/logbook"
    extra_urls: ClassVar[list[str]] = ["/api/logbook/{timestamp}"]
    name = "api:logbook"

    async def get(self, request: web.Request, timestamp: str | None = None) -> web.StreamResponse:
        """Return the entries the user may read."""
        hub: Hub = request.app[KEY_HUB]
        permissions: Permissions = request[KEY_PERMISSIONS]
        start, end = _period(request, timestamp)
        entity = request.query.get("entity")
        wanted: list[str] | None = None
        if entity is not None:
            wanted = [part.strip().lower() for part in entity.split(",") if part.strip()]
            if not wanted or not all(valid_entity_id(entity_id) for entity_id in wanted):
                raise BadRequest("Invalid entity")
        if not permissions.is_admin:
            wanted = _readable_ids(request, wanted)
            if not wanted:
                return json_response([])
        entries: list[dict[str, Any]] = await _recorder(hub).async_logbook(start, end, wanted)
        if not permissions.is_admin:
            entries = [
                entry
                for entry in entries
                if isinstance(entry.get("entity_id"), str)
                and permissions.can_read_entity(entry["entity_id"])
            ]
        return json_response(entries)
