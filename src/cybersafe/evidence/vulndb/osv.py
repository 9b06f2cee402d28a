"""OSV records: shape check, package keys, severity, and the rows the store keeps.

A record is checked for the fields matching needs (id, modified, affected packages, range events), not
against the whole JSON Schema: a 300,000-record import must stay fast, and the tests validate their
fixtures against the real schema. A record that fails the check raises ``OsvRecordError`` naming the
element; the importer records it as a problem and goes on.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from packageurl import PackageURL

# OSV ecosystem (before any ":release" suffix) -> purl type, and how the OSV name splits into namespace/name.
ECOSYSTEM_TO_TYPE: dict[str, str] = {
    "PyPI": "pypi",
    "npm": "npm",
    "Debian": "deb",
    "Ubuntu": "deb",
    "Alpine": "apk",
    "Go": "golang",
    "crates.io": "cargo",
    "Maven": "maven",
    "RubyGems": "gem",
    "NuGet": "nuget",
    "Packagist": "composer",
    "Hex": "hex",
    "Pub": "pub",
    "SwiftURL": "swift",
    "Red Hat": "rpm",
    "Rocky Linux": "rpm",
    "AlmaLinux": "rpm",
    "openSUSE": "rpm",
    "SUSE": "rpm",
}
_DISTRO_NAMESPACE = {"Debian": "debian", "Ubuntu": "ubuntu", "Alpine": "alpine", "Red Hat": "redhat"}
# Ranges and version lists are stored pre-split with ASCII separators, which the matcher splits far faster
# than it could decode JSON: range RS range; a range is TYPE US event US event; an event is KIND GS version.
RS, US, GS = "\x1e", "\x1f", "\x1d"
_SEPARATORS = frozenset(RS + US + GS)


def encode_ranges(ranges: list[tuple[str, list[tuple[str, str]]]]) -> str:
    return RS.join(US.join([kind, *(f"{name}{GS}{value}" for name, value in events)]) for kind, events in ranges)


def decode_ranges(text: str) -> list[tuple[str, list[tuple[str, str]]]]:
    out: list[tuple[str, list[tuple[str, str]]]] = []
    for part in text.split(RS) if text else ():
        kind, *events = part.split(US)
        out.append((kind, [(name, value) for name, _, value in (e.partition(GS) for e in events)]))
    return out


_EVENT_KINDS = frozenset({"introduced", "fixed", "last_affected", "limit"})


class OsvRecordError(ValueError):
    def __init__(self, element: str, message: str) -> None:
        self.element = element
        super().__init__(f"{element}: {message}")


def _pep503(name: str) -> str:
    return "-".join(name.lower().replace("_", "-").replace(".", "-").split("-"))


def purl_key(purl: PackageURL) -> str:
    """The store's package key for a purl: ``type/namespace/name``, case-folded, no version or qualifiers."""
    name = _pep503(purl.name) if purl.type == "pypi" else purl.name.lower()
    return f"{purl.type}/{(purl.namespace or '').lower()}/{name}"


@functools.lru_cache(maxsize=65536)
def _purl_key_text(purl: str) -> tuple[str, str] | None:
    try:
        parsed = PackageURL.from_string(purl)
    except ValueError:
        return None
    return purl_key(parsed), parsed.type


def ecosystem_key(ecosystem: str, name: str) -> str:
    base = ecosystem.split(":", 1)[0]
    ptype = ECOSYSTEM_TO_TYPE.get(base)
    if ptype is None:
        return f"{base.lower()}//{name.lower()}"  # OSS-Fuzz, Linux, GIT ...: never confused with a purl type
    namespace = _DISTRO_NAMESPACE.get(base, "")
    if ptype == "npm" and name.startswith("@") and "/" in name:
        namespace, name = name.split("/", 1)
    elif ptype in ("golang", "composer") and "/" in name:
        namespace, name = name.rsplit("/", 1)
    elif ptype == "maven" and ":" in name:
        namespace, name = name.split(":", 1)
    if ptype == "pypi":
        name = _pep503(name)
    return f"{ptype}/{namespace.lower()}/{name.lower()}"


def cpe_key(cpe: str) -> tuple[str, str | None] | None:
    """``("cpe:vendor:product", version or None)`` from a CPE 2.3 or 2.2 string."""
    text = cpe.strip()
    if text.startswith("cpe:2.3:"):
        parts = text.split(":")
        if len(parts) < 6:
            return None
        vendor, product, version = parts[3], parts[4], parts[5]
    elif text.startswith("cpe:/"):
        parts = text[5:].split(":")
        if len(parts) < 3:
            return None
        vendor, product = parts[1], parts[2]
        version = parts[3] if len(parts) > 3 else "*"
    else:
        return None
    if vendor in ("*", "-", "") or product in ("*", "-", ""):
        return None  # wildcard vendors match unrelated products (anchors.md 2.5)
    return f"cpe:{vendor.lower()}:{product.lower()}", (None if version in ("*", "-", "") else version)


@dataclass(frozen=True, slots=True)
class AffectedRow:
    key: str  # purl key or cpe key
    ecosystem: str  # the OSV ecosystem with its release suffix, "" for CPE rows
    scheme: str  # version scheme used to evaluate ranges
    ranges: str  # encode_ranges() text: the SEMVER/ECOSYSTEM ranges with their events
    versions: str  # explicit versions joined with US


@dataclass(frozen=True, slots=True)
class OsvRecord:
    id: str
    modified: str
    published: str | None
    withdrawn: str | None
    summary: str
    aliases: tuple[str, ...]
    severity: str  # the highest stated: critical / high / medium / low / none / unknown
    score: float | None  # the highest CVSS base score (any version)
    affected: tuple[AffectedRow, ...]
    severity_basis: str = ""  # what the severity was read from: "CVSS:3.1 9.8; database rating HIGH"


def parse_osv(data: Any) -> OsvRecord:
    ident, modified, aliases = _head(data)
    severity, score, basis = _severity(data, ident)
    affected = data.get("affected") or []
    if not isinstance(affected, list):
        raise OsvRecordError(f"{ident}.affected", "must be a list")
    rows: list[AffectedRow] = []
    for i, entry in enumerate(affected):
        rows.extend(_affected_rows(entry, f"{ident}.affected[{i}]"))
    summary = data.get("summary") or data.get("details") or ""
    record = OsvRecord(
        id=data["id"],
        modified=modified,
        published=data.get("published") if isinstance(data.get("published"), str) else None,
        withdrawn=data.get("withdrawn") if isinstance(data.get("withdrawn"), str) else None,
        summary=str(summary).strip().split("\n", 1)[0][:300],
        aliases=tuple(aliases),
        severity=severity,
        score=score,
        affected=tuple(rows),
        severity_basis=basis,
    )
    _check_encodable(record, ident)
    return record


def _head(data: Any) -> tuple[str, str, list[str]]:
    """(id for messages, modified, aliases) after checking the record's top-level shape."""
    if not isinstance(data, dict):
        raise OsvRecordError("record", "not a JSON object")
    ident, modified = data.get("id"), data.get("modified")
    if not isinstance(ident, str) or not ident:
        raise OsvRecordError("id", "missing or not a string")
    ident = _label(ident)  # for the element names of the messages; the record keeps data["id"]
    if not isinstance(modified, str) or not modified:
        raise OsvRecordError(f"{ident}.modified", "missing or not a string")
    aliases = data.get("aliases") or []
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise OsvRecordError(f"{ident}.aliases", "must be a list of strings")
    return ident, modified, aliases


def _events(rng: Any, here: str) -> list[tuple[str, str]]:
    if not isinstance(rng, dict) or rng.get("type") not in ("SEMVER", "ECOSYSTEM", "GIT"):
        raise OsvRecordError(f"{here}.type", "must be SEMVER, ECOSYSTEM or GIT")
    events = rng.get("events")
    if not isinstance(events, list) or not events:
        raise OsvRecordError(f"{here}.events", "must be a non-empty list")
    pairs: list[tuple[str, str]] = []
    for k, event in enumerate(events):
        if not isinstance(event, dict) or len(event) != 1:
            raise OsvRecordError(f"{here}.events[{k}]", "must be one of introduced/fixed/last_affected/limit")
        for name, value in event.items():
            if name not in _EVENT_KINDS or not isinstance(value, str) or _SEPARATORS & set(value):
                raise OsvRecordError(f"{here}.events[{k}]", "must be one of introduced/fixed/last_affected/limit")
            pairs.append((name, value))
    return pairs


def _ranges(entry: dict[str, Any], where: str) -> list[tuple[str, list[tuple[str, str]]]]:
    ranges = entry.get("ranges") or []
    if not isinstance(ranges, list):
        raise OsvRecordError(f"{where}.ranges", "must be a list")
    kept: list[tuple[str, list[tuple[str, str]]]] = []
    for j, rng in enumerate(ranges):
        pairs = _events(rng, f"{where}.ranges[{j}]")
        if rng["type"] != "GIT":  # commit ranges need the API's commit index; not evaluable offline
            kept.append((rng["type"], pairs))
    return kept


def _package_key(package: Any, where: str) -> tuple[str, str, str]:
    """(package key, version scheme, ecosystem) of an ``affected[].package``."""
    if not isinstance(package, dict):
        raise OsvRecordError(f"{where}.package", "must be an object")
    eco, name, purl = package.get("ecosystem"), package.get("name"), package.get("purl")
    if purl is not None:
        parsed_key = _purl_key_text(str(purl))
        if parsed_key is None:
            raise OsvRecordError(f"{where}.package.purl", f"not a valid purl: {purl!r}")
        return parsed_key[0], parsed_key[1], str(eco or "")
    if isinstance(eco, str) and isinstance(name, str) and eco and name:
        key = ecosystem_key(eco, name)
        return key, key.split("/", 1)[0], eco
    raise OsvRecordError(f"{where}.package", "needs ecosystem and name, or purl")


def _affected_rows(entry: Any, where: str) -> list[AffectedRow]:
    if not isinstance(entry, dict):
        raise OsvRecordError(where, "must be an object")
    versions = entry.get("versions") or []
    if not isinstance(versions, list) or not all(isinstance(v, str) and not _SEPARATORS & set(v) for v in versions):
        raise OsvRecordError(f"{where}.versions", "must be a list of strings")
    kept = _ranges(entry, where)
    ranges_text = encode_ranges(kept)
    versions_text = US.join(versions)
    rows: list[AffectedRow] = []
    if entry.get("package") is not None:
        key, scheme, eco = _package_key(entry["package"], where)
        rows.append(AffectedRow(key, eco, scheme, ranges_text, versions_text))
    for cpe in _cpes(entry):
        parsed_cpe = cpe_key(cpe)
        if parsed_cpe is not None:
            cpe_versions = versions_text
            if parsed_cpe[1] is not None and not kept:
                cpe_versions = US.join(sorted({*versions, parsed_cpe[1]}))
            rows.append(AffectedRow(parsed_cpe[0], "", "generic", ranges_text, cpe_versions))
    return rows


def _label(ident: str) -> str:
    """The id as it may appear in a one-line message: control characters and lone surrogates escaped."""
    if ident.isprintable() and len(ident) <= 120:
        return ident
    text = ascii(ident)[1:-1] if not ident.isprintable() else ident
    return text if len(text) <= 120 else text[:117] + "..."


def _check_encodable(record: OsvRecord, ident: str) -> None:
    """Every stored text must be encodable as UTF-8: JSON escapes can produce lone surrogates (``\\ud800``),
    which SQLite refuses, and one such value would abort the whole batch. One join and, only when the text is
    not ASCII, one encode per record."""
    texts = [record.id, record.modified, record.published or "", record.withdrawn or "", record.summary]
    texts.extend(record.aliases)
    for row in record.affected:
        texts.extend((row.key, row.ecosystem, row.ranges, row.versions))
    blob = "".join(texts)
    if blob.isascii():
        return
    try:
        blob.encode("utf-8")
    except UnicodeEncodeError:
        pass
    else:
        return
    named = [("id", record.id), ("modified", record.modified), ("published", record.published or "")]
    named += [("withdrawn", record.withdrawn or ""), ("summary", record.summary)]
    named += [(f"aliases[{i}]", alias) for i, alias in enumerate(record.aliases)]
    named += [("affected", "".join((r.key, r.ecosystem, r.ranges, r.versions))) for r in record.affected]
    element = next((name for name, text in named if not _encodable(text)), "record")
    raise OsvRecordError(f"{ident}.{element}", "not valid Unicode text (a lone surrogate escape)")


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _cpes(entry: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for holder in (entry.get("database_specific"), entry.get("ecosystem_specific")):
        if isinstance(holder, dict):
            for key in ("cpe", "cpes"):
                value = holder.get(key)
                if isinstance(value, str):
                    out.append(value)
                elif isinstance(value, list):
                    out.extend(v for v in value if isinstance(v, str))
    return out


SEVERITY_ORDER = ("unknown", "none", "low", "medium", "high", "critical")
_CVSS_KINDS = {"CVSS_V2": "2", "CVSS_V3": "3", "CVSS_V4": "4"}


def _severity(data: dict[str, Any], ident: str) -> tuple[str, float | None, str]:
    """(the highest severity the record states, the highest CVSS base score, what they were read from).

    Every statement counts: each CVSS v2, v3 or v4 vector (scored with the ``cvss`` library), a textual
    rating (OSV ``Ubuntu`` entries) and the database's own label (GitHub's ``database_specific.severity``).
    A record that states none is ``unknown``; the caller decides what unknown weighs.
    """
    items = data.get("severity")
    if items is not None and not isinstance(items, list):
        raise OsvRecordError(f"{ident}.severity", "must be a list")
    stated: list[tuple[str, float | None, str]] = []
    for item in items or []:
        if not isinstance(item, dict) or not isinstance(item.get("score"), str):
            continue
        kind, text = str(item.get("type", "")), item["score"]
        if kind in _CVSS_KINDS:
            scored = cvss_base_score(_CVSS_KINDS[kind], text)
            if scored is not None:
                label = "CVSS:2.0" if kind == "CVSS_V2" else text.split("/", 1)[0]
                stated.append((scored[1], scored[0], f"{label} {scored[0]}"))
        elif text.strip().lower() in _TEXT_SEVERITY:
            stated.append((_TEXT_SEVERITY[text.strip().lower()], None, f"{kind} rating {text.strip()}"))
    specific = data.get("database_specific")
    if isinstance(specific, dict) and isinstance(specific.get("severity"), str):
        label = _TEXT_SEVERITY.get(specific["severity"].strip().lower())
        if label:
            stated.append((label, None, f"database rating {specific['severity'].strip()}"))
    if not stated:
        return "unknown", None, ""
    top = max(stated, key=lambda s: (SEVERITY_ORDER.index(s[0]), s[1] or 0.0))
    scores = [s[1] for s in stated if s[1] is not None]
    return top[0], (max(scores) if scores else None), "; ".join(dict.fromkeys(s[2] for s in stated))


_TEXT_SEVERITY = {
    "low": "low",
    "negligible": "low",
    "moderate": "medium",
    "medium": "medium",
    "high": "high",
    "important": "high",
    "critical": "critical",
}


def rating(score: float) -> str:
    """The CVSS v3/v4 qualitative rating of a base score (FIRST CVSS v3.1 and v4.0 specifications)."""
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    if score > 0.0:
        return "low"
    return "none"


@functools.lru_cache(maxsize=8192)
def cvss_base_score(version: str, vector: str) -> tuple[float, str] | None:
    """(base score, rating) of a CVSS v2, v3.x or v4.0 vector, scored by the ``cvss`` library (FIRST's
    equations); None when the vector does not parse. v2 has no "critical": its ratings are NVD's."""
    from cvss import CVSS2, CVSS3, CVSS4, CVSSError

    try:
        if version == "2":
            v2 = CVSS2(vector.removeprefix("CVSS:2.0/"))
            return float(v2.base_score), str(v2.severities()[0]).lower()
        if version == "3":
            score = float(CVSS3(vector).base_score)
            return score, rating(score)
        v4 = CVSS4(vector)
        return float(v4.base_score), str(v4.severity).lower()
    except (CVSSError, ValueError, KeyError, IndexError, TypeError):
        return None
