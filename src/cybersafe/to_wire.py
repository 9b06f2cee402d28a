"""Put an assessment run (domain values) on the wire: the ``Assessment`` of results.py.

Renderers, labels, paperwork and the registry read only what this produces; nothing here decides a verdict.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from cybersafe.assess import AssessmentRun, MarketResult
from cybersafe.checks.interface import Finding, Location
from cybersafe.delta import DeltaRecord
from cybersafe.dossier.facts import derive_facts
from cybersafe.inputs import RunInputs
from cybersafe.results import (
    ASSESSMENT_SCHEMA,
    ArtefactOut,
    Assessment,
    CatalogOut,
    CheckAttemptOut,
    ClassificationOut,
    DeltaCheckOut,
    DeltaOut,
    EvidenceOut,
    FileChangesOut,
    FindingOut,
    InputsOut,
    LaterOut,
    LevelResultOut,
    LocationOut,
    MarketResultOut,
    MarketSchemeOut,
    PresumptionOut,
    ProblemOut,
    RequirementResultOut,
    ReuseOut,
    RouteOut,
    SchemeDatesOut,
    SchemeLabelOut,
    SchemeResultOut,
    ToolInfo,
)
from cybersafe.schemes.algebra import evaluate_condition
from cybersafe.schemes.catalog import Catalog, iter_leaves
from cybersafe.schemes.classification import Classification
from cybersafe.schemes.evaluate import LaterResult, SchemeResult
from cybersafe.schemes.interface import Leaf, LeafKind, Requirement, SchemeDates
from cybersafe.schemes.status import SchemeStatus
from cybersafe.schemes.trees import presumption_flags
from cybersafe.verdict import Severity, Verdict
from cybersafe.version import tool_version


def check_feeds(catalog: Catalog, results: Iterable[SchemeResult]) -> dict[str, list[str]]:
    """Attempt key -> every requirement key, in every evaluated scheme, whose verdict it fed."""
    memo: dict[str, set[str]] = {}

    def reached(key: str, seen: frozenset[str]) -> set[str]:
        if key in memo:
            return memo[key]
        req = catalog.requirement(key)
        out: set[str] = set()
        for leaf in iter_leaves(req.verified_by):
            if leaf.kind is LeafKind.CHECK:
                out.add(str(leaf))
            elif leaf.kind is LeafKind.REQUIREMENT:
                target = catalog.requirement(leaf.ref).key
                if target not in seen:
                    out |= reached(target, seen | {target})
            elif leaf.kind is LeafKind.SCHEME:  # (an ics: leaf reads verdicts, it feeds no check)
                for target in (r.key for r in catalog.scheme(leaf.ref).requirements if r.key not in seen):
                    out |= reached(target, seen | {target})
        memo[key] = out
        return out

    feeds: dict[str, list[str]] = {}
    for result in results:
        for req_result in result.requirements:
            if req_result.verdict is Verdict.NOT_APPLICABLE and not req_result.evidence:
                continue  # a condition ruled it out before any check was read
            for check_id in reached(req_result.requirement.key, frozenset({req_result.requirement.key})):
                feeds.setdefault(check_id, []).append(req_result.requirement.key)
    return feeds


def to_assessment(run: AssessmentRun) -> Assessment:
    feeds = check_feeds(run.catalog, run.results)
    checks_out = []
    for key in sorted(run.attempts):
        attempt = run.attempts[key]
        check_id = attempt.check_id
        check_class = run.checks.get(check_id)
        checks_out.append(
            CheckAttemptOut(
                check_id=check_id,
                parameters={n: list(v) if isinstance(v, tuple) else v for n, v in attempt.parameters} or None,
                title=check_class.TITLE if check_class else check_id,
                severity=check_class.SEVERITY if check_class else Severity.INFO,
                status=attempt.status,
                verdict=attempt.verdict,
                reason=str(attempt.reason) if attempt.reason else None,
                detail=attempt.detail,
                remediation=check_class.REMEDIATION if check_class else None,
                findings=[_finding_out(f) for f in attempt.findings],
                feeds=sorted(feeds.get(key, [])),
                inputs=list(run.inputs.reads.get(key, ())) if run.inputs else None,
            )
        )
    facts = run.facts if run.facts is not None else derive_facts(run.dossier)
    schemes_out = [_scheme_out(r, run.now.date(), run.classification(r.scheme), facts) for r in run.results]
    completed = [a for a in run.attempts.values() if a.findings]
    fed = [len(feeds.get(a.key, [])) for a in completed]
    return Assessment(
        schema=ASSESSMENT_SCHEMA,
        generated_at=run.now,
        tool=ToolInfo(version=tool_version()),
        dossier=run.dossier.wire(),
        artefacts=[ArtefactOut(**a.as_dict()) for a in run.evidence.artefacts],
        catalogs=[
            CatalogOut(scheme=r.scheme.id, version=r.scheme.version, sha256=r.scheme.catalog_sha256)
            for r in run.results
        ],
        checks=checks_out,
        schemes=schemes_out,
        plans=run.plans,
        markets=[_market_out(m, run) for m in run.markets],
        reuse=ReuseOut(
            checks_run=len(completed),
            requirement_verdicts=sum(len(r.requirements) for r in run.results),
            schemes_served=sum(1 for r in run.results if r.scheme.modelled),
            requirements_fed_per_check=round(sum(fed) / len(fed), 2) if fed else 0.0,
        ),
        problems=[ProblemOut(**p.as_dict()) for p in run.evidence.problems],
        inputs=_inputs_out(run.inputs) if run.inputs else None,
        delta=_delta_out(run.delta) if run.delta else None,
    )


def _inputs_out(inputs: RunInputs) -> InputsOut:
    return InputsOut(
        tool=inputs.tool,
        digests=dict(sorted(inputs.digests.items())),
        firmware_files=dict(inputs.firmware_files),
        firmware_memo=inputs.firmware_memo,
    )


def _delta_out(delta: DeltaRecord) -> DeltaOut:
    files = delta.firmware_files
    return DeltaOut(
        baseline=delta.baseline,
        baseline_generated_at=delta.baseline_generated_at,
        changed_inputs=list(delta.changed_inputs),
        reused=[DeltaCheckOut(check=k, why=w) for k, w in sorted(delta.reused.items())],
        rerun=[DeltaCheckOut(check=k, why=w) for k, w in sorted(delta.rerun.items())],
        collectors_skipped=list(delta.collectors_skipped),
        firmware_facts_reused=delta.firmware_facts_reused,
        firmware_files_written=delta.firmware_files_written,
        firmware_files=FileChangesOut(added=list(files.added), removed=list(files.removed), changed=list(files.changed))
        if files
        else None,
    )


def _finding_out(finding: Finding) -> FindingOut:
    return FindingOut(
        verdict=finding.verdict,
        severity=finding.severity,
        message=finding.message,
        locations=[_location_out(loc) for loc in finding.locations],
        facts=dict(finding.facts),
        remediation=finding.remediation,
    )


def _location_out(loc: Location) -> LocationOut:
    return LocationOut(**loc.as_dict())


def _scheme_out(
    result: SchemeResult, as_of: dt.date, classification: Classification | None, facts: Mapping[str, bool]
) -> SchemeResultOut:
    scheme = result.scheme
    return SchemeResultOut(
        scheme=scheme.id,
        version=scheme.version,
        title=scheme.title,
        short_title=scheme.short_title,
        jurisdiction=scheme.jurisdiction,
        kind=scheme.kind,
        markets=list(scheme.markets),
        label=SchemeLabelOut(name=scheme.label.name, style=scheme.label.style) if scheme.label else None,
        dates=_dates_out(scheme.dates),
        modelled=scheme.modelled,
        status=result.status,
        highest_level=result.highest_level,
        levels=[
            LevelResultOut(level=lv.level, title=lv.title, status=lv.status, counts=dict(lv.counts))
            for lv in result.levels
        ],
        counts=dict(result.counts),
        requirements=[
            RequirementResultOut(
                id=r.requirement.id,
                title=r.requirement.title,
                group=r.requirement.group,
                obligation=r.requirement.obligation,
                required=r.required,
                levels=list(r.requirement.levels),
                verdict=r.verdict,
                reason=r.reason,
                condition=str(r.requirement.condition) if r.requirement.condition else None,
                confidence=str(r.requirement.confidence),
                source=_source_text(r.requirement.source.document, r.requirement.source.clause),
                evidence=[
                    EvidenceOut(
                        ref=str(e.leaf),
                        kind=e.leaf.kind,
                        verdict=e.verdict,
                        detail=e.detail,
                        answers=_answered(r.requirement, e.leaf, e.verdict),
                    )
                    for e in r.evidence
                ],
                missing=list(r.missing),
                applies_from=r.requirement.applies_from,
                applies=r.applies,
                justified_by=list(r.justified_by),
            )
            for r in result.requirements
        ],
        missing_evidence=list(result.missing_evidence),
        as_of=as_of,
        later=[_later_out(lr) for lr in result.later],
        in_scope=result.summary.in_scope if scheme.scope is not None else None,
        scope=scheme.scope_text,
        classification=_classification_out(classification) if classification is not None else None,
        presumption=_presumption_out(result, facts),
    )


def _presumption_out(result: SchemeResult, facts: Mapping[str, bool]) -> list[PresumptionOut]:
    presumption = result.scheme.presumption
    if presumption is None or result.status in (SchemeStatus.OUT_OF_SCOPE, SchemeStatus.NOT_MODELLED):
        return []
    verdicts = {r.requirement.id: r.verdict for r in result.requirements}
    flags = presumption_flags(result.scheme, facts, lambda rid: verdicts[rid], evaluate_condition)
    return [
        PresumptionOut(
            restriction=f.restriction.id,
            state=f.state.value,
            requirements=list(f.restriction.requirements),
            clauses=f.restriction.clauses,
            presumes=presumption.presumes,
            act=presumption.act.document,
            text=f.restriction.text,
            effect=f.restriction.effect,
            detail=f.detail,
            confidence=str(f.restriction.confidence),
        )
        for f in flags
    ]


def _classification_out(found: Classification) -> ClassificationOut:
    pc = found.product_class
    return ClassificationOut(
        product_class=pc.id,
        title=pc.title,
        annex=pc.annex,
        matched=[f"{c.id} ({c.title}) via {t}" for c, t in found.matched],
        declared_class=found.declared_class,
        declared_category=found.declared_category,
        routes=[
            RouteOut(id=r.id, title=r.title, notified_body=r.notified_body, open=r.open, why=r.why)
            for r in found.routes
        ],
        notified_body_required=found.notified_body_required,
        notes=list(found.notes),
    )


def _later_out(later: LaterResult) -> LaterOut:
    return LaterOut(date=later.date, status=later.status, highest_level=later.highest_level, counts=dict(later.counts))


def _market_out(market: MarketResult, run: AssessmentRun) -> MarketResultOut:
    return MarketResultOut(
        market=market.market,
        as_of=run.now.date(),
        status=market.status,
        schemes=[
            MarketSchemeOut(
                scheme=r.scheme.key,
                kind=r.scheme.kind,
                status=r.status,
                applies_from=r.scheme.dates.start,  # applies_from, else in force, else published
                later=[_later_out(lr) for lr in r.later],
            )
            for r in market.schemes
        ],
    )


def _dates_out(dates: SchemeDates) -> SchemeDatesOut:
    return SchemeDatesOut(
        confidence=dates.confidence,
        published=dates.published,
        in_force=dates.in_force,
        reporting_from=dates.reporting_from,
        applies_from=dates.applies_from,
        superseded_by=dates.superseded_by,
        note=dates.note,
    )


def _source_text(document: str, clause: str | None) -> str:
    return f"{document}, {clause}" if clause else document


def _answered(requirement: Requirement, leaf: Leaf, verdict: Verdict) -> str | None:
    """For a leaf a decision tree reads only to answer its questions (not as functional evidence): which
    question, and the answer this verdict gave (or that it gave none)."""
    tree = requirement.decision_tree
    if tree is None:
        return None
    functional = set(iter_leaves(tree.functional))
    if leaf in functional:
        return None
    out = []
    for node in tree.nodes:
        for rule in node.rules:
            if rule.node != leaf:
                continue
            if rule.when == verdict:
                out.append(f"{tree.node_ref(node)}: answers '{rule.means}'")
            else:
                out.append(f"{tree.node_ref(node)}: gives no answer (it answers '{rule.means}' on {rule.when})")
    return "; ".join(out) or None
