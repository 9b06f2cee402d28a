"""Ecosystem-aware versions and OSV ranges, compiled once and evaluated many times.

univers supplies the comparators for semver, PyPI, npm (semver ordering), Debian, Alpine, Go, Maven,
RubyGems, NuGet and Composer. univers' ``GenericVersion`` compares strings (``1.36.1 < 1.4``), so the
generic scheme uses ``LibVersion``: the libversion ordering (numbers numerically; pre-release words such as
``rc`` before the release; post-release words and a single trailing letter, as in OpenSSL ``1.1.1t`` or
ntp ``4.2.8p18``, after it). See https://github.com/repology/libversion/blob/master/doc/ALGORITHM.md.

OSV range evaluation follows the OSV schema's pseudo-code: events sorted by version, ``introduced``
opens, ``fixed`` closes at the version, ``last_affected`` closes after it, ``limit`` bounds the range.
A bound that is no version at all (``*`` other than as a limit, an empty string: no digit and no letter)
makes the range not evaluable: ``compile_range`` raises ``RangeNotEvaluable`` and the matcher skips that
range of that record with a note, instead of guessing an ordering for it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from univers import versions as uv

_PRE = 0
_ZERO = 1
_POST = 2
_NONZERO = 3
_PRE_WORDS = frozenset({"alpha", "a", "beta", "b", "pre", "rc", "dev", "preview", "snapshot", "c"})
_POST_WORDS = frozenset({"patch", "post", "pl", "p", "errata", "sp", "r", "rev"})
_TOKEN = re.compile(r"(\d+)|([a-zA-Z]+)")


_PAD = 16  # components compared; keys are padded to this length so tuples compare natively


@functools.total_ordering
class LibVersion:
    """A generic version with libversion ordering (see module docstring)."""

    __slots__ = ("_key", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        key = _libversion_key(text)[:_PAD]
        self._key = key + ((_ZERO, 0, ""),) * (_PAD - len(key))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LibVersion):
            return NotImplemented
        return self._key == other._key

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, LibVersion):
            return NotImplemented  # a univers value: Python raises TypeError, which the matcher handles
        return self._key < other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __repr__(self) -> str:
        return f"LibVersion({self.text!r})"


def _libversion_key(text: str) -> tuple[tuple[int, int, str], ...]:
    text = text.strip().lower().removeprefix("v")
    tokens = list(_TOKEN.finditer(text))
    out: list[tuple[int, int, str]] = []
    for i, tok in enumerate(tokens):
        number, word = tok.group(1), tok.group(2)
        if number is not None:
            value = int(number)
            out.append((_NONZERO if value else _ZERO, value, ""))
            continue
        after_digit = tok.start() > 0 and text[tok.start() - 1].isdigit()
        is_last_or_sep = i + 1 == len(tokens) or tokens[i + 1].start() != tok.end()
        if word in _POST_WORDS or (len(word) == 1 and after_digit and is_last_or_sep and word not in _PRE_WORDS):
            out.append((_POST, 0, word))
        else:
            out.append((_PRE, 0, word))
    return tuple(out)


def _dpkg_order(char: str) -> int:
    if char == "~":
        return -1
    return ord(char) if char.isalpha() else ord(char) + 256


def _dpkg_part(text: str) -> tuple[tuple[tuple[int, ...], int], ...]:
    """dpkg's verrevcmp as a native sort key: alternating (non-digit run, number) pairs, padded."""
    out: list[tuple[tuple[int, ...], int]] = []
    i, n = 0, len(text)
    while i < n:
        j = i
        while j < n and not text[j].isdigit():
            j += 1
        k = j
        while k < n and text[k].isdigit():
            k += 1
        out.append(((*(_dpkg_order(c) for c in text[i:j]), 0), int(text[j:k]) if k > j else 0))
        i = k
    return tuple(out[:_PAD]) + (((0,), 0),) * (_PAD - len(out))


def _debian_key(text: str) -> Any:
    if not text or not uv.DebianVersion.is_valid(uv.DebianVersion.normalize(text)):  # type: ignore[no-untyped-call]
        raise ValueError(f"not a Debian version: {text!r}")  # univers validates; the key below is compared
    epoch, _, rest = text.rpartition(":") if ":" in text else ("0", "", text)
    upstream, dash, revision = rest.rpartition("-")
    if not dash:
        upstream, revision = rest, ""
    return (int(epoch or 0), _dpkg_part(upstream), _dpkg_part(revision))


def _value(cls: Any) -> Callable[[str], Any]:
    """univers' own parser (``build_value`` of its normalised string) without the attrs wrapper: its value
    (semantic_version / packaging / maven objects) compares an order of magnitude faster than the wrapper,
    and is built once instead of twice (the wrapper builds it again to validate)."""

    def parse(text: str) -> Any:
        if not text:
            raise ValueError("empty version")
        return cls.build_value(cls.normalize(text))

    return parse


# Scheme name -> parser returning a natively comparable key. Schemes are the purl types we match.
_SCHEMES: dict[str, Callable[[str], Any]] = {
    "pypi": _value(uv.PypiVersion),
    "npm": _value(uv.SemverVersion),
    "semver": _value(uv.SemverVersion),
    "cargo": _value(uv.SemverVersion),
    "deb": _debian_key,
    "apk": uv.AlpineLinuxVersion,  # gentoo ordering compares leading-zero parts pairwise: no native key
    "golang": _value(uv.GolangVersion),
    "maven": _value(uv.MavenVersion),
    "gem": uv.RubygemsVersion,
    "nuget": uv.NugetVersion,
    "composer": uv.ComposerVersion,
    "rpm": uv.RpmVersion,
    "generic": LibVersion,
}


def scheme_for(purl_type: str) -> str:
    return purl_type if purl_type in _SCHEMES else "generic"


class RangeNotEvaluable(ValueError):
    """An OSV range with a bound that is no version: the range cannot be evaluated for any version."""


@functools.lru_cache(maxsize=500_000)
def parse_version(scheme: str, text: str) -> tuple[Any, bool]:
    """(version, exact): exact is False when the text is not valid for the scheme and libversion was used,
    or when it holds no digit and no letter at all (``*``, ``""``: no scheme orders those)."""
    if _TOKEN.search(text) is None:
        return LibVersion(text), False
    parser = _SCHEMES.get(scheme, LibVersion)
    if scheme in ("semver", "npm", "cargo", "golang") and text[:1] in ("v", "V") and scheme != "golang":
        text = text[1:]
    if scheme == "golang" and not text.startswith("v"):
        text = "v" + text
    try:
        return parser(text), True
    except Exception:  # noqa: BLE001 - univers raises InvalidVersion, ValueError, TypeError ...
        return LibVersion(text), parser is LibVersion


@dataclass(frozen=True, slots=True)
class CompiledRange:
    """One OSV range: events sorted by version, with limits; ``exact`` False if any version fell back."""

    kind: str  # SEMVER / ECOSYSTEM
    events: tuple[tuple[str, Any, str], ...]  # (introduced|fixed|last_affected, parsed or None for "0", text)
    limits: tuple[Any, ...]
    unbounded_limit: bool
    exact: bool

    def contains(self, version: Any) -> bool:
        affected = False
        for kind, bound, _text in self.events:
            if kind == "introduced":
                # Only "<" is used: univers' AlpineLinuxVersion has "<" right but "<=" wrong (1.36.1-r2 <= -r10).
                if bound is None or not version < bound:
                    affected = True
            elif kind == "fixed":
                if not version < bound:
                    affected = False
            elif kind == "last_affected" and bound < version:
                affected = False
        if affected and self.limits and not self.unbounded_limit:
            affected = any(version < limit for limit in self.limits)
        return affected

    def fixed_after(self, version: Any) -> list[str]:
        return [text for kind, bound, text in self.events if kind == "fixed" and version < bound]


def compile_range(scheme: str, kind: str, events: Sequence[tuple[str, str]]) -> CompiledRange:
    """Compile one OSV range, events given as (kind, version) pairs (``SEMVER`` ranges use semver ordering)."""
    use = "semver" if kind == "SEMVER" and scheme != "generic" else scheme
    exact = True
    zero: list[tuple[str, Any, str]] = []
    rest: list[tuple[str, Any, str]] = []
    limits: list[Any] = []
    unbounded = False
    for name, text in events:
        if name == "introduced" and text == "0":
            zero.append((name, None, text))
            continue
        if name == "limit" and text == "*":
            unbounded = True
            continue
        if name in _EVENT_NAMES and _TOKEN.search(text) is None:
            raise RangeNotEvaluable(f"{name} {text[:40]!r} is not a version")
        parsed, ok = parse_version(use, text)
        exact = exact and ok
        if name == "limit":
            limits.append(parsed)
        elif name in ("introduced", "fixed", "last_affected"):
            rest.append((name, parsed, text))
    if len(rest) == 1:
        return CompiledRange(kind, (*zero, *rest), tuple(limits), unbounded, exact)
    try:
        rest.sort(key=_bound)  # native keys: one fast sort
    except TypeError:  # a univers object and a libversion fallback: order pairwise, text as tie-break
        rest.sort(key=functools.cmp_to_key(_cmp_events))
    return CompiledRange(kind, (*zero, *rest), tuple(limits), unbounded, exact)


_EVENT_NAMES = frozenset({"introduced", "fixed", "last_affected", "limit"})


def _bound(event: tuple[str, Any, str]) -> Any:
    return event[1]


def _cmp_events(a: tuple[str, Any, str], b: tuple[str, Any, str]) -> int:
    try:
        if a[1] < b[1]:
            return -1
        if b[1] < a[1]:
            return 1
    except TypeError:  # a univers version and a LibVersion fallback: order by text
        return -1 if a[2] < b[2] else (1 if a[2] > b[2] else 0)
    return 0


def version_in_list(scheme: str, version_text: str, listed: Sequence[str]) -> bool:
    """OSV ``versions`` are exact strings of the ecosystem; compare them as text (case and a leading "v"
    aside), as osv.dev does, rather than by ordering."""
    if version_text in listed:
        return True
    wanted = version_text.lower().removeprefix("v")
    return any(item.lower().removeprefix("v") == wanted for item in listed)
