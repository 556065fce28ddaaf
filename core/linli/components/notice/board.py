"""Community notices: the model, who reads and publishes them, and their JSON store."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from linli.auth import Role
from linli.exceptions import LinliError, StorageError
from linli.hub import HubKey
from linli.storage import Store
from linli.util.dt import as_utc
from linli.util.ids import ulid

if TYPE_CHECKING:
    from collections.abc import Iterable

    from linli.auth import Permissions
    from linli.context import Context
    from linli.hub import Hub

DOMAIN: Final = "notice"
STORAGE_KEY: Final = "linli.notices"
STORAGE_VERSION: Final = 1
SAVE_DELAY: Final = 1.0
EVENT_NOTICE_PUBLISHED: Final = "notice_published"
EVENT_NOTICE_WITHDRAWN: Final = "notice_withdrawn"
MAX_TITLE: Final = 200
MAX_BODY: Final = 4000
MAX_AREAS: Final = 100
NOTICE_BOARD: Final[HubKey[NoticeBoard]] = HubKey("notice.board")
PUBLISHERS: Final = frozenset({Role.staff, Role.grid_worker})
"""Non-admin roles that publish and withdraw notices, for areas in their scope."""


class NoticeError(LinliError):
    """A notice that cannot be published as given (the message says why)."""


@dataclass(frozen=True, slots=True)
class Notice:
    """One notice; ``area_ids`` empty means the whole community."""

    id: str
    title: str
    body: str
    area_ids: tuple[str, ...]
    author_user_id: str | None
    published_at: datetime
    expires_at: datetime | None = None
    withdrawn: bool = False
    withdrawn_at: datetime | None = field(default=None)

    def active(self, now: datetime) -> bool:
        """Not withdrawn and not expired at ``now``."""
        return not self.withdrawn and (self.expires_at is None or now < self.expires_at)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (times as ISO 8601)."""
        return {
            "id": self.id,
            "title": self.title,
            "body": self.body,
            "area_ids": list(self.area_ids),
            "author_user_id": self.author_user_id,
            "published_at": self.published_at.isoformat(),
            "expires_at": None if self.expires_at is None else self.expires_at.isoformat(),
            "withdrawn": self.withdrawn,
            "withdrawn_at": None if self.withdrawn_at is None else self.withdrawn_at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Notice:
        """Read the JSON form back."""

        def when(value: Any) -> datetime | None:
            return None if value is None else as_utc(datetime.fromisoformat(value))

        published_at = when(data["published_at"])
        assert published_at is not None
        return cls(
            id=str(data["id"]),
            title=str(data["title"]),
            body=str(data["body"]),
            area_ids=tuple(str(area) for area in data["area_ids"]),
            author_user_id=data.get("author_user_id"),
            published_at=published_at,
            expires_at=when(data.get("expires_at")),
            withdrawn=bool(data.get("withdrawn", False)),
            withdrawn_at=when(data.get("withdrawn_at")),
        )


class NoticeBoard:
    """Every notice, newest last, kept in the ``linli.notices`` store."""

    def __init__(self, hub: Hub) -> None:
        """Describe the board; nothing is read until :meth:`async_load`."""
        self._hub = hub
        self._store = Store(hub, STORAGE_KEY, STORAGE_VERSION)
        self._notices: dict[str, Notice] = {}

    async def async_load(self) -> None:
        """Read the stored notices; a malformed file is refused, never overwritten."""
        data = await self._store.async_load()
        if data is None:
            return
        try:
            notices = [Notice.from_dict(item) for item in data["notices"]]
        except (KeyError, TypeError, ValueError) as err:
            raise StorageError(f"{self._store.path} holds a malformed notice: {err!r}") from err
        self._notices = {notice.id: notice for notice in notices}

    async def async_flush(self) -> None:
        """Write pending changes now."""
        await self._store.async_flush()

    def _data_to_save(self) -> dict[str, Any]:
        return {"notices": [notice.as_dict() for notice in self._notices.values()]}

    def describe(self, notice: Notice) -> dict[str, Any]:
        """The JSON form with ``areas``: the id and names of each area, so readers whose
        scope lies below an area can still name it."""
        registry = self._hub.registries.areas
        areas = []
        for area_id in notice.area_ids:
            entry = registry.async_get(area_id)
            names = {} if entry is None else dict(entry.names)
            areas.append(
                {
                    "area_id": area_id,
                    "name": area_id if entry is None else entry.name,
                    "names": names,
                }
            )
        return notice.as_dict() | {"areas": areas}

    def get(self, notice_id: str) -> Notice | None:
        """The notice with this id, or None."""
        return self._notices.get(notice_id)

    # ------------------------------------------------------------------ who sees what
    def reaches(self, permissions: Permissions, notice: Notice) -> bool:
        """Whether ``notice`` is addressed to the user: a whole-community notice reaches
        every active user; an area's notice reaches those whose scope lies in or under it."""
        if not permissions.user.is_active:
            return False
        if permissions.is_admin or not notice.area_ids:
            return True
        scope = permissions.area_ids
        areas = self._hub.registries.areas
        for area_id in notice.area_ids:
            if area_id in scope:
                return True
        above: set[str] = set()
        for area_id in scope:
            above.update(entry.id for entry in areas.ancestors(area_id))
        return any(area_id in above for area_id in notice.area_ids)

    def visible(self, permissions: Permissions) -> list[Notice]:
        """The active notices addressed to the user, newest first (by the hub's clock)."""
        now = self._hub.clock.utcnow()
        notices = [
            notice
            for notice in self._notices.values()
            if notice.active(now) and self.reaches(permissions, notice)
        ]
        notices.sort(key=lambda notice: notice.published_at, reverse=True)
        return notices

    def may_publish(self, permissions: Permissions, area_ids: Iterable[str]) -> bool:
        """Whether the user may publish (or withdraw) a notice for ``area_ids``: admins;
        staff and grid workers for areas in their scope (the whole community only when
        their scope is the whole community); never police or residents."""
        if permissions.is_admin:
            return True
        if not permissions.user.is_active or permissions.user.role not in PUBLISHERS:
            return False
        wanted = list(area_ids)
        if not wanted:
            return permissions.all_areas
        return all(permissions.area_in_scope(area_id) for area_id in wanted)

    # ------------------------------------------------------------------ changes
    def validate(
        self, title: str, body: str, area_ids: Iterable[str], expires_at: datetime | None
    ) -> tuple[str, str, tuple[str, ...], datetime | None]:
        """Return the cleaned fields, or raise :class:`NoticeError` saying what is wrong."""
        title = title.strip()
        body = body.strip()
        if not title:
            raise NoticeError("'title' is empty")
        if len(title) > MAX_TITLE:
            raise NoticeError(f"'title' is longer than {MAX_TITLE} characters")
        if not body:
            raise NoticeError("'body' is empty")
        if len(body) > MAX_BODY:
            raise NoticeError(f"'body' is longer than {MAX_BODY} characters")
        areas = tuple(dict.fromkeys(area_ids))
        if len(areas) > MAX_AREAS:
            raise NoticeError(f"'area_ids' names more than {MAX_AREAS} areas")
        unknown = [area_id for area_id in areas if area_id not in self._hub.registries.areas]
        if unknown:
            raise NoticeError(f"'area_ids' names unknown areas: {', '.join(unknown)}")
        if areas == (self._hub.registries.areas.root_id,):
            areas = ()
        if expires_at is not None:
            expires_at = as_utc(expires_at)
            if expires_at <= self._hub.clock.utcnow():
                raise NoticeError("'expires_at' is in the past")
        return title, body, areas, expires_at

    async def async_publish(
        self,
        title: str,
        body: str,
        area_ids: Iterable[str],
        *,
        expires_at: datetime | None = None,
        author_user_id: str | None,
        context: Context | None = None,
    ) -> Notice:
        """Publish a notice and fire ``notice_published``; :class:`NoticeError` if invalid."""
        title, body, areas, expires_at = self.validate(title, body, area_ids, expires_at)
        notice = Notice(
            id=ulid(),
            title=title,
            body=body,
            area_ids=areas,
            author_user_id=author_user_id,
            published_at=self._hub.clock.utcnow(),
            expires_at=expires_at,
        )
        self._notices[notice.id] = notice
        self._store.async_delay_save(self._data_to_save, SAVE_DELAY)
        self._hub.bus.async_fire(
            EVENT_NOTICE_PUBLISHED, {"notice": notice.as_dict()}, context=context
        )
        return notice

    async def async_withdraw(self, notice_id: str, *, context: Context | None = None) -> Notice:
        """Withdraw a notice (again is a no-op) and fire ``notice_withdrawn``."""
        notice = self._notices.get(notice_id)
        if notice is None:
            raise NoticeError(f"unknown notice {notice_id!r}")
        if notice.withdrawn:
            return notice
        notice = replace(notice, withdrawn=True, withdrawn_at=self._hub.clock.utcnow())
        self._notices[notice.id] = notice
        self._store.async_delay_save(self._data_to_save, SAVE_DELAY)
        self._hub.bus.async_fire(
            EVENT_NOTICE_WITHDRAWN, {"notice": notice.as_dict()}, context=context
        )
        return notice


def get_board(hub: Hub) -> NoticeBoard:
    """The hub's notice board (the ``notice`` integration must be set up)."""
    return hub.data[NOTICE_BOARD]
