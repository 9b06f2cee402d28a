"""Shared pieces of the fuzz tests: settings, strategies, the "clean failure" oracle and the known-bug list.

The oracle: a parser of untrusted input either returns, or raises one of the ``CybersafeError`` subclasses it
documents, with a message on one line. Anything else (a ``TypeError``, a ``RecursionError``, a hang) is a bug.

Bugs already found are listed in ``KNOWN_BUGS``; the property tests tolerate exactly those (matched on the
exception type and the innermost cybersafe frame, or on a message pattern), so the suite stays green while
each bug is pinned by a deterministic ``xfail(strict=True)`` reproducer. When a bug is fixed, its reproducer
XPASSes and fails the run: remove the ``xfail`` marker and the ``KNOWN_BUGS`` entry together.

(A uniquely named module, so the test files can import it without clashing with other test helpers.)
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import tempfile
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

T = TypeVar("T")

# CYBERSAFE_FUZZ_EXPLORE=1: random seeds and 10x the examples, to hunt for new bugs locally. The default is
# derandomized so the suite gives the same answer on every run (CI must not flake on a fresh random seed).
EXPLORE = os.environ.get("CYBERSAFE_FUZZ_EXPLORE") == "1"


def fuzz(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples * (10 if EXPLORE else 1),
        deadline=None,
        database=None,
        derandomize=not EXPLORE,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


# --- the oracle ------------------------------------------------------------------------------------------


class Hang(Exception):
    pass


@dataclass(frozen=True)
class KnownBug:
    ident: str
    summary: str
    exc_type: type[BaseException] | None = None
    file: str | None = None  # path suffix of the innermost cybersafe frame, e.g. "cybersafe/yamlio.py"
    function: str | None = None  # its function name
    message: str | None = None  # regex on str(exc) (for clean errors whose message is not one line)
    predicate: Callable[[BaseException], bool] | None = None

    def matches(self, exc: BaseException) -> bool:
        if self.exc_type is not None and not isinstance(exc, self.exc_type):
            return False
        if self.message is not None and not re.search(self.message, str(exc), re.DOTALL):
            return False
        if self.predicate is not None and not self.predicate(exc):
            return False
        if self.file is not None or self.function is not None:
            frame = innermost_cybersafe_frame(exc)
            if frame is None:
                return False
            if self.file is not None and not frame[0].endswith(self.file):
                return False
            if self.function is not None and frame[1] != self.function:
                return False
        return True


def innermost_cybersafe_frame(exc: BaseException) -> tuple[str, str] | None:
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if "/cybersafe/" in frame.filename.replace(os.sep, "/") and "/tests/" not in frame.filename:
            found = (frame.filename.replace(os.sep, "/"), frame.name)
    return found


# Every entry has a strict-xfail reproducer named test_bug_<ident>_* in this directory.
KNOWN_BUGS: tuple[KnownBug, ...] = ()


def known_bug(exc: BaseException) -> KnownBug | None:
    return next((bug for bug in KNOWN_BUGS if bug.matches(exc)), None)


def assert_one_line(exc: BaseException) -> None:
    text = str(exc)
    assert text.strip(), f"{type(exc).__name__} with an empty message"
    assert "\n" not in text and "\r" not in text, f"{type(exc).__name__} message is not one line: {text!r}"


def assert_one_line_unless_known(exc: BaseException) -> None:
    if known_bug(exc) is None:
        assert_one_line(exc)


def clean_call(call: Callable[[], T], allowed: tuple[type[BaseException], ...], *, one_line: bool = True) -> T | None:
    """Run ``call``; a return or an ``allowed`` error (one line) is fine, a known bug is tolerated, else re-raise."""
    try:
        return call()
    except allowed as exc:
        if one_line and known_bug(exc) is None:
            assert_one_line(exc)
        return None
    except Exception as exc:
        if known_bug(exc) is not None:
            return None
        raise


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise ``Hang`` in the main thread when the block runs longer than ``seconds`` (SIGALRM, Linux)."""

    def on_alarm(signum: int, frame: Any) -> None:
        # An exception raised inside a __del__ is swallowed ("unraisable"): wait for the next tick instead.
        while frame is not None:
            if frame.f_code.co_name == "__del__":
                return
            frame = frame.f_back
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    # Re-armed every 0.25 s: an alarm landing inside a __del__ or a weakref callback is swallowed by Python.
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.25)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def scratch_file(name: str, data: bytes | str) -> Iterator[Path]:
    """A file holding ``data`` in a fresh temporary directory (usable inside @given, unlike tmp_path)."""
    with tempfile.TemporaryDirectory(prefix="cybersafe-fuzz-") as tmp:
        path = Path(tmp) / name
        if isinstance(data, str):
            path.write_text(data, encoding="utf-8", errors="surrogatepass")
        else:
            path.write_bytes(data)
        yield path


# --- strategies ------------------------------------------------------------------------------------------

_KEYS = st.one_of(
    st.sampled_from(["id", "name", "version", "type", "purl", "components", "schema", "@id", "a", ""]),
    st.text(max_size=12),
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=40),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(_KEYS, inner, max_size=5)),
    max_leaves=25,
)
json_objects = st.dictionaries(_KEYS, json_values, max_size=8)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _paths(child, (*prefix, i))


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        value = value[part]
    return value


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


@st.composite
def mutated(draw: st.DrawFn, document: Any, max_mutations: int = 3) -> Any:
    """``document`` (JSON-like) with 1..max_mutations structural changes at random places."""
    doc = _copy(document)
    for _ in range(draw(st.integers(1, max_mutations))):
        paths = list(_paths(doc))
        path = draw(st.sampled_from(paths))
        target = _get(doc, path)
        action = draw(st.sampled_from(["replace", "delete", "insert", "retype", "duplicate"]))
        if not path:
            if action == "replace":
                doc = draw(json_values)
            continue
        parent = _get(doc, path[:-1])
        key = path[-1]
        if action == "replace":
            parent[key] = draw(json_values)
        elif action == "delete":
            del parent[key]
        elif action == "insert" and isinstance(target, dict):
            target[draw(_KEYS)] = draw(json_values)
        elif action == "insert" and isinstance(target, list):
            target.insert(draw(st.integers(0, len(target))), draw(json_values))
        elif action == "retype":
            parent[key] = draw(
                st.sampled_from(
                    [
                        str(target),
                        [target],
                        {"x": target},
                        0,
                        -1,
                        1.5,
                        True,
                        None,
                        "",
                        [],
                        {},
                        "\n",
                        "\x00",
                        "\ud800",
                    ]
                )
            )
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(_copy(target))
    return doc


@st.composite
def mutated_bytes(draw: st.DrawFn, seed: bytes, max_mutations: int = 4) -> bytes:
    """``seed`` with a few byte flips, insertions, deletions, splices or a truncation."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, max_mutations))):
        action = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "splice", "repeat"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if action == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif action == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif action == "delete" and data:
            del data[pos : pos + draw(st.integers(1, 16))]
        elif action == "truncate":
            del data[pos:]
        elif action == "splice" and data:
            other = draw(st.integers(0, len(data) - 1))
            data[pos:pos] = data[other : other + draw(st.integers(1, 32))]
        elif action == "repeat" and data:
            data[pos:pos] = data[pos : pos + draw(st.integers(1, 8))] * draw(st.integers(2, 50))
    return bytes(data)


@st.composite
def mutated_text(draw: st.DrawFn, seed: str, max_mutations: int = 4) -> str:
    """``seed`` with a few character or line level changes (keeps it text, unlike ``mutated_bytes``)."""
    lines = seed.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, max_mutations))):
        action = draw(st.sampled_from(["char", "dropline", "dupline", "swaplines", "indent", "inject"]))
        if not lines:
            lines = [draw(st.text(max_size=20))]
            continue
        i = draw(st.integers(0, len(lines) - 1))
        if action == "char":
            line = lines[i]
            j = draw(st.integers(0, len(line)))
            lines[i] = line[:j] + draw(st.text(alphabet=YAML_ALPHABET, max_size=3)) + line[j + 1 :]
        elif action == "dropline":
            del lines[i]
        elif action == "dupline":
            lines.insert(i, lines[i])
        elif action == "swaplines":
            k = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[k] = lines[k], lines[i]
        elif action == "indent":
            lines[i] = draw(st.sampled_from(["", " ", "  ", "\t", "    "])) + lines[i].lstrip(" ")
        elif action == "inject":
            lines.insert(i, draw(yaml_fragments) + "\n")
    return "".join(lines)


YAML_ALPHABET = st.sampled_from([*list("abcxyz019 :-_.,[]{}'\"#&*!|>?%@`\t\n\\/=~"), "\x00", "\u2028", "\ufeff", "é"])
yaml_fragments = st.one_of(
    st.text(alphabet=YAML_ALPHABET, max_size=60),
    st.sampled_from(
        [
            "&a [*a]",
            "? [a, b]\n: c",
            "<<: {a: 1}",
            "!!python/object/apply:os.system [id]",
            "!!binary AAA",
            "!!int zz",
            "!!float x",
            "!!timestamp 2026-13-45",
            "key: 2026-02-30",
            "%YAML 1.1\n---\na: 1",
            "--- a\n--- b",
            "a: |\n  x\n b",
            "a: 'unterminated",
            "a: *nope",
            "a: &x 1\nb: *x",
            "a: 1\na: 2",
            "1: a\n'1': b",
            "null: x",
            "~: x",
            "[1, 2]: x",
        ]
    ),
)
