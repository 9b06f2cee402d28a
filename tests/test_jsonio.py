"""jsonio writes the json module's bytes, whichever writer produced them: digests depend on it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cybersafe import jsonio


class _Colour(enum.StrEnum):
    RED = "red"


class _Level(enum.IntEnum):
    HIGH = 3


def _reference_canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _outcome(write: Any, value: Any) -> tuple[str, Any]:
    try:
        return "ok", write(value)
    except (TypeError, ValueError) as exc:  # UnicodeEncodeError is a ValueError
        return "refused", type(exc).__name__


# every character, astral ones and lone surrogates included: key order (code points) and escaping both matter
_text = st.text(st.characters(codec=None), max_size=8) | st.sampled_from(["", "1e-5", "x:0.00001", "NaN", "é", "😀"])
_numbers = (
    st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.floats(min_value=-1e-3, max_value=1e-3)
    | st.sampled_from([1e-4, 9.99e-5, 1e-7, -2.5e-9, 1e16, 1e22, 0.1, -0.0, 5e-324])
)
_scalars = st.none() | st.booleans() | _numbers | _text
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=3000, deadline=None)
@given(_values)
def test_canonical_is_the_json_modules_canonical_form_byte_for_byte(value: Any) -> None:
    assert _outcome(jsonio.canonical, value) == _outcome(_reference_canonical, value)


_finite_values = st.recursive(
    st.none() | st.booleans() | _numbers.filter(lambda n: not isinstance(n, float) or math.isfinite(n)) | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=2000, deadline=None)
@given(_finite_values)
def test_a_value_known_finite_is_checked_on_orjsons_own_text_to_the_same_bytes(value: Any) -> None:
    # Given a value its maker vouches holds no NaN or infinity (an assessment's JSON form): both forms are still
    # the json module's, small floats and what orjson refuses included
    assert _outcome(lambda v: jsonio.Json(v, finite=True).canonical(), value) == _outcome(_reference_canonical, value)
    assert _outcome(lambda v: jsonio.Json(v, finite=True).pretty(), value) == _outcome(
        lambda v: json.dumps(v, indent=2, ensure_ascii=False), value
    )


@settings(max_examples=1500, deadline=None)
@given(_values)
def test_pretty_is_the_json_modules_indented_form_character_for_character(value: Any) -> None:
    assert _outcome(jsonio.pretty, value) == _outcome(lambda v: json.dumps(v, indent=2, ensure_ascii=False), value)


@settings(max_examples=1500, deadline=None)
@given(_values)
def test_loads_reads_what_the_json_module_reads(value: Any) -> None:
    try:
        text = json.dumps(value)  # NaN, big integers and surrogate escapes included: the json module reads them
    except ValueError:
        return
    got, want = jsonio.loads(text), json.loads(text)
    # NaN is not equal to itself: compare the texts, which spell it (ASCII: a lone surrogate is escaped)
    assert json.dumps(got, sort_keys=True) == json.dumps(want, sort_keys=True)
    assert repr(got) == repr(want)  # an integer stays an integer


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ({"score": 1e-5}, "a float below 1e-4 is written 1e-05"),
        ({"score": [math.nan, math.inf, -math.inf]}, "non-finite floats are written by name"),
        ({"big": 2**64}, "an integer beyond 64 bits"),
        ({1: "a"}, "a key that is not a string is written as one"),
        ({_Colour.RED: [_Level.HIGH]}, "enum members that are str and int are written as their values"),
    ],
)
def test_values_orjson_writes_otherwise_get_the_json_modules_form(value: Any, why: str) -> None:
    assert jsonio.canonical(value) == _reference_canonical(value), why


def test_what_the_json_module_refuses_is_refused() -> None:
    @dataclasses.dataclass
    class Point:
        x: int

    for value in (dt.datetime(2026, 12, 5, tzinfo=dt.UTC), Point(1), {"s": "\ud800"}):
        with pytest.raises((TypeError, ValueError)):
            jsonio.canonical(value)


def test_malformed_text_raises_the_json_modules_error_with_its_line() -> None:
    with pytest.raises(json.JSONDecodeError) as caught:
        jsonio.loads('{\n  "a": 1,\n  "b": \n}')
    assert caught.value.lineno == 4


def test_loads_takes_what_the_json_module_takes() -> None:
    assert jsonio.loads(bytearray(b'{"a": [1]}')) == {"a": [1]}
