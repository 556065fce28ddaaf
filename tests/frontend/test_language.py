"""Choosing the page's language: saved choice, then the browser, then the default."""

from __future__ import annotations

import pytest

from linli_frontend.language import from_accept_language, negotiate, supported_language


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("en-US,en;q=0.9", "en"),
        ("zh-TW", "zh-CN"),
        ("fr-FR,en;q=0.5,zh;q=0.7", "zh-CN"),
        ("de, en;q=0.1", "en"),
        ("en;q=0, zh;q=0.2", "zh-CN"),
        ("fr, de", None),
        ("en;q=bogus, zh", "zh-CN"),
        ("", None),
        (None, None),
    ],
)
def test_accept_language(header: str | None, expected: str | None) -> None:
    assert from_accept_language(header) == expected


def test_saved_choice_wins_over_the_browser() -> None:
    assert negotiate("en", "zh-CN", "zh-CN") == "en"
    assert negotiate("zh-CN", "en", "en") == "zh-CN"


def test_unknown_saved_choice_is_ignored() -> None:
    assert negotiate("fr", "en", "zh-CN") == "en"
    assert negotiate("fr", None, "en") == "en"


def test_hub_language_maps_to_a_catalogue() -> None:
    assert supported_language("en-GB") == "en"
    assert supported_language("zh-Hans") == "zh-CN"
    assert supported_language("ja") == "zh-CN"
    assert supported_language(None) == "zh-CN"
