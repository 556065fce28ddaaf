"""Scripted scenarios: "a resident comes home", "an e-bike enters a lift" … as device messages.

A scenario is a list of steps (see ``scenarios.yaml`` beside this module, the built-in ones);
a community adds its own in a YAML file of the same shape (``demo: scenario_file:``). Each
step acts on the wire exactly as the devices would: a state or event message over the device's
own MQTT connection, a camera's webhook push, a device dropping off the network, a face or a
card at a door's terminal, a car at a barrier gate. A door or gate step is skipped (and
logged) when the hub has no such terminal or gate (``face_access``/``plate_gate`` not set up).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import voluptuous as vol
import yaml

from linli_demo.devices import Channel, Kind
from linli_demo.simulator import Simulator

_LOGGER = logging.getLogger(__name__)

BUILTIN_FILE: Final = Path(__file__).with_name("scenarios.yaml")
MAX_WAIT: Final = 60.0

# Scenario field → the SimDevice attribute it sets.
FIELDS: Final[Mapping[str, str]] = {
    "power_w": "power_w",
    "energy_kwh": "energy_kwh",
    "floor": "floor",
    "door": "door",
    "ebike_detected": "ebike",
    "count": "count",
    "value": "load_kg",
}

_DEVICE = vol.All(str, vol.Match(r"^[a-z_]+/[^/]+$"))
STEP_SCHEMA: Final = vol.Any(
    vol.Schema(
        {
            vol.Required("state"): vol.Schema(
                {vol.Required("device"): _DEVICE}, extra=vol.ALLOW_EXTRA
            )
        }
    ),
    vol.Schema(
        {
            vol.Required("event"): vol.Schema(
                {vol.Required("device"): _DEVICE, vol.Required("event"): str},
                extra=vol.ALLOW_EXTRA,
            )
        }
    ),
    vol.Schema(
        {
            vol.Required("camera"): {
                vol.Required("lift"): str,
                vol.Required("detected"): vol.In(("ebike", "none")),
                vol.Optional("confidence", default=0.9): vol.All(
                    vol.Coerce(float), vol.Range(min=0, max=1)
                ),
            }
        }
    ),
    vol.Schema(
        {
            vol.Required("face"): {
                vol.Required("terminal"): str,
                vol.Optional("person", default="{person}"): str,
            }
        }
    ),
    vol.Schema(
        {
            vol.Required("card"): {
                vol.Required("terminal"): str,
                vol.Optional("person", default="{person}"): str,
            }
        }
    ),
    vol.Schema(
        {
            vol.Required("anomaly"): {
                vol.Required("terminal"): str,
                vol.Required("kind"): vol.In(("tailgating", "reverse_passing")),
            }
        }
    ),
    vol.Schema(
        {
            vol.Required("plate"): {
                vol.Required("gate"): str,
                vol.Required("plate"): str,
                vol.Optional("color", default="{color}"): str,
            }
        }
    ),
    vol.Schema({vol.Required("offline"): _DEVICE}),
    vol.Schema({vol.Required("online"): _DEVICE}),
    vol.Schema({vol.Required("wait"): vol.All(vol.Coerce(float), vol.Range(min=0, max=MAX_WAIT))}),
)
SCENARIO_SCHEMA: Final = vol.Schema(
    {vol.Optional("description", default=""): str, vol.Required("steps"): [STEP_SCHEMA]}
)
FILE_SCHEMA: Final = vol.Schema({vol.Match(r"^[a-z0-9_]+$"): SCENARIO_SCHEMA})


STRANGER: Final = "stranger"
"""``person: stranger`` at a face step: a face nobody enrolled."""


@dataclass(frozen=True, slots=True)
class Scenario:
    """A named list of steps."""

    name: str
    description: str
    steps: tuple[Mapping[str, Any], ...]


def load_scenarios(path: Path) -> dict[str, Scenario]:
    """Read and check a scenario file; vol.Invalid (with the path in it) when it is wrong."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    checked = FILE_SCHEMA(data)
    return {
        name: Scenario(name, body["description"], tuple(body["steps"]))
        for name, body in checked.items()
    }


def _fill(value: Any, variables: Mapping[str, str]) -> Any:
    """Put the variables into a step's strings (``"lift/{unit}"`` → ``"lift/b1-u1"``)."""
    if isinstance(value, str):
        return value.format_map(variables)
    if isinstance(value, dict):
        return {key: _fill(item, variables) for key, item in value.items()}
    return value


def _set(current: Any, value: Any) -> Any:
    """A field's new value: ``"+5"``/``"-5"`` move a number, a numeric string is a number."""
    if isinstance(value, str) and value[:1] in "+-" and value[1:].replace(".", "", 1).isdigit():
        return type(current)(current + float(value)) if current is not None else float(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value


def default_variables(simulator: Simulator, given: Mapping[str, str]) -> dict[str, str]:
    """The variables of a run: the given ones, the rest from a lived-in room.

    ``room``, ``unit``, ``floor``, ``zone``; ``person`` (an adult of the room's household),
    ``terminal`` (the door of the room's unit), ``gate`` (a way into the car park),
    ``plate``/``color`` (the household's car, else a visitor's), ``visitor_plate``.
    """
    meters = [d for d in simulator.of_kind(Kind.METER) if d.device_id != simulator.community_id]
    room = given.get("room") or (meters[0].device_id if meters else "")
    variables = {"room": room, "unit": "", "floor": "1", "zone": "north-gate"}
    for lift in simulator.of_kind(Kind.LIFT):
        if room.startswith(lift.device_id + "-"):
            variables["unit"] = lift.device_id
            number = room.rsplit("-", 1)[-1]
            variables["floor"] = number[:-2] or "1"
    if not variables["unit"]:
        variables["unit"] = next((d.device_id for d in simulator.of_kind(Kind.LIFT)), "")
    resident = simulator.resident_of(room)
    person, household = resident if resident is not None else ("", "")
    person = given.get("person", person)
    household = simulator.household_of(person) or household
    visitor, visitor_color = simulator.visitor_plate()
    plates = simulator.plates_of(household) if household else []
    plate, color = plates[0] if plates else (visitor, visitor_color)
    entry = [key for key, gate in simulator.gates.items() if gate.direction == "in"]
    variables.update(
        person=person,
        terminal=simulator.terminal_for(room) or next(iter(simulator.terminal_specs), ""),
        gate=next(iter(entry), next(iter(simulator.gates), "")),
        plate=plate,
        color=str(color),
        visitor_plate=visitor,
        visitor_color=str(visitor_color),
    )
    variables.update(given)
    return variables


@dataclass(slots=True)
class Run:
    """What a scenario did: steps taken, steps skipped, what the doors and gates did."""

    steps: int = 0
    skipped: int = 0
    outcomes: list[dict[str, str]] | None = None

    def outcome(self, device: str, what: str) -> None:
        """Note what a door or gate did."""
        if self.outcomes is None:
            self.outcomes = []
        self.outcomes.append({"device": device, "outcome": str(what)})


def _has_terminal(simulator: Simulator, terminal: str) -> bool:
    return terminal in simulator.terminals or terminal in simulator.isapi_terminals


async def _access_step(simulator: Simulator, step: Mapping[str, Any], run: Run) -> bool:
    """Play a door or gate step; False when it was skipped (no such terminal or gate)."""
    if "plate" in step:
        plate = step["plate"]
        if plate["gate"] not in simulator.gates:
            if plate["gate"]:
                raise KeyError(f"no simulated gate {plate['gate']!r}")
            return False
        color = int(plate["color"]) if plate["color"].isdigit() else 1
        outcome = await simulator.async_plate(plate["gate"], plate["plate"], color)
        run.outcome(plate["gate"], outcome)
        return True
    (kind,) = step.keys()
    fields = step[kind]
    terminal = fields["terminal"]
    if not _has_terminal(simulator, terminal):
        if terminal:
            raise KeyError(f"no simulated terminal {terminal!r}")
        return False
    if kind == "anomaly":
        await simulator.async_anomaly(terminal, fields["kind"])
        run.outcome(terminal, fields["kind"])
        return True
    person = fields["person"]
    if kind == "face":
        answer = await simulator.async_face(terminal, None if person == STRANGER else person)
    else:
        if not person:
            raise KeyError("nobody to swipe a card: give 'person'")
        answer = await simulator.async_card(terminal, person)
    run.outcome(terminal, answer)
    return True


async def async_run(simulator: Simulator, scenario: Scenario, variables: Mapping[str, str]) -> Run:
    """Play ``scenario``; KeyError for an unknown device."""
    values = default_variables(simulator, variables)
    now = simulator.clock_now
    run = Run()
    for raw in scenario.steps:
        step = _fill(dict(raw), values)
        run.steps += 1
        if "state" in step:
            fields = dict(step["state"])
            device = simulator.find(fields.pop("device"))
            for name, value in fields.items():
                attribute = FIELDS.get(name)
                if attribute is None:
                    raise KeyError(f"a {device.kind} has no field {name!r}")
                setattr(device, attribute, _set(getattr(device, attribute), value))
            simulator.publish_state(device, now())
        elif "event" in step:
            fields = dict(step["event"])
            device = simulator.find(fields.pop("device"))
            event = fields.pop("event")
            simulator.publish(device, Channel.EVENT, device.event_payload(event, now(), **fields))
        elif "camera" in step:
            camera = step["camera"]
            lift = simulator.find(f"lift/{camera['lift']}")
            lift.ebike = camera["detected"] == "ebike"
            await simulator.async_camera(lift, camera["confidence"])
        elif "offline" in step:
            await simulator.async_set_online(simulator.find(step["offline"]), False)
        elif "online" in step:
            await simulator.async_set_online(simulator.find(step["online"]), True)
        elif "wait" in step:
            await asyncio.sleep(step["wait"])
        elif not await _access_step(simulator, step, run):
            run.steps -= 1
            run.skipped += 1
            _LOGGER.info(
                "Scenario %s: no %s here (face_access or plate_gate not set up); step skipped",
                scenario.name,
                "gate" if "plate" in step else "door terminal",
            )
    return run
