"""Precomputed view of an assessment for the HTML and PDF templates.

Everything the templates show is computed here once (counts, sorting, anchors, location text, chart
geometry), so the templates only loop and escape. This is what keeps 5,000 findings under the time
budget (bench/reports.py), and it keeps the templates free of logic worth testing.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from cybersafe.render._summary import Summary, market_summary, summarise
from cybersafe.results import (
    Assessment,
    CheckAttemptOut,
    ClassificationOut,
    FindingOut,
    LocationOut,
    MarginalPlanOut,
    PresumptionOut,
    RequirementResultOut,
    SchemeResultOut,
)

VERDICTS = ("pass", "justified", "fail", "inconclusive", "pending", "not_applicable", "error")
VERDICT_LABEL = {
    "pass": "pass",
    "justified": "justified",
    "fail": "fail",
    "inconclusive": "inconclusive",
    "pending": "pending",
    "not_applicable": "not applicable",
    "error": "error",
}
# A symbol next to the word: colour is never the only signal.
VERDICT_SYMBOL = {
    "pass": "✓",
    "justified": "§",
    "fail": "✗",
    "inconclusive": "?",
    "pending": "…",
    "not_applicable": "–",
    "error": "!",
}
STATUS_LABEL = {
    "meets": "meets",
    "fails": "fails",
    "incomplete": "incomplete",
    "pending": "pending a scheme body's step",
    "prepare": "applies later: prepare",
    "out_of_scope": "out of scope",
    "not_modelled": "not modelled",
    "not_judged": "not judged in this assessment",
}
STATUS_SYMBOL = {
    "meets": "✓",
    "fails": "✗",
    "incomplete": "?",
    "pending": "…",
    "prepare": "→",
    "out_of_scope": "–",
    "not_modelled": "–",
    "not_judged": "–",
}
_VERDICT_ORDER = {
    "error": 0,
    "fail": 1,
    "inconclusive": 2,
    "pending": 3,
    "justified": 4,
    "pass": 5,
    "not_applicable": 6,
}
_SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
SEVERITIES = tuple(_SEVERITY_ORDER)
KIND_LABEL = {"law": "law", "standard": "standard", "label": "label scheme"}


def human(value: Any) -> str:
    """A fact's value in words: no Python literals (None, True, False, [...], {...}) in a report for people.

    None is "not recorded": a collector leaves a value out both when there is none (no RPATH) and when it cannot
    tell (the canary of a stripped static binary), and the report must not claim either.
    """
    if value is None:
        return "not recorded"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(human(v) for v in value) if value else "none"
    if isinstance(value, dict):
        return "; ".join(f"{human_key(str(k))}: {human(v)}" for k, v in value.items()) if value else "none"
    return str(value)


def human_key(key: str) -> str:
    """``fixed_delay_s`` -> ``fixed delay (s)``; ``self_signed`` -> ``self signed``."""
    words = key.replace("_", " ").strip()
    for unit in ("s", "ms", "mb", "kb", "kib", "mib"):
        if words.endswith(f" {unit}"):
            return f"{words[: -len(unit) - 1]} ({unit})"
    return words


def facts_text(facts: dict[str, Any]) -> str:
    return "; ".join(f"{human_key(k)}: {human(v)}" for k, v in sorted(facts.items()))


def severity_class(verdict: str, severity: str) -> str:
    """Severity is coloured only where something failed: a pass never reads in a severity's red."""
    return f"sev sev-{severity}" if verdict == "fail" else "sev"


def anchor(prefix: str, text: str) -> str:
    return prefix + "-" + re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def location_text(loc: LocationOut) -> str:
    """Same reading as ``checks.interface.Location.__str__``: host:port, purl, or path:line / path@0xoff."""
    if loc.host is not None:
        text = loc.host if loc.port is None else f"{loc.host}:{loc.port}"
        return f"{loc.protocol}://{text}" if loc.protocol else text
    if loc.component is not None:
        return loc.component
    text = loc.path or ""
    if loc.container is not None:
        text = f"{loc.container}:{text}"
    if loc.line is not None:
        text += f":{loc.line}"
    elif loc.offset is not None:
        text += f"@0x{loc.offset:x}"
    return text


@dataclass(frozen=True, slots=True)
class EvidenceRow:
    ref: str
    kind: str
    verdict: str
    href: str | None  # in-page link to the check's findings, when the leaf is a check of this assessment
    label: str  # "kind:ref" for leaves that are not checks (the ref may already carry its kind)
    answers: str | None = None  # a decision-tree answer, not a verdict on the requirement (EvidenceOut.answers)


@dataclass(frozen=True, slots=True)
class RequirementRow:
    id: str
    title: str
    group: str | None
    obligation: str
    required: bool
    levels: str
    verdict: str
    reason: str
    condition: str | None
    evidence: tuple[EvidenceRow, ...]
    missing: tuple[str, ...]
    later: str | None  # "applies from 2027-12-11" for a requirement not judged on the date
    justified_by: str  # risk decision ids, for a justified verdict


@dataclass(frozen=True, slots=True)
class Segment:
    verdict: str
    count: int
    x: float
    width: float


@dataclass(frozen=True, slots=True)
class SchemeView:
    key: str
    anchor: str
    title: str
    short_title: str
    jurisdiction: str
    kind: str
    modelled: bool
    status: str
    as_of: str
    highest_level: str | None
    levels: tuple[tuple[str, str, str, str], ...]  # level, title, status, counts text
    counts: dict[str, int]
    counts_text: str
    total: int
    requirements: tuple[RequirementRow, ...]
    missing: tuple[str, ...]
    segments: tuple[Segment, ...]
    summary: Summary
    classification: ClassificationOut | None
    route: tuple[str, ...]
    presumption: tuple[str, ...] = ()  # restrictions on a harmonised standard's presumption of conformity


@dataclass(frozen=True, slots=True)
class MarketView:
    market: str
    status: str
    as_of: str
    summary: Summary


@dataclass(frozen=True, slots=True)
class FindingRow:
    verdict: str
    severity: str
    sev_class: str
    message: str
    locations: tuple[str, ...]
    remediation: str | None
    facts: str


@dataclass(frozen=True, slots=True)
class CheckView:
    check_id: str
    anchor: str
    title: str
    severity: str
    sev_class: str
    status: str
    verdict: str
    reason: str | None
    detail: str | None
    remediation: str | None
    feeds: tuple[str, ...]
    schemes: str  # space-separated scheme keys the check feeds: the scheme filter reads it
    findings: tuple[FindingRow, ...]  # failing and open findings first, then passes and not applicable
    counts: dict[str, int]
    print_lines: tuple[str, ...]  # one plain-text line per finding for the print layout
    # the lab's result recorded for this check in manual_results, in words: requirements read it where the check
    # could not decide (a probe locked out), never over a fail
    lab_result: str | None = None


@dataclass(frozen=True, slots=True)
class MissingItem:
    item: str
    requirements: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Filters:
    """What the findings filter offers: every scheme a check fed, verdict and severity with their counts."""

    schemes: tuple[tuple[str, str], ...]  # (scheme key, short title)
    verdicts: tuple[tuple[str, int], ...]
    severities: tuple[tuple[str, int], ...]
    total: int  # findings, plus one per check without findings (it is shown as one entry)


@dataclass(slots=True)
class ReportView:
    title: str
    product: dict[str, str]
    generated_at: str
    now: str
    as_of: str
    digest: str
    tool: str
    markets: list[MarketView]
    schemes: list[SchemeView]
    checks: list[CheckView]
    filters: Filters
    missing: list[MissingItem]
    plans: list[dict[str, Any]]
    artefacts: list[dict[str, Any]]
    catalogs: list[dict[str, Any]]
    problems: list[dict[str, Any]]
    reuse: dict[str, Any]
    finding_counts: dict[str, int]
    chart: dict[str, Any] = field(default_factory=dict)


def _counts(counts: dict[str, int]) -> dict[str, int]:
    return {v: int(counts.get(v, 0)) for v in VERDICTS}


def _levels_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{VERDICT_LABEL.get(k, k)} {n}" for k, n in counts.items() if n)


def _requirement_row(req: RequirementResultOut, ran: set[str]) -> RequirementRow:
    evidence = tuple(
        EvidenceRow(
            ref=e.ref,
            kind=e.kind,
            verdict=e.verdict,
            href="#" + anchor("check", e.ref) if e.kind == "check" and e.ref in ran else None,
            label=e.ref if e.ref.startswith(f"{e.kind}:") else f"{e.kind}:{e.ref}",
            answers=e.answers,
        )
        for e in req.evidence
    )
    return RequirementRow(
        id=req.id,
        title=req.title,
        group=req.group,
        obligation=req.obligation,
        required=req.required,
        levels=", ".join(req.levels),
        verdict=req.verdict,
        reason=req.reason,
        condition=req.condition,
        evidence=evidence,
        missing=tuple(req.missing),
        later=None if req.applies else f"applies from {req.applies_from or 'a later date'}",
        justified_by=", ".join(req.justified_by),
    )


CHART_BAR_WIDTH = 500.0
CHART_ROW = 50
# Fail, inconclusive and error are patterned as well as coloured, so the bars read in grey print too.
CHART_FILL = {
    "pass": "#1a7f37",
    "justified": "#4f8f6a",
    "pending": "#5b8db8",
    "fail": "url(#p-fail)",
    "inconclusive": "url(#p-inconclusive)",
    "not_applicable": "#aab4be",
    "error": "url(#p-error)",
}
CHART_LEGEND = (
    ("pass", 0, "pass"),
    ("justified", 70, "justified"),
    ("fail", 185, "fail"),
    ("inconclusive", 250, "inconclusive"),
    ("pending", 385, "pending"),
    ("not_applicable", 485, "n/a"),
    ("error", 550, "error"),
)


def _segments(counts: dict[str, int]) -> tuple[Segment, ...]:
    total = sum(counts.values())
    if total == 0:
        return ()
    out: list[Segment] = []
    x = 0.0
    for verdict in VERDICTS:
        n = counts[verdict]
        if n:
            width = CHART_BAR_WIDTH * n / total
            out.append(Segment(verdict, n, round(x, 2), round(width, 2)))
            x += width
    return tuple(out)


def _scheme_view(
    result: SchemeResultOut, ran: set[str], plan: MarginalPlanOut | None, checks: dict[str, CheckAttemptOut]
) -> SchemeView:
    key = f"{result.scheme}@{result.version}"
    counts = _counts(result.counts)
    return SchemeView(
        key=key,
        anchor=anchor("scheme", key),
        title=result.title,
        short_title=result.short_title,
        jurisdiction=result.jurisdiction,
        kind=KIND_LABEL.get(result.kind or "", result.kind or "scheme"),
        modelled=result.modelled,
        status=result.status,
        as_of=result.as_of.isoformat() if result.as_of else "",
        highest_level=result.highest_level,
        levels=tuple((lv.level, lv.title, lv.status, _levels_text(lv.counts)) for lv in result.levels),
        counts=counts,
        counts_text=", ".join(f"{n} {VERDICT_LABEL[v]}" for v, n in counts.items() if n) or "none",
        total=sum(counts.values()),
        requirements=tuple(_requirement_row(r, ran) for r in result.requirements),
        missing=tuple(result.missing_evidence),
        segments=_segments(counts),
        summary=summarise(result, plan, checks),
        classification=result.classification,
        route=tuple(plan.route) if plan else (),
        presumption=tuple(presumption_text(p) for p in result.presumption),
    )


def presumption_text(p: PresumptionOut) -> str:
    """One line: what the restriction takes away, why, and what to do instead."""
    which = f" for {', '.join(p.requirements)}" if p.requirements else ""
    clauses = f"clause {p.clauses}" if re.fullmatch(r"[0-9.]+", p.clauses) else f"clauses {p.clauses}"
    reference = re.search(r"\(EU\) [0-9]{4}/[0-9]+", p.act)
    act = f"; Decision {reference.group(0)}" if reference else f"; {p.act}"
    if p.state == "lost":
        head = f"No presumption of conformity with {p.presumes}{which} ({clauses}{act})"
    else:
        head = f"Presumption of conformity with {p.presumes}{which} undetermined ({clauses}{act})"
    return f"{head}: {p.text} {p.detail[0].upper()}{p.detail[1:]}. {p.effect}"


def _finding_row(f: FindingOut) -> FindingRow:
    return FindingRow(
        verdict=f.verdict,
        severity=f.severity,
        sev_class=severity_class(f.verdict, f.severity),
        message=f.message,
        locations=tuple(location_text(loc) for loc in f.locations),
        remediation=f.remediation,
        facts=facts_text(f.facts),
    )


def _scheme_of(feed: str) -> str:
    return feed.partition(":")[0]


def _lab_results(dossier: dict[str, Any]) -> dict[str, str]:
    """Check id -> the lab's result recorded for it in the dossier's manual_results, in words."""
    out: dict[str, str] = {}
    for entry in dossier.get("manual_results") or []:
        if not isinstance(entry, dict) or str(entry.get("id", "")).startswith(("manual:", "scheme:")):
            continue
        words = f"{entry.get('verdict')} by {entry.get('by')} on {entry.get('at')}"
        if entry.get("summary"):
            words += f": {entry['summary']}"
        out[str(entry.get("id"))] = words
    return out


def _check_view(attempt: CheckAttemptOut, lab_results: dict[str, str] | None = None) -> CheckView:
    rows = [_finding_row(f) for f in attempt.findings]
    counts = dict.fromkeys(VERDICTS, 0)
    for f in attempt.findings:
        counts[f.verdict] += 1
    rows.sort(key=lambda r: (_VERDICT_ORDER[r.verdict], _SEVERITY_ORDER[r.severity]))
    return CheckView(
        check_id=attempt.key,
        anchor=anchor("check", attempt.key),
        title=attempt.title,
        severity=attempt.severity,
        sev_class=severity_class(attempt.verdict, attempt.severity),
        status=attempt.status,
        verdict=attempt.verdict,
        reason=attempt.reason,
        detail=attempt.detail,
        remediation=attempt.remediation,
        feeds=tuple(attempt.feeds),
        schemes=" ".join(dict.fromkeys(_scheme_of(f) for f in attempt.feeds)),
        findings=tuple(rows),
        counts=counts,
        print_lines=tuple(_print_line(r, attempt.remediation) for r in rows),
        lab_result=(lab_results or {}).get(attempt.check_id),
    )


def _print_line(row: FindingRow, check_fix: str | None) -> str:
    """Verdict word first, then severity, message, locations, facts and a fix when it differs from the check's."""
    parts = [f"{VERDICT_SYMBOL[row.verdict]} {VERDICT_LABEL[row.verdict]}", row.severity, row.message, *row.locations]
    if row.facts:
        parts.append(row.facts)
    if row.remediation and row.remediation != check_fix:
        parts.append(f"Fix: {row.remediation}")
    # One finding is one line: newlines inside hostile text must not split it (white-space: pre-line).
    return " · ".join(parts).replace("\r", " ").replace("\n", " ")


def _filters(checks: list[CheckView], schemes: list[SchemeView]) -> Filters:
    verdicts = dict.fromkeys(VERDICTS, 0)
    severities = dict.fromkeys(SEVERITIES, 0)
    for check in checks:
        entries = [(f.verdict, f.severity) for f in check.findings] or [(check.verdict, check.severity)]
        for verdict, severity in entries:
            verdicts[verdict] += 1
            severities[severity] += 1
    fed = {key for c in checks for key in c.schemes.split()}
    return Filters(
        schemes=tuple((s.key, s.short_title) for s in schemes if s.key in fed),
        verdicts=tuple((v, n) for v, n in verdicts.items() if n),
        severities=tuple((s, n) for s, n in severities.items() if n),
        total=sum(verdicts.values()),
    )


def _product(dossier: dict[str, Any]) -> dict[str, str]:
    product = dossier.get("product", {})
    manufacturer = product.get("manufacturer", {})
    out = {
        "name": str(product.get("name", "unnamed product")),
        "model": str(product.get("model", "")),
        "manufacturer": str(manufacturer.get("name", "")),
        "hardware_version": str(product.get("hardware_version", "")),
        "firmware_version": str(product.get("firmware_version", "")),
    }
    lab = dossier.get("assessment", {})
    for key in ("lab", "assessor", "reference"):
        if lab.get(key):
            out[key] = str(lab[key])
    return out


def _as_of(assessment: Assessment) -> str:
    """The date the verdicts hold for: the evaluator's (markets, schemes), else the assessment's own date."""
    for market in assessment.markets:
        return market.as_of.isoformat()
    for scheme in assessment.schemes:
        if scheme.as_of:
            return scheme.as_of.isoformat()
    return assessment.generated_at.date().isoformat()


def _own_plans(assessment: Assessment) -> dict[str, MarginalPlanOut]:
    """The plan from this assessment (not from a held label) for each scheme it names."""
    plans: dict[str, MarginalPlanOut] = {}
    for plan in assessment.plans:
        if plan.have is None:
            plans.setdefault(plan.want, plan)
    for result in assessment.schemes:
        key = f"{result.scheme}@{result.version}"
        if key not in plans and result.scheme in plans:
            plans[key] = plans[result.scheme]
    return plans


def _missing(assessment: Assessment) -> list[MissingItem]:
    missing: dict[str, list[str]] = defaultdict(list)
    for s in assessment.schemes:
        for r in s.requirements:
            for item in r.missing:
                missing[item].append(f"{s.scheme}@{s.version}:{r.id}")
    return [MissingItem(k, tuple(v)) for k, v in sorted(missing.items())]


def _markets(assessment: Assessment, schemes: list[SchemeView]) -> list[MarketView]:
    by_key = {s.key: (s.short_title, s.summary) for s in schemes}
    return [
        MarketView(market.market.upper(), market.status, market.as_of.isoformat(), market_summary(market, by_key))
        for market in assessment.markets
    ]


def build_view(assessment: Assessment, *, now: str) -> ReportView:
    ran = {c.key for c in assessment.checks}
    attempts = {c.key: c for c in assessment.checks}
    plans = _own_plans(assessment)
    schemes = [_scheme_view(s, ran, plans.get(f"{s.scheme}@{s.version}"), attempts) for s in assessment.schemes]
    lab_results = _lab_results(assessment.dossier)
    checks = sorted(
        (_check_view(c, lab_results) for c in assessment.checks),
        key=lambda c: (_VERDICT_ORDER[c.verdict], _SEVERITY_ORDER[c.severity], c.check_id),
    )
    finding_counts = dict.fromkeys(VERDICTS, 0)
    for c in assessment.checks:
        for f in c.findings:
            finding_counts[f.verdict] += 1
    product = _product(assessment.dossier)
    return ReportView(
        title=f"Assessment report: {product['name']} {product['model']}".strip(),
        product=product,
        generated_at=assessment.generated_at.isoformat(),
        now=now,
        as_of=_as_of(assessment),
        digest=assessment.digest(),
        tool=f"{assessment.tool.name} {assessment.tool.version}",
        markets=_markets(assessment, schemes),
        schemes=schemes,
        checks=checks,
        filters=_filters(checks, schemes),
        missing=_missing(assessment),
        plans=[p.model_dump(mode="json") for p in assessment.plans],
        artefacts=[a.model_dump(mode="json") for a in assessment.artefacts],
        catalogs=[c.model_dump(mode="json") for c in assessment.catalogs],
        problems=[p.model_dump(mode="json") for p in assessment.problems],
        reuse=assessment.reuse.model_dump(mode="json"),
        finding_counts=finding_counts,
        chart={
            "bar_width": CHART_BAR_WIDTH,
            "width": CHART_BAR_WIDTH + 120,  # room for the legend of every verdict
            "row": CHART_ROW,
            "height": 36 + CHART_ROW * len(schemes),
            "fill": CHART_FILL,
            "legend": CHART_LEGEND,
        },
    )
