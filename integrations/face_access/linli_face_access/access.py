"""Access control: terminal messages in, decisions out, the log, events, enrolment, erasure.

One :class:`FaceAccess` per hub. Terminals talk over Linli's MQTT topics (kind
``face_terminal``) or push Hikvision ISAPI events to a webhook. A terminal either reports
its own decision (``granted``/``denied``) or asks (``request``): the hub then decides — a
face template against the enrolled ones (cosine similarity), a card, a QR code or a PIN —
and answers ``open``/``deny`` on the terminal's command topic. Every attempt becomes an
access log row and a ``face_access_passage`` event; tailgating and reverse passing become
``face_access_anomaly`` events; each granted use of a card, QR code or PIN updates the day's
group-rental facts (``face_access_credential_used``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

from aiohttp import web

from linli.exceptions import LinliError
from linli.util.ids import ulid
from linli_face_access.config import (
    CONF_MATCH_THRESHOLD,
    CONF_STORE_SNAPSHOTS,
    CONF_UNLOCK_SECONDS,
    CONF_VISITOR_QR_MAX_HOURS,
    Door,
    LintIssue,
    Terminal,
    doors_from_config,
    lint_doors,
)
from linli_face_access.const import (
    CONSENT_FACE,
    CRED_CARD,
    CRED_PIN,
    CRED_QR,
    CRED_VISITOR_QR,
    DECIDED_BY_HUB,
    DECIDED_BY_TERMINAL,
    EVENT_ANOMALY,
    EVENT_CREDENTIAL_USED,
    EVENT_PASSAGE,
    MAX_SNAPSHOT_BYTES,
    METHOD_CARD,
    METHOD_FACE,
    METHOD_QR,
    TERMINAL_HIKVISION,
    TERMINAL_KIND,
    TERMINAL_MQTT,
)
from linli_face_access.credentials import (
    CredentialError,
    check_pin,
    hash_pin,
    new_qr_token,
    normalise_card,
    qr_lookup,
    verify_pin,
)
from linli_face_access.usage import UsageCounter

if TYPE_CHECKING:
    # numpy comes with the matcher: it is imported when the first face needs it, or when the
    # index is built once the hub runs, so the hub's start does not wait for it.
    from linli import Hub
    from linli_face_access.entities import DoorEvents, DoorLock
    from linli_face_access.matcher import FaceIndex, Vector
    from linli_face_access.store import Credential, FaceStore
    from linli_mqtt import DeviceMessage

_LOGGER = logging.getLogger(__name__)

REJECT_REASONS: Final = (
    "unknown_terminal",
    "request_without_id",
    "bad_template",
    "bad_snapshot",
    "missing_credential",
    "bad_push",
)
ISAPI_TIMEOUT: Final = 10.0
"""Seconds a Hikvision terminal gets to answer a delete (the withdrawal waits for it)."""
ISAPI_DELETE_PATH: Final = "/ISAPI/AccessControl/UserInfo/Delete"


class FaceAccessError(LinliError, ValueError):
    """A request the integration refuses (no consent, unknown person, bad value…)."""


@dataclass(slots=True)
class Attempt:
    """One passage attempt, decided."""

    door: Door
    terminal: Terminal
    method: str
    granted: bool
    reason: str
    decided_by: str
    person_id: str | None = None
    credential: Credential | None = None
    face: Vector | None = None
    snapshot: bytes | None = None
    source_key: str | None = None


def _snapshot_bytes(text: str | None) -> bytes | None:
    """A base64 JPEG of at most 48 KiB, or None; ValueError when it is not one."""
    if text is None:
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as err:
        raise ValueError("snapshot is not base64") from err
    if len(raw) > MAX_SNAPSHOT_BYTES or not raw.startswith(b"\xff\xd8"):
        raise ValueError("snapshot is not a JPEG of at most 48 KiB")
    return raw


class FaceAccess:
    """The integration's state on one hub."""

    def __init__(self, hub: Hub, config: dict[str, Any], store: FaceStore) -> None:
        """Take the validated ``face_access:`` section and the store."""
        self.hub = hub
        self.store = store
        self.threshold: float = config[CONF_MATCH_THRESHOLD]
        self.store_snapshots: bool = config[CONF_STORE_SNAPSHOTS]
        self.unlock_seconds: float = config[CONF_UNLOCK_SECONDS]
        self.visitor_qr_max_hours: float = config[CONF_VISITOR_QR_MAX_HOURS]
        self.doors: dict[str, Door] = {door.id: door for door in doors_from_config(config)}
        self.terminals: dict[str, Terminal] = {
            t.id: t for door in self.doors.values() for t in door.terminals
        }
        self.webhooks: dict[str, Terminal] = {
            t.webhook_id: t for t in self.terminals.values() if t.webhook_id
        }
        self.locks: dict[str, DoorLock] = {}
        self.events: dict[str, DoorEvents] = {}
        self.index: FaceIndex | None = None
        """The enrolled templates for matching; built once the hub runs."""
        self._first_build: asyncio.Task[None] | None = None
        self.usage = UsageCounter()
        self.lint: list[LintIssue] = []
        self.counters: Counter[str] = Counter()
        self.rejected: Counter[str] = Counter(dict.fromkeys(REJECT_REASONS, 0))

    # ------------------------------------------------------------------ setup
    def async_lint(self) -> list[LintIssue]:
        """Check the doors; log each warning once."""
        self.lint = lint_doors(
            list(self.doors.values()), {area.id for area in self.hub.registries.areas}
        )
        for issue in self.lint:
            _LOGGER.warning("face_access: %s", issue.message)
        return self.lint

    async def async_rebuild_index(self) -> None:
        """Reload the enrolled templates into the matching index (the first time: build it)."""
        from linli_face_access.matcher import FaceIndex

        first = self._first_build
        if first is not None and not first.done() and asyncio.current_task() is not first:
            # The first load may have read before this change: let it finish, then reload.
            await asyncio.shield(first)
        index = self.index or FaceIndex()
        index.rebuild(await self.store.async_all_templates())
        self.index = index

    async def async_build_index(self) -> None:
        """Build the matching index unless it exists (numpy comes with it), once for all who
        ask at the same time. A failed load leaves an empty index (logged): faces then match
        nobody and the other ways in keep working, rather than requests waiting."""
        if self.index is None and self._first_build is None:
            self._first_build = self.hub.async_create_background_task(
                self._async_first_build(), "face_access index"
            )
        if self._first_build is not None:
            await asyncio.shield(self._first_build)

    async def _async_first_build(self) -> None:
        from linli_face_access.matcher import FaceIndex

        try:
            await self.async_rebuild_index()
        except Exception:
            _LOGGER.exception("face_access: could not load the enrolled templates")
            if self.index is None:
                self.index = FaceIndex()

    async def _async_index(self) -> FaceIndex:
        await self.async_build_index()  # at once when it exists; a face may come before it
        assert self.index is not None
        return self.index

    def door_entity_id(self, door_id: str) -> str | None:
        """The lock entity of a door."""
        lock = self.locks.get(door_id)
        return None if lock is None else lock.entity_id

    # ------------------------------------------------------------------ people
    def _household_of(self, person_id: str | None) -> str | None:
        if person_id is None:
            return None
        person = self.hub.registries.people.async_get_person(person_id)
        return None if person is None else person.household_id

    def _local_day(self) -> str:
        zone = ZoneInfo(self.hub.config.time_zone)
        return self.hub.clock.utcnow().astimezone(zone).date().isoformat()

    def _reject(self, reason: str, terminal: str, detail: str) -> None:
        self.rejected[reason] += 1
        _LOGGER.warning("face_access: rejected a message of %s (%s): %s", terminal, reason, detail)

    # ------------------------------------------------------------------ MQTT intake
    async def async_handle_mqtt(self, hub: Hub, message: DeviceMessage) -> None:
        """Handle one validated ``face_terminal`` event."""
        if message.channel != "event":
            return
        self.counters["mqtt_received"] += 1
        terminal = self.terminals.get(message.device_id)
        if terminal is None or terminal.kind != TERMINAL_MQTT:
            self._reject("unknown_terminal", message.device_id, "not a configured mqtt terminal")
            return
        payload = message.payload
        kind = payload["type"]
        if kind == "person_deleted":
            verified = await self.store.async_verify_deletion(payload["person_ref"], terminal.id)
            self.counters["deletions_verified"] += verified
            return
        try:
            snapshot = _snapshot_bytes(payload.get("snapshot"))
        except ValueError as err:
            self._reject("bad_snapshot", terminal.id, str(err))
            return
        door = self.doors[terminal.door_id]
        source_key = None if message.message_id is None else f"{terminal.id}:{message.message_id}"
        if kind in ("tailgating", "reverse_passing"):
            await self._async_anomaly(door, terminal, kind, snapshot, source_key)
            return
        result = payload["result"]
        if result == "request" and message.message_id is None:
            self._reject("request_without_id", terminal.id, "a request needs an id to answer")
            return
        face: Vector | None = None
        if "template" in payload:
            from linli_face_access.matcher import TemplateError, decode_template

            try:
                face = decode_template(payload["template"])
            except TemplateError as err:
                self._reject("bad_template", terminal.id, str(err))
                if result == "request":
                    await self._async_answer(
                        terminal, message.message_id, False, None, "bad_template"
                    )
                return
        method = payload["method"]
        if source_key is not None:
            known = await self.store.async_find_log(source_key)
            if known is not None:  # a re-sent message: answer as before, log nothing new
                self.counters["duplicates"] += 1
                if result == "request":
                    await self._async_answer(
                        terminal,
                        message.message_id,
                        known["granted"],
                        known["person_id"],
                        known["reason"],
                    )
                return
        if result == "request":
            attempt = await self._async_decide(door, terminal, method, payload, face)
            await self._async_answer(
                terminal, message.message_id, attempt.granted, attempt.person_id, attempt.reason
            )
        else:
            attempt = await self._async_reported(
                door, terminal, method, result == "granted", payload, face
            )
        attempt.snapshot = snapshot
        attempt.source_key = source_key
        await self._async_record(attempt)

    async def _async_answer(
        self,
        terminal: Terminal,
        request_id: str | None,
        granted: bool,
        person_id: str | None,
        reason: str,
    ) -> None:
        from linli_mqtt import async_send_command

        command: dict[str, Any] = {
            "command": "open" if granted else "deny",
            "request_id": request_id,
            "reason": reason[:64],
        }
        if person_id is not None:
            command["person_ref"] = person_id
        try:
            await async_send_command(self.hub, TERMINAL_KIND, terminal.id, command)
        except Exception:
            _LOGGER.exception("face_access: could not answer terminal %s", terminal.id)

    # ------------------------------------------------------------------ decisions
    async def _async_decide(
        self,
        door: Door,
        terminal: Terminal,
        method: str,
        payload: dict[str, Any],
        face: Vector | None,
    ) -> Attempt:
        """The hub decides a request."""

        def attempt(granted: bool, reason: str, **kwargs: Any) -> Attempt:
            return Attempt(door, terminal, method, granted, reason, DECIDED_BY_HUB, **kwargs)

        if method not in door.methods:
            return attempt(False, "method_not_allowed", face=face)
        if method == METHOD_FACE:
            if face is None:
                return attempt(False, "no_template")
            match = (await self._async_index()).match(face, self.threshold)
            if match is None:
                return attempt(False, "unknown_face")
            return attempt(True, "face_matched", person_id=match.person_id)
        credential: Credential | None
        if method == METHOD_CARD:
            card_no = payload.get("card_no")
            if card_no is None:
                return attempt(False, "missing_credential", face=face)
            try:
                card = normalise_card(card_no)
            except CredentialError:
                return attempt(False, "unknown_credential", face=face)
            credential = await self.store.async_find_card(card)
            if credential is None:
                return attempt(False, "unknown_credential", face=face)
            return attempt(
                True, "card_valid", credential=credential, face=face, person_id=credential.person_id
            )
        if method == METHOD_QR:
            token = payload.get("qr")
            if token is None:
                return attempt(False, "missing_credential", face=face)
            credential, why = await self.store.async_use_qr(token)
            if why != "ok":
                return attempt(False, why, credential=credential, face=face)
            assert credential is not None
            return attempt(
                True, "qr_valid", credential=credential, face=face, person_id=credential.person_id
            )
        # PIN: of the named person, else any active PIN that matches
        pin = payload.get("pin")
        if pin is None:
            return attempt(False, "missing_credential", face=face)
        candidates = await self.store.async_pin_candidates(payload.get("person_ref"))

        def find() -> Credential | None:
            for credential, stored in candidates:
                if verify_pin(pin, stored):
                    return credential
            return None

        found = await self.hub.async_add_executor_job(find)
        if found is None:
            return attempt(False, "wrong_pin", face=face)
        return attempt(True, "pin_valid", credential=found, face=face, person_id=found.person_id)

    async def _async_reported(
        self,
        door: Door,
        terminal: Terminal,
        method: str,
        granted: bool,
        payload: dict[str, Any],
        face: Vector | None,
    ) -> Attempt:
        """A decision the terminal made itself: resolve who and with what, log it."""
        person_id = payload.get("person_ref")
        credential: Credential | None = None
        if method == METHOD_CARD and payload.get("card_no"):
            try:
                credential = await self.store.async_find_card(normalise_card(payload["card_no"]))
            except CredentialError:
                credential = None
        if credential is not None and person_id is None:
            person_id = credential.person_id
        if person_id is not None and self.hub.registries.people.async_get_person(person_id) is None:
            person_id = None
        return Attempt(
            door,
            terminal,
            method,
            granted,
            "terminal_granted" if granted else "terminal_denied",
            DECIDED_BY_TERMINAL,
            person_id=person_id,
            credential=credential,
            face=face if method != METHOD_FACE else None,
        )

    # ------------------------------------------------------------------ recording
    async def _async_record(self, attempt: Attempt) -> str:
        """Log the attempt, keep its snapshot (if configured), fire the events."""
        door = attempt.door
        credential = attempt.credential
        household_id = (
            credential.household_id
            if credential is not None and credential.household_id
            else self._household_of(attempt.person_id)
        )
        facts: dict[str, Any] = {
            "terminal_id": attempt.terminal.id,
            "area_id": door.area_id,
            "person_id": attempt.person_id,
            "household_id": household_id,
            "credential_id": None if credential is None else credential.id,
            "method": attempt.method,
            "granted": attempt.granted,
            "reason": attempt.reason,
            "decided_by": attempt.decided_by,
        }
        log_id, new, _snapshot_id = await self._async_log(
            door, facts, attempt.snapshot, attempt.source_key
        )
        if not new:
            self.counters["duplicates"] += 1
            return log_id
        self.counters["granted" if attempt.granted else "denied"] += 1
        door_entity_id = self.door_entity_id(door.id)
        self.hub.bus.async_fire(
            EVENT_PASSAGE, {"door_entity_id": door_entity_id, **facts, "log_id": log_id}
        )
        events = self.events.get(door.id)
        if events is not None:
            events.async_record(
                "granted" if attempt.granted else "denied",
                {
                    "method": attempt.method,
                    "reason": attempt.reason,
                    "terminal_id": attempt.terminal.id,
                    "log_id": log_id,
                },
            )
        lock = self.locks.get(door.id)
        if attempt.granted and lock is not None:
            lock.async_show_unlocked(attempt.method)
        if attempt.granted and credential is not None:
            self._count_use(credential, attempt, door)
        return log_id

    async def _async_log(
        self,
        door: Door,
        facts: dict[str, Any],
        snapshot: bytes | None,
        source_key: str | None,
    ) -> tuple[str, bool, str | None]:
        """Keep the snapshot (if configured) and write the log row of ``facts`` (the row's
        terminal, person, method and decision); ``(log_id, new, snapshot_id)``."""
        snapshot_id = None
        if snapshot is not None and self.store_snapshots:
            snapshot_id = await self.store.async_add_snapshot(
                snapshot,
                door_id=door.id,
                area_id=door.area_id,
                person_id=facts["person_id"],
                household_id=facts["household_id"],
            )
        now = self.hub.clock.time()
        log_id, new = await self.store.async_add_log(
            {
                "log_id": ulid(now),
                "time_ts": now,
                "door_id": door.id,
                **facts,
                "snapshot_id": snapshot_id,
                "source_key": source_key,
            }
        )
        return log_id, new, snapshot_id

    def _count_use(self, credential: Credential, attempt: Attempt, door: Door) -> None:
        day = self._local_day()
        recognised = attempt.person_id if attempt.face is None else None
        if attempt.face is not None and self.index is not None:
            match = self.index.match(attempt.face, self.threshold)
            recognised = None if match is None else match.person_id
        usage = self.usage.record(
            credential.id,
            day,
            person_id=recognised,
            face=attempt.face if recognised is None else None,
            threshold=self.threshold,
        )
        household_id = credential.household_id
        members = len(self.hub.registries.people.members(household_id)) if household_id else 0
        self.hub.bus.async_fire(
            EVENT_CREDENTIAL_USED,
            {
                "credential_id": credential.id,
                "credential_type": credential.type,
                "person_id": credential.person_id,
                "household_id": household_id,
                "area_id": door.area_id,
                "day": day,
                "uses_today": usage.uses,
                "distinct_people_today": usage.distinct_people,
                "household_members": members,
            },
        )

    async def _async_anomaly(
        self,
        door: Door,
        terminal: Terminal,
        kind: str,
        snapshot: bytes | None,
        source_key: str | None,
    ) -> None:
        facts = {
            "terminal_id": terminal.id,
            "area_id": door.area_id,
            "person_id": None,
            "household_id": None,
            "credential_id": None,
            "method": kind,
            "granted": False,
            "reason": kind,
            "decided_by": DECIDED_BY_TERMINAL,
        }
        log_id, new, snapshot_id = await self._async_log(door, facts, snapshot, source_key)
        if not new:
            self.counters["duplicates"] += 1
            return
        self.counters[kind] += 1
        self.hub.bus.async_fire(
            EVENT_ANOMALY,
            {
                "kind": kind,
                "door_entity_id": self.door_entity_id(door.id),
                "terminal_id": terminal.id,
                "area_id": door.area_id,
                "log_id": log_id,
                "snapshot_url": None
                if snapshot_id is None
                else f"/api/linli/face_access/snapshots/{snapshot_id}",
            },
        )
        events = self.events.get(door.id)
        if events is not None:
            events.async_record(kind, {"terminal_id": terminal.id, "log_id": log_id})

    # ------------------------------------------------------------------ Hikvision intake
    async def async_handle_webhook(
        self, hub: Hub, webhook_id: str, request: web.Request
    ) -> web.StreamResponse:
        """Handle one ISAPI push (see :mod:`linli_face_access.hikvision`)."""
        from linli.components.webhook import WebhookError
        from linli_face_access.hikvision import HikvisionError, parse_push

        terminal = self.webhooks[webhook_id]
        self.counters["hikvision_received"] += 1
        body = await request.read()
        try:
            event = parse_push(request.headers.get("Content-Type", ""), body)
        except HikvisionError as err:
            self._reject("bad_push", terminal.id, str(err))
            raise WebhookError(f"Not an access-control event: {err}") from err
        door = self.doors[terminal.door_id]
        if event.action == "ignored":
            self.counters["hikvision_ignored"] += 1
            return web.json_response({"status": "ignored"})
        source_key = None if event.serial_no is None else f"{terminal.id}:{event.serial_no}"
        if event.action == "anomaly":
            assert event.anomaly is not None
            await self._async_anomaly(door, terminal, event.anomaly, event.picture, source_key)
            return web.json_response({"status": "ok"})
        assert event.method is not None
        assert event.granted is not None
        payload: dict[str, Any] = {"person_ref": event.person_ref, "card_no": event.card_no}
        attempt = await self._async_reported(
            door, terminal, event.method, event.granted, payload, None
        )
        attempt.snapshot = event.picture
        attempt.source_key = source_key
        await self._async_record(attempt)
        return web.json_response({"status": "ok"}, status=HTTPStatus.OK)

    # ------------------------------------------------------------------ doors
    async def async_open_door(self, door_id: str) -> None:
        """Send ``open`` to the door's MQTT terminals (a remote unlock)."""
        from linli_mqtt import async_send_command

        door = self.doors[door_id]
        for terminal in door.terminals:
            if terminal.kind == TERMINAL_MQTT:
                await async_send_command(
                    self.hub,
                    TERMINAL_KIND,
                    terminal.id,
                    {"command": "open", "request_id": f"remote-{ulid()}", "reason": "remote"},
                )

    # ------------------------------------------------------------------ enrolment and credentials
    def _person(self, person_id: str) -> Any:
        person = self.hub.registries.people.async_get_person(person_id)
        if person is None:
            raise FaceAccessError(f"unknown person {person_id!r}")
        return person

    async def async_has_face_consent(self, person_id: str) -> bool:
        """Whether the person holds an active consent of data kind ``face``."""
        from linli.consent import get_consents

        consents = await get_consents(self.hub).async_list(
            person_id=person_id, include_withdrawn=False
        )
        return any(consent.data_kind == CONSENT_FACE for consent in consents)

    async def async_enroll_face(
        self, person_id: str, template: str, user_id: str | None
    ) -> dict[str, Any]:
        """Enrol a face template; refused without an active ``face`` consent.

        Issues a personal QR code when the person has no card, QR code or PIN, so face is
        never their only way in. Pushes the template to the MQTT terminals of face doors.
        """
        from linli_face_access.matcher import TemplateError, decode_template
        from linli_mqtt import async_send_command

        person = self._person(person_id)
        try:
            vector = decode_template(template)
        except TemplateError as err:
            raise FaceAccessError(str(err)) from err
        if not await self.async_has_face_consent(person_id):
            raise FaceAccessError(
                f"person {person_id} has no active consent to face recognition (data kind "
                "'face'): record the consent first; face recognition is optional and never "
                "the only way in"
            )
        template_id = await self.store.async_add_template(
            person_id, person.household_id, vector, user_id
        )
        await self.async_rebuild_index()
        auto = await self.async_ensure_non_biometric(person_id, user_id)

        async def push(terminal_id: str) -> None:
            try:
                await async_send_command(
                    self.hub,
                    TERMINAL_KIND,
                    terminal_id,
                    {"command": "enroll_face", "person_ref": person_id, "template": template},
                )
            except Exception:
                _LOGGER.exception("face_access: could not push a template to %s", terminal_id)

        # Every terminal at once: one slow terminal does not hold up the others.
        await asyncio.gather(
            *(
                push(terminal.id)
                for terminal in self.terminals.values()
                if terminal.kind == TERMINAL_MQTT
                and METHOD_FACE in self.doors[terminal.door_id].methods
            )
        )
        now = self.hub.clock.time()
        return {
            "template_id": template_id,
            "person_id": person_id,
            "issued": None if auto is None else {"credential": auto[0].as_dict(now), "qr": auto[1]},
        }

    async def async_ensure_non_biometric(
        self, person_id: str, user_id: str | None
    ) -> tuple[Credential, str] | None:
        """Issue a personal QR code when the person has no card, QR code or PIN."""
        if await self.store.async_has_personal(person_id):
            return None
        credential, token = await self.async_issue(
            CRED_QR, person_id=person_id, user_id=user_id, label="personal QR"
        )
        assert token is not None
        return credential, token

    async def async_issue(
        self,
        type_: str,
        *,
        person_id: str | None = None,
        household_id: str | None = None,
        card_no: str | None = None,
        pin: str | None = None,
        label: str | None = None,
        user_id: str | None = None,
        valid_hours: float | None = None,
    ) -> tuple[Credential, str | None]:
        """Issue a credential; returns it and, for QR codes, the token (shown only now)."""
        token: str | None = None
        secret_hash: str | None = None
        lookup: str | None = None
        expires_ts: float | None = None
        if type_ == CRED_VISITOR_QR:
            if (
                household_id is None
                or self.hub.registries.people.async_get_household(household_id) is None
            ):
                raise FaceAccessError("a visitor QR code needs the household it is issued for")
            hours = valid_hours if valid_hours is not None else 24.0
            if not 0 < hours <= self.visitor_qr_max_hours:
                raise FaceAccessError(
                    f"a visitor QR code is valid for up to {self.visitor_qr_max_hours:g} hours"
                )
            expires_ts = self.hub.clock.time() + hours * 3600
            person_id = None
        else:
            if person_id is None:
                raise FaceAccessError(f"a {type_} credential needs a person_id")
            household_id = self._person(person_id).household_id
        try:
            if type_ == CRED_CARD:
                if card_no is None:
                    raise FaceAccessError("a card needs its card_no")
                lookup = normalise_card(card_no)
            elif type_ == CRED_PIN:
                if pin is None:
                    raise FaceAccessError("a PIN credential needs the pin")
                secret_hash = await self.hub.async_add_executor_job(hash_pin, check_pin(pin))
            elif type_ in (CRED_QR, CRED_VISITOR_QR):
                token = new_qr_token()
                lookup = qr_lookup(token)
            else:
                raise FaceAccessError(f"unknown credential type {type_!r}")
            credential = await self.store.async_issue(
                type_,
                person_id=person_id,
                household_id=household_id,
                lookup=lookup,
                secret_hash=secret_hash,
                label=label,
                issued_by=user_id,
                expires_ts=expires_ts,
            )
        except CredentialError as err:
            raise FaceAccessError(str(err)) from err
        return credential, token

    async def async_credentials_of(self, person_id: str) -> dict[str, Any]:
        """A person's credentials, face enrolment and pending terminal deletions."""
        now = self.hub.clock.time()
        credentials = await self.store.async_list(person_id=person_id)
        templates = await self.store.async_templates_of(person_id)
        deletions = await self.store.async_deletions(person_id)
        return {
            "person_id": person_id,
            "credentials": [c.as_dict(now) for c in credentials],
            "face": {"enrolled": len(templates), "templates": templates},
            "snapshots": len(await self.store.async_snapshots_of(person_id)),
            "terminal_deletions": deletions,
        }

    # ------------------------------------------------------------------ privacy
    async def async_erase_templates(self, person_id: str, keep_after_ts: float | None) -> int:
        """Delete a person's templates, everywhere: the database, the index, the terminals."""
        count = await self.store.async_delete_templates(person_id=person_id)
        await self.async_rebuild_index()
        await self._async_delete_on_terminals(person_id)
        return count

    async def async_erase_snapshots(self, person_id: str, keep_after_ts: float | None) -> int:
        """Delete a person's snapshots (rows and files)."""
        return await self.store.async_delete_snapshots(person_id=person_id)

    async def async_erase_log(self, person_id: str, keep_after_ts: float | None) -> int:
        """Delete a person's log rows older than ``keep_after_ts`` (all when None)."""
        return await self.store.async_delete_log(person_id=person_id, before=keep_after_ts)

    async def async_purge_templates(self, cutoff: float) -> int:
        """Delete templates enrolled before ``cutoff``."""
        count = await self.store.async_delete_templates(before=cutoff)
        if count:
            await self.async_rebuild_index()
        return count

    async def _async_delete_on_terminals(self, person_id: str) -> None:
        """Ask every terminal to delete the person's face data; record it to verify."""
        terminals = [t for t in self.terminals.values() if t.kind == TERMINAL_MQTT or t.host]
        await self.store.async_add_deletions(person_id, [t.id for t in terminals])
        # Concurrently: one silent terminal must not hold up the others.
        await asyncio.gather(*(self._async_delete_on_terminal(t, person_id) for t in terminals))

    async def _async_delete_on_terminal(self, terminal: Terminal, person_id: str) -> None:
        """Ask one terminal; on failure the deletion stays unverified, with why."""
        from linli_mqtt import async_send_command

        try:
            if terminal.kind == TERMINAL_MQTT:
                await async_send_command(
                    self.hub,
                    TERMINAL_KIND,
                    terminal.id,
                    {"command": "delete_person", "person_ref": person_id},
                )
            elif terminal.kind == TERMINAL_HIKVISION:
                await self._async_isapi_delete(terminal, person_id)
        except Exception as err:
            reason = str(err) or repr(err)
            _LOGGER.warning(
                "face_access: terminal %s was not told to delete a person, the deletion "
                "stays unverified: %s",
                terminal.id,
                reason,
            )
            await self.store.async_deletion_failed(person_id, terminal.id, reason)

    async def _async_isapi_delete(self, terminal: Terminal, person_id: str) -> None:
        """``PUT /ISAPI/AccessControl/UserInfo/Delete?format=json`` with digest auth.

        Verified only when the terminal answers Hikvision's ``statusCode`` 1.
        """
        import aiohttp
        from yarl import URL

        url = URL.build(
            scheme="http",
            host=terminal.host or "",
            port=terminal.port,
            path=ISAPI_DELETE_PATH,
            query={"format": "json"},
        )
        body = {"UserInfoDelCond": {"EmployeeNoList": [{"employeeNo": person_id}]}}
        digest = aiohttp.DigestAuthMiddleware(terminal.username or "", terminal.password)
        timeout = aiohttp.ClientTimeout(total=ISAPI_TIMEOUT)
        try:
            async with (
                aiohttp.ClientSession(middlewares=(digest,), timeout=timeout) as session,
                session.put(url, json=body) as response,
            ):
                status = response.status
                try:
                    answer = await response.json(content_type=None)
                except ValueError:
                    answer = None
        except TimeoutError as err:
            raise FaceAccessError(
                f"no answer from {url.authority} within {ISAPI_TIMEOUT} s"
            ) from err
        except aiohttp.ClientError as err:
            raise FaceAccessError(f"no answer from {url.authority}: {err}") from err
        if status == HTTPStatus.UNAUTHORIZED:
            raise FaceAccessError("the terminal refused the username or password (HTTP 401)")
        if not isinstance(answer, dict) or answer.get("statusCode") != 1:
            detail = (
                f"{answer.get('statusString')} ({answer.get('subStatusCode')})"
                if isinstance(answer, dict)
                else "not an ISAPI status"
            )
            raise FaceAccessError(f"the terminal answered HTTP {status}: {detail}")
        # An ISAPI terminal answers the delete itself: that answer is the verification.
        await self.store.async_verify_deletion(person_id, terminal.id)

    async def async_export_templates(self, person_id: str) -> dict[str, Any]:
        """How many templates are held about the person, with metadata (never vectors)."""
        templates = await self.store.async_templates_of(person_id)
        return {"count": len(templates), "templates": templates}

    async def async_export_snapshots(self, person_id: str) -> list[dict[str, Any]]:
        """The person's snapshots as ids and URLs (never the images themselves)."""
        return [
            {"id": sid, "url": f"/api/linli/face_access/snapshots/{sid}"}
            for sid in await self.store.async_snapshots_of(person_id)
        ]

    async def async_export_log(self, person_id: str) -> list[dict[str, Any]]:
        """The person's access log rows."""
        return await self.store.async_query_log(person_id=person_id, limit=10_000)

    # ------------------------------------------------------------------ diagnostics
    def diagnostics(self) -> dict[str, Any]:
        """Counters, doors, lint and the index size (no personal data)."""
        return {
            "doors": {
                door.id: {
                    "entity_id": self.door_entity_id(door.id),
                    "area_id": door.area_id,
                    "methods": list(door.methods),
                    "terminals": [{"id": t.id, "kind": t.kind} for t in door.terminals],
                }
                for door in self.doors.values()
            },
            "enrolled_templates": 0 if self.index is None else self.index.size,
            "match_threshold": self.threshold,
            "store_snapshots": self.store_snapshots,
            "counters": dict(self.counters),
            "rejected": dict(self.rejected),
            "lint": [issue.as_dict() for issue in self.lint],
        }

    def local_now(self) -> datetime:
        """The community's local time now."""
        return self.hub.clock.utcnow().astimezone(ZoneInfo(self.hub.config.time_zone))
