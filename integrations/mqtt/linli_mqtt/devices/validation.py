"""JSON schemas of the device topics, compiled once with fastjsonschema (no I/O after import).

Compiling a schema generates and executes Python code (a few milliseconds each), so the
hub compiles a kind's schemas when the first message of a channel needs them
(:class:`LazyValidators`), not while it starts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any, Final

import fastjsonschema
import orjson

from linli_mqtt.devices.model import SCHEMA_CHANNELS, DeviceKind

SCHEMA_DIR: Final = Path(__file__).resolve().parent.parent / "schemas"
"""The bundled schemas: ``envelope.json`` and ``<kind>.<channel>.json`` per built-in kind."""

Validator = Callable[[Any], Any]
"""A compiled schema: returns the data, raises :class:`SchemaError` when it does not fit."""

SchemaError = fastjsonschema.JsonSchemaValueException


@cache
def load_schema(name: str) -> dict[str, Any]:
    """Return a bundled schema by file name without ``.json`` (``"meter.state"``)."""
    data = orjson.loads((SCHEMA_DIR / f"{name}.json").read_bytes())
    if not isinstance(data, dict):
        raise ValueError(f"schema {name} is not a JSON object")
    return data


def envelope_schema() -> dict[str, Any]:
    """The envelope every JSON payload is checked against (``v``, ``ts``, ``id``, …)."""
    return load_schema("envelope")


@cache
def _compile_text(text: str) -> Validator:
    validator: Validator = fastjsonschema.compile(orjson.loads(text))
    return validator


def compile_channel_schema(schema: Mapping[str, Any]) -> Validator:
    """Compile the envelope together with a kind's channel schema (cached by content)."""
    envelope = {key: value for key, value in envelope_schema().items() if key != "$schema"}
    own = {key: value for key, value in schema.items() if key != "$schema"}
    combined = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "allOf": [envelope, own],
    }
    try:
        text = orjson.dumps(combined, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError as err:
        raise ValueError(f"schema is not plain JSON data: {err}") from err
    try:
        return _compile_text(text)
    except fastjsonschema.JsonSchemaDefinitionException as err:
        raise ValueError(f"invalid JSON schema: {err}") from err


def compile_kind(kind: DeviceKind) -> dict[str, Validator]:
    """Compile a kind's schemas: one validator per channel it accepts."""
    return {
        channel: compile_channel_schema(schema)
        for channel, schema in kind.schemas.items()
        if channel in SCHEMA_CHANNELS
    }


class LazyValidators(Mapping[str, Validator]):
    """A kind's validators by channel, each compiled on first use.

    The schemas were checked to be plain JSON when the kind was made; a schema fastjsonschema
    refuses raises ``ValueError`` on first use (kinds' own tests compile them eagerly with
    :func:`compile_kind`).
    """

    __slots__ = ("_compiled", "_schemas")

    def __init__(self, kind: DeviceKind) -> None:
        """Remember ``kind``'s schemas for the channels the topics accept."""
        self._schemas = {
            channel: schema
            for channel, schema in kind.schemas.items()
            if channel in SCHEMA_CHANNELS
        }
        self._compiled: dict[str, Validator] = {}

    def __getitem__(self, channel: str) -> Validator:
        validator = self._compiled.get(channel)
        if validator is None:
            validator = self._compiled[channel] = compile_channel_schema(self._schemas[channel])
        return validator

    def __iter__(self) -> Iterator[str]:
        return iter(self._schemas)

    def __len__(self) -> int:
        return len(self._schemas)
