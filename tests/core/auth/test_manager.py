"""Users, logins, tokens, refresh, revocation and lock-outs, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

try:
    from pytest_asyncio import fixture as async_fixture
except ImportError:  # pragma: no cover
    async_fixture = pytest.fixture  # type: ignore[assignment]

from linli.audit import async_query
from linli.auth import (
    AuthConfig,
    AuthManager,
    InvalidCredentials,
    LockedOut,
    Role,
    UserError,
    get_auth,
)
from linli.auth.models import AuthToken, AuthUser
from linli.clock import FakeClock
from linli.hub import Hub

from .conftest import Community, build_community, start_auth, stop_auth

PASSWORD = "correct horse battery"
CONFIG = AuthConfig(
    max_failed_logins=3,
    max_failed_logins_per_ip=5,
    lockout_seconds=600,
    access_token_seconds=1800,
    refresh_token_seconds=86400,
)


@async_fixture
async def manager(hub: Hub, db_url: str) -> AsyncIterator[AuthManager]:
    """An auth manager with a small lock-out threshold, once per database backend."""
    made = await start_auth(hub, db_url, CONFIG)
    yield made
    await stop_auth(hub)


async def actions(hub: Hub) -> list[str]:
    return [row["action"] for row in reversed(await async_query(hub, limit=1000))]


async def test_create_and_find_users(hub: Hub, manager: AuthManager, clock: FakeClock) -> None:
    build_community(hub)
    staff = await manager.async_create_user("wang", Role.staff, area_ids=["b1", "gate"])
    assert get_auth(hub) is manager
    assert staff.role is Role.staff
    assert staff.area_ids == ("b1", "gate")
    assert staff.is_active
    assert not staff.system_generated
    assert staff.created_at == hub.clock.utcnow()
    assert await manager.async_get_user(staff.id) == staff
    assert await manager.async_get_user_by_name(" wang ") == staff
    clock.advance(1)
    admin = await manager.async_create_user("root", "admin", password=PASSWORD)
    assert [user.name for user in await manager.async_list_users()] == ["wang", "root"]
    assert admin.as_dict()["role"] == "admin"
    assert "password" not in str(admin.as_dict())
    assert await actions(hub) == ["user_created", "user_created"]


async def test_user_creation_is_checked(hub: Hub, manager: AuthManager) -> None:
    community: Community = build_community(hub)
    await manager.async_create_user("wang", "staff", area_ids=["b1"])
    with pytest.raises(UserError, match="already exists"):
        await manager.async_create_user("wang", "police")
    with pytest.raises(UserError, match="unknown role 'janitor': use one of admin, staff"):
        await manager.async_create_user("li", "janitor")
    with pytest.raises(UserError, match="unknown area 'b9'"):
        await manager.async_create_user("li", "staff", area_ids=["b1", "b9"])
    with pytest.raises(UserError, match="unknown person"):
        await manager.async_create_user("li", "resident", person_id="nobody")
    with pytest.raises(UserError, match="give the person, not areas"):
        await manager.async_create_user("li", "resident", area_ids=["r101"])
    with pytest.raises(UserError, match="invalid user name"):
        await manager.async_create_user("two words", "staff")
    with pytest.raises(UserError, match="at least 8 characters"):
        await manager.async_create_user("li", "staff", password="short")
    resident = await manager.async_create_user("alice", "resident", person_id=community.alice)
    assert resident.person_id == community.alice


async def test_passwords_and_tokens_are_stored_hashed(hub: Hub, manager: AuthManager) -> None:
    user = await manager.async_create_user("root", "admin", password=PASSWORD)
    long_lived = await manager.async_create_long_lived_token(user.id, "script")
    pair = await manager.async_login("root", PASSWORD, client_ip="10.0.0.2")

    def stored(session: object) -> tuple[str | None, list[str]]:
        password_hash = session.scalar(select(AuthUser.password_hash))  # type: ignore[attr-defined]
        hashes = list(session.scalars(select(AuthToken.token_hash)))  # type: ignore[attr-defined]
        return password_hash, hashes

    password_hash, token_hashes = await manager.database.async_run(stored)
    assert password_hash is not None
    assert password_hash.startswith("scrypt$32768$8$1$")
    assert PASSWORD not in password_hash
    assert len(token_hashes) == 2
    for token in (long_lived, pair.refresh_token):
        secret = token.split("_", 2)[2]  # lnt_<id>_<secret>; the secret may hold "_" itself
        assert len(secret) >= 40
        assert all(secret not in stored_hash for stored_hash in token_hashes)
        assert all(len(stored_hash) == 64 for stored_hash in token_hashes)


async def test_login_gives_an_access_token_that_expires(
    hub: Hub, manager: AuthManager, clock: FakeClock
) -> None:
    user = await manager.async_create_user("root", "admin", password=PASSWORD)
    pair = await manager.async_login("root", PASSWORD, client_ip="10.0.0.2")
    assert pair.token_type == "Bearer"
    assert pair.expires_in == 1800
    assert await manager.async_validate_access_token(pair.access_token) == user
    clock.advance(1799)
    assert await manager.async_validate_access_token(pair.access_token) == user
    clock.advance(1)
    assert await manager.async_validate_access_token(pair.access_token) is None
    refreshed = await manager.async_refresh(pair.refresh_token)
    assert refreshed.refresh_token == pair.refresh_token
    assert await manager.async_validate_access_token(refreshed.access_token) == user
    assert await actions(hub) == ["user_created", "login"]


async def test_tampered_or_foreign_tokens_are_refused(hub: Hub, manager: AuthManager) -> None:
    await manager.async_create_user("root", "admin", password=PASSWORD)
    pair = await manager.async_login("root", PASSWORD, client_ip=None)
    header, payload, signature = pair.access_token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    for bad in (
        f"{header}.{payload}.{flipped}",
        "not-a-token",
        "a.b.c",
        pair.refresh_token,  # a refresh token is not an access token
        "lnt_" + "0" * 32 + "_guess",
    ):
        assert await manager.async_validate_access_token(bad) is None, bad
    with pytest.raises(InvalidCredentials):
        await manager.async_refresh(pair.access_token)
    with pytest.raises(InvalidCredentials):
        await manager.async_refresh(pair.refresh_token[:-3] + "xyz")


async def test_refresh_tokens_expire_when_unused(
    hub: Hub, manager: AuthManager, clock: FakeClock
) -> None:
    await manager.async_create_user("root", "admin", password=PASSWORD)
    pair = await manager.async_login("root", PASSWORD, client_ip=None)
    clock.advance(86000)
    await manager.async_refresh(pair.refresh_token)  # used: renewed for another day
    clock.advance(86000)
    await manager.async_refresh(pair.refresh_token)
    clock.advance(86401)
    with pytest.raises(InvalidCredentials):
        await manager.async_refresh(pair.refresh_token)
    assert await manager.async_purge_expired_tokens() == 1


async def test_revoking_a_refresh_token_ends_its_access_tokens(
    hub: Hub, manager: AuthManager
) -> None:
    await manager.async_create_user("root", "admin", password=PASSWORD)
    pair = await manager.async_login("root", PASSWORD, client_ip=None)
    other = await manager.async_login("root", PASSWORD, client_ip=None)
    await manager.async_revoke(pair.refresh_token)
    await manager.async_revoke(pair.refresh_token)  # again: ignored
    await manager.async_revoke("garbage")
    assert await manager.async_validate_access_token(pair.access_token) is None
    with pytest.raises(InvalidCredentials):
        await manager.async_refresh(pair.refresh_token)
    assert await manager.async_validate_access_token(other.access_token) is not None


async def test_long_lived_tokens(hub: Hub, manager: AuthManager, clock: FakeClock) -> None:
    user = await manager.async_create_user("bot", "staff")
    token = await manager.async_create_long_lived_token(user.id, "door script")
    assert token.startswith("lnt_")
    clock.advance(5 * 365 * 86400)
    assert await manager.async_validate_access_token(token) == user
    assert await manager.async_validate_access_token(token[:-1]) is None
    (listed,) = await manager.async_list_tokens(user.id)
    assert listed["label"] == "door script"
    assert listed["kind"] == "long_lived"
    assert "token_hash" not in listed
    await manager.async_delete_token(listed["id"])
    assert await manager.async_validate_access_token(token) is None
    with pytest.raises(UserError, match="unknown user"):
        await manager.async_create_long_lived_token("nobody", "x")
    assert "token_created" in await actions(hub)


async def test_inactive_or_deleted_users_lose_their_tokens(hub: Hub, manager: AuthManager) -> None:
    user = await manager.async_create_user("root", "admin", password=PASSWORD)
    token = await manager.async_create_long_lived_token(user.id, "script")
    pair = await manager.async_login("root", PASSWORD, client_ip=None)
    await manager.async_update_user(user.id, is_active=False)
    assert await manager.async_validate_access_token(token) is None
    assert await manager.async_validate_access_token(pair.access_token) is None
    with pytest.raises(InvalidCredentials):
        await manager.async_login("root", PASSWORD, client_ip=None)
    await manager.async_update_user(user.id, is_active=True)
    assert await manager.async_validate_access_token(token) is not None
    await manager.async_delete_user(user.id)
    assert await manager.async_validate_access_token(token) is None
    assert await manager.async_get_user(user.id) is None


async def test_wrong_passwords_lock_the_user_out_for_a_while(
    hub: Hub, manager: AuthManager, clock: FakeClock
) -> None:
    user = await manager.async_create_user("root", "admin", password=PASSWORD)
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):  # per user, whatever the address
        with pytest.raises(InvalidCredentials):
            await manager.async_login("root", "wrong password", client_ip=address)
    with pytest.raises(LockedOut) as locked:
        await manager.async_login("root", PASSWORD, client_ip="10.0.0.9")
    assert locked.value.retry_after == 600
    clock.advance(599)
    with pytest.raises(LockedOut) as locked:
        await manager.async_login("Root", PASSWORD, client_ip="10.0.0.9")  # case-insensitive key
    assert locked.value.retry_after == 1
    clock.advance(1)
    pair = await manager.async_login("root", PASSWORD, client_ip="10.0.0.9")
    assert await manager.async_validate_access_token(pair.access_token) == user
    rows = await async_query(hub, limit=1000)
    assert [row["action"] for row in reversed(rows)] == [
        "user_created",
        "login_failed",
        "login_failed",
        "login_failed",
        "login_locked_out",
        "login",
    ]
    failed = next(row for row in rows if row["action"] == "login_failed")
    assert failed["subject"] == f"user:{user.id}"
    assert failed["details"] == {"client_ip": "10.0.0.3"}


async def test_a_success_resets_the_count(hub: Hub, manager: AuthManager) -> None:
    await manager.async_create_user("root", "admin", password=PASSWORD)
    for _ in range(2):
        with pytest.raises(InvalidCredentials):
            await manager.async_login("root", "wrong password", client_ip=None)
    await manager.async_login("root", PASSWORD, client_ip=None)
    for _ in range(2):
        with pytest.raises(InvalidCredentials):
            await manager.async_login("root", "wrong password", client_ip=None)
    await manager.async_login("root", PASSWORD, client_ip=None)


async def test_one_address_trying_many_names_is_locked_out(
    hub: Hub, manager: AuthManager, clock: FakeClock
) -> None:
    await manager.async_create_user("root", "admin", password=PASSWORD)
    for index in range(5):
        with pytest.raises(InvalidCredentials):
            await manager.async_login(f"guess{index}", "whatever1", client_ip="192.0.2.7")
    with pytest.raises(LockedOut):
        await manager.async_login("root", PASSWORD, client_ip="192.0.2.7")
    await manager.async_login("root", PASSWORD, client_ip="192.0.2.8")  # another address
    clock.advance(600)
    await manager.async_login("root", PASSWORD, client_ip="192.0.2.7")
    unknown = [row for row in await async_query(hub, limit=100) if row["action"] == "login_failed"]
    assert unknown[0]["subject"] == "username:guess4"


async def test_users_without_a_password_cannot_log_in(hub: Hub, manager: AuthManager) -> None:
    await manager.async_create_user("bot", "staff")
    with pytest.raises(InvalidCredentials):
        await manager.async_login("bot", "", client_ip=None)
    with pytest.raises(InvalidCredentials):
        await manager.async_login("nobody", PASSWORD, client_ip=None)


async def test_a_second_process_sees_users_and_tokens_made_elsewhere(
    hub_factory: object, tmp_path: Path, db_url: str
) -> None:
    """Two managers, each with its own engine on one database (the hub and a CLI command):
    what one writes, the other finds on a cache miss."""
    make = hub_factory  # type: ignore[assignment]
    hub_a: Hub = await make(tmp_path / "a")  # type: ignore[operator]
    hub_b: Hub = await make(tmp_path / "b")  # type: ignore[operator]
    running = await start_auth(hub_a, db_url)
    cli = await start_auth(hub_b, db_url)
    assert await running.async_validate_access_token("lnt_" + "a" * 32 + "_x") is None
    user = await cli.async_create_user("late", "admin")
    token = await cli.async_create_long_lived_token(user.id, "made by the CLI")
    assert await running.async_validate_access_token(token) == user
    assert await running.async_get_user_by_name("late") == user
    await stop_auth(hub_b)
    await stop_auth(hub_a)
