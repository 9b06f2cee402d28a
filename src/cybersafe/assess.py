"""Orchestration: dossier -> evidence -> check attempts -> scheme results -> Assessment.

Every check runs at most once per assessment, whatever the number of schemes; only the checks some
requested scheme needs are run. Collectors run only for artefacts the dossier names.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cybersafe import safeio
from cybersafe.checks import BUILTIN_CHECKS
from cybersafe.checks.interface import Check, CheckAttempt, observed_facts, run_check
from cybersafe.dossier.facts import Contradiction, derive_facts, reconcile_facts
from cybersafe.dossier.loader import load_dossier
from cybersafe.dossier.model import Dossier
from cybersafe.errors import CybersafeError, DossierError, EvidenceError, UnknownScheme
from cybersafe.evidence.interface import (
    Artefact,
    Collector,
    Evidence,
    NullProgressReporter,
    Problem,
    ProblemSeverity,
    ProgressReporter,
)
from cybersafe.schemes.catalog import Catalog, default_catalog, iter_leaves
from cybersafe.schemes.classification import Classification, classify
from cybersafe.schemes.evaluate import Evaluator, SchemeResult
from cybersafe.schemes.interface import Leaf, LeafKind, Scheme
from cybersafe.schemes.memo import SummaryMemo
from cybersafe.schemes.recognition import RecognitionResult, plan_steps, recognize
from cybersafe.schemes.status import SchemeStatus
from cybersafe.verdict import AttemptStatus, ErrorReason, Verdict

if TYPE_CHECKING:
    from cybersafe.delta import DeltaRecord
    from cybersafe.inputs import InputDigester, RunInputs
    from cybersafe.results import Assessment, MarginalPlanOut, PlanStepOut


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
    inputs: RunInputs | None = None  # what each attempt read, with digests (cybersafe/inputs.py)
    delta: DeltaRecord | None = None  # what a delta run reused from its baseline (cybersafe/delta.py)
    facts: dict[str, bool] | None = None  # the condition facts judged by (judged_facts); None: the dossier's own

    def classification(self, scheme: Scheme) -> Classification | None:
        """The product's class under a law with product classes, and the routes open on the date."""
        return classify(scheme, self.dossier, self.now.date())

    @property
    def markets(self) -> list[MarketResult]:
        """Each market of the dossier with the verdict of its laws and labels on the assessment date."""
        by_id = {r.scheme.id: r for r in self.results}
        out = []
        for market in dict.fromkeys(self.dossier.markets):
            schemes = self.catalog.market_schemes(market, self.now.date())
            results = tuple(by_id[s.id] for s in schemes if s.id in by_id)
            # none of its laws and labels evaluated (assess --scheme): not judged, never "does not cover the product"
            status = market_status(r.status for r in results) if results else SchemeStatus.NOT_JUDGED
            out.append(MarketResult(market, status, results))
        return out

    @property
    def meets_requested(self) -> bool:
        """Every judged scheme (or market) is met, pending only a scheme body's step, applies only later, or
        does not cover this product."""
        by_key = {r.scheme.key: r for r in self.results}
        return all(by_key[key].status in JUDGED_OK for key in self.requested)


# What the exit code accepts as "nothing to fix today": met, pending a scheme body's step (a grant), a law
# that applies only later (prepare), or a scheme whose scope excludes the product.
JUDGED_OK = frozenset({SchemeStatus.MEETS, SchemeStatus.PENDING, SchemeStatus.PREPARE, SchemeStatus.OUT_OF_SCOPE})


@dataclass(frozen=True)
class MarketResult:
    market: str
    status: SchemeStatus
    schemes: tuple[SchemeResult, ...]


def market_status(statuses: Iterable[SchemeStatus]) -> SchemeStatus:
    """A market's status on the date: its schemes that apply today decide; later and out-of-scope ones wait."""
    seen = list(statuses)
    today = [s for s in seen if s not in (SchemeStatus.PREPARE, SchemeStatus.OUT_OF_SCOPE)]
    if not today:
        return SchemeStatus.PREPARE if SchemeStatus.PREPARE in seen else SchemeStatus.OUT_OF_SCOPE
    for status in (SchemeStatus.FAILS, SchemeStatus.INCOMPLETE):
        if status in today:
            return status
    if all(s is SchemeStatus.NOT_MODELLED for s in today):
        return SchemeStatus.NOT_MODELLED
    if SchemeStatus.NOT_MODELLED in today:
        return SchemeStatus.INCOMPLETE
    return SchemeStatus.PENDING if SchemeStatus.PENDING in today else SchemeStatus.MEETS


def select_schemes(
    catalog: Catalog, refs: Sequence[str] | None, dossier: Dossier, as_of: dt.date | None = None
) -> tuple[list[Scheme], list[str]]:
    """Schemes to evaluate and the keys the verdict is judged on.

    With ``--scheme`` given, exactly those. Otherwise every current scheme is evaluated ("for every
    scheme at once") and the verdict is judged on the schemes of the dossier's markets, or on every
    modelled scheme when it names none. A scheme named without a version is taken in the version current on
    ``as_of`` (``Catalog.current_on``).
    """
    if refs:
        by_key = {scheme.key: scheme for scheme in (catalog.scheme(ref, as_of) for ref in refs)}
        return list(by_key.values()), list(by_key)
    chosen = catalog.current_schemes(as_of)
    if not dossier.markets:
        return chosen, [s.key for s in chosen if s.modelled]
    requested: dict[str, None] = {}
    for market in dict.fromkeys(dossier.markets):
        try:
            requested.update(dict.fromkeys(s.key for s in catalog.market_schemes(market, as_of)))
        except UnknownScheme as exc:
            raise DossierError(str(exc), field="markets") from None
    return chosen, list(requested)


def needed_checks(catalog: Catalog, schemes: Iterable[Scheme]) -> tuple[Leaf, ...]:
    """The check runs the schemes reach (a check id with the parameters a requirement sets), through
    requirement references too; cached per catalog and scheme set."""
    keys = tuple(scheme.key for scheme in schemes)
    cache: dict[tuple[str, ...], tuple[Leaf, ...]] = catalog.memo.setdefault("needed_checks", {})
    if keys not in cache:
        found = _reachable_checks(catalog, [catalog.scheme(key) for key in keys])
        cache[keys] = tuple(sorted(found, key=str))
    return cache[keys]


def _reachable_checks(catalog: Catalog, schemes: Iterable[Scheme]) -> set[Leaf]:
    needed: set[Leaf] = set()
    seen: set[str] = set()
    stack = [req for scheme in schemes for req in scheme.requirements]
    while stack:
        req = stack.pop()
        if req.key in seen:
            continue
        seen.add(req.key)
        for leaf in iter_leaves(req.verified_by):
            if leaf.kind is LeafKind.CHECK:
                needed.add(leaf)
            elif leaf.kind is LeafKind.REQUIREMENT:
                stack.append(catalog.requirement(leaf.ref))
            elif leaf.kind in (LeafKind.SCHEME, LeafKind.ICS):
                stack.extend(catalog.scheme(leaf.ref).requirements)
    return needed


def run_checks(
    checks: Iterable[type[Check]],
    evidence: Evidence,
    wanted: Iterable[Leaf],
    reads: dict[str, set[str]] | None = None,
) -> dict[str, CheckAttempt]:
    """Run each wanted check once per distinct parameter set; attempts keyed by ``attempt.key``.

    With ``reads``, each check runs on a view of the evidence that notes what it reads (cybersafe/inputs.py):
    ``reads[key]`` gets the names of the inputs the attempt depends on.
    """
    from cybersafe.inputs import RecordingEvidence

    by_id = {check.ID: check for check in checks}
    attempts: dict[str, CheckAttempt] = {}
    for leaf in wanted:
        key = str(leaf)
        check_class = by_id.get(leaf.ref)
        if check_class is None or key in attempts:
            continue  # an unknown check reads "check not run" in the evaluator, never pass
        view = evidence
        if reads is not None:
            names = reads[key] = {f"kind:{kind.__name__}" for kind in check_class.REQUIRES}
            view = RecordingEvidence(evidence, names)
        try:
            check = check_class.with_parameters(leaf.params)
        except (TypeError, ValueError) as exc:
            attempts[key] = CheckAttempt(
                leaf.ref,
                AttemptStatus.ERROR,
                reason=ErrorReason.BAD_INPUT,
                detail=f"catalog parameters {key}: {exc}",
                parameters=leaf.params,
            )
            continue
        attempts[key] = run_check(check, view, leaf.params)
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


def judged_facts(
    dossier: Dossier, attempts: Iterable[CheckAttempt]
) -> tuple[dict[str, bool], dict[str, Contradiction]]:
    """The condition facts the requirements are judged by: the dossier's, with what the checks observed winning
    (dossier/facts.py, reconcile_facts), and the contradictions between the two."""
    observed = {
        fact: (value, finding.check_id, finding.message) for fact, (value, finding) in observed_facts(attempts).items()
    }
    return reconcile_facts(derive_facts(dossier), observed, stated=frozenset(dossier.facts))


def file_artefact(kind: str, path: Path) -> Artefact:
    digest, size = safeio.sha256_file(path, what=f"the {kind}")
    return Artefact(kind=kind, name=path.name, sha256=digest, size=size)


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
    memo: SummaryMemo | None = None,
    families: Collection[str] | None = None,
    baseline: Assessment | None = None,
    record_inputs: bool = True,
    today: dt.date | None = None,
    known_digests: Mapping[str, str] | None = None,
    baseline_digest: str | None = None,
) -> AssessmentRun:
    """Assess an already loaded dossier. Batch work (the engine benchmark) passes a ``SummaryMemo``;
    ``firmware scan`` and ``probe`` pass ``families`` to run only their checks (the rest read not run).

    With ``baseline`` (an earlier assessment of the product), only the checks whose inputs changed run again
    and only the collectors they need (cybersafe/delta.py); ``today`` is the wall-clock date (injected in tests).
    """
    progress = progress or NullProgressReporter()
    # a bad --scheme is reported before any evidence is collected; without a catalog, the bundled one is read
    # after the collectors (``firmware scan`` loads it in the background meanwhile)
    selected = select_schemes(catalog, scheme_refs, dossier, now.date()) if catalog is not None else None
    evidence = Evidence(dossier=dossier, base_dir=base_dir or Path.cwd(), as_of=now.date())
    evidence.artefacts.extend(artefacts)
    collectors = tuple(collectors)
    early = baseline is None  # the collectors first: without a catalog given, the bundled one loads meanwhile
    if early:
        collect(evidence, collectors, progress)
    catalog = catalog or default_catalog()
    schemes, requested = selected or select_schemes(catalog, scheme_refs, dossier, now.date())
    wanted = needed_checks(catalog, schemes)
    if families is not None:
        wanted = tuple(leaf for leaf in wanted if leaf.ref.split(".", 1)[0] in families)
    record = record_inputs or baseline is not None
    attempts, inputs, delta = _collect_and_check(
        evidence,
        collectors,
        checks,
        wanted,
        progress,
        baseline,
        record,
        today,
        collected=early,
        known=known_digests,
        baseline_digest=baseline_digest,
    )
    facts, contradictions = judged_facts(dossier, attempts.values())
    evaluator = Evaluator(catalog, attempts, dossier, facts, as_of=now.date(), contradictions=contradictions)
    results = memo.schemes(evaluator, schemes) if memo is not None else evaluator.schemes(schemes)
    run = AssessmentRun(
        dossier=dossier,
        evidence=evidence,
        catalog=catalog,
        checks={c.ID: c for c in checks},
        attempts=attempts,
        results=results,
        requested=requested,
        now=now,
        inputs=inputs,
        delta=delta,
        facts=facts,
    )
    if plans:
        run.plans = marginal_plans(run, evaluator)
    return run


def _collect_and_check(
    evidence: Evidence,
    collectors: tuple[Collector, ...],
    checks: Sequence[type[Check]],
    wanted: Sequence[Leaf],
    progress: ProgressReporter,
    baseline: Assessment | None,
    record: bool,
    today: dt.date | None,
    *,
    collected: bool,
    known: Mapping[str, str] | None = None,
    baseline_digest: str | None = None,
) -> tuple[dict[str, CheckAttempt], RunInputs | None, DeltaRecord | None]:
    """Collect evidence (unless ``collected``) and run the checks; with a baseline, only the collectors and checks
    whose inputs changed."""
    from cybersafe.delta import DeltaPlan, carry_over, collectors_for, file_changes, plan_delta, with_baseline
    from cybersafe.evidence.firmware.digest import firmware_image, image_digest
    from cybersafe.inputs import InputDigester, run_inputs, scanned_files, tool_fingerprint

    if not record:
        if not collected:
            collect(evidence, collectors, progress)
        progress.start("checks", total=len(wanted))
        attempts = run_checks(checks, evidence, wanted)
        progress.finish("checks")
        return attempts, None, None
    today = today or dt.datetime.now(dt.UTC).date()
    digester = InputDigester(evidence.dossier, evidence.base_dir, collectors, evidence.as_of, today)
    digester.cache.update(known or {})
    tool = tool_fingerprint()
    plan: DeltaPlan | None = None
    if baseline is not None:
        image = firmware_image(evidence.dossier, evidence.base_dir)
        hashed = _image_for_plan(image, baseline, digester)
        try:  # the baseline's digest is taken while the image is hashed on another core
            plan = plan_delta(baseline, wanted, digester, tool, baseline_digest or baseline.digest())
        finally:
            concurrent.futures.wait(hashed.values())  # no hashing thread outlives the plan
        to_run, skipped = collectors_for(collectors, checks, plan.run, plan.record.changed_inputs)
        if image is not None and image not in hashed and any(c.NAME == "firmware" for c in to_run):
            # taken while the scan reads the image in place
            digester.hashed[image] = hashed[image] = image_digest(image, meanwhile=True)
        collectors = tuple(to_run)
        plan.record.collectors_skipped = tuple(c.NAME for c in skipped if c.applies(evidence.dossier))
        carry_over(evidence, baseline, skipped)
        collectors = with_baseline(collectors, baseline, hashed)
        wanted = plan.run
    if not collected:
        collect(evidence, collectors, progress)
    named = evidence.dossier.artefacts.firmware
    for artefact in evidence.artefacts:  # the image as its scan read it: its input digest need not read it again
        if artefact.kind == "firmware" and named is not None and artefact.sha256 and artefact.size is not None:
            digester.hashed.setdefault(evidence.base_dir / named, (artefact.sha256, artefact.size))
    progress.start("checks", total=len(wanted))
    reads: dict[str, set[str]] = {}
    attempts = run_checks(checks, evidence, wanted, reads)
    progress.finish("checks")
    scanned = scanned_files(evidence)
    files, memo = scanned.digests, scanned.memo
    if plan is None:
        return attempts, run_inputs(digester, reads, files, tool, memo), None
    before = baseline.inputs.firmware_files if baseline is not None and baseline.inputs else {}
    if files or "firmware" not in plan.record.collectors_skipped:
        plan.record.firmware_files = file_changes(before, files) if files or before else None
        plan.record.firmware_facts_reused = scanned.reused
        plan.record.firmware_files_written = scanned.written
    else:  # the image did not change: its files and their facts are the baseline's
        files = dict(before)
        memo = baseline.inputs.firmware_memo if baseline is not None and baseline.inputs else None
    attempts.update(plan.attempts)
    merged: dict[str, Iterable[str]] = {**reads, **plan.reads}
    return attempts, run_inputs(digester, merged, files, tool, memo), plan.record


def _image_for_plan(
    image: Path | None, baseline: Assessment, digester: InputDigester
) -> dict[Path, concurrent.futures.Future[tuple[str, int]]]:
    """The image's digest when a delta run's plan needs it to tell whether the image changed: not when its input
    digest is known already (``batch`` hashed it for its re-run key), nor when its size is not the baseline's
    image's (it has changed: the digest is taken later, and only if the scan runs). The scan takes it too. It is
    taken in a thread of its own (hashlib lets go of the interpreter), for the caller to wait for."""
    from cybersafe.evidence.firmware.digest import image_digest

    if image is None or "firmware" in digester.cache:
        return {}
    recorded = next((a.size for a in baseline.artefacts if a.kind == "firmware"), None)
    with contextlib.suppress(OSError):
        if recorded is not None and image.stat().st_size != recorded:
            digester.changed.add("firmware")
            return {}
    hashed = {image: image_digest(image, meanwhile=True)}
    digester.hashed.update(hashed)
    return hashed


def assess(
    dossier_path: Path,
    *,
    now: dt.datetime,
    scheme_refs: Sequence[str] | None = None,
    catalog: Catalog | None = None,
    checks: Sequence[type[Check]] = BUILTIN_CHECKS,
    collectors: Iterable[Collector] | None = None,
    progress: ProgressReporter | None = None,
    baseline: Assessment | None = None,
    today: dt.date | None = None,
    memo: SummaryMemo | None = None,
    dossier: Dossier | None = None,
    known_digests: Mapping[str, str] | None = None,
    baseline_digest: str | None = None,
) -> AssessmentRun:
    """Assess the product a dossier file describes, running the collectors for its artefacts; with ``baseline``,
    only what changed since (cybersafe/delta.py); batch work passes a ``SummaryMemo`` kept per worker.

    ``dossier``: the file as already read by ``read_dossier``; ``known_digests``: input digests already computed
    for it (``InputDigester``: batch computes them for its re-run key), not computed again; ``baseline_digest``:
    the baseline's ``digest()`` when known (batch recorded it with the bytes of the file it wrote)."""
    catalog = catalog or default_catalog()
    dossier = dossier or read_dossier(dossier_path, catalog, checks)
    try:
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
            baseline=baseline,
            today=today,
            memo=memo,
            known_digests=known_digests,
            baseline_digest=baseline_digest,
        )
    except DossierError as exc:  # e.g. a market no scheme decides: name the dossier it came from
        if exc.file is not None:
            raise
        raise DossierError(exc.message, file=dossier_path, line=exc.line, field=exc.field) from None


def read_dossier(path: Path, catalog: Catalog, checks: Sequence[type[Check]] = BUILTIN_CHECKS) -> Dossier:
    """The dossier file, validated against the checks and the catalog's facts as ``assess`` reads it."""
    return load_dossier(path, known_check_ids={c.ID for c in checks}, known_facts=catalog.condition_facts())


def marginal_plans(run: AssessmentRun, evaluator: Evaluator) -> list[MarginalPlanOut]:
    """What each scheme not yet met still needs, from this assessment and from every label held."""
    # The wire models load here, not with the module: `firmware scan` runs assessments without plans.
    from cybersafe.results import MarginalPlanOut

    plans: list[MarginalPlanOut] = []

    def done(leaf: Leaf) -> bool:
        return evaluator.leaf(leaf).verdict in _CLOSED

    for result in run.results:
        if result.status in _NOTHING_TO_PLAN:
            continue
        # A law that applies later is planned for too: what it will need is what to prepare now; and a law
        # with product classes always shows its route to market (a notified body is a step of its own).
        open_keys = [r.requirement.key for r in result.requirements if r.required and r.verdict not in _CLOSED]
        route = route_steps(run.classification(result.scheme))
        if not open_keys and not route:
            continue
        covered = [r.requirement.key for r in result.requirements if r.verdict is Verdict.PASS]
        steps = plan_steps(run.catalog, open_keys, done, lambda node: evaluator.tree_verdict(node) is Verdict.FAIL)
        plans.append(
            MarginalPlanOut(
                have=None,
                want=result.scheme.key,
                covered=covered,
                residual=open_keys,
                steps=[_step_out(s.leaf, s.closes) for s in steps],
                route=route,
            )
        )
    for held in run.dossier.declarations.labels_held:
        for key in run.requested:
            if key.split("@", 1)[0] == held.split(":", 1)[0].split("@", 1)[0]:
                continue
            recognised = _recognised(
                run.catalog, held, key.split("@", 1)[0], tuple(run.dossier.product.types or ()), run.now.date()
            )
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


_RECOGNISED: dict[tuple[int, str, str, tuple[str, ...], dt.date], tuple[Catalog, RecognitionResult]] = {}


def _recognised(catalog: Catalog, held: str, want: str, types: tuple[str, ...], day: dt.date) -> RecognitionResult:
    """``recognize``, once per process for each catalog, label, scheme, product types and day: it depends on
    nothing else, and the products of a batch hold the same labels (each costs about a millisecond)."""
    key = (id(catalog), held, want, types, day)
    known = _RECOGNISED.get(key)
    if known is not None and known[0] is catalog:  # the catalog is kept with it: its id cannot be reused
        return known[1]
    result = recognize(catalog, held, want, product_types=types or None, as_of=day)
    if len(_RECOGNISED) >= 4096:
        _RECOGNISED.clear()
    _RECOGNISED[key] = (catalog, result)
    return result


def route_steps(found: Classification | None) -> list[str]:
    """The route to market in words: the class and why, then the routes, the notified body's step first."""
    if found is None:
        return []
    pc = found.product_class
    via = "; ".join(f"{category.id} via product type {t}" for category, t in found.matched) or "no category matched"
    lines = [f"classification: {pc.title} ({pc.annex}; {via})", *found.notes]
    if found.notified_body_required:
        bodies = " or ".join(r.title for r in found.routes if r.notified_body and r.open)
        lines.append(f"notified body required: {bodies}")
    for route in found.routes:
        state = "open" if route.open else ("closed" if route.open is False else "not confirmed")
        lines.append(f"route {route.id} ({state}): {route.why}")
    return lines


_CLOSED = frozenset({Verdict.PASS, Verdict.NOT_APPLICABLE, Verdict.JUSTIFIED})
_NOTHING_TO_PLAN = frozenset({SchemeStatus.NOT_MODELLED, SchemeStatus.OUT_OF_SCOPE})


def _step_out(leaf: Leaf, closes: Sequence[str]) -> PlanStepOut:
    from cybersafe.results import PlanStepOut

    return PlanStepOut(ref=str(leaf), kind=leaf.kind, closes=list(closes), automated=leaf.kind is LeafKind.CHECK)
