"""The ``face_access:`` configuration section and the door lint (pure, no I/O).

::

    face_access:
      match_threshold: 0.6        # cosine similarity a face must reach
      store_snapshots: false      # raw face images are not kept unless this is true
      unlock_seconds: 5           # how long a door shows "unlocked" after a grant
      doors:
        - id: b1_main
          name: 1号楼大门
          area_id: b1
          methods: [face, card, qr, pin]
          terminals:
            - {id: t-b1-01, kind: mqtt}
            - {id: hik-b1-02, kind: hikvision, webhook_id: 6f1c…,
               host: 192.168.1.64, username: admin, password: !secret hik}
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any, Final

import voluptuous as vol

from linli_face_access.const import (
    METHODS,
    NON_BIOMETRIC_METHODS,
    TERMINAL_HIKVISION,
    TERMINAL_MQTT,
)

ID_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
LABEL: Final = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOSTNAME_RE: Final = re.compile(rf"(?=.{{1,253}}$){LABEL}(?:\.{LABEL})*\.?")

CONF_MATCH_THRESHOLD: Final = "match_threshold"
CONF_STORE_SNAPSHOTS: Final = "store_snapshots"
CONF_UNLOCK_SECONDS: Final = "unlock_seconds"
CONF_VISITOR_QR_MAX_HOURS: Final = "visitor_qr_max_hours"
CONF_DOORS: Final = "doors"


def _ident(value: Any) -> str:
    if not isinstance(value, str) or ID_RE.fullmatch(value) is None:
        raise vol.Invalid(f"expected an id of 1 to 64 letters, digits, '_' or '-', got {value!r}")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 255:
        raise vol.Invalid(f"expected a non-empty text of at most 255 characters, got {value!r}")
    return value.strip()


def _host(value: Any) -> str:
    if isinstance(value, str):
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            if HOSTNAME_RE.fullmatch(value):
                return value
    raise vol.Invalid(
        f"expected a host name or IP address (no scheme, port or path), got {value!r}"
    )


def _terminal(value: Any) -> dict[str, Any]:
    terminal: dict[str, Any] = TERMINAL_SCHEMA(value)
    if terminal["kind"] == TERMINAL_HIKVISION and not terminal.get("webhook_id"):
        raise vol.Invalid(
            f"terminal {terminal['id']}: a hikvision terminal needs a webhook_id "
            "(the path it pushes events to: /api/webhook/<webhook_id>)"
        )
    if terminal["kind"] == TERMINAL_MQTT and terminal.get("webhook_id"):
        raise vol.Invalid(f"terminal {terminal['id']}: an mqtt terminal takes no webhook_id")
    if terminal.get("host") and not terminal.get("username"):
        raise vol.Invalid(f"terminal {terminal['id']}: a host needs a username and password")
    return terminal


TERMINAL_SCHEMA: Final = vol.Schema(
    {
        vol.Required("id"): _ident,
        vol.Required("kind"): vol.In([TERMINAL_MQTT, TERMINAL_HIKVISION]),
        vol.Optional("webhook_id"): vol.All(
            str, vol.Length(min=16, max=256), vol.Match(r"^[^/]+$")
        ),
        vol.Optional("host"): _host,
        vol.Optional("port", default=80): vol.All(vol.Coerce(int), vol.Range(min=1, max=65535)),
        vol.Optional("username"): vol.All(str, vol.Length(min=1, max=64)),
        vol.Optional("password", default=""): vol.All(str, vol.Length(max=128)),
    }
)


def _methods(value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise vol.Invalid(f"expected a non-empty list of {', '.join(METHODS)}")
    methods = [
        vol.In(METHODS, msg=f"unknown method {item!r}: use {', '.join(METHODS)}")(item)
        for item in value
    ]
    return list(dict.fromkeys(methods))


DOOR_SCHEMA: Final = vol.Schema(
    {
        vol.Required("id"): _ident,
        vol.Required("name"): _text,
        vol.Optional("area_id"): vol.Any(None, _text),
        vol.Required("terminals"): vol.All([_terminal], vol.Length(min=1)),
        vol.Optional("methods", default=list(METHODS)): _methods,
    }
)


def _doors(value: Any) -> list[dict[str, Any]]:
    doors: list[dict[str, Any]] = vol.Schema([DOOR_SCHEMA])(value)
    seen_doors: set[str] = set()
    seen_terminals: set[str] = set()
    seen_hooks: set[str] = set()
    for door in doors:
        if door["id"] in seen_doors:
            raise vol.Invalid(f"door id {door['id']!r} is used twice")
        seen_doors.add(door["id"])
        for terminal in door["terminals"]:
            if terminal["id"] in seen_terminals:
                raise vol.Invalid(f"terminal id {terminal['id']!r} is used twice")
            seen_terminals.add(terminal["id"])
            hook = terminal.get("webhook_id")
            if hook:
                if hook in seen_hooks:
                    raise vol.Invalid(f"webhook_id of terminal {terminal['id']!r} is used twice")
                seen_hooks.add(hook)
    return doors


SECTION_SCHEMA: Final = vol.Schema(
    {
        vol.Optional(CONF_MATCH_THRESHOLD, default=0.6): vol.All(
            vol.Coerce(float), vol.Range(min=0.0, max=1.0)
        ),
        vol.Optional(CONF_STORE_SNAPSHOTS, default=False): bool,
        vol.Optional(CONF_UNLOCK_SECONDS, default=5): vol.All(
            vol.Coerce(float), vol.Range(min=0.5, max=300)
        ),
        vol.Optional(CONF_VISITOR_QR_MAX_HOURS, default=72): vol.All(
            vol.Coerce(float), vol.Range(min=0.1, max=24 * 31)
        ),
        vol.Optional(CONF_DOORS, default=list): _doors,
    }
)


def CONFIG_SCHEMA(value: Any) -> dict[str, Any]:  # noqa: N802 - the schema's conventional name
    """Validate ``face_access:`` (an empty section means every default, no doors)."""
    result: dict[str, Any] = SECTION_SCHEMA(value or {})
    return result


@dataclass(frozen=True, slots=True)
class Terminal:
    """A terminal at a door: an MQTT face terminal or a Hikvision pushing to a webhook."""

    id: str
    kind: str
    door_id: str
    webhook_id: str | None = None
    host: str | None = None
    port: int = 80
    username: str | None = None
    password: str = ""

    def __repr__(self) -> str:
        return f"Terminal({self.id!r}, {self.kind!r}, door={self.door_id!r})"


@dataclass(frozen=True, slots=True)
class Door:
    """A configured door."""

    id: str
    name: str
    area_id: str | None
    terminals: tuple[Terminal, ...]
    methods: tuple[str, ...]


def doors_from_config(section: dict[str, Any]) -> list[Door]:
    """Build the doors of a validated section."""
    return [
        Door(
            id=door["id"],
            name=door["name"],
            area_id=door.get("area_id"),
            terminals=tuple(
                Terminal(
                    id=t["id"],
                    kind=t["kind"],
                    door_id=door["id"],
                    webhook_id=t.get("webhook_id"),
                    host=t.get("host"),
                    port=t.get("port", 80),
                    username=t.get("username"),
                    password=t.get("password", ""),
                )
                for t in door["terminals"]
            ),
            methods=tuple(door["methods"]),
        )
        for door in section.get(CONF_DOORS, [])
    ]


@dataclass(frozen=True, slots=True)
class LintIssue:
    """A warning about a door's configuration."""

    door_id: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {"door_id": self.door_id, "code": self.code, "message": self.message}


def lint_doors(doors: list[Door], known_areas: set[str] | None = None) -> list[LintIssue]:
    """Warn about doors without a non-biometric way in (and unknown areas)."""
    issues: list[LintIssue] = []
    for door in doors:
        if not NON_BIOMETRIC_METHODS.intersection(door.methods):
            issues.append(
                LintIssue(
                    door.id,
                    "no_non_biometric_method",
                    f"Door {door.name} ({door.id}) lets people in by face only: face "
                    "recognition may never be the only way in; add card, qr or pin.",
                )
            )
        if known_areas is not None and door.area_id is not None and door.area_id not in known_areas:
            issues.append(
                LintIssue(
                    door.id,
                    "unknown_area",
                    f"Door {door.id}: area {door.area_id!r} does not exist.",
                )
            )
    return issues
