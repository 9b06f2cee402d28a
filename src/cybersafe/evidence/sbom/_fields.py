"""Field readers shared by the CycloneDX and SPDX readers: typed look-ups that name the element on error,
lenient timestamps, purl checks that record a problem instead of refusing the document.

A value of the wrong JSON type (a number where a string belongs) makes the document malformed: ``SbomError``
naming the element. A value of the right type that we cannot use (a purl that does not parse, a timestamp in
an unusual form) is kept out of the result and recorded as a problem, so one odd field never costs the rest.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from packageurl import PackageURL

from cybersafe.errors import SbomError

_MAX_PROBLEMS = 50
# Purls of the plain shape every producer writes, which packageurl-python always accepts (a hypothesis
# property in tests/evidence/sbom/test_sbom_intake.py holds this): checked by this regex alone, since the
# full parser is most of the time of reading a million-component SBOM. Anything else goes to the parser.
_PLAIN_PURL = re.compile(
    r"pkg:[a-z][a-z0-9.-]*/(?:[A-Za-z0-9._~%-]+/)*[A-Za-z0-9._~-][A-Za-z0-9._~%-]*(?:@[A-Za-z0-9._~%+:-]+)?"
    r"(?:\?[a-z][a-z0-9._-]*=[A-Za-z0-9._~%+:/-]+(?:&[a-z][a-z0-9._-]*=[A-Za-z0-9._~%+:/-]+)*)?(?:#[A-Za-z0-9._~%/-]+)?"
)
_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?"
)


class Reader:
    """One document being read: its path (for messages) and the problems met so far."""

    __slots__ = ("dropped", "path", "problems")

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[str] = []
        self.dropped = 0

    def error(self, message: str, where: str | None = None, line: int | None = None) -> SbomError:
        return SbomError(message, file=self.path, field=where, line=line)

    def note(self, where: str, message: str) -> None:
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(f"{where}: {message}")
        else:
            self.dropped += 1

    def all_problems(self) -> tuple[str, ...]:
        more = (f"and {self.dropped} more problems of the same kinds",) if self.dropped else ()
        return (*self.problems, *more)

    # --- typed look-ups ------------------------------------------------------------------------------

    def text(self, obj: dict[str, Any], key: str, where: str, *, required: bool = False) -> str | None:
        value = obj.get(key)
        if value is None:
            if required:
                raise self.error(f"missing or not a string: {key!r}", f"{where}.{key}")
            return None
        if not isinstance(value, str):
            raise self.error(
                "must be a string" if not required else f"missing or not a string: {key!r}", f"{where}.{key}"
            )
        if required and not value.strip():
            self.note(f"{where}.{key}", "empty")
        return value

    def items(self, obj: dict[str, Any], key: str, where: str) -> list[Any]:
        value = obj.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error("must be a list", f"{where}.{key}" if where else key)
        return value

    def obj(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error("must be an object", where)
        return value

    def optional_obj(self, obj: dict[str, Any], key: str, where: str) -> dict[str, Any] | None:
        value = obj.get(key)
        if value is None:
            return None
        return self.obj(value, f"{where}.{key}" if where else key)

    # --- lenient values --------------------------------------------------------------------------------

    def purl(self, text: str | None, where: str) -> str | None:
        if text is None or not text.strip():
            return None
        if not valid_purl(text.strip()):
            self.note(where, f"not a valid purl {_clip(text)!r}; ignored")
            return None
        return text.strip()

    def timestamp(self, text: Any, where: str) -> dt.datetime | None:
        if text is None:
            return None
        if not isinstance(text, str):
            raise self.error("must be a string", where)
        stamp = parse_timestamp(text)
        if stamp is None and text.strip():
            self.note(where, f"not a date-time {_clip(text)!r}; treated as absent")
        return stamp


def valid_purl(text: str) -> bool:
    if _PLAIN_PURL.fullmatch(text):
        return True
    try:
        PackageURL.from_string(text)
    except ValueError:
        return False
    return True


def parse_timestamp(text: str) -> dt.datetime | None:
    """ISO 8601 / RFC 3339 as producers write it: any number of fractional digits (Trivy writes nanoseconds,
    Python's parser stops at microseconds), ``Z`` or an offset with or without a colon, a space for the ``T``,
    or a date alone. A time without a zone is read as UTC. Anything else is None."""
    m = _TIMESTAMP.fullmatch(text.strip())
    if m is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = m.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    tz = dt.UTC
    if zone and zone not in ("Z", "z"):
        digits = zone[1:].replace(":", "")
        offset = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        tz = dt.timezone(offset if zone[0] == "+" else -offset)
    try:
        return dt.datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), micro, tzinfo=tz
        )
    except ValueError:  # month 13, second 61 ...
        return None


def hash_alg(name: str) -> str:
    text = name.strip().upper().replace("_", "-")
    return {"SHA256": "SHA-256", "SHA512": "SHA-512", "SHA1": "SHA-1", "SHA384": "SHA-384", "SHA224": "SHA-224"}.get(
        text, text
    )


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:77] + "..."


def short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."
