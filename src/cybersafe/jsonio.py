"""JSON text exactly as the json module writes it, about ten times faster.

Digests name the json module's canonical form (sorted keys, compact, UTF-8): labels, attestations and the
registry's log carry them, so its bytes may never change. orjson writes the same bytes for almost every value
and is used when that is certain; for the rest the json module writes them:

- a float below 1e-4 in magnitude: orjson writes ``0.00001`` or ``1e-7``, the json module ``1e-05``;
- NaN and the infinities: orjson writes ``null``, the json module ``NaN`` and ``Infinity``;
- what orjson refuses: an integer beyond 64 bits, a key that is not a string, a lone surrogate.

(orjson also writes a UUID, an Enum that is not a str or int, and numpy arrays, which the json module refuses;
the callers here pass the JSON form of pydantic models and parsed JSON, which hold none.)

The first two are found in pydantic-core's text of the value (its ``constants`` mode writes the non-finite ones
by name), not by walking it: a float below 1e-4 shows as ``0.0000`` or as an exponent ``e-`` after a digit.
Strings that happen to hold such text only send a value the slow way. ``Json`` finds it once for both forms;
for a value known to hold no non-finite float (``finite``), orjson's own text tells, as it writes floats as
pydantic-core does.
``tests/test_jsonio.py`` holds both writers to the same bytes over generated values.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson
import pydantic_core

# a datetime or a dataclass is refused as the json module refuses it (orjson would write one), and a subclass of
# str, int, dict or list goes to the json module, which honours what the subclass overrides
_STRICT = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS
_NEGATIVE_EXPONENT = re.compile(rb"e-[0-9]")  # starts with a literal: scanned at memchr speed
_DIGITS = frozenset(b"0123456789")
_LONG_INTEGER = re.compile(rb"[0-9]{19}")


def _no_small_floats(text: bytes) -> bool:
    """Whether a JSON text (orjson's or pydantic-core's: they write floats alike) holds no float below 1e-4 in
    magnitude, which shows as ``0.0000`` or as an exponent ``e-`` after a digit."""
    if b"0.0000" in text:
        return False
    return not any(m.start() > 0 and text[m.start() - 1] in _DIGITS for m in _NEGATIVE_EXPONENT.finditer(text))


def _plain(value: Any) -> bool:
    """Whether orjson writes ``value``'s floats as the json module does: none below 1e-4 in magnitude, none
    non-finite (the module docstring says why). Looked for in pydantic-core's text, which writes NaN and the
    infinities by name and small floats as orjson does; strings holding such text only cost the slow way."""
    try:
        named = pydantic_core.to_json(value, inf_nan_mode="constants")
    except (TypeError, ValueError, pydantic_core.PydanticSerializationError):
        return False
    return b"NaN" not in named and b"Infinity" not in named and _no_small_floats(named)


class Json:
    """The JSON texts of one value: whether orjson may write them is found once for both."""

    def __init__(self, value: Any, *, finite: bool = False) -> None:
        """``finite``: the caller knows ``value`` holds no NaN and no infinity (the JSON form of a model that
        forbids them: ``Assessment.written``), so orjson's own text tells all, without pydantic-core's."""
        self.value = value
        self.finite = finite
        self._plain: bool | None = None

    def _orjson(self, option: int) -> bytes | None:
        """orjson's text, or None where the json module would write other bytes."""
        try:
            text = orjson.dumps(self.value, option=option | _STRICT)
        except TypeError:
            return None
        if self._plain is None:
            self._plain = _no_small_floats(text) if self.finite else _plain(self.value)
        return text if self._plain else None

    def canonical(self) -> bytes:
        """``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()``, byte for
        byte."""
        text = self._orjson(orjson.OPT_SORT_KEYS)
        if text is None:
            return json.dumps(self.value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        return text

    def pretty(self) -> str:
        """``json.dumps(value, indent=2, ensure_ascii=False)``, character for character (keys in their order)."""
        text = self._orjson(orjson.OPT_INDENT_2)
        return json.dumps(self.value, indent=2, ensure_ascii=False) if text is None else text.decode()


def canonical(value: Any) -> bytes:
    """The json module's canonical form of ``value`` (``Json.canonical``)."""
    return Json(value).canonical()


def pretty(value: Any) -> str:
    """The json module's indented form of ``value`` (``Json.pretty``)."""
    return Json(value).pretty()


def loads(text: str | bytes) -> Any:
    """``json.loads``, value for value: orjson, or the json module where they differ. orjson reads an integer
    beyond 64 bits as a float (so 19 digits in a row send the text to the json module) and refuses NaN,
    surrogate escapes and nesting beyond 1,024. Errors are the json module's ``json.JSONDecodeError`` (or
    ``RecursionError``), with its messages and line numbers. The digit search costs what orjson saves on large
    texts: for the registry's small documents, not for assessments."""
    if not isinstance(text, (str, bytes)) or _LONG_INTEGER.search(
        text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    ):
        return json.loads(text)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
