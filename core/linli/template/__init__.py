"""Templates: Home Assistant-compatible Jinja2, rendered in a sandbox.

::

    tmpl = Template("{{ states('sensor.gate_temperature') | float(0) > 30 }}", hub)
    tmpl.async_render()                  # → True / False (parsed like Home Assistant)
    info = tmpl.async_render_to_info()   # … and which entities / domains it read

Configuration is validated before a hub exists: the :func:`template` validator compiles the
text to report syntax errors, and :func:`attach` gives the templates their hub afterwards. A
template without Jinja syntax (``is_static``) renders as its text without touching Jinja.

Rendering never raises anything but :class:`TemplateError` for a template's own faults, and
every render is bounded (output, work, loop iterations and calls; see
:mod:`linli.template.scope`), so a bad template cannot hang or crash the hub. The hub itself,
its registries and any private attribute stay out of a template's reach.
"""

from __future__ import annotations

import asyncio
import copy
import re
from ast import literal_eval
from collections.abc import Generator, Iterable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final, cast

import jinja2
import voluptuous as vol

from linli.callback import callback
from linli.template.environment import forbidden_types, get_environment, syntax_error
from linli.template.scope import (
    MAX_INT_BITS,
    MAX_STEPS,
    MAX_TEMPLATE_OUTPUT,
    MAX_VALUE_SIZE,
    MAX_WORK,
    RenderInfo,
    RenderScope,
    TemplateError,
    rendering,
)

if TYPE_CHECKING:
    from linli.hub import Hub
    from linli.template.environment import TemplateEnvironment

__all__ = [
    "MAX_INT_BITS",
    "MAX_STEPS",
    "MAX_TEMPLATE_OUTPUT",
    "MAX_VALUE_SIZE",
    "MAX_WORK",
    "RenderInfo",
    "Template",
    "TemplateError",
    "attach",
    "dynamic_template",
    "is_template_string",
    "parse_result",
    "render_complex",
    "template",
    "template_complex",
]

# "Simple" numbers only: -1, +5, 1.0, .5 (not 1e3, 0x10, 1_000 or 0123).
_IS_NUMERIC: Final = re.compile(r"^[+-]?(?!0\d)\d*(?:\.\d*)?$")
_CACHED_RESULT_LENGTH: Final = 4096


def is_template_string(value: str) -> bool:
    """Return whether ``value`` holds Jinja syntax (``{{``, ``{%`` or ``{#``)."""
    return "{" in value and ("{{" in value or "{%" in value or "{#" in value)


def _evaluate(text: str) -> Any:
    try:
        result = literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return text
    if isinstance(result, bool) or result is None:
        return result
    if isinstance(result, int | float):
        # "1e3" or "0x10" are numbers to Python but text to a user.
        return result if _IS_NUMERIC.match(text) else text
    if isinstance(result, list | dict | tuple | set):
        return result
    # Strings (quotes would be lost), complex numbers, bytes, Ellipsis: keep the text.
    return text


_evaluate_cached = lru_cache(maxsize=512)(_evaluate)


def parse_result(text: str) -> Any:
    """Turn rendered text into a value like Home Assistant does.

    The whole text must be a Python literal: ``"42"`` → 42, ``"1.0"`` → 1.0, ``"True"`` →
    True, ``"None"`` → None, ``"[1, 2]"`` → a list. ``"on"``, ``"0123"`` or ``"1e3"`` stay text.
    """
    if len(text) > _CACHED_RESULT_LENGTH:
        return _evaluate(text)
    result = _evaluate_cached(text)
    # The cache shares results: hand out copies of anything a caller could change.
    return copy.deepcopy(result) if isinstance(result, list | dict | set | tuple) else result


_parse = parse_result  # Template methods take a ``parse_result`` flag that shadows the name


def _describe(err: BaseException) -> str:
    if isinstance(err, MemoryError):
        return "the template ran out of memory"
    if isinstance(err, RecursionError):
        return "the template recursed too deeply"
    if isinstance(err, jinja2.exceptions.SecurityError):
        reason = f"refused by the sandbox: {err}"
    elif isinstance(err, jinja2.TemplateError):
        reason = str(err)
    else:
        reason = f"{type(err).__name__}: {err}"
    return reason if len(reason) <= 300 else reason[:299] + "…"


def _collect(chunks: Iterable[str]) -> str:
    parts: list[str] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_TEMPLATE_OUTPUT:
            raise TemplateError(f"the output is too long (over {MAX_TEMPLATE_OUTPUT} characters)")
        parts.append(chunk)
    return "".join(parts)


class Template:
    """A Jinja template and the hub it renders against (``hub`` may be set later)."""

    __slots__ = ("__weakref__", "_compiled", "hub", "is_static", "source")

    def __init__(self, source: str, hub: Hub | None = None) -> None:
        """Hold ``source`` (surrounding whitespace removed, as in Home Assistant)."""
        if not isinstance(source, str):
            raise TypeError(f"a template's source must be a string, not {type(source).__name__}")
        self.source: str = source.strip()
        self.hub = hub
        self.is_static: bool = not is_template_string(self.source)
        self._compiled: tuple[TemplateEnvironment, jinja2.Template] | None = None

    @property
    def template(self) -> str:
        """The source (Home Assistant's name for it)."""
        return self.source

    def _compile(self, environment: TemplateEnvironment) -> jinja2.Template:
        if self._compiled is not None and self._compiled[0] is environment:
            return self._compiled[1]
        try:
            compiled = environment.template_for(self.source)
        except jinja2.TemplateSyntaxError as err:
            raise syntax_error(err, self.source) from None
        except Exception as err:  # e.g. RecursionError on absurdly nested expressions
            raise TemplateError(_describe(err), template=self.source, action="compiling") from err
        self._compiled = (environment, compiled)
        return compiled

    def ensure_valid(self) -> None:
        """Compile the template; raise :class:`TemplateError` (with line and column) if invalid."""
        if not self.is_static:
            self._compile(get_environment(self.hub))

    @callback
    def async_render(
        self,
        variables: Mapping[str, Any] | None = None,
        *,
        parse_result: bool = True,
        limited: bool = False,
    ) -> Any:
        """Render on the event loop; return the text, or the value it spells (``parse_result``).

        ``limited`` renders refuse states, registries and ``expand`` (for templates that must
        not depend on the hub's data). Raises :class:`TemplateError` on any failure.
        """
        return self._render(variables, parse_result=parse_result, limited=limited, info=None)

    @callback
    def async_render_to_info(
        self,
        variables: Mapping[str, Any] | None = None,
        *,
        parse_result: bool = True,
        limited: bool = False,
    ) -> RenderInfo:
        """Render and record what the template read; a failure goes in ``exception``."""
        info = RenderInfo()
        try:
            info.result = self._render(
                variables, parse_result=parse_result, limited=limited, info=info
            )
        except TemplateError as err:
            info.exception = err
        return info

    def _render(
        self,
        variables: Mapping[str, Any] | None,
        *,
        parse_result: bool,
        limited: bool,
        info: RenderInfo | None,
    ) -> Any:
        if self.is_static:
            return _parse(self.source) if parse_result else self.source
        if self.hub is not None:
            _require_loop()
        compiled = self._compile(get_environment(self.hub))
        values = dict(variables) if variables else {}
        for name, value in values.items():
            if isinstance(value, forbidden_types()):
                raise TemplateError(
                    f"variable {name!r} holds the {type(value).__name__}, which templates "
                    "may not use",
                    template=self.source,
                )
        chunks = cast("Generator[str, None, None]", compiled.generate(values))
        try:
            with rendering(RenderScope(limited=limited, info=info)):
                try:
                    text = _collect(chunks)
                finally:
                    chunks.close()
        except TemplateError as err:
            raise TemplateError(err.reason, template=self.source) from err
        except Exception as err:
            raise TemplateError(_describe(err), template=self.source) from err
        text = text.strip()
        return _parse(text) if parse_result else text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Template) and self.source == other.source

    def __hash__(self) -> int:
        return hash(self.source)

    def __repr__(self) -> str:
        return f"Template({self.source!r})"


def _require_loop() -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        raise RuntimeError(
            "Template.async_render must be called from the event loop thread"
        ) from None


# ---------------------------------------------------------------------- nested data
def render_complex(
    value: Any,
    variables: Mapping[str, Any] | None = None,
    hub: Hub | None = None,
    *,
    parse_result: bool = True,
    limited: bool = False,
) -> Any:
    """Render every template in a nested dict / list / str, leaving other values alone.

    Template strings and :class:`Template` objects are rendered (templates without a hub get
    ``hub``); keys are rendered too, always to text, so they stay usable as keys.
    """
    if isinstance(value, Template):
        if value.hub is None and hub is not None:
            value.hub = hub
        return value.async_render(variables, parse_result=parse_result, limited=limited)
    if isinstance(value, str):
        if not is_template_string(value):
            return value
        return Template(value, hub).async_render(
            variables, parse_result=parse_result, limited=limited
        )
    if isinstance(value, Mapping):
        return {
            render_complex(key, variables, hub, parse_result=False, limited=limited): (
                render_complex(item, variables, hub, parse_result=parse_result, limited=limited)
            )
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        rendered = [
            render_complex(item, variables, hub, parse_result=parse_result, limited=limited)
            for item in value
        ]
        return rendered if isinstance(value, list) else tuple(rendered)
    return value


def attach(hub: Hub, obj: Any) -> None:
    """Set ``hub`` on every :class:`Template` in a nested dict / list structure."""
    if isinstance(obj, Template):
        obj.hub = hub
    elif isinstance(obj, Mapping):
        for key, item in obj.items():
            attach(hub, key)
            attach(hub, item)
    elif isinstance(obj, list | tuple | set | frozenset):
        for item in obj:
            attach(hub, item)


# ---------------------------------------------------------------------- validators
def template(value: Any) -> Template:
    """Voluptuous validator: a template string, compiled to check its syntax."""
    if isinstance(value, Template):
        return value
    if not isinstance(value, str):
        raise vol.Invalid(f"expected a template string, not {type(value).__name__}")
    result = Template(value)
    try:
        result.ensure_valid()
    except TemplateError as err:
        raise vol.Invalid(f"invalid template: {err.reason}") from None
    return result


def dynamic_template(value: Any) -> Template:
    """Voluptuous validator: a template that contains Jinja syntax."""
    source = value.source if isinstance(value, Template) else value
    if isinstance(source, str) and not is_template_string(source):
        raise vol.Invalid("expected a template with {{ … }} or {% … %}; this is plain text")
    return template(value)


def template_complex(value: Any) -> Any:
    """Voluptuous validator: nested dicts / lists with every string value made a Template.

    Keys become templates only when they contain Jinja syntax, so plain keys can still be
    looked up; other values (numbers, booleans, None) are kept as they are.
    """
    if isinstance(value, list):
        return [template_complex(item) for item in value]
    if isinstance(value, Mapping):
        return {
            (template(key) if isinstance(key, str) and is_template_string(key) else key): (
                template_complex(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, str | Template):
        return template(value)
    return value
