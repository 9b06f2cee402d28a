"""Match components against the local database: purl first, CPE only as a marked fallback.

Per component: the purl gives the package key (``type/namespace/name``) and the version scheme; every
affected entry stored under that key is evaluated (OSV ranges compiled once per distinct range text,
explicit version lists). Only when the database holds nothing for the purl's key, or the component has no
purl, is its CPE tried, and such a match is LOW confidence. Every match says its basis.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from packageurl import PackageURL

from cybersafe.evidence.sbom.model import SbomComponent
from cybersafe.evidence.vulndb.model import (
    Confidence,
    Unmatched,
    VexStatement,
    VulnerabilityMatch,
    VulnerabilityReport,
)
from cybersafe.evidence.vulndb.osv import SEVERITY_ORDER, US, cpe_key, decode_ranges, purl_key
from cybersafe.evidence.vulndb.store import VulnDb
from cybersafe.evidence.vulndb.versions import (
    CompiledRange,
    RangeNotEvaluable,
    compile_range,
    parse_version,
    scheme_for,
    version_in_list,
)
from cybersafe.evidence.vulndb.vex import apply_vex


@dataclass(frozen=True, slots=True)
class _Target:
    comp: SbomComponent
    version: str
    scheme: str
    key: str | None
    distro: str | None
    cpe: str | None


# A range that cannot be compiled is cached as the reason why (a str), so each one is reported, never raised.
_RANGE_CACHE: dict[tuple[str, str], list[CompiledRange | str]] = {}
_MAX_RANGE_NOTES = 20


def _compile_one(scheme: str, kind: str, events: list[tuple[str, str]]) -> CompiledRange | str:
    try:
        return compile_range(scheme, kind, events)
    except RangeNotEvaluable as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - a bound univers cannot order: this range only is not evaluable
        return f"{kind} range cannot be ordered ({type(exc).__name__})"


def _compiled(scheme: str, ranges_json: str) -> list[CompiledRange | str]:
    cached = _RANGE_CACHE.get((scheme, ranges_json))
    if cached is None:
        cached = [_compile_one(scheme, kind, events) for kind, events in decode_ranges(ranges_json)]
        if len(_RANGE_CACHE) > 200_000:
            _RANGE_CACHE.clear()
        _RANGE_CACHE[(scheme, ranges_json)] = cached
    return cached


_SIMPLE_PURL = re.compile(r"pkg:([a-z0-9.+-]+)/([^@?#]+?)(?:@([^?#]+))?(?:\?([^#]*))?(?:#.*)?", re.IGNORECASE)


def _split_purl(text: str) -> tuple[str, str, str | None, str | None] | None:
    """(package key, purl type, version, distro qualifier); a fast path for plain purls, packageurl otherwise."""
    m = _SIMPLE_PURL.fullmatch(text)
    if m is not None and "%" not in text and m.group(1).lower() not in ("pypi", "maven"):
        ptype = m.group(1).lower()
        path = m.group(2).strip("/")
        namespace, _, name = path.rpartition("/")
        quals = dict(q.partition("=")[::2] for q in (m.group(4) or "").split("&") if q)
        distro = quals.get("distro")
        return f"{ptype}/{namespace.lower()}/{name.lower()}", ptype, m.group(3), distro.lower() if distro else None
    try:
        purl = PackageURL.from_string(text)
    except ValueError:
        return None
    quals = purl.qualifiers if isinstance(purl.qualifiers, dict) else {}
    distro = quals.get("distro")
    return purl_key(purl), purl.type, purl.version, str(distro).lower() if distro else None


def _release_matches(ecosystem: str, distro: str | None) -> bool | None:
    """True/False when both the record and the purl name a release; None when one of them does not."""
    if ":" not in ecosystem or distro is None:
        return None
    release = ecosystem.split(":", 1)[1].lower().removeprefix("v")
    return distro.endswith(release) or release in distro.split("-")


def _targets(components: Iterable[SbomComponent], unmatched: list[Unmatched]) -> list[_Target]:
    out = []
    for comp in components:
        version = comp.version
        key = distro = None
        scheme = "generic"
        if comp.purl:
            split = _split_purl(comp.purl)
            if split is not None:
                key, ptype, purl_version, distro = split
                scheme = scheme_for(ptype)
                version = version or purl_version
        if not version:
            unmatched.append(Unmatched(comp.ref, comp.display, "no version: cannot be matched"))
            continue
        if key is None and not comp.cpe:
            unmatched.append(Unmatched(comp.ref, comp.display, "neither purl nor CPE: cannot be matched"))
            continue
        out.append(_Target(comp, version, scheme, key, distro, comp.cpe))
    return out


def _two_events(ordering: str, events: list[tuple[str, str]], version: Any) -> tuple[bool, list[str]] | None:
    """The common range, [introduced X, fixed|last_affected Y] with X < Y, without compiling it.

    None means "not this shape" (or a bound the scheme cannot parse): the general path decides.
    """
    if len(events) != 2:
        return None
    (first, low_text), (second, high_text) = events
    if first != "introduced" or second not in ("fixed", "last_affected"):
        return None
    high, ok_high = parse_version(ordering, high_text)
    low, ok_low = (None, True) if low_text == "0" else parse_version(ordering, low_text)
    if not (ok_high and ok_low):
        return None
    try:
        if low is not None and not low < high:
            return None  # unusual order: let the sorted evaluation decide
        if low is not None and version < low:
            return False, []
        if second == "fixed":
            return (True, [high_text]) if version < high else (False, [])
        return (not high < version), []
    except TypeError:
        return None


def _range_hit(scheme: str, ranges_text: str, index: int, version: Any) -> tuple[bool, list[str], CompiledRange]:
    current = _compiled(scheme, ranges_text)[index]
    if isinstance(current, str):
        raise RangeNotEvaluable(current)
    hit = current.contains(version)
    return hit, (current.fixed_after(version) if hit else []), current


def _evaluate(
    version_text: str, scheme: str, ranges_text: str, versions_text: str
) -> tuple[bool, bool, list[str], str, str]:
    """(affected, exact ordering, fixed versions after it, basis, why a range was not evaluable or "")."""
    _, exact = parse_version(scheme, version_text)
    use = scheme if exact else "generic"  # a version the scheme cannot parse: compare everything generically
    problem = ""
    for index, (kind, events) in enumerate(decode_ranges(ranges_text)):
        try:
            ordering = "semver" if kind == "SEMVER" and use != "generic" else use
            version, ok = parse_version(ordering, version_text)
            if ok or ordering == "generic":
                fast = _two_events(ordering, events, version)
                if fast is not None:
                    if fast[0]:
                        return True, exact and ok, fast[1], f"{kind} range", problem
                    continue
            try:
                hit, fixed, current = _range_hit(use, ranges_text, index, version)
            except TypeError:  # some bound fell back to libversion ordering: compare everything that way
                version, ok = parse_version("generic", version_text)[0], False
                hit, fixed, current = _range_hit("generic", ranges_text, index, version)
        except RangeNotEvaluable as exc:
            problem = problem or str(exc)
            continue
        except Exception as exc:  # noqa: BLE001 - one bad range of one record must not stop the matching
            problem = problem or f"{kind} range cannot be evaluated ({type(exc).__name__})"
            continue
        if hit:
            return True, exact and ok and current.exact, fixed, f"{current.kind} range", problem
    listed = versions_text.split(US) if versions_text else []
    if listed and version_in_list(use, version_text, listed):
        return True, exact, [], "explicit version list", problem
    return False, exact, [], "", problem


_Hit = tuple[_Target, int, list[str], str, Confidence]  # target, advisory rid, fixed versions, basis, confidence


def match_components(
    db: VulnDb,
    components: Sequence[SbomComponent],
    *,
    source: str,
    vex: Sequence[VexStatement] = (),
    vex_sources: Sequence[str] = (),
) -> VulnerabilityReport:
    """Every known vulnerability of the components: one per alias group and component, with its basis."""
    unmatched: list[Unmatched] = []
    targets = _targets(components, unmatched)
    unevaluable: dict[int, tuple[str, str]] = {}  # rid -> (component, why): the first range skipped per record
    hits = _find_hits(db, targets, unmatched, unevaluable)
    advisories = db.advisories([*(h[1] for h in hits), *unevaluable])
    matches = group_aliases(_matches(db, hits, advisories))
    notes = []
    kev_entries = db.kev_count()
    kev_imported = db.last_import("kev")
    if kev_imported is None:
        notes.append("the database holds no CISA KEV catalog: known-exploited status is unknown")
    elif kev_entries == 0:
        notes.append("the CISA KEV catalog in the database has no entry: known-exploited status is unknown")
    notes.extend(_range_notes(unevaluable, advisories))
    report = VulnerabilityReport(
        source=source,
        database=str(db.path),
        osv_imported_at=db.last_import("osv"),
        kev_imported_at=kev_imported,
        components_examined=len(components),
        matches=tuple(sorted(matches, key=_order)),
        unmatched=tuple(unmatched),
        vex_sources=tuple(vex_sources),
        notes=tuple(notes),
        kev_entries=kev_entries,
        kev_released=db.kev_catalog()[1],
    )
    return apply_vex(report, vex, list(components))


def _find_hits(
    db: VulnDb, targets: list[_Target], unmatched: list[Unmatched], unevaluable: dict[int, tuple[str, str]]
) -> list[_Hit]:
    rows_by_key = db.affected_for(t.key for t in targets if t.key)
    # CPE fallback only where the purl found nothing in the database.
    cpe_keys: dict[int, str] = {}
    for i, t in enumerate(targets):
        if t.cpe and not (t.key and t.key in rows_by_key):
            parsed = cpe_key(t.cpe)
            if parsed is not None:
                cpe_keys[i] = parsed[0]
    rows_by_cpe = db.affected_for(cpe_keys.values()) if cpe_keys else {}
    hits: list[_Hit] = []
    for i, t in enumerate(targets):
        if t.key and t.key in rows_by_key:
            hits.extend(_purl_hits(t, rows_by_key[t.key], unevaluable))
        elif i in cpe_keys and cpe_keys[i] in rows_by_cpe:
            hits.extend(_cpe_hits(t, cpe_keys[i], rows_by_cpe[cpe_keys[i]], unevaluable))
        elif t.key is None and t.cpe and cpe_key(t.cpe) is None:
            unmatched.append(Unmatched(t.comp.ref, t.comp.display, "CPE with a wildcard vendor or product: not used"))
    return hits


def _purl_hits(
    t: _Target, rows: list[tuple[int, str, str, str, str]], unevaluable: dict[int, tuple[str, str]]
) -> list[_Hit]:
    hits: list[_Hit] = []
    for rid, eco, scheme, ranges, versions in rows:
        release = _release_matches(eco, t.distro)
        if release is False:
            continue
        use = scheme if scheme not in ("", "generic") else t.scheme
        affected, exact, fixed, how, problem = _evaluate(t.version, use, ranges, versions)
        if problem and rid not in unevaluable:
            unevaluable[rid] = (f"{t.comp.name}@{t.version}", problem)
        if not affected:
            continue
        confidence = Confidence.HIGH if exact else Confidence.MEDIUM
        note = ""
        if ":" in eco and release is None:
            confidence = Confidence.MEDIUM
            note = f"; record is for {eco}, the purl names no distro release"
        if not exact:
            note += "; version compared with generic ordering"
        hits.append((t, rid, fixed, f"purl {t.key} + {how}{f' ({eco})' if eco else ''}{note}", confidence))
    return hits


def _cpe_hits(
    t: _Target, key: str, rows: list[tuple[int, str, str, str, str]], unevaluable: dict[int, tuple[str, str]]
) -> list[_Hit]:
    hits: list[_Hit] = []
    for rid, _eco, _scheme, ranges, versions in rows:
        affected, _exact, fixed, how, problem = _evaluate(t.version, "generic", ranges, versions)
        if problem and rid not in unevaluable:
            unevaluable[rid] = (f"{t.comp.name}@{t.version}", problem)
        if affected:
            basis = f"CPE fallback {key} + {how}; vendor/product match only, verify by hand"
            hits.append((t, rid, fixed, basis, Confidence.LOW))
    return hits


def _matches(db: VulnDb, hits: list[_Hit], advisories: dict[int, dict[str, Any]]) -> list[VulnerabilityMatch]:
    """One match per component and advisory record, with its KEV and EPSS facts."""
    kev = db.kev()
    cves = {a for adv in advisories.values() for a in (adv["id"], *adv["aliases"]) if a.startswith("CVE-")}
    epss = db.epss(cves) if cves else {}
    matches: list[VulnerabilityMatch] = []
    seen: set[tuple[str, str]] = set()
    for t, rid, fixed, basis, confidence in hits:
        adv = advisories[rid]
        if adv["withdrawn"] or (t.comp.ref, adv["id"]) in seen:
            continue
        seen.add((t.comp.ref, adv["id"]))
        ids = (adv["id"], *adv["aliases"])
        kev_entry = next((kev[i] for i in ids if i in kev), None)
        scores = [epss[i] for i in ids if i in epss]
        primary = _preferred_id(ids)
        matches.append(
            VulnerabilityMatch(
                component_ref=t.comp.ref,
                component=f"{t.comp.name}@{t.version}",
                purl=t.comp.purl,
                cpe=t.comp.cpe,
                version=t.version,
                vulnerability=primary,
                aliases=tuple(sorted(set(ids) - {primary})),
                summary=adv["summary"],
                severity=adv["severity"],
                score=adv["score"],
                known_exploited=kev_entry is not None,
                kev_date_added=kev_entry["date_added"] if kev_entry else None,
                epss=max(scores) if scores else None,
                fixed_versions=tuple(sorted(set(fixed))),
                basis=basis,
                confidence=confidence,
                first_seen=adv["first_seen"],
                sources=(adv["id"],),
                severity_basis=f"{adv['id']}: {adv['severity_basis']}" if adv.get("severity_basis") else "",
            )
        )
    return matches


# --- alias groups --------------------------------------------------------------------------------------

_ID_PREFERENCE = ("CVE-", "GHSA-")
_CONFIDENCE_ORDER = (Confidence.LOW, Confidence.MEDIUM, Confidence.HIGH)


def group_aliases(matches: Sequence[VulnerabilityMatch]) -> list[VulnerabilityMatch]:
    """One vulnerability per alias group and component.

    Databases publish one vulnerability under several ids (GitHub's GHSA, PyPA's PYSEC, Go's GO-, the
    CVE), each record naming some of the others as aliases. Records of one component that share any id,
    directly or through another record, are one vulnerability: its id is the CVE when there is one, its
    aliases every other id, its sources the records merged, its severity the highest any of them states.
    """
    by_component: dict[str, list[VulnerabilityMatch]] = {}
    for m in matches:
        by_component.setdefault(m.component_ref, []).append(m)
    out: list[VulnerabilityMatch] = []
    for bucket in by_component.values():
        if len(bucket) == 1:  # the common case: nothing to merge (the id is already the group's)
            out.append(bucket[0])
            continue
        groups: list[tuple[set[str], list[VulnerabilityMatch]]] = []
        for m in bucket:
            ids = set(m.ids)
            joined = [g for g in groups if g[0] & ids]
            for g in joined:
                ids |= g[0]
            groups = [g for g in groups if g not in joined]
            groups.append((ids, [m, *(x for g in joined for x in g[1])]))
        out.extend(_merge(g[1]) if len(g[1]) > 1 else g[1][0] for g in groups)
    return out


def _preferred_id(ids: Iterable[str]) -> str:
    """The CVE id when there is one (the lowest, when a record names several), else a GHSA id, else the lowest."""
    ids = tuple(ids)
    for prefix in _ID_PREFERENCE:
        chosen = [i for i in ids if i.startswith(prefix)]
        if chosen:
            return min(chosen)
    return min(ids)


def _merge(group: list[VulnerabilityMatch]) -> VulnerabilityMatch:
    ids: set[str] = set().union(*(m.ids for m in group))
    primary = _preferred_id(ids)
    top = max(
        group, key=lambda m: (SEVERITY_ORDER.index(m.severity) if m.severity in SEVERITY_ORDER else 0, m.score or 0)
    )
    best = max(group, key=lambda m: _CONFIDENCE_ORDER.index(m.confidence))
    scores = [m.score for m in group if m.score is not None]
    epss = [m.epss for m in group if m.epss is not None]
    kev_dates = sorted(m.kev_date_added for m in group if m.kev_date_added)
    seen = sorted(m.first_seen for m in group if m.first_seen)
    return replace(
        best,
        vulnerability=primary,
        aliases=tuple(sorted(ids - {primary})),
        summary=next((m.summary for m in (top, *group) if m.summary), ""),
        severity=top.severity,
        score=max(scores) if scores else None,
        known_exploited=any(m.known_exploited for m in group),
        kev_date_added=kev_dates[0] if kev_dates else None,
        epss=max(epss) if epss else None,
        fixed_versions=tuple(sorted({v for m in group for v in m.fixed_versions})),
        first_seen=seen[0] if seen else None,
        sources=tuple(sorted({s for m in group for s in m.sources})),
        severity_basis="; ".join(m.severity_basis for m in sorted(group, key=lambda m: m.sources) if m.severity_basis),
    )


def _range_notes(unevaluable: dict[int, tuple[str, str]], advisories: dict[int, dict[str, Any]]) -> list[str]:
    """One note per advisory holding a range that could not be evaluated (at most _MAX_RANGE_NOTES)."""
    items = sorted(
        (_one_line(str(advisories[rid]["id"])), _one_line(component), why)
        for rid, (component, why) in unevaluable.items()
        if rid in advisories and not advisories[rid]["withdrawn"]
    )
    notes = [
        f"advisory {ident}: a version range is not evaluable ({why}); it was skipped when matching {component}"
        for ident, component, why in items[:_MAX_RANGE_NOTES]
    ]
    if len(items) > _MAX_RANGE_NOTES:
        notes.append(f"{len(items) - _MAX_RANGE_NOTES} more advisories hold a version range that is not evaluable")
    return notes


def _one_line(text: str) -> str:
    text = text if text.isprintable() else ascii(text)[1:-1]
    return text if len(text) <= 80 else text[:77] + "..."


_SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3, "unknown": 4, "none": 5}


def _order(m: VulnerabilityMatch) -> tuple[Any, ...]:
    return (not m.known_exploited, _SEVERITY_ORDER.get(m.severity, 9), m.component, m.vulnerability)
