"""The area registry: the community's places as a tree.

::

    community                          exactly one root (id "community" by default)
    ├── building                       ← community
    │   ├── unit                       ← building
    │   │   └── floor                  ← unit, or building (buildings without units)
    │   │       └── room               ← floor
    │   └── zone                       ← community, building, unit or floor
    └── zone                           gates, car parks, squares …

Every entity, device, household and alert has a place in this tree; permissions and "nearest
staff" are computed from it. Areas come from two sources: the ``areas:`` tree in
configuration.yaml (``source="config"``, kept in step by
:meth:`AreaRegistry.async_sync_from_config`) and the UI (``source="user"``, never touched by the
configuration).

Area ids are stable slugs (lower-case ascii letters, digits, ``-`` and ``_``): given, or
generated once from the name and then stored, so they survive restarts and renames.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Container, Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum, StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from linli.callback import callback
from linli.exceptions import RegistryError, StorageError
from linli.storage import Store

if TYPE_CHECKING:
    from linli.hub import Hub

_LOGGER = logging.getLogger(__name__)

EVENT_AREA_REGISTRY_UPDATED: Final = "area_registry_updated"
STORAGE_KEY: Final = "linli.areas"
STORAGE_VERSION: Final = 1
SAVE_DELAY: Final = 10.0
"""Seconds a change may wait before it is written; changes meanwhile share one write."""

ROOT_ID: Final = "community"
SOURCE_CONFIG: Final = "config"
SOURCE_USER: Final = "user"
MAX_ID_LENGTH: Final = 100


class UndefinedType(Enum):
    """The type of :data:`UNDEFINED`."""

    _singleton = 0


UNDEFINED: Final = UndefinedType._singleton
"""Default of update arguments: "leave as it is" (``None`` means "clear")."""


class AreaKind(StrEnum):
    """What an area is; it decides which parents it may have."""

    COMMUNITY = "community"
    BUILDING = "building"
    UNIT = "unit"
    FLOOR = "floor"
    ROOM = "room"
    ZONE = "zone"


ALLOWED_PARENTS: Final[Mapping[AreaKind, tuple[AreaKind, ...]]] = MappingProxyType(
    {
        AreaKind.COMMUNITY: (),
        AreaKind.BUILDING: (AreaKind.COMMUNITY,),
        AreaKind.UNIT: (AreaKind.BUILDING,),
        AreaKind.FLOOR: (AreaKind.UNIT, AreaKind.BUILDING),
        AreaKind.ROOM: (AreaKind.FLOOR,),
        AreaKind.ZONE: (AreaKind.COMMUNITY, AreaKind.BUILDING, AreaKind.UNIT, AreaKind.FLOOR),
    }
)
"""For each kind, the kinds its parent may have (the community has no parent)."""

_VALID_ID = re.compile(r"^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?$")

# Prefixes of generated ids for names that are not plain ascii ("3号楼" → "building-3").
_ID_PREFIX: Final[Mapping[AreaKind, str]] = MappingProxyType(
    {
        AreaKind.COMMUNITY: "community-",
        AreaKind.BUILDING: "building-",
        AreaKind.UNIT: "u",
        AreaKind.FLOOR: "f",
        AreaKind.ROOM: "",
        AreaKind.ZONE: "zone-",
    }
)


@dataclass(frozen=True, slots=True)
class AreaEntry:
    """One place in the community (read-only; change it through the registry)."""

    id: str
    kind: AreaKind
    parent_id: str | None
    name: str
    """Display name in the community's default language."""
    names: dict[str, str] = field(default_factory=dict, hash=False)
    """Names by language tag, e.g. ``{"zh-CN": "3号楼", "en": "Building 3"}``."""
    source: str = SOURCE_USER
    """``"config"`` (from configuration.yaml) or ``"user"`` (made in the UI)."""
    floor_number: int | None = None
    """For floors: 1 is the ground floor as residents count it, negatives are basements."""

    def display_name(self, language: str | None = None) -> str:
        """Return the name in ``language``: exact tag, then same language, then ``name``."""
        return lookup_name(self.names, language) or self.name

    def as_dict(self) -> dict[str, Any]:
        """Return the entry as plain data (storage and APIs)."""
        return {
            "id": self.id,
            "kind": str(self.kind),
            "parent_id": self.parent_id,
            "name": self.name,
            "names": dict(self.names),
            "source": self.source,
            "floor_number": self.floor_number,
        }


# ---------------------------------------------------------------------- names and ids
def lookup_name(names: Mapping[str, str], language: str | None) -> str | None:
    """Return the name for ``language`` from ``names``, or None.

    Tries the exact tag, then the bare language (``zh`` for ``zh-CN``), then any tag of the
    same language (``zh-TW`` for ``zh-CN``). Tags compare case-insensitively.
    """
    tag = _lookup_tag(names, language)
    return None if tag is None else names[tag]


def _lookup_tag(names: Mapping[str, str], language: str | None) -> str | None:
    if not language or not names:
        return None
    if language in names:
        return language
    wanted = language.lower().replace("_", "-")
    primary = wanted.split("-", 1)[0]
    by_tag = {tag.lower().replace("_", "-"): tag for tag in names}
    for candidate in (wanted, primary):
        if candidate in by_tag:
            return by_tag[candidate]
    for normal, tag in by_tag.items():
        if normal.split("-", 1)[0] == primary:
            return tag
    return None


def valid_area_id(area_id: str) -> bool:
    """Return whether ``area_id`` is a valid slug (lower-case ascii, digits, ``-``, ``_``)."""
    return len(area_id) <= MAX_ID_LENGTH and _VALID_ID.match(area_id) is not None


def slugify_area_id(text: str) -> str:
    """Return ``text`` as an id slug ("Building 3" → "building-3"); non-ascii is dropped."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9_]+", "-", ascii_text.lower())
    return re.sub(r"-{2,}", "-", slug).strip("-_")[:MAX_ID_LENGTH].strip("-_")


def _local_id(kind: AreaKind, name: str, names: Mapping[str, str]) -> str | None:
    """Return the id part made from an area's names, or None when they give nothing."""
    texts = [names.get("en", ""), *names.values(), name]
    for text in texts:
        if text and text.isascii():
            slug = slugify_area_id(text)
            if slug:
                return slug
    for text in texts:
        # Mostly Chinese, e.g. "3号楼" or "A座": keep the ascii residue behind a kind prefix.
        residue = slugify_area_id(text)
        if residue:
            prefix = _ID_PREFIX[kind]
            if prefix and not prefix.endswith("-") and not residue[0].isdigit():
                prefix += "-"
            return prefix + residue
    return None


def generate_area_id(
    kind: AreaKind,
    name: str,
    *,
    names: Mapping[str, str],
    parent_id: str | None,
    root_id: str,
    taken: Container[str],
    floor_number: int | None = None,
) -> str:
    """Return a free id for a new area, made from its names and its parent's id.

    Children of the community get the bare slug ("building-3"), deeper areas are prefixed by
    their parent ("building-3-u2"). Names without any ascii letter or digit fall back to
    ``<kind>-<n>``. A clash appends ``-2``, ``-3`` ….
    """
    prefix = "" if parent_id in (None, root_id) else f"{parent_id}-"
    if kind is AreaKind.FLOOR and floor_number is not None:
        # The number is surer than the name ("地下1层" is floor -1, not 1).
        local: str | None = f"f{floor_number}" if floor_number >= 0 else f"b{-floor_number}"
    else:
        local = _local_id(kind, name, names)
    if local is None:
        number = 1
        while f"{prefix}{kind}-{number}" in taken:
            number += 1
        return f"{prefix}{kind}-{number}"
    base = f"{prefix}{local}"[:MAX_ID_LENGTH].strip("-_")
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def _parent_rule(kind: AreaKind) -> str:
    allowed = [str(k) for k in ALLOWED_PARENTS[kind]]
    if len(allowed) == 1:
        return allowed[0]
    return ", ".join(allowed[:-1]) + " or " + allowed[-1]


def _parent_error(kind: AreaKind, parent_kind: AreaKind | None) -> str | None:
    """Return why ``kind`` cannot be inside ``parent_kind``, or None when it can."""
    allowed = ALLOWED_PARENTS[kind]
    if kind is AreaKind.COMMUNITY:
        return None if parent_kind is None else "the community is the root and has no parent"
    if parent_kind in allowed:
        return None
    where = "at the top" if parent_kind is None else f"a {parent_kind}"
    return f"a {kind} must be inside a {_parent_rule(kind)}, not {where}"


def _split_name(value: str | Mapping[str, str], language: str | None) -> tuple[str, dict[str, str]]:
    """Turn a config name (a string or ``{language: name}``) into ``(name, names)``."""
    if isinstance(value, str):
        return value, {}
    names = dict(value)
    name = lookup_name(names, language) or next(iter(names.values()))
    return name, names


# ---------------------------------------------------------------------- the YAML tree
TREE_KINDS: Final = tuple(str(kind) for kind in AreaKind if kind is not AreaKind.COMMUNITY)


def _strict_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise vol.Invalid("expected a whole number")
    return value


def _non_empty_str(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise vol.Invalid("expected a non-empty string")
    return value.strip()


def _area_id(value: Any) -> str:
    text = _non_empty_str(value)
    if not valid_area_id(text):
        raise vol.Invalid(
            f"invalid area id {text!r}: use lower-case ascii letters, digits, '-' and '_'"
        )
    return text


def _room_suffix(value: Any) -> str:
    if not isinstance(value, str):
        # YAML reads 01 as the number 1: the leading zero would be lost without quotes.
        raise vol.Invalid(f'room suffixes must be quoted strings, e.g. "01", not {value!r}')
    if not re.fullmatch(r"[A-Za-z0-9]+", value):
        raise vol.Invalid(f"invalid room suffix {value!r}: use letters and digits")
    return value


def _check_floor_range(value: dict[str, Any]) -> dict[str, Any]:
    if value["from"] > value["to"]:
        raise vol.Invalid(f"floors: 'from' ({value['from']}) is above 'to' ({value['to']})")
    return value


NAME_SCHEMA: Final = vol.Any(
    _non_empty_str,
    vol.All({_non_empty_str: _non_empty_str}, vol.Length(min=1)),
    msg="expected a name, or names by language such as {zh-CN: 3号楼, en: Building 3}",
)

FLOORS_SCHEMA: Final = vol.All(
    vol.Schema(
        {
            vol.Optional("from", default=1): _strict_int,
            vol.Required("to"): _strict_int,
            vol.Optional("rooms", default=list): [_room_suffix],
            vol.Optional("skip", default=list): [_strict_int],
        }
    ),
    _check_floor_range,
)
"""``floors:`` shorthand on a building or unit: floors ``from``..``to`` minus ``skip``."""

NODE_SCHEMA: Final = vol.Schema(
    {
        vol.Optional("id"): _area_id,
        vol.Required("kind"): vol.In(TREE_KINDS),
        vol.Required("name"): NAME_SCHEMA,
        vol.Optional("floor_number"): _strict_int,
        vol.Optional("floors"): FLOORS_SCHEMA,
        vol.Optional("children", default=list): list,
    }
)
"""One node of the area tree; its ``children`` are checked by :data:`AREA_TREE_SCHEMA`."""


def _prefixed(err: vol.Invalid, path: list[Any]) -> vol.Invalid:
    return vol.Invalid(err.msg, path=[*path, *err.path], error_message=err.error_message)


def _validate_nodes(value: Any, parent_kind: AreaKind, path: list[Any]) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise vol.Invalid("expected a list of areas", path=path)
    nodes = []
    for index, raw in enumerate(value):
        node_path = [*path, index]
        try:
            node: dict[str, Any] = NODE_SCHEMA(raw)
        except vol.MultipleInvalid as err:
            raise vol.MultipleInvalid([_prefixed(e, node_path) for e in err.errors]) from None
        kind = AreaKind(node["kind"])
        problem = _parent_error(kind, parent_kind)
        if problem is not None:
            raise vol.Invalid(problem, path=[*node_path, "kind"])
        if "floors" in node and kind not in (AreaKind.BUILDING, AreaKind.UNIT):
            raise vol.Invalid("'floors' is only allowed on a building or a unit", path=node_path)
        if "floor_number" in node and kind is not AreaKind.FLOOR:
            raise vol.Invalid("'floor_number' is only allowed on a floor", path=node_path)
        node["children"] = _validate_nodes(node["children"], kind, [*node_path, "children"])
        nodes.append(node)
    return nodes


def _validate_tree(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    nodes = _validate_nodes(value, AreaKind.COMMUNITY, [])
    _expand(nodes, ROOT_ID, None, ())  # finds duplicate ids
    return nodes


AREA_TREE_SCHEMA: Final = vol.Schema(_validate_tree)
"""The ``areas:`` tree of configuration.yaml: a list of nested nodes below the community.

Each node is ``{id?, kind: building|unit|floor|room|zone, name: str | {lang: str},
children?: [...]}``; a building or unit may say ``floors: {from: 1, to: 18, rooms: ["01", "02"],
skip: [4, 13, 14]}`` instead of listing floors and rooms.
"""


def _floor_names(number: int) -> dict[str, str]:
    if number < 0:
        return {"zh": f"地下{-number}层", "en": f"Basement {-number}"}
    return {"zh": f"{number}层", "en": f"Floor {number}"}


def _expand(
    tree: list[dict[str, Any]],
    root_id: str,
    language: str | None,
    reserved: Container[str],
) -> list[dict[str, Any]]:
    explicit: set[str] = set()

    def collect(nodes: list[dict[str, Any]], path: list[Any]) -> None:
        for index, node in enumerate(nodes):
            if "id" in node:
                if node["id"] in explicit or node["id"] == root_id:
                    raise vol.Invalid(f"duplicate area id {node['id']!r}", path=[*path, index])
                explicit.add(node["id"])
            collect(node["children"], [*path, index, "children"])

    collect(tree, [])
    result: list[dict[str, Any]] = []
    assigned: set[str] = set()

    class _Taken:
        def __contains__(self, item: object) -> bool:
            return item in assigned or item in explicit or item in reserved or item == root_id

    def add(area: dict[str, Any], path: list[Any]) -> None:
        if area["id"] in assigned or area["id"] == root_id:
            raise vol.Invalid(f"duplicate area id {area['id']!r}", path=path)
        assigned.add(area["id"])
        result.append(area)

    def walk(nodes: list[dict[str, Any]], parent_id: str, path: list[Any]) -> None:
        for index, node in enumerate(nodes):
            node_path = [*path, index]
            kind = AreaKind(node["kind"])
            name, names = _split_name(node["name"], language)
            area_id = node.get("id") or generate_area_id(
                kind,
                name,
                names=names,
                parent_id=parent_id,
                root_id=root_id,
                taken=_Taken(),
                floor_number=node.get("floor_number"),
            )
            add(
                {
                    "id": area_id,
                    "kind": kind,
                    "parent_id": parent_id,
                    "name": name,
                    "names": names,
                    "floor_number": node.get("floor_number"),
                },
                node_path,
            )
            if "floors" in node:
                expand_floors(area_id, node["floors"], [*node_path, "floors"])
            walk(node["children"], area_id, [*node_path, "children"])

    def expand_floors(parent_id: str, spec: dict[str, Any], path: list[Any]) -> None:
        skip = set(spec["skip"])
        for number in range(spec["from"], spec["to"] + 1):
            if number == 0 or number in skip:  # there is no floor 0 in Chinese counting
                continue
            floor_id = f"{parent_id}-f{number}" if number > 0 else f"{parent_id}-b{-number}"
            names = _floor_names(number)
            add(
                {
                    "id": floor_id,
                    "kind": AreaKind.FLOOR,
                    "parent_id": parent_id,
                    "name": lookup_name(names, language) or names["zh"],
                    "names": names,
                    "floor_number": number,
                },
                path,
            )
            if number < 0:
                continue  # basements hold car parks and storage, not numbered flats
            for suffix in spec["rooms"]:
                add(
                    {
                        "id": f"{parent_id}-{number}{suffix.lower()}",
                        "kind": AreaKind.ROOM,
                        "parent_id": floor_id,
                        "name": f"{number}{suffix}",
                        "names": {},
                        "floor_number": None,
                    },
                    path,
                )

    walk(tree, root_id, [])
    return result


def expand_area_tree(
    tree: Any,
    *,
    root_id: str = ROOT_ID,
    language: str | None = "zh-CN",
    reserved: Container[str] = (),
) -> list[dict[str, Any]]:
    """Validate an area tree and flatten it into areas, parents before children.

    Each area is ``{id, kind, parent_id, name, names, floor_number}``; top-level nodes get
    ``root_id`` as parent. ``floors:`` shorthands become floors ``<parent>-f<n>`` (basements
    ``<parent>-b<n>``) named ``<n>层`` / ``Floor <n>``, each with rooms ``<parent>-<n><suffix>``
    named ``<n><suffix>`` (above ground only). Nodes without an id get one from their names,
    the same one for the same tree every time; ``reserved`` ids are avoided. Raises
    ``vol.Invalid`` for an invalid tree or duplicate ids.
    """
    return _expand(AREA_TREE_SCHEMA(tree), root_id, language, reserved)


# ---------------------------------------------------------------------- the registry
DependantCounter = Callable[[str], int]
"""Return how many things of one kind refer to an area id."""


@dataclass(slots=True)
class _Dependants:
    label: str
    plural: str
    count: DependantCounter
    blocks_delete: bool


class AreaRegistry:
    """The community's areas, persisted in ``linli.areas``."""

    def __init__(self, hub: Hub) -> None:
        """Create an empty registry; :meth:`async_load` fills it."""
        self._hub = hub
        self._store = Store(hub, STORAGE_KEY, STORAGE_VERSION)
        self._areas: dict[str, AreaEntry] = {}
        # Child ids by parent id, in creation order (dicts as ordered sets).
        self._children: dict[str, dict[str, None]] = {}
        self._root_id: str | None = None
        self._dependants: list[_Dependants] = []

    # ------------------------------------------------------------------ loading and saving
    async def async_load(self) -> None:
        """Load the stored areas; create the community root when there is none."""
        data = await self._store.async_load()
        if data is not None:
            try:
                entries = [_entry_from_dict(item) for item in data["areas"]]
            except (KeyError, TypeError, ValueError) as err:
                raise StorageError(f"{self._store.path} holds a malformed area: {err!r}") from err
            for entry in entries:
                self._areas[entry.id] = entry
                if entry.kind is AreaKind.COMMUNITY and self._root_id is None:
                    self._root_id = entry.id
            for entry in entries:
                if entry.parent_id is not None:
                    if entry.parent_id not in self._areas:
                        _LOGGER.warning(
                            "Stored area %s has an unknown parent %s", entry.id, entry.parent_id
                        )
                    self._children.setdefault(entry.parent_id, {})[entry.id] = None
        if self._root_id is None:
            # Part of loading, like a stored area: no event, and nothing to write until
            # something changes (the same root is made again on the next start).
            self._areas[ROOT_ID] = AreaEntry(
                id=ROOT_ID,
                kind=AreaKind.COMMUNITY,
                parent_id=None,
                name=self._hub.config.name,
                source=SOURCE_CONFIG,
            )
            self._root_id = ROOT_ID

    async def async_flush(self) -> None:
        """Write pending changes now."""
        await self._store.async_flush()

    @callback
    def _data_to_save(self) -> dict[str, Any]:
        return {"areas": [entry.as_dict() for entry in self._areas.values()]}

    @callback
    def _async_schedule_save(self) -> None:
        self._store.async_delay_save(self._data_to_save, SAVE_DELAY)

    # ------------------------------------------------------------------ reading
    @property
    def root_id(self) -> str:
        """The id of the community root."""
        if self._root_id is None:
            raise RegistryError("The area registry is not loaded yet")
        return self._root_id

    @property
    def areas(self) -> Mapping[str, AreaEntry]:
        """All areas by id (read-only view)."""
        return MappingProxyType(self._areas)

    def __iter__(self) -> Iterator[AreaEntry]:
        return iter(list(self._areas.values()))

    def __len__(self) -> int:
        return len(self._areas)

    def __contains__(self, area_id: object) -> bool:
        return area_id in self._areas

    @callback
    def async_get(self, area_id: str) -> AreaEntry | None:
        """Return the area ``area_id``, or None."""
        return self._areas.get(area_id)

    @callback
    def async_get_by_kind(self, kind: AreaKind | str) -> list[AreaEntry]:
        """Return every area of ``kind``."""
        wanted = _kind(kind)
        return [entry for entry in self._areas.values() if entry.kind is wanted]

    def _require(self, area_id: str) -> AreaEntry:
        entry = self._areas.get(area_id)
        if entry is None:
            raise RegistryError(f"unknown area {area_id!r}")
        return entry

    @callback
    def children(self, area_id: str) -> list[AreaEntry]:
        """Return the direct children of ``area_id``."""
        self._require(area_id)
        return [self._areas[child] for child in self._children.get(area_id, ())]

    @callback
    def ancestors(self, area_id: str) -> list[AreaEntry]:
        """Return the areas above ``area_id``, the community first."""
        entry = self._require(area_id)
        result: list[AreaEntry] = []
        seen = {entry.id}
        while entry.parent_id is not None and entry.parent_id in self._areas:
            if entry.parent_id in seen:  # only a hand-edited file can hold a cycle
                break
            entry = self._areas[entry.parent_id]
            seen.add(entry.id)
            result.append(entry)
        result.reverse()
        return result

    @callback
    def descendants(self, area_id: str) -> list[AreaEntry]:
        """Return every area below ``area_id``, parents before children."""
        self._require(area_id)
        result: list[AreaEntry] = []
        stack = list(reversed(self._children.get(area_id, {})))
        seen = {area_id}
        while stack:
            child_id = stack.pop()
            if child_id in seen:
                continue
            seen.add(child_id)
            result.append(self._areas[child_id])
            stack.extend(reversed(self._children.get(child_id, {})))
        return result

    @callback
    def descendant_ids(self, area_id: str) -> set[str]:
        """Return ``area_id`` and the ids of every area below it."""
        return {area_id, *(entry.id for entry in self.descendants(area_id))}

    @callback
    def display_name(self, area_id: str, language: str | None = None) -> str:
        """Return the name of ``area_id`` in ``language`` (default: the community's)."""
        return self._require(area_id).display_name(language or self._hub.config.language)

    @callback
    def path_name(self, area_id: str, language: str | None = None) -> str:
        """Return the full path, e.g. "幸福里 / 3号楼 / 2单元 / 12层 / 1201"."""
        language = language or self._hub.config.language
        chain = [*self.ancestors(area_id), self._require(area_id)]
        return " / ".join(entry.display_name(language) for entry in chain)

    # ------------------------------------------------------------------ dependants
    @callback
    def async_register_dependants(
        self,
        label: str,
        count: DependantCounter,
        *,
        blocks_delete: bool,
        plural: str | None = None,
    ) -> None:
        """Tell the registry that things called ``label`` (e.g. "device") refer to areas.

        ``count(area_id)`` says how many refer to one area. Areas with dependants are kept when
        they leave the configuration; ``blocks_delete`` also refuses deleting them (otherwise
        the dependants clear their reference on the ``remove`` event).
        """
        self._dependants.append(_Dependants(label, plural or f"{label}s", count, blocks_delete))

    def _dependant_counts(self, area_id: str, *, only_blocking: bool) -> list[str]:
        found = []
        for dependants in self._dependants:
            if only_blocking and not dependants.blocks_delete:
                continue
            number = dependants.count(area_id)
            if number:
                found.append(f"{number} {dependants.label if number == 1 else dependants.plural}")
        return found

    # ------------------------------------------------------------------ changing
    def _validate_parent(
        self, area_id: str, kind: AreaKind, parent_id: str | None
    ) -> AreaEntry | None:
        if parent_id is None:
            problem = _parent_error(kind, None)
            if problem is not None:
                raise RegistryError(f"{problem}: give a parent for {area_id!r}")
            return None
        parent = self._areas.get(parent_id)
        if parent is None:
            raise RegistryError(f"parent {parent_id!r} of {area_id!r} does not exist")
        problem = _parent_error(kind, parent.kind)
        if problem is not None:
            raise RegistryError(f"{problem} ({area_id!r} under {parent_id!r})")
        return parent

    @callback
    def async_create(
        self,
        kind: AreaKind | str,
        name: str,
        parent_id: str | None = None,
        *,
        id: str | None = None,
        names: Mapping[str, str] | None = None,
        floor_number: int | None = None,
    ) -> AreaEntry:
        """Create a user area. Without ``parent_id`` a building or zone goes under the community.

        Without ``id`` one is generated from the names (``building-3`` for "3号楼").
        """
        return self._async_create(
            _kind(kind),
            name,
            parent_id,
            area_id=id,
            names=names,
            floor_number=floor_number,
            source=SOURCE_USER,
        )

    def _async_create(
        self,
        kind: AreaKind,
        name: str,
        parent_id: str | None,
        *,
        area_id: str | None,
        names: Mapping[str, str] | None,
        floor_number: int | None,
        source: str,
    ) -> AreaEntry:
        name = _check_name(name)
        clean_names = _check_names(names)
        if kind is AreaKind.COMMUNITY:
            if self._root_id is not None:
                raise RegistryError(
                    f"there is already a community root {self._root_id!r}: "
                    "a hub serves one community"
                )
            if parent_id is not None:
                raise RegistryError("the community is the root and has no parent")
        elif parent_id is None and self._root_id is not None and kind in _UNDER_ROOT:
            parent_id = self._root_id
        if area_id is None:
            area_id = generate_area_id(
                kind,
                name,
                names=clean_names,
                parent_id=parent_id,
                root_id=self._root_id or ROOT_ID,
                taken=self._areas,
                floor_number=floor_number,
            )
        elif not valid_area_id(area_id):
            raise RegistryError(
                f"invalid area id {area_id!r}: use lower-case ascii letters, digits, '-' and '_'"
            )
        elif area_id in self._areas:
            raise RegistryError(f"area id {area_id!r} is already taken")
        self._validate_parent(area_id, kind, parent_id)
        _check_floor_number(kind, floor_number)
        entry = AreaEntry(
            id=area_id,
            kind=kind,
            parent_id=parent_id,
            name=name,
            names=clean_names,
            source=source,
            floor_number=floor_number,
        )
        self._async_add(entry)
        return entry

    def _async_add(self, entry: AreaEntry) -> None:
        self._areas[entry.id] = entry
        if entry.parent_id is not None:
            self._children.setdefault(entry.parent_id, {})[entry.id] = None
        if entry.kind is AreaKind.COMMUNITY:
            self._root_id = entry.id
        _LOGGER.debug("Area %s (%s) created", entry.id, entry.kind)
        self._async_fire("create", entry.id, {})
        self._async_schedule_save()

    @callback
    def async_update(
        self,
        area_id: str,
        *,
        name: str | UndefinedType = UNDEFINED,
        names: Mapping[str, str] | UndefinedType = UNDEFINED,
        parent_id: str | UndefinedType | None = UNDEFINED,
        kind: AreaKind | str | UndefinedType = UNDEFINED,
        floor_number: int | UndefinedType | None = UNDEFINED,
    ) -> AreaEntry:
        """Change an area; moving it re-checks the kinds and refuses cycles."""
        return self._async_update(
            area_id,
            name=name,
            names=names,
            parent_id=parent_id,
            kind=kind,
            floor_number=floor_number,
        )

    def _async_update(
        self,
        area_id: str,
        *,
        name: str | UndefinedType = UNDEFINED,
        names: Mapping[str, str] | UndefinedType = UNDEFINED,
        parent_id: str | UndefinedType | None = UNDEFINED,
        kind: AreaKind | str | UndefinedType = UNDEFINED,
        floor_number: int | UndefinedType | None = UNDEFINED,
        check_children: bool = True,
    ) -> AreaEntry:
        old = self._require(area_id)
        changes: dict[str, Any] = {}
        if name is not UNDEFINED:
            changes["name"] = _check_name(name)
        if names is not UNDEFINED:
            changes["names"] = _check_names(names)
        elif name is not UNDEFINED:
            # ``name`` is the name in the community's language: keep that translation in step,
            # or display_name would go on showing the old one.
            tag = _lookup_tag(old.names, self._hub.config.language)
            if tag is not None:
                changes["names"] = {**old.names, tag: changes["name"]}
        if kind is not UNDEFINED:
            changes["kind"] = _kind(kind)
        if parent_id is not UNDEFINED:
            changes["parent_id"] = parent_id
        if floor_number is not UNDEFINED:
            changes["floor_number"] = floor_number
        changes = {key: value for key, value in changes.items() if getattr(old, key) != value}
        if not changes:
            return old
        new = replace(old, **changes)
        if (old.kind is AreaKind.COMMUNITY) != (new.kind is AreaKind.COMMUNITY):
            raise RegistryError(f"the kind of {area_id!r} cannot change to or from community")
        if "kind" in changes or "parent_id" in changes:
            self._validate_parent(area_id, new.kind, new.parent_id)
        if (
            "parent_id" in changes
            and new.parent_id is not None
            and (
                new.parent_id == area_id
                or any(entry.id == area_id for entry in self.ancestors(new.parent_id))
            )
        ):
            raise RegistryError(
                f"cannot move {area_id!r} under {new.parent_id!r}: "
                f"{new.parent_id!r} is inside {area_id!r}"
            )
        if "kind" in changes and check_children:
            for child in self.children(area_id):
                problem = _parent_error(child.kind, new.kind)
                if problem is not None:
                    raise RegistryError(
                        f"{area_id!r} cannot become a {new.kind}: its child {child.id!r} "
                        f"is a {child.kind} ({problem})"
                    )
        _check_floor_number(new.kind, new.floor_number)
        if "parent_id" in changes:
            if old.parent_id is not None:
                self._children.get(old.parent_id, {}).pop(area_id, None)
            if new.parent_id is not None:
                self._children.setdefault(new.parent_id, {})[area_id] = None
        self._areas[area_id] = new
        old_values = {key: getattr(old, key) for key in changes}
        self._async_fire("update", area_id, old_values)
        self._async_schedule_save()
        return new

    @callback
    def async_delete(self, area_id: str) -> None:
        """Delete an area; refused for the community, areas with children or with homes in it.

        Devices and entities in the area lose their area (they listen to the event).
        """
        entry = self._require(area_id)
        if entry.kind is AreaKind.COMMUNITY:
            raise RegistryError("the community root cannot be deleted")
        children = self._children.get(area_id, {})
        if children:
            raise RegistryError(
                f"area {area_id!r} has {len(children)} child area"
                f"{'s' if len(children) != 1 else ''}: delete or move them first"
            )
        blocking = self._dependant_counts(area_id, only_blocking=True)
        if blocking:
            raise RegistryError(
                f"area {area_id!r} is used by {', '.join(blocking)}: change those first"
            )
        self._async_remove(entry)

    def _async_remove(self, entry: AreaEntry) -> None:
        del self._areas[entry.id]
        self._children.pop(entry.id, None)
        if entry.parent_id is not None:
            self._children.get(entry.parent_id, {}).pop(entry.id, None)
        _LOGGER.debug("Area %s removed", entry.id)
        self._async_fire("remove", entry.id, {})
        self._async_schedule_save()

    def _async_fire(self, action: str, area_id: str, changes: dict[str, Any]) -> None:
        self._hub.bus.async_fire(
            EVENT_AREA_REGISTRY_UPDATED,
            {"action": action, "id": area_id, "changes": _plain(changes)},
        )

    # ------------------------------------------------------------------ configuration
    @callback
    def async_sync_from_config(self, community_name: str | Mapping[str, str], tree: Any) -> None:
        """Make the config-sourced areas match configuration.yaml.

        Creates or updates the community root and every node of ``tree`` (see
        :data:`AREA_TREE_SCHEMA`), and removes config areas no longer listed unless something
        depends on them (user-made child areas, devices, entities, households): those are kept
        with a warning. Areas made in the UI are never touched. Raises :class:`RegistryError`
        before changing anything when the tree is invalid or clashes with a user area.
        """
        language = self._hub.config.language
        try:
            name, names = _split_name(NAME_SCHEMA(community_name), language)
            user_ids = {e.id for e in self._areas.values() if e.source == SOURCE_USER}
            nodes = expand_area_tree(
                tree, root_id=self._root_id or ROOT_ID, language=language, reserved=user_ids
            )
        except vol.Invalid as err:
            raise RegistryError(f"invalid area tree: {err}") from err
        wanted = {node["id"]: node for node in nodes}
        for node in nodes:
            existing = self._areas.get(node["id"])
            if existing is not None and existing.source != SOURCE_CONFIG:
                raise RegistryError(
                    f"area id {node['id']!r} in the configuration is already used by an area "
                    "made in the UI: give the configured one another id"
                )
            if existing is not None and existing.kind is not node["kind"]:
                for child in self.children(existing.id):
                    if child.id in wanted:
                        continue
                    problem = _parent_error(child.kind, node["kind"])
                    if problem is not None:
                        raise RegistryError(
                            f"area {existing.id!r} cannot become a {node['kind']}: it still "
                            f"holds {child.id!r}, a {child.kind} ({problem})"
                        )

        if self._root_id is None:
            self._async_create(
                AreaKind.COMMUNITY,
                name,
                None,
                area_id=ROOT_ID,
                names=names,
                floor_number=None,
                source=SOURCE_CONFIG,
            )
        else:
            self._async_update(self._root_id, name=name, names=names)
        for node in nodes:
            if node["id"] in self._areas:
                # Parents come first, so a moved node's new parent is already in place.
                self._async_update(
                    node["id"],
                    name=node["name"],
                    names=node["names"],
                    parent_id=node["parent_id"],
                    kind=node["kind"],
                    floor_number=node["floor_number"],
                    check_children=False,
                )
            else:
                self._async_create(
                    node["kind"],
                    node["name"],
                    node["parent_id"],
                    area_id=node["id"],
                    names=node["names"],
                    floor_number=node["floor_number"],
                    source=SOURCE_CONFIG,
                )
        self._async_remove_stale(set(wanted))

    def _async_remove_stale(self, wanted: set[str]) -> None:
        stale = [
            entry
            for entry in self._areas.values()
            if entry.source == SOURCE_CONFIG
            and entry.id not in wanted
            and entry.kind is not AreaKind.COMMUNITY
        ]
        # Deepest first: a parent can go once its stale children have gone.
        stale.sort(key=lambda entry: len(self.ancestors(entry.id)), reverse=True)
        for entry in stale:
            reasons = self._dependant_counts(entry.id, only_blocking=False)
            children = self._children.get(entry.id, {})
            if children:
                reasons.insert(0, f"{len(children)} child area{'s' if len(children) != 1 else ''}")
            if reasons:
                _LOGGER.warning(
                    "Area %s is no longer in the configuration but is kept: it still has %s",
                    entry.id,
                    ", ".join(reasons),
                )
                continue
            self._async_remove(entry)


_UNDER_ROOT: Final = frozenset(
    kind for kind, parents in ALLOWED_PARENTS.items() if AreaKind.COMMUNITY in parents
)


def _kind(value: AreaKind | str) -> AreaKind:
    try:
        return AreaKind(value)
    except ValueError:
        raise RegistryError(
            f"unknown area kind {value!r}: expected one of {', '.join(k.value for k in AreaKind)}"
        ) from None


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise RegistryError("an area needs a non-empty name")
    return name.strip()


def _check_names(names: Mapping[str, str] | None) -> dict[str, str]:
    if names is None:
        return {}
    clean: dict[str, str] = {}
    for tag, value in names.items():
        if not isinstance(tag, str) or not tag or not isinstance(value, str) or not value.strip():
            raise RegistryError(f"invalid name {value!r} for language {tag!r}")
        clean[tag] = value.strip()
    return clean


def _check_floor_number(kind: AreaKind, floor_number: Any) -> None:
    if floor_number is None:
        return
    if kind is not AreaKind.FLOOR:
        raise RegistryError(f"floor_number is only for floors, not a {kind}")
    if isinstance(floor_number, bool) or not isinstance(floor_number, int):
        raise RegistryError(f"floor_number must be a whole number, not {floor_number!r}")


def _plain(changes: dict[str, Any]) -> dict[str, Any]:
    return {
        key: dict(value) if isinstance(value, dict) else value for key, value in changes.items()
    }


def _entry_from_dict(item: Mapping[str, Any]) -> AreaEntry:
    return AreaEntry(
        id=item["id"],
        kind=AreaKind(item["kind"]),
        parent_id=item.get("parent_id"),
        name=item["name"],
        names=dict(item.get("names") or {}),
        source=item.get("source", SOURCE_USER),
        floor_number=item.get("floor_number"),
    )
