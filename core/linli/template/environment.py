"""The sandboxed Jinja environment: one per hub, with the helpers and the resource guards.

Security comes in two layers. Jinja's :class:`~jinja2.sandbox.ImmutableSandboxedEnvironment`
refuses private attributes (``__class__``, ``_anything``), internals of functions and frames,
and mutation of lists, dicts and sets; on top of it this environment refuses every attribute of
functions and partials, any value that is (part of) the hub, and turns refused attributes into
errors instead of silently empty values. Then every operation that can build something big or
run long is charged to the render's :class:`~linli.template.scope.Budget`: arithmetic and
``~`` are intercepted, each ``for`` loop counts its iterations, each call and filter has its
arguments weighed and its result charged, and known growth methods (``center``, ``replace``,
``join``, ``format`` …) are sized before they run.
"""

from __future__ import annotations

import functools
import inspect
import re
import string
import threading
import types
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Final, cast

import jinja2
from jinja2 import nodes, pass_context, pass_environment
from jinja2.exceptions import SecurityError, TemplateSyntaxError
from jinja2.filters import make_attrgetter
from jinja2.lexer import TokenStream, ignored_tokens
from jinja2.runtime import Context, Macro
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

from linli.hub import HubKey
from linli.template import functions as fn
from linli.template import states as st
from linli.template.scope import (
    MAX_INT_BITS,
    MAX_VALUE_SIZE,
    Budget,
    TemplateError,
    current,
)

if TYPE_CHECKING:
    from linli.hub import Hub

COMPILED_CACHE_SIZE: Final = 512
"""Compiled templates each environment keeps, least recently used dropped first."""

_MACRO_STEPS: Final = 4  # a macro call costs several loop iterations' worth of time

_PURE, _HUB, _STATES = "pure", "hub", "states"
_GLOBAL, _FILTER, _TEST = 1, 2, 4

# name, function, what it needs, where it is registered. ``_HUB`` functions take the hub (or
# None) first and check what they need themselves; ``_STATES`` ones take the hub and are
# refused without a hub and in limited renders.
_HELPERS: Final[tuple[tuple[str, Callable[..., Any], str, int], ...]] = (
    ("is_state", st.is_state, _STATES, _GLOBAL | _TEST),
    ("state_attr", st.state_attr, _STATES, _GLOBAL | _FILTER),
    ("is_state_attr", st.is_state_attr, _STATES, _GLOBAL | _TEST),
    ("has_value", st.has_value, _STATES, _GLOBAL | _FILTER | _TEST),
    ("expand", st.expand, _STATES, _GLOBAL | _FILTER),
    ("now", fn.now, _HUB, _GLOBAL),
    ("utcnow", fn.utcnow, _HUB, _GLOBAL),
    ("today_at", fn.today_at, _HUB, _GLOBAL | _FILTER),
    ("as_timestamp", fn.as_timestamp, _HUB, _GLOBAL | _FILTER),
    ("as_datetime", fn.as_datetime, _PURE, _GLOBAL | _FILTER),
    ("as_local", fn.as_local, _HUB, _GLOBAL | _FILTER),
    ("strptime", fn.strptime, _PURE, _GLOBAL),
    ("timedelta", fn.make_timedelta, _PURE, _GLOBAL),
    ("as_timedelta", fn.as_timedelta, _PURE, _GLOBAL | _FILTER),
    ("timestamp_custom", fn.timestamp_custom, _HUB, _FILTER),
    ("timestamp_local", fn.timestamp_local, _HUB, _FILTER),
    ("timestamp_utc", fn.timestamp_utc, _PURE, _FILTER),
    ("relative_time", fn.relative_time, _HUB, _GLOBAL | _FILTER),
    ("time_since", fn.time_since, _HUB, _GLOBAL | _FILTER),
    ("time_until", fn.time_until, _HUB, _GLOBAL | _FILTER),
    ("float", fn.to_float, _PURE, _GLOBAL | _FILTER),
    ("int", fn.to_int, _PURE, _GLOBAL | _FILTER),
    ("bool", fn.to_bool, _PURE, _GLOBAL | _FILTER),
    ("is_number", fn.is_number, _PURE, _GLOBAL | _FILTER | _TEST),
    ("iif", fn.iif, _PURE, _GLOBAL | _FILTER),
    ("round", fn.round_value, _PURE, _FILTER),
    ("average", fn.average, _PURE, _GLOBAL | _FILTER),
    ("regex_match", fn.regex_match, _PURE, _FILTER),
    ("regex_search", fn.regex_search, _PURE, _FILTER),
    ("regex_replace", fn.regex_replace, _PURE, _FILTER),
    ("regex_findall", fn.regex_findall, _PURE, _FILTER),
    ("regex_findall_index", fn.regex_findall_index, _PURE, _FILTER),
    ("match", fn.regex_match, _PURE, _TEST),
    ("search", fn.regex_search, _PURE, _TEST),
    ("from_json", fn.from_json, _PURE, _FILTER),
    ("to_json", fn.to_json, _PURE, _FILTER),
    ("slugify", fn.slugify, _PURE, _GLOBAL | _FILTER),
    ("areas", fn.areas, _HUB, _GLOBAL),
    ("area_id", fn.area_id, _HUB, _GLOBAL | _FILTER),
    ("area_name", fn.area_name, _HUB, _GLOBAL | _FILTER),
    ("area_path", fn.area_path, _HUB, _GLOBAL | _FILTER),
    ("area_entities", fn.area_entities, _HUB, _GLOBAL | _FILTER),
    ("area_devices", fn.area_devices, _HUB, _GLOBAL | _FILTER),
    ("device_id", fn.device_id, _HUB, _GLOBAL | _FILTER),
    ("device_name", fn.device_name, _HUB, _GLOBAL | _FILTER),
    ("device_attr", fn.device_attr, _HUB, _GLOBAL | _FILTER),
    ("is_device_attr", fn.is_device_attr, _HUB, _GLOBAL | _TEST),
    ("device_entities", fn.device_entities, _HUB, _GLOBAL | _FILTER),
)

# Attributes of these are never needed by a template; partials would expose what they bind.
_OPAQUE: Final = (
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    types.MethodWrapperType,
    types.WrapperDescriptorType,
    types.MethodDescriptorType,
    types.ModuleType,
    types.CodeType,
    types.FrameType,
    types.TracebackType,
    types.GeneratorType,
    types.CoroutineType,
    types.AsyncGeneratorType,
    functools.partial,
)


@functools.cache
def forbidden_types() -> tuple[type, ...]:
    """The hub and its parts: no template may hold one, however it got there."""
    from linli.bus import EventBus
    from linli.hub import Hub, HubData
    from linli.plugins.loader import IntegrationLoader
    from linli.registry import (
        AreaRegistry,
        DeviceRegistry,
        EntityRegistry,
        PeopleRegistry,
        Registries,
    )
    from linli.services import ServiceRegistry
    from linli.state import StateMachine

    return (
        Hub,
        HubData,
        EventBus,
        StateMachine,
        ServiceRegistry,
        Registries,
        AreaRegistry,
        DeviceRegistry,
        EntityRegistry,
        PeopleRegistry,
        IntegrationLoader,
    )


def _refuse_hub(value: Any) -> None:
    if isinstance(value, forbidden_types()):
        raise SecurityError(f"templates may not use the {type(value).__name__} object")


# ---------------------------------------------------------------------- size checks
def _charge_result(budget: Budget, value: Any) -> None:
    if isinstance(value, str | bytes | list | tuple | dict | set | frozenset):
        budget.check_size(len(value))
        budget.charge(len(value))


def _check_int(budget: Budget, value: Any, what: str) -> None:
    if isinstance(value, int):
        budget.check_size(value, what)


def _replace_size(text: Any, old: Any, new: Any, count: Any) -> int:
    kind = str if isinstance(text, str) else bytes if isinstance(text, bytes) else None
    if kind is None or not isinstance(old, kind) or not isinstance(new, kind):
        return 0  # the method itself will refuse the mixed types
    found = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    return int(len(text) + found * (len(new) - len(old)))


def _join_size(separator: Any, items: list[Any]) -> int:
    parts = sum(len(item) for item in items if isinstance(item, str | bytes))
    return parts + len(separator) * max(len(items) - 1, 0)


_PERCENT_SPEC: Final = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check_percent(fmt: str) -> None:
    for match in _PERCENT_SPEC.finditer(fmt):
        for number in match.groups():
            if number == "*":
                raise TemplateError("'*' widths in % formatting are not allowed in templates")
            if number and (len(number) > 7 or int(number) > MAX_VALUE_SIZE):
                raise _too_wide(number)


def _too_wide(number: str) -> TemplateError:
    shown = number if len(number) <= 12 else number[:12] + "…"
    return TemplateError(
        f"a field width of {shown} would make the text too big (at most {MAX_VALUE_SIZE})"
    )


def _check_format(fmt: str) -> None:
    for _text, _field, spec, _conversion in string.Formatter().parse(fmt):
        if not spec:
            continue
        if "{" in spec:
            raise TemplateError("nested fields in format specifications are not allowed")
        for number in re.findall(r"\d+", spec):
            if len(number) > 7 or int(number) > MAX_VALUE_SIZE:
                raise _too_wide(number)


def _check_text_method(
    budget: Budget, text: str | bytes, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, ...]:
    """Size a growing str/bytes method before it runs; return its (possibly listed) args."""
    if name in ("center", "ljust", "rjust", "zfill"):
        _check_int(budget, args[0] if args else kwargs.get("width"), f"result of {name}()")
    elif name == "expandtabs":
        size = args[0] if args else kwargs.get("tabsize", 8)
        tabs = text.count("\t") if isinstance(text, str) else text.count(b"\t")
        if isinstance(size, int):
            budget.check_size(len(text) + tabs * size)
    elif name == "replace" and len(args) >= 2:
        count = args[2] if len(args) > 2 else kwargs.get("count", -1)
        budget.check_size(_replace_size(text, args[0], args[1], count), "result of replace()")
    elif name == "join" and args:
        items = list(args[0])
        budget.check_size(len(items))
        budget.check_size(_join_size(text, items), "result of join()")
        return (items, *args[1:])
    elif name == "translate" and args and isinstance(args[0], dict):
        longest = max((len(v) for v in args[0].values() if isinstance(v, str)), default=1)
        budget.check_size(len(text) * max(longest, 1), "result of translate()")
    return args


# ---------------------------------------------------------------------- filter guards
Estimate = Callable[[Budget, inspect.BoundArguments], None]


def _text_size(budget: Budget, value: Any) -> int:
    return len(value) if isinstance(value, str) else budget.weigh(value)


def _estimate_center(budget: Budget, bound: inspect.BoundArguments) -> None:
    _check_int(budget, bound.arguments.get("width"), "result of center")


def _estimate_indent(budget: Budget, bound: inspect.BoundArguments) -> None:
    width = bound.arguments.get("width", 4)
    text = bound.arguments.get("s", "")
    lines = text.count("\n") + 1 if isinstance(text, str) else 1
    if isinstance(width, str):
        budget.check_size(_text_size(budget, text) + len(width) * lines, "result of indent")
    elif isinstance(width, int):
        budget.check_size(_text_size(budget, text) + width * lines, "result of indent")


def _estimate_wordwrap(budget: Budget, bound: inspect.BoundArguments) -> None:
    size = _text_size(budget, bound.arguments.get("s", ""))
    width = bound.arguments.get("width", 79)
    wrap = bound.arguments.get("wrapstring") or "\n"
    if isinstance(width, int) and isinstance(wrap, str):
        budget.check_size(size + (size // max(width, 1) + 1) * len(wrap), "result of wordwrap")


def _estimate_replace(budget: Budget, bound: inspect.BoundArguments) -> None:
    args = bound.arguments
    size = _replace_size(args.get("s"), args.get("old"), args.get("new"), args.get("count"))
    budget.check_size(size, "result of replace")


def _estimate_format(budget: Budget, bound: inspect.BoundArguments) -> None:
    value = bound.arguments.get("value")
    if isinstance(value, str):
        _check_percent(value)


def _estimate_join(budget: Budget, bound: inspect.BoundArguments) -> None:
    value = bound.arguments.get("value", ())
    items = list(value) if not isinstance(value, list) else value
    budget.check_size(len(items))
    bound.arguments["value"] = items
    separator = bound.arguments.get("d", "")
    if isinstance(separator, str):
        sizes = sum(_text_size(budget, item) for item in items)
        budget.check_size(sizes + len(separator) * max(len(items) - 1, 0), "result of join")


def _estimate_batch(budget: Budget, bound: inspect.BoundArguments) -> None:
    _check_int(budget, bound.arguments.get("linecount"), "batch")


def _estimate_slice(budget: Budget, bound: inspect.BoundArguments) -> None:
    _check_int(budget, bound.arguments.get("slices"), "slice count")


def _estimate_tojson(budget: Budget, bound: inspect.BoundArguments) -> None:
    indent = bound.arguments.get("indent")
    if isinstance(indent, int) and indent > 16:
        raise TemplateError("tojson indent must be at most 16")


_ESTIMATES: Final[dict[str, Estimate]] = {
    "center": _estimate_center,
    "indent": _estimate_indent,
    "wordwrap": _estimate_wordwrap,
    "replace": _estimate_replace,
    "format": _estimate_format,
    "join": _estimate_join,
    "batch": _estimate_batch,
    "slice": _estimate_slice,
    "tojson": _estimate_tojson,
}


def _guard(func: Callable[..., Any], estimate: Estimate | None = None) -> Callable[..., Any]:
    """Wrap a filter or test: weigh its arguments, size it beforehand, charge its result."""
    skip = 1 if getattr(func, "jinja_pass_arg", None) is not None else 0
    # Jinja's filters may be wrappers around the real function, whose own first parameter
    # may or may not be the passed context: bind against the real one.
    target = inspect.unwrap(func)
    target_skip = 1 if getattr(target, "jinja_pass_arg", None) is not None else 0
    signature = inspect.signature(target) if estimate is not None else None

    @functools.wraps(func)  # keeps ``jinja_pass_arg``
    def guarded(*args: Any, **kwargs: Any) -> Any:
        budget = current().budget
        for value in args[skip:]:
            budget.weigh(value)
        for value in kwargs.values():
            budget.weigh(value)
        if estimate is not None and signature is not None:
            bound = signature.bind(*(None,) * target_skip, *args[skip:], **kwargs)
            estimate(budget, bound)
            args = (*args[:skip], *bound.args[target_skip:])
            kwargs = bound.kwargs
        result = func(*args, **kwargs)
        _refuse_hub(result)
        _charge_result(budget, result)
        return result

    return guarded


@pass_environment
def _sum(
    environment: jinja2.Environment, iterable: Iterable[Any], attribute: Any = None, start: Any = 0
) -> Any:
    """``sum``: like Jinja's, but adding up lists (``sum(start=[])``) in linear time."""
    if attribute is not None:
        iterable = map(make_attrgetter(environment, attribute), iterable)
    if not isinstance(start, list | tuple):
        return sum(iterable, start)
    budget = current().budget
    result = list(start)
    for item in iterable:
        if not isinstance(item, type(start)):
            raise TypeError(
                f'can only concatenate {type(start).__name__} (not "{type(item).__name__}")'
            )
        result.extend(item)
        budget.check_size(len(result), "sum")
    return result if isinstance(start, list) else tuple(result)


def _min_max(name: str, builtin: Callable[..., Any]) -> Callable[..., Any]:
    """``min(a, b, …)`` / ``max(list)`` as globals, on top of Jinja's filters."""

    @pass_environment
    def wrapper(environment: jinja2.Environment, *args: Any, **kwargs: Any) -> Any:
        if not args:
            raise TemplateError(f"{name} expected at least 1 argument, got 0")
        if len(args) == 1:
            if isinstance(args[0], Iterable):
                return builtin(environment, args[0], **kwargs)
            raise TemplateError(f"{name} expected a list, not {type(args[0]).__name__}")
        return builtin(environment, args, **kwargs)

    wrapper.__name__ = name
    return wrapper


# ---------------------------------------------------------------------- compiling
class _Guards(NodeTransformer):
    """Route ``for`` loops' iterables, ``~`` and slices through the environment's guards."""

    def visit_For(self, node: nodes.For) -> nodes.Node:  # noqa: N802 (Jinja's naming)
        self.generic_visit(node)
        node.iter = _call("linli_iter", [cast(nodes.Expr, node.iter)], node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:  # noqa: N802 (Jinja's naming)
        self.generic_visit(node)
        return _call("linli_concat", list(node.nodes), node.lineno)

    def visit_Getitem(self, node: nodes.Getitem) -> nodes.Node:  # noqa: N802 (Jinja's naming)
        # Jinja slices with plain Python, bypassing the sandbox: route them through it.
        self.generic_visit(node)
        if not isinstance(node.arg, nodes.Slice) or node.ctx != "load":
            return node
        none = nodes.Const(None, lineno=node.lineno)
        part = node.arg
        args = [node.node, part.start or none, part.stop or none, part.step or none]
        return _call("linli_slice", args, node.lineno)


def _call(name: str, args: list[nodes.Expr], lineno: int) -> nodes.Call:
    target = nodes.EnvironmentAttribute(name, lineno=lineno)
    return nodes.Call(target, args, [], None, None, lineno=lineno)


_NEWLINES: Final = re.compile(r"\r\n|\r")
_LEXER_AT: Final = re.compile(r" at (\d+)$")
_NAMED: Final = re.compile(r"named '([^']+)'")
COLUMN_ATTRIBUTE: Final = "linli_column"


class _Positions:
    """Follows the lexer through the source, so a syntax error can name its column."""

    def __init__(self, source: str) -> None:
        self.source = _NEWLINES.sub("\n", source)
        self.cursor = 0
        self.token_start = 0
        self.lexer_failed = False

    def follow(self, tokens: Iterator[tuple[int, str, str]]) -> Iterator[tuple[int, str, str]]:
        try:
            for lineno, kind, value in tokens:
                found = self.source.find(value, self.cursor) if value else -1
                if found >= 0:
                    if kind not in ignored_tokens:
                        self.token_start = found
                    self.cursor = found + len(value)
                yield lineno, kind, value
        except TemplateSyntaxError:
            self.lexer_failed = True
            raise
        self.token_start = len(self.source.rstrip("\n"))

    def column(self, err: TemplateSyntaxError) -> int | None:
        """Return the column (from 1) of ``err`` on its line, when it can be told."""
        offset = self.token_start
        if self.lexer_failed:
            at = _LEXER_AT.search(err.message or "")
            if at is not None:
                offset = int(at.group(1))
            else:
                offset = len(self.source) - len(self.source[self.cursor :].lstrip())
        if self.source.count("\n", 0, offset) + 1 != err.lineno:
            return None
        return offset - (self.source.rfind("\n", 0, offset) + 1) + 1


def syntax_error(err: TemplateSyntaxError, source: str) -> TemplateError:
    """Turn a Jinja syntax error into a :class:`TemplateError` naming line and column."""
    column: int | None = getattr(err, COLUMN_ATTRIBUTE, None)
    lines = _NEWLINES.sub("\n", source).split("\n")
    named = _NAMED.search(err.message or "")
    if column is None and named is not None and 0 < err.lineno <= len(lines):
        found = lines[err.lineno - 1].find(named.group(1))
        column = found + 1 if found >= 0 else None
    where = f"line {err.lineno}" + (f", column {column}" if column else "")
    return TemplateError(
        f"{err.message} ({where})",
        template=source,
        action="compiling",
        line=err.lineno,
        column=column,
    )


# ---------------------------------------------------------------------- the environment
class TemplateEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox templates of one hub render in (or of no hub, for validation)."""

    intercepted_binops = frozenset({"+", "*", "**", "%"})

    def __init__(self, hub: Hub | None) -> None:
        """Create the environment and register the helpers bound to ``hub``."""
        super().__init__(
            undefined=jinja2.Undefined,
            extensions=["jinja2.ext.loopcontrols", "jinja2.ext.do"],
            finalize=self._finalize,
            cache_size=0,
        )
        self._hub = hub
        self._compiled: OrderedDict[str, jinja2.Template] = OrderedDict()
        self._lock = threading.Lock()
        self._positions = threading.local()
        # lipsum(n=10**9) would run for ever; nobody needs placeholder text in automations.
        self.globals.pop("lipsum", None)
        self.globals["states"] = st.AllStates(hub)
        self.filters["states"] = self._bind("states", _states_filter, _STATES)
        self.filters["sum"] = _sum
        self.globals["min"] = _min_max("min", self.filters["min"])
        self.globals["max"] = _min_max("max", self.filters["max"])
        for name, func, needs, where in _HELPERS:
            bound = self._bind(name, func, needs)
            if where & _GLOBAL:
                self.globals[name] = bound
            if where & _FILTER:
                self.filters[name] = bound
            if where & _TEST:
                self.tests[name] = bound
        self.filters = {name: _guard(f, _ESTIMATES.get(name)) for name, f in self.filters.items()}
        self.tests = {
            name: _guard(cast(Callable[..., Any], test)) for name, test in self.tests.items()
        }

    def _bind(self, name: str, func: Callable[..., Any], needs: str) -> Callable[..., Any]:
        if needs == _PURE:
            return func
        hub = self._hub

        # pass_context keeps Jinja from running the helper once while compiling and
        # baking its result into the template; the context itself is not used.
        @pass_context
        def bound(_context: Context, *args: Any, **kwargs: Any) -> Any:
            if needs == _STATES:
                return func(st.require_hub(hub, name), *args, **kwargs)
            return func(hub, *args, **kwargs)

        bound.__name__ = name
        bound.__doc__ = func.__doc__
        return bound

    # ------------------------------------------------------------------ compiling
    def template_for(self, source: str) -> jinja2.Template:
        """Return ``source`` compiled, from the cache when it was compiled before.

        Raises :class:`jinja2.TemplateSyntaxError` when it does not compile.
        """
        with self._lock:
            compiled = self._compiled.get(source)
            if compiled is not None:
                self._compiled.move_to_end(source)
                return compiled
            # Compiled under the lock: the position tracking of errors is per environment.
            # The globals are passed as the plain dict (not the ChainMap from_string makes),
            # which makes starting each render several times faster.
            compiled = jinja2.Template.from_code(self, self.compile(source), self.globals, None)
            self._compiled[source] = compiled
            if len(self._compiled) > COMPILED_CACHE_SIZE:
                self._compiled.popitem(last=False)
            return compiled

    def _tokenize(
        self,
        source: str,
        name: str | None,
        filename: str | None = None,
        state: str | None = None,
    ) -> TokenStream:
        source = self.preprocess(source, name, filename)
        positions = _Positions(source)
        self._positions.current = positions
        raw = positions.follow(self.lexer.tokeniter(source, name, filename, state))
        stream = TokenStream(self.lexer.wrap(raw, name, filename), name, filename)
        for extension in self.iter_extensions():
            filtered = extension.filter_stream(stream)
            stream = (
                filtered
                if isinstance(filtered, TokenStream)
                else TokenStream(filtered, name, filename)
            )
        return stream

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        try:
            tree = super()._parse(source, name, filename)
        except TemplateSyntaxError as err:
            positions: _Positions | None = getattr(self._positions, "current", None)
            if positions is not None:
                setattr(err, COLUMN_ATTRIBUTE, positions.column(err))
            raise
        finally:
            self._positions.current = None
        guarded = _Guards().visit(tree)
        guarded.set_environment(self)
        return guarded  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ sandbox rules
    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        """Allow public, non-mutating attributes, never of functions or hub objects."""
        if isinstance(value, forbidden_types()):
            return False
        if isinstance(obj, st.TemplateState):
            return attr in st.TemplateState.PUBLIC
        if isinstance(obj, st.AllStates | st.DomainStates):
            return not attr.startswith("_")
        if isinstance(obj, _OPAQUE):
            return False
        return super().is_safe_attribute(obj, attr, value)

    def is_safe_callable(self, obj: Any) -> bool:
        """Allow calling ``states``; it answers any attribute, so it cannot be probed."""
        return isinstance(obj, st.AllStates) or super().is_safe_callable(obj)

    def unsafe_undefined(self, obj: Any, attribute: str) -> jinja2.Undefined:
        """Fail on an unsafe attribute instead of rendering it as empty."""
        raise SecurityError(
            f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe"
        )

    def getattr(self, obj: Any, attribute: str) -> Any:
        """Get an attribute (or item) the sandbox allows; never a hub object."""
        value = super().getattr(obj, attribute)
        _refuse_hub(value)
        return value

    def getitem(self, obj: Any, argument: Any) -> Any:
        """Get an item (or attribute); slices are charged as the copies they are."""
        value = super().getitem(obj, argument)
        _refuse_hub(value)
        if isinstance(argument, slice):
            _charge_result(current().budget, value)
        return value

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """Sandbox ``str.format`` and refuse field widths that would build huge text."""
        wrapper = super().wrap_str_format(value)
        if wrapper is None:
            return None
        fmt: str = value.__self__

        def checked(*args: Any, **kwargs: Any) -> str:
            budget = current().budget
            _check_format(fmt)
            result = wrapper(*args, **kwargs)
            _charge_result(budget, result)
            return result

        return checked

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Call a function or method for a template, within the render's budget."""
        budget = current().budget
        budget.step(_MACRO_STEPS if isinstance(obj, Macro) else 1)
        for value in args:
            budget.weigh(value)
        for key, value in kwargs.items():
            if key not in ("_loop_vars", "_block_vars"):  # Jinja's own bookkeeping
                budget.weigh(value)
        owner = getattr(obj, "__self__", None)
        if isinstance(owner, str | bytes):  # Markup's methods are plain Python ones
            args = _check_text_method(budget, owner, getattr(obj, "__name__", ""), args, kwargs)
        result = super().call(context, obj, *args, **kwargs)
        _refuse_hub(result)
        _charge_result(budget, result)
        return result

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """Run ``+ * ** %`` after checking the result cannot be huge."""
        budget = current().budget
        if operator == "**":
            _check_power(left, right)
        elif operator == "*":
            _check_product(budget, left, right)
        elif operator == "%" and isinstance(left, str | bytes):
            budget.weigh(right)
            _check_percent(left if isinstance(left, str) else left.decode("latin-1"))
        elif (
            operator == "+"
            and isinstance(left, str | bytes | list | tuple)
            and isinstance(right, str | bytes | list | tuple)
        ):
            budget.check_size(len(left) + len(right))
        result = self.binop_table[operator](left, right)
        _charge_result(budget, result)
        return result

    # ------------------------------------------------------------------ guards used by code
    def linli_iter(self, iterable: Any) -> Iterator[Any]:
        """Iterate a ``for`` loop's iterable, charging each iteration."""
        budget = current().budget
        for item in iterable:
            budget.step()
            _refuse_hub(item)
            yield item

    def linli_slice(self, obj: Any, start: Any, stop: Any, step: Any) -> Any:
        """``value[start:stop:step]``, charged as the copy it is."""
        value = obj[start:stop:step]
        _charge_result(current().budget, value)
        return value

    def linli_concat(self, *values: Any) -> str:
        """``a ~ b``: join as text within the size limit."""
        budget = current().budget
        sizes = sum(_text_size(budget, value) for value in values)
        budget.check_size(sizes, "joined text")
        return "".join(value if isinstance(value, str) else str(value) for value in values)

    def _finalize(self, value: Any) -> Any:
        budget = current().budget
        if isinstance(value, str):
            budget.charge(len(value))
        else:
            budget.weigh(value)
        return value


def _check_power(left: Any, right: Any) -> None:
    if (
        isinstance(left, int)
        and isinstance(right, int)
        and right > 0
        and abs(left) > 1
        and left.bit_length() * right > MAX_INT_BITS
    ):
        raise TemplateError(f"{left} ** {right} would be too big (over {MAX_INT_BITS} bits)")


def _check_product(budget: Budget, left: Any, right: Any) -> None:
    sequences = (str, bytes, list, tuple)
    if isinstance(left, sequences) and isinstance(right, int):
        budget.check_size(len(left) * right, "repeated value")
    elif isinstance(right, sequences) and isinstance(left, int):
        budget.check_size(len(right) * left, "repeated value")
    elif (
        isinstance(left, int)
        and isinstance(right, int)
        and left.bit_length() + right.bit_length() > MAX_INT_BITS
    ):
        raise TemplateError(f"the product would be too big (over {MAX_INT_BITS} bits)")


def _states_filter(hub: Hub, entity_id: Any, rounded: bool = False, with_unit: bool = False) -> str:
    """``'sensor.x' | states``: the state string, like ``states('sensor.x')``."""
    return st.AllStates(hub)(entity_id, rounded, with_unit)


# ---------------------------------------------------------------------- per hub
_ENVIRONMENT: Final[HubKey[TemplateEnvironment]] = HubKey("template.environment")
_standalone: list[TemplateEnvironment] = []
_standalone_lock = threading.Lock()


def get_environment(hub: Hub | None) -> TemplateEnvironment:
    """Return the hub's environment (made on first use), or the shared hub-less one."""
    if hub is None:
        with _standalone_lock:
            if not _standalone:
                _standalone.append(TemplateEnvironment(None))
            return _standalone[0]
    environment = hub.data.get(_ENVIRONMENT)
    if environment is None:
        environment = hub.data.setdefault(_ENVIRONMENT, TemplateEnvironment(hub))
    return environment
