"""The pure building blocks: password hashes, token formats, JWTs and the login limiter."""

from __future__ import annotations

import jwt
import pytest

from linli.auth import passwords
from linli.auth.ratelimit import LoginLimiter
from linli.auth.tokens import (
    TokenKind,
    decode_access_token,
    encode_access_token,
    hash_secret,
    new_jwt_key,
    new_token,
    parse_token,
    secret_matches,
    unverified_issuer,
)


def test_password_hashes_verify_and_are_salted() -> None:
    first = passwords.hash_password("correct horse")
    second = passwords.hash_password("correct horse")
    assert first != second  # a fresh salt each time
    assert first.startswith("scrypt$32768$8$1$")
    assert passwords.verify_password("correct horse", first)
    assert not passwords.verify_password("correct horsf", first)
    assert not passwords.verify_password("correct horse", "bcrypt$whatever")
    assert not passwords.verify_password("correct horse", "scrypt$garbage")
    assert not passwords.verify_password("x" * (passwords.MAX_LENGTH + 1), first)
    assert not passwords.verify_password("anything", passwords.DUMMY_HASH)
    assert not passwords.needs_rehash(first)
    assert passwords.needs_rehash("scrypt$16384$8$1$c2FsdA$a2V5")
    assert passwords.needs_rehash("nonsense")


def test_password_policy() -> None:
    passwords.check_password_policy("12345678")
    with pytest.raises(ValueError, match="at least 8"):
        passwords.check_password_policy("1234567")
    with pytest.raises(ValueError, match="at most"):
        passwords.check_password_policy("x" * (passwords.MAX_LENGTH + 1))


def test_opaque_tokens_carry_an_id_and_a_hashed_secret() -> None:
    made = new_token(TokenKind.long_lived)
    prefix, token_id, secret = made.token.split("_", 2)
    assert prefix == "lnt"
    assert made.id == token_id
    assert len(secret) >= 43  # 256 random bits
    assert made.token_hash == hash_secret(secret)
    assert parse_token(made.token, TokenKind.long_lived) == (token_id, secret)
    assert parse_token(made.token, TokenKind.refresh) is None
    assert secret_matches(secret, made.token_hash)
    assert not secret_matches(secret + "x", made.token_hash)
    for bad in ("", "lnt_", "lnt_short_x", "lnt_" + "g" * 32 + "_x", "lnt_" + "a" * 32 + "x"):
        assert parse_token(bad, TokenKind.long_lived) is None, bad
    assert new_token(TokenKind.long_lived).token != made.token


def test_access_tokens_are_signed_and_expire_by_the_given_clock() -> None:
    key = new_jwt_key()
    token = encode_access_token("refresh-id", key, now=1_000_000.0, lifetime=1800)
    assert unverified_issuer(token) == "refresh-id"
    assert decode_access_token(token, key, now=1_001_799.0) is not None
    assert decode_access_token(token, key, now=1_001_800.0) is None
    assert decode_access_token(token, new_jwt_key(), now=1_000_001.0) is None
    unsigned = jwt.encode({"iss": "refresh-id", "exp": 2_000_000}, None, algorithm="none")
    assert decode_access_token(unsigned, key, now=1_000_001.0) is None
    assert unverified_issuer("not.a.jwt") is None


def test_limiter_locks_after_the_threshold_until_the_window_passes() -> None:
    limiter = LoginLimiter(threshold=3, lockout_seconds=60)
    assert not limiter.record_failure("a", 0)
    assert not limiter.record_failure("a", 30)
    assert limiter.retry_after("a", 30) == 0
    assert limiter.record_failure("a", 40)
    assert limiter.retry_after("a", 40) == 60
    assert limiter.retry_after("b", 40) == 0
    assert limiter.retry_after("a", 100) == 0
    # Failures spread wider than the window never lock.
    assert not limiter.record_failure("c", 0)
    assert not limiter.record_failure("c", 61)
    assert not limiter.record_failure("c", 122)
    limiter.record_failure("d", 0)
    limiter.reset("d")
    assert not limiter.record_failure("d", 1)
