"""OSV records: shape check, package keys, severity, and the rows the store keeps.

A record is checked for the fields matching needs (id, modified, affected packages, range events), not
against the whole JSON Schema: a 300,000-record import must stay fast, and the tests validate their
fixtures against the real schema. A record that fails the check raises ``OsvRecordError`` naming the
element; the importer records it as a problem and goes on.
"""

from __future__ import annotations

import functools
import math
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
_GHSA_SEVERITY = {"LOW": "low", "MODERATE": "medium", "MEDIUM": "medium", "HIGH": "high", "CRITICAL": "critical"}


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
    severity: str  # critical / high / medium / low / unknown
    score: float | None
    affected: tuple[AffectedRow, ...]


def parse_osv(data: Any) -> OsvRecord:
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
    affected = data.get("affected") or []
    if not isinstance(affected, list):
        raise OsvRecordError(f"{ident}.affected", "must be a list")
    rows: list[AffectedRow] = []
    severity, score = _severity(data, ident)
    for i, entry in enumerate(affected):
        where = f"{ident}.affected[{i}]"
        if not isinstance(entry, dict):
            raise OsvRecordError(where, "must be an object")
        ranges = entry.get("ranges") or []
        versions = entry.get("versions") or []
        if not isinstance(versions, list) or not all(isinstance(v, str) and not _SEPARATORS & set(v) for v in versions):
            raise OsvRecordError(f"{where}.versions", "must be a list of strings")
        if not isinstance(ranges, list):
            raise OsvRecordError(f"{where}.ranges", "must be a list")
        kept: list[tuple[str, list[tuple[str, str]]]] = []
        for j, rng in enumerate(ranges):
            here = f"{where}.ranges[{j}]"
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
                        raise OsvRecordError(
                            f"{here}.events[{k}]", "must be one of introduced/fixed/last_affected/limit"
                        )
                    pairs.append((name, value))
            if rng["type"] != "GIT":  # commit ranges need the API's commit index; not evaluable offline
                kept.append((rng["type"], pairs))
        ranges_json = encode_ranges(kept)
        versions_json = US.join(versions)
        package = entry.get("package")
        if package is not None:
            if not isinstance(package, dict):
                raise OsvRecordError(f"{where}.package", "must be an object")
            eco, name, purl = package.get("ecosystem"), package.get("name"), package.get("purl")
            if purl is not None:
                parsed_key = _purl_key_text(str(purl))
                if parsed_key is None:
                    raise OsvRecordError(f"{where}.package.purl", f"not a valid purl: {purl!r}")
                key, scheme = parsed_key
            elif isinstance(eco, str) and isinstance(name, str) and eco and name:
                key = ecosystem_key(eco, name)
                scheme = key.split("/", 1)[0]
            else:
                raise OsvRecordError(f"{where}.package", "needs ecosystem and name, or purl")
            rows.append(AffectedRow(key, str(eco or ""), scheme, ranges_json, versions_json))
        for cpe in _cpes(entry):
            parsed_cpe = cpe_key(cpe)
            if parsed_cpe is not None:
                cpe_versions = versions_json
                if parsed_cpe[1] is not None and not kept:
                    cpe_versions = US.join(sorted({*versions, parsed_cpe[1]}))
                rows.append(AffectedRow(parsed_cpe[0], "", "generic", ranges_json, cpe_versions))
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
    )
    _check_encodable(record, ident)
    return record


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


def _severity(data: dict[str, Any], ident: str) -> tuple[str, float | None]:
    score: float | None = None
    items = data.get("severity")
    if items is not None and not isinstance(items, list):
        raise OsvRecordError(f"{ident}.severity", "must be a list")
    for item in items or []:
        if isinstance(item, dict) and str(item.get("type", "")).startswith("CVSS_V3"):
            score = cvss3_base_score(str(item.get("score", "")))
            if score is not None:
                break
    specific = data.get("database_specific")
    if isinstance(specific, dict) and isinstance(specific.get("severity"), str):
        label = _GHSA_SEVERITY.get(specific["severity"].upper())
        if label:
            return label, score
    if score is None:
        return "unknown", None
    return rating(score), score


def rating(score: float) -> str:
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    if score > 0.0:
        return "low"
    return "none"


_W = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "UI": {"N": 0.85, "R": 0.62},
    "C": {"H": 0.56, "L": 0.22, "N": 0.0},
}


def _roundup(value: float) -> float:
    scaled = round(value * 100000)
    if scaled % 10000 == 0:
        return scaled / 100000.0
    return (math.floor(scaled / 10000) + 1) / 10.0


@functools.lru_cache(maxsize=4096)
def cvss3_base_score(vector: str) -> float | None:
    """CVSS v3.0/v3.1 base score from a vector string (FIRST CVSS v3.1 specification, section 7.1)."""
    try:
        parts = dict(p.split(":", 1) for p in vector.split("/")[1:])
        scope_changed = parts["S"] == "C"
        pr = {"N": 0.85, "L": 0.68 if scope_changed else 0.62, "H": 0.5 if scope_changed else 0.27}[parts["PR"]]
        iss = 1 - (1 - _W["C"][parts["C"]]) * (1 - _W["C"][parts["I"]]) * (1 - _W["C"][parts["A"]])
        exploitability = 8.22 * _W["AV"][parts["AV"]] * _W["AC"][parts["AC"]] * pr * _W["UI"][parts["UI"]]
    except (KeyError, ValueError):
        return None
    impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 if scope_changed else 6.42 * iss
    if impact <= 0:
        return 0.0
    if scope_changed:
        return _roundup(min(1.08 * (impact + exploitability), 10))
    return _roundup(min(impact + exploitability, 10))
