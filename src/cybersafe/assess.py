"""Orchestration: dossier -> evidence -> check attempts -> scheme results -> Assessment.

Every check runs at most once per assessment, whatever the number of schemes; only the checks some
requested scheme needs are run. Collectors run only for artefacts the dossier names.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from cybersafe.checks import BUILTIN_CHECKS
from cybersafe.checks.interface import Check, CheckAttempt, Finding, Location, run_check
from cybersafe.dossier.facts import derive_facts
from cybersafe.dossier.loader import load_dossier
from cybersafe.dossier.model import Dossier, Market
from cybersafe.errors import CybersafeError, EvidenceError
from cybersafe.evidence.interface import (
    Artefact,
    Collector,
    Evidence,
    NullProgressReporter,
    Problem,
    ProblemSeverity,
    ProgressReporter,
)
from cybersafe.results import (
    ASSESSMENT_SCHEMA,
    ArtefactOut,
    Assessment,
    CatalogOut,
    CheckAttemptOut,
    EvidenceOut,
    FindingOut,
    LevelResultOut,
    LocationOut,
    MarginalPlanOut,
    PlanStepOut,
    ProblemOut,
    RequirementResultOut,
    ReuseOut,
    SchemeResultOut,
    ToolInfo,
)
from cybersafe.schemes.catalog import Catalog, default_catalog, iter_leaves
from cybersafe.schemes.evaluate import Evaluator, SchemeResult
from cybersafe.schemes.interface import Leaf, LeafKind, Scheme
from cybersafe.schemes.recognition import plan_steps, recognize
from cybersafe.schemes.status import SchemeStatus
from cybersafe.verdict import ErrorReason, Severity, Verdict

MARKET_SCHEMES: Mapping[Market, str] = {
    Market.US: "us-ctm",
    Market.EU: "eu-cra",
    Market.UK: "uk-psti",
    Market.SG: "sg-cls",
    Market.FI: "fi-traficom",
    Market.DE: "de-bsi",
    Market.KR: "kr-cic",
    Market.JP: "jp-jc-star",
}


def tool_version() -> str:
    try:
        return metadata.version("cybersafe")
    except metadata.PackageNotFoundError:  # running from a source tree without installation
        return "0+unknown"


def builtin_collectors() -> tuple[Collector, ...]:
    """The collectors of every evidence family, in the order they run."""
    from cybersafe.evidence.collectors import BUILTIN_COLLECTORS

    return tuple(factory() for factory in BUILTIN_COLLECTORS)


@dataclass
class AssessmentRun:
    """The domain result of one assessment, before it is put on the wire."""

    dossier: Dossier
    evidence: Evidence
    catalog: Catalog
    checks: Mapping[str, type[Check]]
    attempts: dict[str, CheckAttempt]
    results: list[SchemeResult]
    requested: list[str]  # scheme keys the exit code is judged on
    now: dt.datetime
    plans: list[MarginalPlanOut] = field(default_factory=list)

    @property
    def meets_requested(self) -> bool:
        by_key = {r.scheme.key: r for r in self.results}
        return all(by_key[key].status == SchemeStatus.MEETS for key in self.requested)


def select_schemes(catalog: Catalog, refs: Sequence[str] | None, dossier: Dossier) -> tuple[list[Scheme], list[str]]:
    """Schemes to evaluate and the keys the verdict is judged on.

    With ``--scheme`` given, exactly those. Otherwise every current scheme is evaluated ("for every
    scheme at once") and the verdict is judged on the schemes of the dossier's markets, or on every
    modelled scheme when it names none.
    """
    if refs:
        by_key = {scheme.key: scheme for scheme in (catalog.scheme(ref) for ref in refs)}
        return list(by_key.values()), list(by_key)
    chosen = catalog.current_schemes()
    if dossier.markets:
        requested = [catalog.scheme(MARKET_SCHEMES[m]).key for m in dict.fromkeys(dossier.markets)]
    else:
        requested = [s.key for s in chosen if s.modelled]
    return chosen, requested


def needed_check_ids(catalog: Catalog, schemes: Iterable[Scheme]) -> frozenset[str]:
    """Check ids the schemes reach, through requirement references too (cached per catalog)."""
    keys = tuple(scheme.key for scheme in schemes)
    cache: dict[tuple[str, ...], frozenset[str]] = catalog.memo.setdefault("needed_check_ids", {})
    if keys not in cache:
        cache[keys] = frozenset(_reachable_checks(catalog, [catalog.scheme(key) for key in keys]))
    return cache[keys]


def _reachable_checks(catalog: Catalog, schemes: Iterable[Scheme]) -> set[str]:
    needed: set[str] = set()
    seen: set[str] = set()
    stack = [req for scheme in schemes for req in scheme.requirements]
    while stack:
        req = stack.pop()
        if req.key in seen:
            continue
        seen.add(req.key)
        for leaf in iter_leaves(req.verified_by):
            if leaf.kind is LeafKind.CHECK:
                needed.add(leaf.ref)
            elif leaf.kind is LeafKind.REQUIREMENT:
                stack.append(catalog.requirement(leaf.ref))
    return needed


def run_checks(checks: Iterable[type[Check]], evidence: Evidence, wanted: frozenset[str]) -> dict[str, CheckAttempt]:
    attempts: dict[str, CheckAttempt] = {}
    for check_class in checks:
        if check_class.ID in wanted and check_class.ID not in attempts:
            attempts[check_class.ID] = run_check(check_class(), evidence)
    return attempts


def collect(
    evidence: Evidence,
    collectors: Iterable[Collector],
    progress: ProgressReporter,
) -> None:
    for collector in collectors:
        if not collector.applies(evidence.dossier):
            continue
        try:
            result = collector.collect(evidence.dossier, evidence.base_dir, progress)
        except EvidenceError as exc:
            for kind in collector.PRODUCES:
                evidence.fail(kind, exc.reason, str(exc))
            evidence.problems.append(Problem(collector.NAME, ProblemSeverity.ERROR, str(exc)))
            continue
        except CybersafeError as exc:
            for kind in collector.PRODUCES:
                evidence.fail(kind, ErrorReason.BAD_INPUT, str(exc))
            evidence.problems.append(Problem(collector.NAME, ProblemSeverity.ERROR, str(exc)))
            continue
        except Exception as exc:  # noqa: BLE001 - a crashing collector is recorded, its checks become errors
            detail = f"{collector.NAME} collector crashed: {type(exc).__name__}: {exc}"
            for kind in collector.PRODUCES:
                evidence.fail(kind, ErrorReason.BUG, detail)
            evidence.problems.append(Problem(collector.NAME, ProblemSeverity.ERROR, detail))
            continue
        for item in result.items:
            evidence.add(item)
        evidence.problems.extend(result.problems)
        evidence.artefacts.extend(result.artefacts)


def file_artefact(kind: str, path: Path) -> Artefact:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return Artefact(kind=kind, name=path.name, sha256=digest.hexdigest(), size=path.stat().st_size)


def assess_dossier(
    dossier: Dossier,
    *,
    now: dt.datetime,
    base_dir: Path | None = None,
    scheme_refs: Sequence[str] | None = None,
    catalog: Catalog | None = None,
    checks: Sequence[type[Check]] = BUILTIN_CHECKS,
    collectors: Iterable[Collector] = (),
    progress: ProgressReporter | None = None,
    artefacts: Sequence[Artefact] = (),
    plans: bool = True,
) -> AssessmentRun:
    """Assess an already loaded dossier. The engine benchmark calls this with no collectors."""
    catalog = catalog or default_catalog()
    progress = progress or NullProgressReporter()
    schemes, requested = select_schemes(catalog, scheme_refs, dossier)
    evidence = Evidence(dossier=dossier, base_dir=base_dir or Path.cwd(), as_of=now.date())
    evidence.artefacts.extend(artefacts)
    collect(evidence, collectors, progress)
    wanted = needed_check_ids(catalog, schemes)
    progress.start("checks", total=len(wanted))
    attempts = run_checks(checks, evidence, wanted)
    progress.finish("checks")
    evaluator = Evaluator(catalog, attempts, dossier, derive_facts(dossier))
    results = evaluator.schemes(schemes)
    run = AssessmentRun(
        dossier=dossier,
        evidence=evidence,
        catalog=catalog,
        checks={c.ID: c for c in checks},
        attempts=attempts,
        results=results,
        requested=requested,
        now=now,
    )
    if plans:
        run.plans = marginal_plans(run, evaluator)
    return run


def assess(
    dossier_path: Path,
    *,
    now: dt.datetime,
    scheme_refs: Sequence[str] | None = None,
    catalog: Catalog | None = None,
    checks: Sequence[type[Check]] = BUILTIN_CHECKS,
    collectors: Iterable[Collector] | None = None,
    progress: ProgressReporter | None = None,
) -> AssessmentRun:
    """Assess the product a dossier file describes, running the collectors for its artefacts."""
    dossier = load_dossier(dossier_path, known_check_ids={c.ID for c in checks})
    return assess_dossier(
        dossier,
        now=now,
        base_dir=dossier_path.parent,
        scheme_refs=scheme_refs,
        catalog=catalog,
        checks=checks,
        collectors=builtin_collectors() if collectors is None else collectors,
        progress=progress,
        artefacts=[file_artefact("dossier", dossier_path)],
    )


def marginal_plans(run: AssessmentRun, evaluator: Evaluator) -> list[MarginalPlanOut]:
    """What each scheme not yet met still needs, from this assessment and from every label held."""
    plans: list[MarginalPlanOut] = []

    def done(leaf: Leaf) -> bool:
        return evaluator.leaf(leaf).verdict in (Verdict.PASS, Verdict.NOT_APPLICABLE)

    for result in run.results:
        if not result.scheme.modelled or result.status == SchemeStatus.MEETS:
            continue
        open_keys = [
            r.requirement.key
            for r in result.requirements
            if r.required and r.verdict not in (Verdict.PASS, Verdict.NOT_APPLICABLE)
        ]
        covered = [r.requirement.key for r in result.requirements if r.verdict is Verdict.PASS]
        steps = plan_steps(run.catalog, open_keys, done)
        plans.append(
            MarginalPlanOut(
                have=None,
                want=result.scheme.key,
                covered=covered,
                residual=open_keys,
                steps=[_step_out(s.leaf, s.closes) for s in steps],
            )
        )
    for held in run.dossier.declarations.labels_held:
        for key in run.requested:
            if key.split("@", 1)[0] == held.split(":", 1)[0].split("@", 1)[0]:
                continue
            recognised = recognize(run.catalog, held, key.split("@", 1)[0])
            plans.append(
                MarginalPlanOut(
                    have=held,
                    want=recognised.want.key,
                    covered=sorted(recognised.covered),
                    residual=list(recognised.residual),
                    steps=[_step_out(s.leaf, s.closes) for s in recognised.steps],
                )
            )
    return plans


def _step_out(leaf: Leaf, closes: Sequence[str]) -> PlanStepOut:
    return PlanStepOut(ref=str(leaf), kind=leaf.kind, closes=list(closes), automated=leaf.kind is LeafKind.CHECK)


# --- wire form ---------------------------------------------------------------------------------------


def check_feeds(catalog: Catalog, results: Iterable[SchemeResult]) -> dict[str, list[str]]:
    """Check id -> every requirement key, in every evaluated scheme, whose verdict it fed."""
    memo: dict[str, set[str]] = {}

    def reached(key: str, seen: frozenset[str]) -> set[str]:
        if key in memo:
            return memo[key]
        req = catalog.requirement(key)
        out: set[str] = set()
        for leaf in iter_leaves(req.verified_by):
            if leaf.kind is LeafKind.CHECK:
                out.add(leaf.ref)
            elif leaf.kind is LeafKind.REQUIREMENT:
                target = catalog.requirement(leaf.ref).key
                if target not in seen:
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
    for check_id in sorted(run.attempts):
        attempt = run.attempts[check_id]
        check_class = run.checks.get(check_id)
        checks_out.append(
            CheckAttemptOut(
                check_id=check_id,
                title=check_class.TITLE if check_class else check_id,
                severity=check_class.SEVERITY if check_class else Severity.INFO,
                status=attempt.status,
                verdict=attempt.verdict,
                reason=str(attempt.reason) if attempt.reason else None,
                detail=attempt.detail,
                remediation=check_class.REMEDIATION if check_class else None,
                findings=[_finding_out(f) for f in attempt.findings],
                feeds=sorted(feeds.get(check_id, [])),
            )
        )
    schemes_out = [_scheme_out(r) for r in run.results]
    completed = [a for a in run.attempts.values() if a.findings]
    fed = [len(feeds.get(a.check_id, [])) for a in completed]
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
        reuse=ReuseOut(
            checks_run=len(completed),
            requirement_verdicts=sum(len(r.requirements) for r in run.results),
            schemes_served=sum(1 for r in run.results if r.scheme.modelled),
            requirements_fed_per_check=round(sum(fed) / len(fed), 2) if fed else 0.0,
        ),
        problems=[ProblemOut(**p.as_dict()) for p in run.evidence.problems],
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


def _scheme_out(result: SchemeResult) -> SchemeResultOut:
    scheme = result.scheme
    return SchemeResultOut(
        scheme=scheme.id,
        version=scheme.version,
        title=scheme.title,
        short_title=scheme.short_title,
        jurisdiction=scheme.jurisdiction,
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
                    EvidenceOut(ref=str(e.leaf), kind=e.leaf.kind, verdict=e.verdict, detail=e.detail)
                    for e in r.evidence
                ],
                missing=list(r.missing),
            )
            for r in result.requirements
        ],
        missing_evidence=list(result.missing_evidence),
    )


def _source_text(document: str, clause: str | None) -> str:
    return f"{document}, {clause}" if clause else document
