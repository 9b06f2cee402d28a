"""One byte-level Hyperscan pass per file: secrets, PEM blocks and component signatures, also inside binaries.

detect-secrets reads files as text and skips everything that is not UTF-8 (feasibility.md section 3); this
scanner reads bytes (mmap) with one compiled database, so one pass finds every rule at ~400 MB/s. Hyperscan
reports every possible end of a match; with ``SOM_LEFTMOST`` we keep one match per (rule, start) with its
longest end, then confirm it with Python ``re`` at that offset (word boundaries, captures).
"""

from __future__ import annotations

import functools
import mmap
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyperscan

from cybersafe.evidence.firmware.components import ScanRule, scan_rules
from cybersafe.evidence.firmware.model import Confidence

_MAX_MATCH = 4096  # bytes of context a confirmation may read


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    kind: str  # secret / pem / signature
    regex: bytes
    confidence: Confidence = Confidence.HIGH
    caseless: bool = False
    trigger: bytes | None = None  # a short prefix for Hyperscan when the full regex is too large for SOM
    signature: ScanRule | None = None  # kind "signature": a rule of the component signature catalog


def _signature_rules() -> tuple[Rule, ...]:
    return tuple(Rule(f"{r.product}:{r.role}:{r.index}", "signature", r.regex, signature=r) for r in scan_rules())


_BASE_RULES: tuple[Rule, ...] = (
    # secrets (kept specific: known token shapes with a fixed prefix, few false positives)
    Rule("aws-access-key-id", "secret", rb"(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}"),
    Rule(
        "aws-secret-access-key",
        "secret",
        rb"aws_?secret_?access_?key[\"']?\s{0,4}[:=]\s{0,4}[\"']?[A-Za-z0-9/+]{40}",
        caseless=True,
        trigger=rb"aws_?secret_?access_?key",
    ),
    Rule("github-token", "secret", rb"gh[pousr]_[A-Za-z0-9]{36}"),
    Rule(
        "github-fine-grained-token", "secret", rb"github_pat_[A-Za-z0-9_]{82}", trigger=rb"github_pat_[A-Za-z0-9_]{16}"
    ),
    Rule("gitlab-token", "secret", rb"glpat-[A-Za-z0-9_\-]{20}"),
    Rule(
        "slack-token",
        "secret",
        rb"xox[baprs]-[0-9A-Za-z]{10,48}-[0-9A-Za-z\-]{10,72}",
        trigger=rb"xox[baprs]-[0-9A-Za-z]{10}",
    ),
    Rule(
        "slack-webhook",
        "secret",
        rb"https://hooks\.slack\.com/services/T[A-Z0-9]{8,12}/B[A-Z0-9]{8,12}/[A-Za-z0-9]{24}",
        trigger=rb"https://hooks\.slack\.com/services/T",
    ),
    Rule("google-api-key", "secret", rb"AIza[0-9A-Za-z_\-]{35}"),
    Rule(
        "stripe-live-key", "secret", rb"(?:sk|rk)_live_[0-9a-zA-Z]{24,64}", trigger=rb"(?:sk|rk)_live_[0-9a-zA-Z]{16}"
    ),
    Rule(
        "sendgrid-key", "secret", rb"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}", trigger=rb"SG\.[A-Za-z0-9_\-]{22}\."
    ),
    Rule(
        "jwt",
        "secret",
        rb"eyJ[A-Za-z0-9_\-]{10,512}\.eyJ[A-Za-z0-9_\-]{10,2048}\.[A-Za-z0-9_\-]{10,512}",
        Confidence.MEDIUM,
        trigger=rb"eyJ[A-Za-z0-9_\-]{10}",
    ),
    # PEM blocks: confirmed by parsing in keys.py; a header alone (a string constant in libcrypto) is nothing
    Rule("pem-private-key", "pem", rb"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----"),
    Rule("pem-certificate", "pem", rb"-----BEGIN CERTIFICATE-----"),
    Rule("pem-public-key", "pem", rb"-----BEGIN (?:RSA )?PUBLIC KEY-----"),
)
RULES: tuple[Rule, ...] = _BASE_RULES + _signature_rules()

_CONFIRM = [re.compile(rule.regex, re.IGNORECASE if rule.caseless else 0) for rule in RULES]
_ALNUM = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")


@dataclass(frozen=True, slots=True)
class Match:
    rule: Rule
    start: int
    end: int
    text: bytes
    groups: tuple[bytes | None, ...] = ()  # capture groups (signature rules)


class _Collector:
    __slots__ = ("ends", "spans")

    def __init__(self) -> None:
        self.spans: dict[tuple[int, int], int] = {}
        self.ends: dict[int, list[int]] = {}  # signature rules: where matches end (no start tracking)

    def reset(self) -> None:
        self.spans = {}
        self.ends = {}


def _on_match(ctx: _Collector, rule_index: int, start: int, end: int) -> Any:
    if _SOM[rule_index]:
        key = (rule_index, start)
        if ctx.spans.get(key, -1) < end:
            ctx.spans[key] = end
    else:
        ends = ctx.ends.setdefault(rule_index, [])
        if len(ends) < _MAX_ENDS:
            ends.append(end)
    return pyperscan.Scan.Continue


# Signature rules run without start-of-match tracking, which is costly for patterns that begin with a class
# (SOM makes Hyperscan follow every possible start); their matches are confirmed by `re` in a window that
# ends where Hyperscan saw one end.
_SOM = [rule.kind != "signature" for rule in RULES]
_MAX_ENDS = 4096
_SIGNATURE_WINDOW = 1024  # longer than any signature match


@functools.cache
def _database() -> pyperscan.BlockDatabase:
    """The rules compiled once per process (60 ms): a batch worker scans many images with it. A database is
    read-only; each scanner has its own scratch."""
    patterns = []
    for index, rule in enumerate(RULES):
        flags = [pyperscan.Flag.SOM_LEFTMOST] if _SOM[index] else []
        if rule.caseless:
            flags.append(pyperscan.Flag.CASELESS)
        regex = rule.trigger or rule.regex if _SOM[index] else rule.regex
        patterns.append(pyperscan.Pattern(regex, *flags, tag=index))
    return pyperscan.BlockDatabase(*patterns)


class ByteScanner:
    """One per scan; not thread-safe (one scratch)."""

    def __init__(self) -> None:
        self._ctx = _Collector()
        self._scanner = _database().build(self._ctx, _on_match)

    def scan(self, data: bytes | mmap.mmap) -> list[Match]:
        self._ctx.reset()
        self._scanner.scan(data)
        out: list[Match] = []
        for (index, start), _end in sorted(self._ctx.spans.items(), key=lambda kv: kv[0][1]):
            rule = RULES[index]
            window = data[start : start + _MAX_MATCH]
            found = _CONFIRM[index].match(window)
            if found is None:
                continue
            text = found.group(0)
            if rule.kind == "secret" and not _bounded(data, start, start + len(text)):
                continue
            out.append(Match(rule, start, start + len(text), text))
        for index, ends in self._ctx.ends.items():
            out.extend(_confirm_signature(RULES[index], _CONFIRM[index], data, ends))
        return out

    def scan_file(self, path: Path, size: int) -> Iterator[tuple[Match, bytes | mmap.mmap]]:
        if size == 0:
            return
        with path.open("rb") as fh:
            if size < 65536:
                data: bytes | mmap.mmap = fh.read()
                for match in self.scan(data):
                    yield match, data
                return
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                for match in self.scan(mapped):
                    yield match, mapped


def _confirm_signature(rule: Rule, regex: re.Pattern[bytes], data: bytes | mmap.mmap, ends: list[int]) -> list[Match]:
    """Every match of a signature rule, found by `re` in windows that close the ends Hyperscan reported."""
    out: dict[int, Match] = {}
    ends = sorted(set(ends))
    i = 0
    while i < len(ends):
        first = ends[i]
        while i + 1 < len(ends) and ends[i + 1] - first < _SIGNATURE_WINDOW:
            i += 1
        last = ends[i]
        i += 1
        for found in regex.finditer(data, max(0, first - _SIGNATURE_WINDOW), last):
            out.setdefault(found.start(), Match(rule, found.start(), found.end(), found.group(0), found.groups()))
    return [out[start] for start in sorted(out)]


def _bounded(data: bytes | mmap.mmap, start: int, end: int) -> bool:
    """A token embedded in a longer alphanumeric run is not that token (base64 blobs, hashes)."""
    before = data[start - 1] if start > 0 else None
    after = data[end] if end < len(data) else None
    return before not in _ALNUM and after not in _ALNUM


def redact(text: bytes | str) -> str:
    value = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    if len(value) <= 8:
        return "*" * len(value)
    return f"{value[:4]}…{value[-2:]} ({len(value)} chars)"
