"""Choosing the UI language: the user's saved choice, else the browser's, else the default."""

from __future__ import annotations

from typing import Final

CONF_DEFAULT_LANGUAGE: Final = "default_language"
LANGUAGES: Final = ("zh-CN", "en")
"""The languages the UI has catalogues for."""
COOKIE: Final = "linli_language"
"""Where the UI keeps the user's choice, so the next page load is rendered in it."""


def supported_language(tag: str | None) -> str:
    """Map a BCP 47 tag to a supported language (``zh*`` → zh-CN, ``en*`` → en; else zh-CN)."""
    return match_language(tag or "") or LANGUAGES[0]


def match_language(tag: str) -> str | None:
    """Return the supported language a tag means, or None for any other language."""
    primary = tag.strip().lower().split("-")[0].split("_")[0]
    if primary == "zh":
        return "zh-CN"
    if primary == "en":
        return "en"
    return None


def _quality(params: list[str]) -> float:
    for param in params:
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value)))
            except ValueError:
                return 0.0
    return 1.0


def from_accept_language(header: str | None) -> str | None:
    """Return the supported language the browser prefers most, or None if it wants neither."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate(header.split(",")[:32]):
        tag, *params = item.split(";")
        language = match_language(tag)
        quality = _quality(params)
        if language is not None and quality > 0:
            ranked.append((-quality, index, language))
    return min(ranked)[2] if ranked else None


def negotiate(cookie: str | None, accept_language: str | None, default: str) -> str:
    """The page's language: the saved choice, else Accept-Language, else ``default``."""
    if cookie in LANGUAGES:
        return cookie
    return from_accept_language(accept_language) or default
