"""Load configuration YAML with Home Assistant's tags, remembering where every value came from.

Mappings, sequences and strings come back as :class:`NodeDict`, :class:`NodeList` and
:class:`NodeStr`, which carry ``__config_file__`` and ``__line__`` (1-based). Ints, floats, bools
and None cannot carry attributes, so their parent container records the line of each key
(:attr:`NodeDict.key_lines`) or item (:attr:`NodeList.item_lines`). ``__config_file__`` is in
display form, as in :class:`~linli.config.issues.ConfigIssue`: relative to the config dir when the
file is inside it, else absolute.

Supported tags: ``!secret``, ``!include``, ``!include_dir_list``, ``!include_dir_named``,
``!include_dir_merge_list``, ``!include_dir_merge_named``, ``!env_var`` and ``!input``.

Problems are collected as :class:`ConfigIssue` objects rather than raised, so one run can report
them all; the value at a broken spot becomes None and loading goes on.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Self, TypeVar

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import ReaderError

from linli.config.issues import ConfigError, ConfigIssue

if TYPE_CHECKING:
    from yaml import SafeLoader as _BaseLoader
else:
    try:
        from yaml import CSafeLoader as _BaseLoader
    except ImportError:  # PyYAML built without libyaml
        from yaml import SafeLoader as _BaseLoader

__all__ = [
    "CONFIG_FILE",
    "SECRETS_FILE",
    "Input",
    "NodeDict",
    "NodeList",
    "NodeStr",
    "Secrets",
    "load_config_file",
    "load_yaml",
    "located",
]

CONFIG_FILE: Final = "configuration.yaml"
SECRETS_FILE: Final = "secrets.yaml"

_MERGE_TAG: Final = "tag:yaml.org,2002:merge"
# Values produced by these tags may be credentials: error messages must not show them.
_SENSITIVE_TAGS: Final = frozenset({"!secret", "!env_var"})
_KNOWN_TAGS: Final = (
    "!secret",
    "!include",
    "!include_dir_list",
    "!include_dir_named",
    "!include_dir_merge_list",
    "!include_dir_merge_named",
    "!env_var",
    "!input",
)


class NodeDict(dict[Any, Any]):
    """A mapping that remembers its file and line, and the line of each of its keys.

    ``key_files`` is only filled for keys that came from another file than the mapping itself
    (``!include_dir_merge_named``); ``sensitive_keys`` names keys whose value came from
    ``!secret`` or ``!env_var``.
    """

    __config_file__: str | None
    __line__: int | None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Create like a dict, with no location yet."""
        super().__init__(*args, **kwargs)
        self.__config_file__ = None
        self.__line__ = None
        self.key_lines: dict[Any, int] = {}
        self.key_files: dict[Any, str | None] = {}
        self.sensitive_keys: set[Any] = set()

    def location_of(self, key: Any) -> tuple[str | None, int | None]:
        """Return the (file, line) where ``key`` was written; line is None if unknown."""
        return self.key_files.get(key, self.__config_file__), self.key_lines.get(key)


class NodeList(list[Any]):
    """A sequence that remembers its file and line, and the line of each of its items.

    ``item_files`` is only filled for items from another file (``!include_dir_*``);
    ``sensitive_items`` holds indexes of items that came from ``!secret`` or ``!env_var``.
    """

    __config_file__: str | None
    __line__: int | None

    def __init__(self, *args: Any) -> None:
        """Create like a list, with no location yet."""
        super().__init__(*args)
        self.__config_file__ = None
        self.__line__ = None
        self.item_lines: dict[int, int | None] = {}
        self.item_files: dict[int, str | None] = {}
        self.sensitive_items: set[int] = set()

    def location_of(self, index: int) -> tuple[str | None, int | None]:
        """Return the (file, line) of item ``index``; line is None if unknown."""
        return self.item_files.get(index, self.__config_file__), self.item_lines.get(index)


class NodeStr(str):
    """A string that remembers the file and line it was read from."""

    __slots__ = ("__config_file__", "__line__")
    __config_file__: str | None
    __line__: int | None

    def __new__(cls, value: object = "", file: str | None = None, line: int | None = None) -> Self:
        """Create the string ``value`` located at ``file``:``line``."""
        obj = super().__new__(cls, value)
        obj.__config_file__ = file
        obj.__line__ = line
        return obj


class Input:
    """The ``!input name`` placeholder of a blueprint, replaced when the blueprint is used."""

    __slots__ = ("__config_file__", "__line__", "name")

    def __init__(self, name: str, file: str | None = None, line: int | None = None) -> None:
        """Create the placeholder for input ``name``, written at ``file``:``line``."""
        self.name = name
        self.__config_file__ = file
        self.__line__ = line

    def __eq__(self, other: object) -> bool:
        """Inputs are equal when they name the same input, wherever they were written."""
        if not isinstance(other, Input):
            return NotImplemented
        return self.name == other.name

    def __hash__(self) -> int:
        """Hash by name, consistent with equality."""
        return hash((Input, self.name))

    def __repr__(self) -> str:
        """Return ``Input('name')``."""
        return f"Input({self.name!r})"


def located(obj: Any) -> tuple[str | None, int | None]:
    """Return the (file, line) a loaded value came from, or (None, None) if it does not know."""
    return getattr(obj, "__config_file__", None), getattr(obj, "__line__", None)


_T = TypeVar("_T")


def _locate(obj: _T, file: str | None, line: int | None) -> _T:
    # Only called on the Node* classes, which all accept these attributes.
    obj.__config_file__ = file  # type: ignore[attr-defined]
    obj.__line__ = line  # type: ignore[attr-defined]
    return obj


def _normalize(path: Path) -> Path:
    # normpath rather than resolve(): a symlinked config dir must keep its own name, or files
    # would no longer display relative to it.
    return Path(os.path.normpath(path.absolute()))


class Secrets:
    """Looks up ``!secret`` names: ``secrets.yaml`` beside the file, then up to the config dir.

    Each ``secrets.yaml`` is read once per instance; use a new instance to pick up edits.
    """

    def __init__(self, config_dir: Path) -> None:
        """Create a lookup bounded by ``config_dir``."""
        self.config_dir = _normalize(config_dir)
        self._files: dict[Path, dict[Any, Any]] = {}

    def candidates(self, requester: Path) -> list[Path]:
        """Return the secrets files consulted for ``requester``, nearest first."""
        directory = _normalize(requester).parent
        if not directory.is_relative_to(self.config_dir):
            return [directory / SECRETS_FILE]
        found = [directory / SECRETS_FILE]
        while directory != self.config_dir:
            directory = directory.parent
            found.append(directory / SECRETS_FILE)
        return found

    def _lookup(self, name: str, requester: Path, ctx: _Context) -> tuple[bool, Any, list[Path]]:
        searched = self.candidates(requester)
        for candidate in searched:
            secrets = self._read(candidate, ctx)
            if name in secrets:
                return True, secrets[name], searched
        return False, None, searched

    def _read(self, path: Path, ctx: _Context) -> dict[Any, Any]:
        if path in self._files:
            return self._files[path]
        secrets: dict[Any, Any] = {}
        # Cached before reading, so a !secret reached again from within this file's own
        # includes finds nothing instead of recursing forever.
        self._files[path] = secrets
        if path.is_file():
            loaded = _load_file(path, ctx, allow_secrets=False)
            if isinstance(loaded, dict):
                secrets = loaded
            elif loaded is not None and loaded is not _FAILED:
                ctx.report(
                    ctx.display(path),
                    located(loaded)[1] or 1,
                    f"must be a mapping of secret names to values, not {_kind(loaded)}",
                )
        self._files[path] = secrets
        return secrets


class _Context:
    """What one load shares across its included files."""

    def __init__(self, config_dir: Path, issues: list[ConfigIssue] | None, secrets: Secrets):
        self.config_dir = config_dir
        self.issues = issues
        self.secrets = secrets
        # Files being loaded, outermost first: an include of one of them is a cycle.
        self.stack: list[Path] = []

    def display(self, path: Path) -> str:
        if path.is_relative_to(self.config_dir):
            return path.relative_to(self.config_dir).as_posix()
        return str(path)

    def report(self, file: str | None, line: int | None, message: str) -> None:
        issue = ConfigIssue(file, line, None, message)
        if self.issues is None:
            raise ConfigError([issue])
        self.issues.append(issue)


class _Loader(_BaseLoader):
    """A safe loader for one file, building Node* values and reporting to the shared context."""

    def __init__(self, stream: str, ctx: _Context, path: Path, *, allow_secrets: bool) -> None:
        super().__init__(stream)
        self.ctx = ctx
        self.path = path
        self.file = ctx.display(path)
        self.allow_secrets = allow_secrets

    @staticmethod
    def line_of(node: Node) -> int:
        return node.start_mark.line + 1

    def report(self, node: Node, message: str) -> None:
        self.ctx.report(self.file, self.line_of(node), message)


class _Failed:
    """Marks a file that could not be loaded (an issue was reported), unlike an empty one."""


_FAILED: Final = _Failed()


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return f"a {type(value).__name__} value"


def _os_reason(err: OSError) -> str:
    if isinstance(err, FileNotFoundError):
        return "file not found"
    if isinstance(err, IsADirectoryError):
        return "is a directory, not a file"
    if isinstance(err, PermissionError):
        return "permission denied"
    return err.strerror or type(err).__name__


def _yaml_problem(err: yaml.MarkedYAMLError) -> str:
    # Built from problem and context only: str(err) may quote the offending line, which in
    # secrets.yaml would be a secret.
    message = f"invalid YAML: {err.problem or err.context or 'syntax error'}"
    if err.problem and err.context:
        message += f" ({err.context}"
        start, end = err.context_mark, err.problem_mark
        if start is not None and end is not None and start.line != end.line:
            message += f" started on line {start.line + 1}"
        message += ")"
    return message


def _load_file(
    path: Path,
    ctx: _Context,
    *,
    origin: tuple[str, int] | None = None,
    allow_secrets: bool = True,
) -> Any:
    """Load one file: its value, None when empty, or _FAILED after reporting why.

    ``origin`` is the (file, line) of the tag that included it, where a missing file is reported.
    """
    file = ctx.display(path)
    if path in ctx.stack and origin is not None:
        chain = [ctx.display(p) for p in ctx.stack[ctx.stack.index(path) :]]
        ctx.report(*origin, "include cycle: " + " → ".join([*chain, file]))
        return _FAILED
    try:
        raw = path.read_bytes()
    except OSError as err:
        if origin is not None:
            ctx.report(*origin, f"cannot include '{file}': {_os_reason(err)}")
        else:
            ctx.report(file, None, _os_reason(err))
        return _FAILED
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        ctx.report(
            file, line, f"not valid UTF-8 (byte 0x{raw[err.start]:02x}); save the file as UTF-8"
        )
        return _FAILED

    ctx.stack.append(path)
    try:
        # Inside the try: the pure-Python reader already checks characters here.
        loader = _Loader(text, ctx, path, allow_secrets=allow_secrets)
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        ctx.report(file, mark.line + 1 if mark is not None else None, _yaml_problem(err))
        return _FAILED
    except ReaderError as err:
        code = err.character if isinstance(err.character, int) else ord(err.character)
        ctx.report(
            file,
            text.count("\n", 0, err.position) + 1,
            f"invalid YAML: unacceptable character #x{code:04x} ({err.reason})",
        )
        return _FAILED
    except yaml.YAMLError as err:
        ctx.report(file, None, f"invalid YAML: {type(err).__name__}")
        return _FAILED
    finally:
        ctx.stack.pop()


def _empty_mapping(file: str) -> NodeDict:
    # Like Home Assistant, an empty file reads as an empty mapping.
    return _locate(NodeDict(), file, 1)


# --- constructors for the standard types --------------------------------------------------


def _construct_mapping(loader: _Loader, node: Node) -> NodeDict:
    if not isinstance(node, MappingNode):
        raise ConstructorError(None, None, "expected a mapping", node.start_mark)
    own = sum(1 for key_node, _ in node.value if key_node.tag != _MERGE_TAG)
    loader.flatten_mapping(node)
    # flatten_mapping puts keys merged in with "<<" first; the mapping's own keys may
    # override those, so only its own keys are checked for duplicates.
    inherited = len(node.value) - own
    result = _locate(NodeDict(), loader.file, loader.line_of(node))
    first_line: dict[Any, int] = {}
    for index, (key_node, value_node) in enumerate(node.value):
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, NodeStr):
            # Plain str keys: orjson refuses str subclasses as keys, and key_lines has the line.
            key = str(key)
        line = loader.line_of(key_node)
        try:
            hash(key)
        except TypeError:
            loader.report(key_node, "a mapping key must be a plain value, not a mapping or list")
            continue
        if index >= inherited:
            if key in first_line:
                loader.report(
                    key_node,
                    f"duplicate key {_show_key(key)} (first on line {first_line[key]}); "
                    "the last one wins",
                )
            first_line[key] = line
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
        if value_node.tag in _SENSITIVE_TAGS:
            result.sensitive_keys.add(key)
        else:
            result.sensitive_keys.discard(key)
    return result


def _construct_sequence(loader: _Loader, node: Node) -> NodeList:
    if not isinstance(node, SequenceNode):
        raise ConstructorError(None, None, "expected a sequence", node.start_mark)
    result = _locate(NodeList(), loader.file, loader.line_of(node))
    for index, child in enumerate(node.value):
        result.append(loader.construct_object(child, deep=True))
        result.item_lines[index] = loader.line_of(child)
        if child.tag in _SENSITIVE_TAGS:
            result.sensitive_items.add(index)
    return result


def _construct_str(loader: _Loader, node: Node) -> NodeStr:
    if not isinstance(node, ScalarNode):
        raise ConstructorError(None, None, "expected a string", node.start_mark)
    return NodeStr(loader.construct_scalar(node), loader.file, loader.line_of(node))


def _show_key(key: Any) -> str:
    return f"'{key}'" if isinstance(key, str) else repr(key)


# --- Home Assistant's tags ----------------------------------------------------------------


def _scalar_arg(loader: _Loader, node: Node, tag: str, what: str) -> str | None:
    if isinstance(node, ScalarNode) and str(node.value).strip():
        return str(node.value).strip()
    loader.report(node, f"{tag} needs {what}")
    return None


def _include(loader: _Loader, node: Node) -> Any:
    name = _scalar_arg(loader, node, "!include", "a file name")
    if name is None:
        return None
    target = _normalize(loader.path.parent / name)
    value = _load_file(target, loader.ctx, origin=(loader.file, loader.line_of(node)))
    if value is _FAILED:
        return None
    return _empty_mapping(loader.ctx.display(target)) if value is None else value


def _yaml_files(directory: Path) -> list[Path]:
    # Home Assistant's rules: *.yaml, recursive, hidden files/dirs and secrets.yaml skipped.
    # Directories are sorted too (HA leaves them in filesystem order) so results are stable.
    found: list[Path] = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(
            Path(root) / name
            for name in sorted(files)
            if name.endswith(".yaml") and not name.startswith(".") and name != SECRETS_FILE
        )
    return found


def _include_dir(loader: _Loader, node: Node, tag: str) -> list[tuple[Path, Any]] | None:
    """Load every YAML file under the tag's directory; files that fail are left out."""
    name = _scalar_arg(loader, node, tag, "a directory name")
    if name is None:
        return None
    directory = _normalize(loader.path.parent / name)
    if not directory.is_dir():
        reason = "not a directory" if directory.exists() else "directory not found"
        loader.report(node, f"cannot include '{loader.ctx.display(directory)}': {reason}")
        return None
    origin = (loader.file, loader.line_of(node))
    loaded = []
    for path in _yaml_files(directory):
        value = _load_file(path, loader.ctx, origin=origin)
        if value is not _FAILED:
            loaded.append((path, value))
    return loaded


def _origin_of(value: Any, path: Path, ctx: _Context) -> tuple[str | None, int | None]:
    file, line = located(value)
    return (file, line) if line is not None else (ctx.display(path), 1)


def _include_dir_list(loader: _Loader, node: Node) -> NodeList | None:
    loaded = _include_dir(loader, node, "!include_dir_list")
    if loaded is None:
        return None
    result = _locate(NodeList(), loader.file, loader.line_of(node))
    for path, value in loaded:
        if value is None:  # an empty file adds nothing
            continue
        result.item_files[len(result)], result.item_lines[len(result)] = _origin_of(
            value, path, loader.ctx
        )
        result.append(value)
    return result


def _include_dir_named(loader: _Loader, node: Node) -> NodeDict | None:
    loaded = _include_dir(loader, node, "!include_dir_named")
    if loaded is None:
        return None
    result = _locate(NodeDict(), loader.file, loader.line_of(node))
    for path, value in loaded:
        file = loader.ctx.display(path)
        key = path.stem
        if key in result:
            loader.ctx.report(
                file, 1, f"duplicate name '{key}' (also {result.key_files[key]}); the last one wins"
            )
        result[key] = _empty_mapping(file) if value is None else value
        result.key_files[key], result.key_lines[key] = file, 1
    return result


def _include_dir_merge_list(loader: _Loader, node: Node) -> NodeList | None:
    tag = "!include_dir_merge_list"
    loaded = _include_dir(loader, node, tag)
    if loaded is None:
        return None
    result = _locate(NodeList(), loader.file, loader.line_of(node))
    for path, value in loaded:
        if value is None:
            continue
        if not isinstance(value, list):
            loader.ctx.report(
                *_origin_of(value, path, loader.ctx),
                f"{tag} merges lists, but this file holds {_kind(value)}; it is skipped",
            )
            continue
        for index, item in enumerate(value):
            at = len(result)
            if isinstance(value, NodeList):
                result.item_files[at], result.item_lines[at] = value.location_of(index)
                if index in value.sensitive_items:
                    result.sensitive_items.add(at)
            else:
                result.item_files[at], result.item_lines[at] = _origin_of(item, path, loader.ctx)
            result.append(item)
    return result


def _include_dir_merge_named(loader: _Loader, node: Node) -> NodeDict | None:
    tag = "!include_dir_merge_named"
    loaded = _include_dir(loader, node, tag)
    if loaded is None:
        return None
    result = _locate(NodeDict(), loader.file, loader.line_of(node))
    for path, value in loaded:
        if value is None:
            continue
        if not isinstance(value, dict):
            loader.ctx.report(
                *_origin_of(value, path, loader.ctx),
                f"{tag} merges mappings, but this file holds {_kind(value)}; it is skipped",
            )
            continue
        for key, item in value.items():
            if isinstance(value, NodeDict):
                file, line = value.location_of(key)
            else:
                file, line = _origin_of(item, path, loader.ctx)
            if key in result:
                prev_file, prev_line = result.location_of(key)
                loader.ctx.report(
                    file,
                    line,
                    f"duplicate key {_show_key(key)} (also in {prev_file}:{prev_line}); "
                    "the last one wins",
                )
            result[key] = item
            result.key_files[key] = file
            if line is not None:
                result.key_lines[key] = line
            if isinstance(value, NodeDict) and key in value.sensitive_keys:
                result.sensitive_keys.add(key)
            else:
                result.sensitive_keys.discard(key)
    return result


def _secret(loader: _Loader, node: Node) -> Any:
    name = _scalar_arg(loader, node, "!secret", "a secret name")
    if name is None:
        return None
    if not loader.allow_secrets:
        loader.report(node, f"!secret cannot be used inside {SECRETS_FILE}")
        return None
    found, value, searched = loader.ctx.secrets._lookup(name, loader.path, loader.ctx)
    if not found:
        where = ", ".join(loader.ctx.display(path) for path in searched)
        loader.report(node, f"secret '{name}' is not defined (looked in {where})")
        return None
    if isinstance(value, str):
        # Located where it is used: that is where a wrong value has to be fixed.
        return NodeStr(value, loader.file, loader.line_of(node))
    return value


def _env_var(loader: _Loader, node: Node) -> NodeStr | None:
    if _scalar_arg(loader, node, "!env_var", "a variable name") is None:
        return None
    name, *default = str(node.value).split()
    value = os.environ.get(name)
    if value is None:
        if not default:
            loader.report(
                node,
                f"environment variable '{name}' is not set "
                f"(give a default with: !env_var {name} default)",
            )
            return None
        value = " ".join(default)
    return NodeStr(value, loader.file, loader.line_of(node))


def _input(loader: _Loader, node: Node) -> Input | None:
    name = _scalar_arg(loader, node, "!input", "an input name")
    if name is None:
        return None
    return Input(name, loader.file, loader.line_of(node))


def _unknown_tag(loader: _Loader, node: Node) -> None:
    message = f"unknown tag '{node.tag}'"
    close = difflib.get_close_matches(node.tag, _KNOWN_TAGS, n=1)
    if close:
        message += f" (did you mean '{close[0]}'?)"
    loader.report(node, message)


_CONSTRUCTORS: dict[str | None, Callable[[_Loader, Node], Any]] = {
    "tag:yaml.org,2002:map": _construct_mapping,
    "tag:yaml.org,2002:seq": _construct_sequence,
    "tag:yaml.org,2002:str": _construct_str,
    "!include": _include,
    "!include_dir_list": _include_dir_list,
    "!include_dir_named": _include_dir_named,
    "!include_dir_merge_list": _include_dir_merge_list,
    "!include_dir_merge_named": _include_dir_merge_named,
    "!secret": _secret,
    "!env_var": _env_var,
    "!input": _input,
    # Any other tag: an issue instead of a failed file, and no arbitrary objects.
    None: _unknown_tag,
}
for _tag, _constructor in _CONSTRUCTORS.items():
    _Loader.add_constructor(_tag, _constructor)


# --- public API ---------------------------------------------------------------------------


def load_yaml(
    path: Path,
    *,
    config_dir: Path | None = None,
    issues: list[ConfigIssue] | None = None,
    secrets: Secrets | None = None,
) -> Any:
    """Load a YAML file with its includes and secrets; an empty file gives an empty mapping.

    ``config_dir`` (default: the file's directory) bounds the ``secrets.yaml`` search and is
    what file names are shown relative to. Problems are appended to ``issues`` and the value
    at each broken spot is None (the whole result if the file itself cannot be read or parsed);
    without an ``issues`` list the first problem raises :class:`ConfigError`.
    """
    path = _normalize(path)
    root = _normalize(config_dir) if config_dir is not None else path.parent
    ctx = _Context(root, issues, secrets if secrets is not None else Secrets(root))
    value = _load_file(path, ctx)
    if value is _FAILED:
        return None
    return _empty_mapping(ctx.display(path)) if value is None else value


def load_config_file(
    config_dir: Path, filename: str = CONFIG_FILE
) -> tuple[NodeDict | None, list[ConfigIssue]]:
    """Load ``configuration.yaml`` (or ``filename``) from ``config_dir``, collecting issues.

    Returns the configuration (None if it could not be read, parsed, or is not a mapping at the
    top level) and every issue found; a non-empty issue list means the configuration is broken
    at the spots named, even when a configuration is returned.
    """
    issues: list[ConfigIssue] = []
    config = load_yaml(config_dir / filename, config_dir=config_dir, issues=issues)
    if config is None or isinstance(config, NodeDict):
        return config, issues
    file, line = located(config)
    issues.append(
        ConfigIssue(
            file or filename,
            line,
            None,
            "the top level must be a mapping of sections such as 'linli:' and 'mqtt:', "
            f"not {_kind(config)}",
        )
    )
    return None, issues
