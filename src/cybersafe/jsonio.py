"""JSON text exactly as the json module writes it, about ten times faster.

Digests name the json module's canonical form (sorted keys, compact, UTF-8): labels, attestations and the
registry's log carry them, so its bytes may never change. orjson writes the same bytes for almost every value
and is used when that is certain; for the rest the json module writes them:

- a float below 1e-4 in magnitude: orjson writes ``0.00001`` or ``1e-7``, the json module ``1e-05``;
- NaN and the infinities: orjson writes ``null``, the json module ``NaN`` and ``Infinity``;
- what orjson refuses: an integer beyond 64 bits, a key that is not a string, a lone surrogate.

(orjson also writes a UUID, an Enum that is not a str or int, and numpy arrays, which the json module refuses;
the callers here pass the JSON form of pydantic models and parsed JSON, which hold none.)

The first two are found in the output, not by walking the value: a float below 1e-4 shows as ``0.0000`` or as
an exponent ``e-`` after a digit, and the non-finite ones are looked for in pydantic-core's output (its
``constants`` mode writes them by name). Strings that happen to hold such text only send a value the slow way.
``tests/test_jsonio.py`` holds both writers to the same bytes over generated values.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson
import pydantic_core

# a datetime or a dataclass is refused as the json module refuses it (orjson would write one)
_STRICT = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_NEGATIVE_EXPONENT = re.compile(rb"e-[0-9]")  # starts with a literal: scanned at memchr speed
_DIGITS = frozenset(b"0123456789")
_LONG_INTEGER = re.compile(rb"[0-9]{19}")


def _orjson_agrees(text: bytes, value: Any) -> bool:
    """Whether orjson's ``text`` for ``value`` is what the json module writes (the module docstring says why)."""
    if b"0.0000" in text:
        return False
    if any(match.start() > 0 and text[match.start() - 1] in _DIGITS for match in _NEGATIVE_EXPONENT.finditer(text)):
        return False
    named = pydantic_core.to_json(value, inf_nan_mode="constants")
    return b"NaN" not in named and b"Infinity" not in named


def _written(value: Any, option: int) -> bytes | None:
    """orjson's text for ``value``, or None where the json module would write other bytes."""
    try:
        text = orjson.dumps(value, option=option | _STRICT)
    except TypeError:
        return None
    return text if _orjson_agrees(text, value) else None


def canonical(value: Any) -> bytes:
    """``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()``, byte for byte."""
    text = _written(value, orjson.OPT_SORT_KEYS)
    if text is None:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return text


def pretty(value: Any) -> str:
    """``json.dumps(value, indent=2, ensure_ascii=False)``, character for character (keys in their order)."""
    text = _written(value, orjson.OPT_INDENT_2)
    return json.dumps(value, indent=2, ensure_ascii=False) if text is None else text.decode()


def loads(text: str | bytes) -> Any:
    """``json.loads``, value for value: orjson, or the json module where they differ. orjson reads an integer
    beyond 64 bits as a float (so 19 digits in a row send the text to the json module) and refuses NaN,
    surrogate escapes and nesting beyond 1,024. Errors are the json module's ``json.JSONDecodeError`` (or
    ``RecursionError``), with its messages and line numbers. The digit search costs what orjson saves on large
    texts: for the registry's small documents, not for assessments."""
    if _LONG_INTEGER.search(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")):
        return json.loads(text)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
