"""Who may read and change plates, visitor passes, the blacklist and the gate log.

One set of operations serves REST and WebSocket (:mod:`linli_plate_gate.views`):

==========================  =====  ======================  ======  ===========================
operation                   admin  staff / grid worker     police  resident
==========================  =====  ======================  ======  ===========================
resident plates: list       all    households in scope ¹   —       own household
resident plates: add/remove ✓      staff: in scope         —       —
visitor passes: list        all    households in scope ¹   —       own household
visitor passes: add/remove  ✓      staff: in scope         —       own household only
blacklist: list/add/remove  ✓      staff                   —       —
gate log                    all    gates in scope ¹        gates   own household's reads
                                                           in
                                                           scope ¹
==========================  =====  ======================  ======  ===========================

¹ audited (``read_personal_data``). A household or entry outside the caller's reach is "not
found", like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import select

from linli import Context, Hub
from linli.auth import Role
from linli.db import get_database
from linli_plate_gate import store
from linli_plate_gate.gate import new_id
from linli_plate_gate.plates import Plate, classify, parse_color

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from linli.auth import Permissions
    from linli_plate_gate.gate import GateManager

ACTION_READ: Final = "read_personal_data"
MAX_PASS_SECONDS: Final = 31 * 86_400
MAX_LOG_ROWS: Final = 1000
MAX_NOTE: Final = 255


class ApiError(Exception):
    """A refused request: ``kind`` is ``invalid``, ``not_found``, ``forbidden`` or ``conflict``."""

    def __init__(self, kind: str, message: str) -> None:
        """Refuse with ``message``."""
        super().__init__(message)
        self.kind = kind
        self.message = message


def _invalid(message: str) -> ApiError:
    return ApiError("invalid", message)


def _not_found(what: str) -> ApiError:
    return ApiError("not_found", f"{what} not found.")


def _forbidden() -> ApiError:
    return ApiError("forbidden", "Forbidden.")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asks, and through which door (for the audit log)."""

    permissions: Permissions
    context: Context
    via: str

    @property
    def user_id(self) -> str:
        """The user's id."""
        return self.permissions.user.id

    @property
    def role(self) -> Role:
        """The user's role."""
        return self.permissions.user.role

    @property
    def is_admin(self) -> bool:
        """Whether the user is an admin."""
        return self.permissions.is_admin


# ---------------------------------------------------------------------------- input


def _text(data: Mapping[str, Any], key: str, *, required: bool, max_length: int) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise _invalid(f"'{key}' is required.")
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise _invalid(f"'{key}' should be a non-empty string of at most {max_length} chars.")
    if "\x00" in value:  # PostgreSQL can neither store nor compare them
        raise _invalid(f"'{key}' should not contain NUL characters.")
    return value.strip()


def _only(data: Mapping[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(data) - allowed)
    if extra:
        raise _invalid(f"Unknown key(s): {', '.join(extra)}.")


def _plate(data: Mapping[str, Any]) -> Plate:
    raw = _text(data, "plate", required=True, max_length=32)
    assert raw is not None
    try:
        color = parse_color(data.get("color"))
    except ValueError as err:
        raise _invalid(f"'color': {err}.") from None
    plate = classify(raw, color)
    if not plate.valid:
        raise _invalid(f"'plate': {raw!r} is not a licence plate.")
    return plate


def _time(hub: Hub, value: Any, key: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, str):
        raise _invalid(f"'{key}' is required: an ISO 8601 time (local when without offset).")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise _invalid(f"'{key}': {value!r} is not an ISO 8601 time.") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(hub.config.time_zone))
    return parsed.timestamp()


# ---------------------------------------------------------------------------- the API


class PlateApi:
    """The operations behind REST and WebSocket, checked per caller."""

    def __init__(self, hub: Hub, manager: GateManager) -> None:
        """Serve ``manager``'s plates and log."""
        self.hub = hub
        self.manager = manager

    # ------------------------------------------------------------------ helpers
    async def _audit(
        self, caller: Caller, subject: str, area_id: str | None = None, **details: Any
    ) -> None:
        if not caller.permissions.audits_personal_data:
            return
        from linli.audit import async_audit

        await async_audit(
            self.hub,
            user_id=caller.user_id,
            action=ACTION_READ,
            subject=subject,
            area_id=area_id,
            details={"via": caller.via, **details},
            context=caller.context,
        )

    def _own_household(self, caller: Caller) -> str | None:
        person_id = caller.permissions.user.person_id
        if person_id is None:
            return None
        person = self.hub.registries.people.async_get_person(person_id)
        return None if person is None else person.household_id

    def _readable_household(self, caller: Caller, household_id: str) -> None:
        people = self.hub.registries.people
        if people.async_get_household(household_id) is None or not (
            caller.permissions.can_read_household(household_id)
        ):
            raise _not_found("Household")

    def _household_scope(self, caller: Caller, household_id: str | None) -> set[str] | None:
        """Households a list may show (None: every one, for admins)."""
        if caller.role is Role.police:
            raise _forbidden()
        if household_id is not None:
            self._readable_household(caller, household_id)
            return {household_id}
        if caller.is_admin:
            return None
        if caller.role is Role.resident:
            own = self._own_household(caller)
            return set() if own is None else {own}
        can_read = caller.permissions.can_read_household
        return {h for h in self.hub.registries.people.households if can_read(h)}

    def _writable_household(self, caller: Caller, household_id: str, *, residents: bool) -> None:
        """Staff (in scope) and admins may write; residents their own household (passes)."""
        self._readable_household(caller, household_id)
        if caller.is_admin or caller.role is Role.staff:
            return
        if caller.role is Role.resident and residents:
            return  # can_read_household already held it to their own household
        raise _forbidden()

    # ------------------------------------------------------------------ resident plates
    async def async_list_plates(self, caller: Caller, household_id: str | None) -> list[Any]:
        """Resident plates the caller may read."""
        scope = self._household_scope(caller, household_id)
        entries = [
            entry.as_dict()
            for entry in self.manager.residents.values()
            if scope is None or entry.household_id in scope
        ]
        entries.sort(key=lambda item: (item["household_id"], item["plate"]))
        subject = f"plates:household:{household_id}" if household_id else "plates"
        await self._audit(caller, subject, count=len(entries))
        return entries

    async def async_add_plate(self, caller: Caller, data: Mapping[str, Any]) -> dict[str, Any]:
        """Register a household's plate (staff in scope, admins)."""
        _only(data, {"household_id", "plate", "color", "note"})
        household_id = _text(data, "household_id", required=True, max_length=64)
        assert household_id is not None
        self._writable_household(caller, household_id, residents=False)
        plate = _plate(data)
        note = _text(data, "note", required=False, max_length=MAX_NOTE)
        entry = await self.async_store_resident_plate(household_id, plate, note, caller.user_id)
        return {**entry.as_dict(), "flag": None if plate.flag is None else plate.flag.value}

    async def async_store_resident_plate(
        self, household_id: str, plate: Plate, note: str | None, user_id: str | None
    ) -> store.ResidentPlate:
        """Register ``plate`` for the household (checked by the caller); conflict if taken."""
        if self.manager.residents.matching(plate.key):
            raise ApiError("conflict", "This plate is registered already.")
        entry = store.ResidentPlate(
            new_id(self.hub.clock.time()),
            household_id,
            plate.key,
            plate.plate_class.value,
            note,
            self.hub.clock.time(),
            user_id,
        )

        def write(session: Session) -> None:
            store.insert_entry(session, store.RESIDENT_PLATES, entry)

        await get_database(self.hub).async_run(write)
        self.manager.residents.add(entry)
        return entry

    async def async_remove_plate(self, caller: Caller, plate_id: str) -> None:
        """Remove a resident plate (staff in scope, admins)."""
        entry: store.ResidentPlate | None = self.manager.residents.by_id.get(plate_id)
        if entry is None:
            raise _not_found("Plate")
        try:
            self._writable_household(caller, entry.household_id, residents=False)
        except ApiError as err:
            if err.kind == "not_found":
                raise _not_found("Plate") from None
            raise

        def write(session: Session) -> None:
            store.delete_by_id(session, store.RESIDENT_PLATES, plate_id)

        await get_database(self.hub).async_run(write)
        self.manager.residents.remove(plate_id)

    # ------------------------------------------------------------------ visitor passes
    async def async_list_passes(self, caller: Caller, household_id: str | None) -> list[Any]:
        """Visitor passes still running (or ended within a day) the caller may read."""
        scope = self._household_scope(caller, household_id)
        entries = [
            entry.as_dict()
            for entry in self.manager.passes.values()
            if scope is None or entry.household_id in scope
        ]
        entries.sort(key=lambda item: (item["start_ts"], item["id"]))
        subject = f"visitor_passes:household:{household_id}" if household_id else "visitor_passes"
        await self._audit(caller, subject, count=len(entries))
        return entries

    async def async_add_pass(self, caller: Caller, data: Mapping[str, Any]) -> dict[str, Any]:
        """Register a visitor's plate for a window; residents for their own household only."""
        _only(data, {"household_id", "plate", "color", "start", "end", "note"})
        household_id = _text(data, "household_id", required=False, max_length=64)
        if household_id is None:
            household_id = self._own_household(caller)
            if household_id is None:
                raise _invalid("'household_id' is required.")
        self._writable_household(caller, household_id, residents=True)
        plate = _plate(data)
        start = _time(self.hub, data.get("start"), "start")
        end = _time(self.hub, data.get("end"), "end")
        if end <= start:
            raise _invalid("'end' should be after 'start'.")
        if end - start > MAX_PASS_SECONDS:
            raise _invalid("A visitor pass may last at most 31 days.")
        now = self.hub.clock.time()
        if end <= now:
            raise _invalid("'end' is in the past.")
        entry = store.VisitorPass(
            new_id(now),
            household_id,
            plate.key,
            start,
            end,
            _text(data, "note", required=False, max_length=MAX_NOTE),
            now,
            caller.user_id,
        )

        def write(session: Session) -> None:
            store.insert_entry(session, store.VISITOR_PASSES, entry)

        await get_database(self.hub).async_run(write)
        self.manager.passes.add(entry)
        return entry.as_dict()

    async def async_remove_pass(self, caller: Caller, pass_id: str) -> None:
        """Cancel a visitor pass (the household's residents, staff in scope, admins)."""
        entry: store.VisitorPass | None = self.manager.passes.by_id.get(pass_id)
        if entry is None:
            raise _not_found("Visitor pass")
        try:
            self._writable_household(caller, entry.household_id, residents=True)
        except ApiError as err:
            if err.kind == "not_found":
                raise _not_found("Visitor pass") from None
            raise

        def write(session: Session) -> None:
            store.delete_by_id(session, store.VISITOR_PASSES, pass_id)

        await get_database(self.hub).async_run(write)
        self.manager.passes.remove(pass_id)

    # ------------------------------------------------------------------ blacklist
    def _blacklist_user(self, caller: Caller) -> None:
        if not (caller.is_admin or caller.role is Role.staff):
            raise _forbidden()

    async def async_list_blacklist(self, caller: Caller) -> list[Any]:
        """The blacklist (staff, admins)."""
        self._blacklist_user(caller)
        entries = sorted(
            (entry.as_dict() for entry in self.manager.blacklist.values()),
            key=lambda item: item["plate"],
        )
        await self._audit(caller, "plate_blacklist", count=len(entries))
        return entries

    async def async_add_blacklist(self, caller: Caller, data: Mapping[str, Any]) -> dict[str, Any]:
        """Add a plate to the blacklist (staff, admins)."""
        self._blacklist_user(caller)
        _only(data, {"plate", "color", "reason"})
        plate = _plate(data)
        entry = store.BlacklistEntry(
            new_id(self.hub.clock.time()),
            plate.key,
            _text(data, "reason", required=False, max_length=MAX_NOTE),
            self.hub.clock.time(),
            caller.user_id,
        )

        def write(session: Session) -> None:
            store.insert_entry(session, store.BLACKLIST, entry)

        await get_database(self.hub).async_run(write)
        self.manager.blacklist.add(entry)
        return entry.as_dict()

    async def async_remove_blacklist(self, caller: Caller, entry_id: str) -> None:
        """Take a plate off the blacklist (staff, admins)."""
        self._blacklist_user(caller)
        if entry_id not in self.manager.blacklist.by_id:
            raise _not_found("Blacklist entry")

        def write(session: Session) -> None:
            store.delete_by_id(session, store.BLACKLIST, entry_id)

        await get_database(self.hub).async_run(write)
        self.manager.blacklist.remove(entry_id)

    # ------------------------------------------------------------------ gate log
    async def async_gate_log(self, caller: Caller, query: Mapping[str, Any]) -> list[Any]:
        """Reads, newest first: ``gate_id``, ``household_id``, ``plate``, ``since``, ``until``,
        ``limit`` (≤ 1000)."""
        _only(query, {"gate_id", "household_id", "plate", "since", "until", "limit"})
        gate_id = _text(query, "gate_id", required=False, max_length=64)
        household_id = _text(query, "household_id", required=False, max_length=64)
        plate_text = _text(query, "plate", required=False, max_length=32)
        try:
            limit = int(query.get("limit", 100))
        except (TypeError, ValueError):
            raise _invalid("'limit' should be an integer.") from None
        limit = max(1, min(limit, MAX_LOG_ROWS))
        since = None if query.get("since") is None else _time(self.hub, query["since"], "since")
        until = None if query.get("until") is None else _time(self.hub, query["until"], "until")
        gates = self.manager.gates
        if gate_id is not None and gate_id not in gates:
            raise _not_found("Gate")
        reads = store.READS
        statement = select(reads)
        if caller.is_admin:
            subject = "plate_log"
        elif caller.role is Role.resident:
            own = self._own_household(caller)
            if household_id is not None and household_id != own:
                raise _not_found("Household")
            if own is None:
                return []
            household_id = own
            subject = f"plate_log:{own}"
        elif caller.role in (Role.staff, Role.grid_worker, Role.police):
            in_scope = [
                gid for gid, gate in gates.items() if caller.permissions.area_in_scope(gate.area_id)
            ]
            if gate_id is not None and gate_id not in in_scope:
                raise _not_found("Gate")
            statement = statement.where(reads.c.gate_id.in_(in_scope))
            subject = "plate_log"
        else:
            raise _forbidden()
        if gate_id is not None:
            statement = statement.where(reads.c.gate_id == gate_id)
            subject = f"plate_log:gate:{gate_id}"
        if household_id is not None:
            statement = statement.where(reads.c.household_id == household_id)
            subject = f"plate_log:{household_id}"
        if plate_text is not None:
            statement = statement.where(reads.c.plate == classify(plate_text).number)
        if since is not None:
            statement = statement.where(reads.c.time_ts >= since)
        if until is not None:
            statement = statement.where(reads.c.time_ts < until)
        statement = statement.order_by(reads.c.time_ts.desc(), reads.c.read_id.desc()).limit(limit)

        def read(session: Session) -> list[dict[str, Any]]:
            return [store.read_as_dict(row) for row in session.execute(statement)]

        rows = await get_database(self.hub).async_run(read)
        area_id = gates[gate_id].area_id if gate_id is not None else None
        await self._audit(caller, subject, area_id, count=len(rows))
        return rows
