"""The demo community's doors and gates, as the hub's ``face_access`` and ``plate_gate`` know them.

The demo installs no terminal or gate of its own invention: it simulates the ones those
integrations are configured with (their ids, doors, areas and webhook ids), so the demo's
configuration repeats nothing. Without those integrations the demo has no doors or gates.

It also does, once, what a property office does when residents move in: every resident gets
an access card, and the adults who agreed (a share set by ``face_consent_share``) have their
consent recorded on paper and their (synthetic) face enrolled. The households' cars are
registered where ``plate_gate`` offers a way for that. Residents who already have a card, a
consent or a face are left as they are, so restarting adds nothing twice.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from linli import Hub, LinliError
from linli_demo.identity import encode_template
from linli_demo.simulator import GateSpec, Simulator, TerminalSpec

_LOGGER = logging.getLogger(__name__)

CONSENT_KIND: Final = "face"
CONSENT_SCOPE: Final = "unit entrance doors"
CONSENT_METHOD: Final = "paper"
NOTICE_VERSION: Final = "demo-2026-1"
ADULT_AGE: Final = 18


def _set_up(hub: Hub, module: str, getter: str, missing: type[Exception]) -> Any | None:
    """``module.getter(hub)``, or None when the integration is not installed or not set up."""
    try:
        integration = importlib.import_module(module)
    except ImportError:
        return None
    try:
        return getattr(integration, getter)(hub)
    except missing:
        return None


def face_access_of(hub: Hub) -> Any | None:
    """The hub's face access, or None when ``face_access`` is not installed or not set up."""
    return _set_up(hub, "linli_face_access", "get_face_access", LinliError)


def plate_gates_of(hub: Hub) -> Any | None:
    """The hub's gate manager, or None when ``plate_gate`` is not installed or not set up."""
    return _set_up(hub, "linli_plate_gate", "get_manager", KeyError)


def device_specs(hub: Hub) -> tuple[list[TerminalSpec], list[GateSpec]]:
    """The terminals at ``face_access``'s doors and the gates of ``plate_gate`` (none without
    the integration)."""
    face, manager = face_access_of(hub), plate_gates_of(hub)
    doors = () if face is None else face.doors.values()
    lanes = () if manager is None else manager.gates.values()
    root = hub.registries.areas.root_id
    terminals = [
        TerminalSpec(
            terminal.id,
            terminal.kind,
            door.id,
            door.name,
            door.area_id or root,
            terminal.webhook_id,
        )
        for door in doors
        for terminal in door.terminals
    ]
    gates = [
        GateSpec(
            gate.id,
            gate.name,
            gate.kind,
            gate.area_id or root,
            gate.direction,
            gate.device_id,
            gate.webhook_id,
        )
        for gate in lanes
    ]
    return terminals, gates


def agrees_to_face(person_id: str, seed: int, share: float) -> bool:
    """Whether this resident agreed to face recognition (the same answer every run)."""
    digest = hashlib.sha256(f"face-consent\x1f{seed}\x1f{person_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share


@dataclass(slots=True)
class Enrolment:
    """What :func:`async_enrol` did."""

    cards: int = 0
    consents: int = 0
    faces: int = 0
    plates: int = 0


async def async_enrol(hub: Hub, simulator: Simulator, share: float, seed: int) -> Enrolment:
    """Give residents their cards, record the consents, enrol the faces, register the cars."""
    done = Enrolment()
    face = face_access_of(hub)
    if face is not None:
        await _async_enrol_people(hub, face, simulator, share, seed, done)
    manager = plate_gates_of(hub)
    if manager is not None:
        await _async_register_cars(hub, simulator, done)
    if face is not None or manager is not None:
        _LOGGER.info(
            "Demo community: %d cards issued, %d face consents recorded, %d faces enrolled, "
            "%d cars registered",
            done.cards,
            done.consents,
            done.faces,
            done.plates,
        )
    return done


async def _async_enrol_people(
    hub: Hub, face: Any, simulator: Simulator, share: float, seed: int, done: Enrolment
) -> None:
    from linli.consent import get_consents

    consents = get_consents(hub)
    year = hub.clock.utcnow().year
    people = sorted(hub.registries.people.persons.values(), key=lambda p: p.id)
    for person in people:
        held = await face.async_credentials_of(person.id)
        if not any(c["type"] == "card" for c in held["credentials"]):
            await face.async_issue(
                "card", person_id=person.id, card_no=simulator.card_of(person.id), label="demo"
            )
            done.cards += 1
        age = person.age_in(year)
        enrolled = bool(held["face"]["enrolled"])
        if not enrolled and (
            age is None or age < ADULT_AGE or not agrees_to_face(person.id, seed, share)
        ):
            continue
        for terminal in simulator.isapi_terminals.values():
            terminal.enrolled.add(person.id)  # the vendor's own tool put the face on that one
        if enrolled:
            continue
        if not await face.async_has_face_consent(person.id):
            await consents.async_grant(
                person.id,
                CONSENT_KIND,
                CONSENT_SCOPE,
                method=CONSENT_METHOD,
                notice_version=NOTICE_VERSION,
                operator_user_id=None,
            )
            done.consents += 1
        await face.async_enroll_face(person.id, encode_template(simulator.face_of(person.id)), None)
        done.faces += 1


async def _async_register_cars(hub: Hub, simulator: Simulator, done: Enrolment) -> None:
    import linli_plate_gate

    add: Callable[..., Any] | None = getattr(linli_plate_gate, "async_add_resident_plate", None)
    if add is None:
        _LOGGER.info(
            "Demo community: plate_gate offers no way to register plates from here; "
            "register the households' cars through its API"
        )
        return
    for household in sorted(hub.registries.people.households.values(), key=lambda h: h.id):
        for plate, color in simulator.plates_of(household.id):
            if await add(hub, household.id, plate, color, note="demo"):
                done.plates += 1
