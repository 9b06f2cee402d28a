"""Requirement verdicts, scheme status per level and per date, and missing evidence.

The verdict algebra is in algebra.py. Here (DESIGN.md, "Verdict rules"):

- A requirement with nothing that verifies it is inconclusive: unmapped never reads as pass.
- A requirement applies from its own date or its scheme's (``applies_from``, else ``in_force``, else
  ``published``: the catalog loader sets it); the scheme's status is judged on the requirements that apply on
  the assessment date (``as_of``), and each later date says what the status would be then. A scheme nothing of
  which applies yet reads ``prepare``, with no level met.
- Evidence dated after ``as_of`` (manual results, grants, risk decisions, decision-tree answers) does not count
  on it; the reason
  names the later record.
- A grant among the alternatives of an ``any`` is another procedure, not evidence: failing evidence is never
  outranked by it (``algebra.any_route``).
- A product outside the scheme's scope (a condition over dossier facts) reads ``out_of_scope``.
- A failing risk-based requirement whose every failing finding is covered by a documented risk decision
  in the dossier reads ``justified`` (never ``pass``); a step only the scheme body can take (a grant) reads
  ``pending`` until the dossier records it.
- Levels are cumulative where the scheme says so; the highest level met counts up from the lowest.

``Evaluator`` is the whole of these rules and is pure: the same attempts, dossier, facts and date give the
same results. ``SummaryMemo`` (memo.py) is an opt-in wrapper for batch work, held to the same answers.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cybersafe.checks.interface import CheckAttempt
from cybersafe.dossier.model import Dossier, IcsSupport, ManualResult, RiskDecision
from cybersafe.errors import DossierError, SchemeError
from cybersafe.schemes.algebra import all_of, any_of, any_route, evaluate_condition, level_status
from cybersafe.schemes.catalog import Catalog
from cybersafe.schemes.interface import (
    AllOf,
    AnyOf,
    Leaf,
    LeafKind,
    Node,
    Obligation,
    Requirement,
    Scheme,
    date_by,
    grant_children,
)
from cybersafe.schemes.status import SchemeStatus
from cybersafe.schemes.trees import (
    DossierAnswers,
    PresumptionState,
    TreeJudge,
    decide,
    node_refs,
    presumption_flags,
    split_node_ref,
)
from cybersafe.verdict import Verdict

_P, _F, _I, _N, _E, _J, _W = (
    Verdict.PASS,
    Verdict.FAIL,
    Verdict.INCONCLUSIVE,
    Verdict.NOT_APPLICABLE,
    Verdict.ERROR,
    Verdict.JUSTIFIED,
    Verdict.PENDING,
)

UNMAPPED_REASON = "not assessable automatically, needs declaration or manual result"


@dataclass(frozen=True, slots=True)
class LeafResult:
    leaf: Leaf
    verdict: Verdict
    _detail: str | None = None
    _source: RequirementResult | None = field(default=None, compare=False, repr=False)

    @property
    def detail(self) -> str | None:
        """Why the leaf has its verdict; for a requirement reference, that requirement's reason (lazy)."""
        if self._detail is None and self._source is not None:
            return self._source.reason
        return self._detail


class RequirementResult:
    """A requirement's verdict; the explanation (reason, missing evidence) is worked out when read.

    The engine evaluates hundreds of requirements per dossier; most explanations are never shown, so
    they are computed on first access from the leaf results kept here.
    """

    __slots__ = (
        "_evaluator",
        "_evidence",
        "_explain",
        "_missing",
        "_reason",
        "applies",
        "justified_by",
        "required",
        "requirement",
        "verdict",
    )

    def __init__(
        self,
        requirement: Requirement,
        verdict: Verdict,
        reason: str | None = None,
        required: bool = True,
        explain: Callable[[], str] | None = None,
        evaluator: Evaluator | None = None,
        *,
        applies: bool = True,
        justified_by: tuple[str, ...] = (),
        missing: tuple[str, ...] | None = None,
    ) -> None:
        self.requirement = requirement
        self.verdict = verdict
        self.required = required
        self.applies = applies  # False: applies only from requirement.applies_from, after the assessment date
        self.justified_by = justified_by  # ids of the risk decisions that justify it
        self._reason = reason
        self._explain = explain
        self._evaluator = evaluator
        self._missing = missing if verdict in (_I, _E) else None  # a decision tree's open questions
        self._evidence: tuple[LeafResult, ...] | None = None if evaluator is not None else ()

    @property
    def evidence(self) -> tuple[LeafResult, ...]:
        """Every leaf of the verified_by tree with the verdict it had."""
        if self._evidence is None:
            assert self._evaluator is not None
            self._evidence = tuple(self._evaluator.leaf(leaf) for leaf in _leaves(self.requirement.verified_by))
        return self._evidence

    @property
    def reason(self) -> str:
        if self._reason is None:
            self._reason = (
                self._explain()
                if self._explain is not None
                else _reason(self.verdict, self.evidence, self.requirement.verified_by)
            )
        return self._reason

    @property
    def missing(self) -> tuple[str, ...]:
        """What would close an inconclusive, errored or pending verdict."""
        if self._missing is None:
            if self.verdict not in (_I, _E, _W):
                self._missing = ()
            elif self.requirement.verified_by is None:
                self._missing = (f"declaration or manual result for {self.requirement.key}",)
            elif self._evaluator is not None:
                self._missing = tuple(dict.fromkeys(self._evaluator.missing_for(self.evidence)))
            else:
                self._missing = ()
        return self._missing

    def __repr__(self) -> str:
        return f"RequirementResult({self.requirement.key!r}, {self.verdict})"


@dataclass(frozen=True, slots=True)
class LevelResult:
    level: str
    title: str
    status: SchemeStatus
    counts: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class LaterResult:
    """What the status will be once the requirements that apply from ``date`` apply too (same evidence)."""

    date: str
    status: SchemeStatus
    highest_level: str | None
    counts: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class SchemeSummary:
    """A scheme's status on the assessment date and after it: everything but the requirement results."""

    status: SchemeStatus
    highest_level: str | None
    levels: tuple[LevelResult, ...]
    counts: Mapping[str, int]  # verdicts of the requirements that apply on the assessment date
    later: tuple[LaterResult, ...] = ()
    in_scope: bool | None = True  # None: the facts the scope needs are not declared
    scope_missing: tuple[str, ...] = ()


class SchemeResult:
    """A scheme's summary; its requirement results are built when first read."""

    __slots__ = ("_requirements", "scheme", "summary")

    def __init__(
        self,
        scheme: Scheme,
        summary: SchemeSummary,
        requirements: tuple[RequirementResult, ...] | Callable[[], tuple[RequirementResult, ...]],
    ) -> None:
        self.scheme = scheme
        self.summary = summary
        self._requirements = requirements

    @property
    def status(self) -> SchemeStatus:
        return self.summary.status

    @property
    def highest_level(self) -> str | None:
        return self.summary.highest_level

    @property
    def levels(self) -> tuple[LevelResult, ...]:
        return self.summary.levels

    @property
    def counts(self) -> Mapping[str, int]:
        return self.summary.counts

    @property
    def later(self) -> tuple[LaterResult, ...]:
        return self.summary.later

    @property
    def requirements(self) -> tuple[RequirementResult, ...]:
        if callable(self._requirements):
            self._requirements = self._requirements()
        return self._requirements

    @property
    def missing_evidence(self) -> tuple[str, ...]:
        """Everything that would close an inconclusive, errored or pending requirement that applies, once each."""
        needed = (
            m for r in self.requirements if r.required and r.applies and r.verdict in (_I, _E, _W) for m in r.missing
        )
        return tuple(dict.fromkeys((*self.summary.scope_missing, *needed)))


class Evaluator:
    """Evaluates requirements of any scheme against one assessment's check attempts, dossier and date."""

    def __init__(
        self,
        catalog: Catalog,
        attempts: Mapping[str, CheckAttempt],
        dossier: Dossier,
        facts: Mapping[str, bool],
        as_of: dt.date | None = None,
        contradictions: Mapping[str, object] | None = None,
    ) -> None:
        self.catalog = catalog
        self.attempts = attempts
        self.dossier = dossier
        self.facts = facts
        # condition facts where the evidence overrode the dossier (dossier/facts.py, reconcile_facts): the verdict
        # of a requirement whose condition reads one names it
        self.contradictions: Mapping[str, object] = contradictions or {}
        self.as_of = as_of  # None: every requirement applies, whatever its date
        # Evidence dated after the assessment date does not count on it (manual results, grants, risk decisions);
        # what was recorded later is kept only to say so.
        self._manual: dict[str, ManualResult] = {}
        self._late_manual: dict[str, ManualResult] = {}
        for m in dossier.manual_results:
            (self._manual if as_of is None or m.at <= as_of else self._late_manual).setdefault(m.id, m)
        self._declarations = dossier.declarations
        self._leaf_cache: dict[Leaf, LeafResult] = {}
        self._leaf_verdicts: dict[Leaf, Verdict] = {}
        self._requirement_cache: dict[str, RequirementResult] = {}
        self._in_progress: set[str] = set()
        # The dossier's ICS rows apply to the schemes whose catalog says so (``ics: true``).
        self._ics_schemes = frozenset(s.key for s in catalog.schemes.values() if s.ics) if dossier.ics else frozenset()
        self._grants = {g.id: g for g in dossier.grants if as_of is None or g.at <= as_of}
        self._late_grants = {g.id: g for g in dossier.grants if as_of is not None and g.at > as_of}
        self._decisions = _risk_decisions(catalog, dossier, as_of)
        self._judge = TreeJudge(self, _checked_answers(dossier, catalog)) if dossier.decisions else None

    # leaves -------------------------------------------------------------------------------------------
    def leaf(self, leaf: Leaf) -> LeafResult:
        try:
            return self._leaf_cache[leaf]
        except KeyError:
            result = self._leaf_cache[leaf] = self._evaluate_leaf(leaf)
            return result

    def _evaluate_leaf(self, leaf: Leaf) -> LeafResult:
        if leaf.kind is LeafKind.CHECK:
            return self._check_leaf(leaf)
        if leaf.kind is LeafKind.DECLARATION:
            return self._declaration_leaf(leaf)
        if leaf.kind is LeafKind.MANUAL:
            # A manual test may be recorded as "penetration-test" or as "manual:penetration-test".
            manual = self._manual.get(leaf.ref) or self._manual.get(f"manual:{leaf.ref}")
            if manual is None:
                late = self._late_manual.get(leaf.ref) or self._late_manual.get(f"manual:{leaf.ref}")
                return LeafResult(leaf, _I, f"needs manual test {leaf.ref}" + self._late_note(late))
            return LeafResult(leaf, Verdict(manual.verdict), f"manual: {manual.by}, {manual.at.isoformat()}")
        if leaf.kind is LeafKind.GRANT:
            grant = self._grants.get(leaf.ref)
            if grant is None:
                late_grant = self._late_grants.get(leaf.ref)
                if late_grant is not None:
                    return LeafResult(
                        leaf,
                        _W,
                        f"pending: the {leaf.ref} grant recorded (by {late_grant.by}, {late_grant.at.isoformat()}) is "
                        f"dated after the assessment date ({self._as_of_text()})",
                    )
                return LeafResult(leaf, _W, f"pending: no {leaf.ref} grant recorded in the dossier (grants)")
            return LeafResult(leaf, _P, f"granted by {grant.by} on {grant.at.isoformat()}")
        if leaf.kind is LeafKind.SCHEME:
            return self._scheme_leaf(leaf)
        if leaf.kind is LeafKind.ICS:
            return self._ics_leaf(leaf)
        result = self.requirement_key(leaf.ref)
        return LeafResult(leaf, result.verdict, None, result)

    def _scheme_leaf(self, leaf: Leaf) -> LeafResult:
        scheme = self.catalog.scheme(leaf.ref)
        marker = f"scheme:{scheme.key}"
        if marker in self._in_progress:  # a cycle in the data: refuse to pretend
            return LeafResult(leaf, _E, "cyclic scheme reference")
        self._in_progress.add(marker)
        try:
            result = self.scheme(scheme)
        finally:
            self._in_progress.discard(marker)
        verdict = _SCHEME_VERDICT.get(result.status, _I)
        if verdict is _P and any(r.verdict is _J for r in result.requirements if r.applies):
            verdict = _J  # met with a justified risk decision: say so upstream too
        detail = f"{scheme.short_title} {scheme.version}: {result.status}"
        if result.status is SchemeStatus.FAILS:
            failing = [r.requirement.id for r in result.requirements if r.applies and r.required and r.verdict is _F]
            detail += f" ({', '.join(failing[:5])}{', ...' if len(failing) > 5 else ''})"
        if verdict in (_P, _J) and scheme.presumption is not None:
            verdict, detail = self._presumption(scheme, result, verdict, detail)
        return LeafResult(leaf, verdict, detail)

    def _presumption(self, scheme: Scheme, result: SchemeResult, verdict: Verdict, detail: str) -> tuple[Verdict, str]:
        """A harmonised standard met without its presumption of conformity (a restriction of the act citing it
        bites, or may) is no route to the law: the law reads inconclusive and says why, never met."""
        assert scheme.presumption is not None
        verdicts = {r.requirement.id: r.verdict for r in result.requirements}
        flags = presumption_flags(scheme, self.facts, lambda rid: verdicts[rid], evaluate_condition)
        lost = [f for f in flags if f.state is PresumptionState.LOST]
        undetermined = [f for f in flags if f.state is PresumptionState.UNDETERMINED]
        if lost:
            which = ", ".join(f"{f.restriction.id} ({f.restriction.clauses})" for f in lost)
            return _I, f"{detail}, but gives no presumption of conformity with {scheme.presumption.presumes}: {which}"
        if undetermined:
            which = "; ".join(f"{f.restriction.id}: {f.detail}" for f in undetermined)
            return _I, f"{detail}, but its presumption of conformity is undetermined: {which}"
        return verdict, detail

    def _ics_leaf(self, leaf: Leaf) -> LeafResult:
        """EN 303 645 5.0-1 (formerly 4-1): a recommendation the product does not fulfil is answered "no" with a
        justification in the ICS. A recommendation that fails here without one fails this leaf; one whose
        verdict is still open cannot contradict the ICS, so it does not."""
        scheme = self.catalog.scheme(leaf.ref)
        marker = f"ics:{scheme.key}"
        if marker in self._in_progress:
            return LeafResult(leaf, _E, "cyclic ICS reference")
        self._in_progress.add(marker)
        try:
            unjustified = [
                req.id
                for req in scheme.requirements
                if req.obligation is Obligation.RECOMMENDED
                and not (req.verified_by is not None and leaf in _leaves(req.verified_by))
                and self.requirement(req).verdict is _F
                and not _justified_in_ics(self.dossier.ics.get(req.id))
            ]
        finally:
            self._in_progress.discard(marker)
        if unjustified:
            return LeafResult(
                leaf, _F, "recommendations not fulfilled without an ICS justification: " + ", ".join(unjustified)
            )
        return LeafResult(leaf, _P, "every recommendation not fulfilled has an ICS justification")

    def _check_leaf(self, leaf: Leaf) -> LeafResult:
        attempt = self.attempts.get(str(leaf))  # keyed by check id and the parameters this leaf sets
        manual = self._manual.get(leaf.ref)
        if attempt is None:
            verdict, detail = _I, "check not run in this assessment"
        else:
            verdict = attempt.verdict
            detail = attempt.detail or _summary(attempt)
        # A lab's manual result closes a check that could not run; it never overrides a fail or an error.
        if manual is not None and verdict is _I:
            return LeafResult(leaf, Verdict(manual.verdict), f"manual: {manual.by}, {manual.at.isoformat()}")
        if verdict is _I and leaf.ref in self._late_manual:
            detail += self._late_note(self._late_manual[leaf.ref])
        return LeafResult(leaf, verdict, detail)

    def _as_of_text(self) -> str:
        return self.as_of.isoformat() if self.as_of is not None else "none"

    def _late_note(self, late: ManualResult | None) -> str:
        """Why a manual result recorded in the dossier does not count: it is dated after the assessment date."""
        if late is None:
            return ""
        return (
            f"; the manual result recorded (by {late.by}, {late.at.isoformat()}) is dated after the assessment date "
            f"({self._as_of_text()}) and does not count on it"
        )

    def _declaration_leaf(self, leaf: Leaf) -> LeafResult:
        verdict = _declared(self._declarations, leaf.ref)
        state = _DECLARED_STATE[verdict] if verdict is not _I else _undeclared_state(self._declarations, leaf.ref)
        return LeafResult(leaf, verdict, f"{state}: declarations.{leaf.ref}")

    # trees --------------------------------------------------------------------------------------------
    def leaf_verdict(self, leaf: Leaf) -> Verdict:
        """A leaf's verdict alone (the explanation is built only when a report asks for it)."""
        verdict = self._leaf_verdicts.get(leaf)
        if verdict is not None:
            return verdict
        kind = leaf.kind
        if kind is LeafKind.CHECK:
            attempt = self.attempts.get(str(leaf))
            verdict = attempt.verdict if attempt is not None else _I
            if verdict is _I and leaf.ref in self._manual:
                verdict = Verdict(self._manual[leaf.ref].verdict)
        elif kind is LeafKind.DECLARATION:
            verdict = _declared(self._declarations, leaf.ref)
        else:
            verdict = self.leaf(leaf).verdict
        self._leaf_verdicts[leaf] = verdict
        return verdict

    def tree_verdict(self, node: Node, override: Mapping[Leaf, Verdict] | None = None) -> Verdict:
        if type(node) is Leaf:
            if override and node in override:
                return override[node]
            return self._leaf_verdicts.get(node) or self.leaf_verdict(node)
        if type(node) is AllOf:
            return all_of([self.tree_verdict(child, override) for child in node.children])
        assert type(node) is AnyOf
        steps = grant_children(node)
        if not steps:
            return any_of([self.tree_verdict(child, override) for child in node.children])
        # A scheme body's step (a notified body's certificate) is another procedure, not evidence: evidence that
        # fails is never outranked by it, recorded or not (algebra.any_route)
        evidence = [self.tree_verdict(child, override) for child in node.children if child not in steps]
        return any_route(evidence, [self.tree_verdict(step, override) for step in steps])

    # requirements -------------------------------------------------------------------------------------
    def requirement_key(self, key: str) -> RequirementResult:
        cached = self._requirement_cache.get(key)
        if cached is not None:
            return cached
        return self.requirement(self.catalog.requirement(key))

    def requirement(self, req: Requirement) -> RequirementResult:
        key = req.key
        cached = self._requirement_cache.get(key)
        if cached is not None:
            return cached
        if key in self._in_progress:  # a cycle in the data: refuse to pretend
            return RequirementResult(req, _E, "cyclic requirement reference")
        self._in_progress.add(key)
        try:
            result = self._evaluate_requirement(req)
        finally:
            self._in_progress.discard(key)
        self._requirement_cache[key] = result
        return result

    def applies(self, req: Requirement) -> bool:
        """Whether the requirement applies on the assessment date (an undated one always does)."""
        return self.as_of is None or req.applies_from is None or _date(req.applies_from) <= self.as_of

    def _evaluate_requirement(self, req: Requirement) -> RequirementResult:
        applies = self.applies(req)
        holds: bool | None = True
        condition = req.condition
        if condition is not None:
            holds = evaluate_condition(condition, self.facts)
            if holds is False:
                return RequirementResult(
                    req, _N, None, False, lambda: f"condition does not hold: {condition}", applies=applies
                )
        required = req.obligation is not Obligation.RECOMMENDED
        ics = self.dossier.ics.get(req.id) if req.scheme_key in self._ics_schemes else None
        if ics is not None and ics.support is IcsSupport.NOT_APPLICABLE and req.obligation is not Obligation.MANDATORY:
            return RequirementResult(req, _N, f"ICS: not applicable - {ics.justification}", False, applies=applies)

        explain: Callable[[], str] | None = None
        justified: tuple[RiskDecision, ...] = ()
        missing: tuple[str, ...] | None = None
        if req.decision_tree is not None:
            decision = decide(req, req.decision_tree, self.judge())
            verdict, reason, missing = decision.verdict, decision.reason, decision.missing or None
        elif req.verified_by is None:
            verdict, reason = _I, UNMAPPED_REASON
        else:
            verdict, reason = self.tree_verdict(req.verified_by), None
        if ics is not None and ics.support is IcsSupport.NO and verdict is not _F:
            verdict, reason = _F, f"ICS: not implemented - {ics.justification or 'no justification'}"
        elif verdict is _F and req.risk_based and req.key in self._decisions:
            verdict, reason, justified = self._justify(req, self._decisions[req.key])

        manual = self.requirement_manual(req) if self._manual else None
        if manual is not None and verdict not in (_F, _E, _J):
            verdict = Verdict(manual.verdict)
            reason = f"manual result by {manual.by} on {manual.at.isoformat()}" + (
                f": {manual.summary}" if manual.summary else ""
            )
        late = self._late_requirement_manual(req) if manual is None and verdict in (_I, _E) else None
        if late is not None:
            explain, reason = self._reworded(req, verdict, reason, explain, after=self._late_note(late)), None
        if holds is None and verdict is not _P:
            needed = ", ".join(sorted(f for f in (condition.facts() if condition else ()) if f not in self.facts))
            before = f"condition not declared (facts: {needed}); "
            explain, reason = self._reworded(req, verdict, reason, explain, before=before), None
            verdict = _I
        contradicted = sorted(f for f in condition.facts() if f in self.contradictions) if condition else []
        if contradicted:
            notes = "; ".join(str(self.contradictions[f]) for f in contradicted)
            before = f"condition contradicted by the evidence: {notes}. "
            explain, reason = self._reworded(req, verdict, reason, explain, before=before), None
        return RequirementResult(
            req,
            verdict,
            reason,
            required,
            explain,
            self,
            applies=applies,
            justified_by=tuple(d.id for d in justified),
            missing=missing,
        )

    def _reworded(
        self,
        req: Requirement,
        verdict: Verdict,
        reason: str | None,
        explain: Callable[[], str] | None,
        *,
        before: str = "",
        after: str = "",
    ) -> Callable[[], str]:
        """The requirement's reason with words before or after it (a contradicted or undeclared condition, a
        manual result dated later), made when it is read: the reason itself may be lazy."""

        def text() -> str:
            if reason is not None:
                base = reason
            elif explain is not None:
                base = explain()
            else:
                base = _reason(verdict, [self.leaf(leaf) for leaf in _leaves(req.verified_by)], req.verified_by)
            return f"{before}{base}{after}"

        return text

    def _justify(
        self, req: Requirement, decisions: tuple[RiskDecision, ...]
    ) -> tuple[Verdict, str | None, tuple[RiskDecision, ...]]:
        """A failing risk-based requirement: each failing check leaf whose every failing finding a decision
        covers counts as justified; the tree is then re-evaluated (so an open or failing leaf still decides)."""
        assert req.verified_by is not None
        override: dict[Leaf, Verdict] = {}
        used: dict[str, RiskDecision] = {}
        for leaf in _leaves(req.verified_by):
            if leaf.kind is not LeafKind.CHECK or self.leaf_verdict(leaf) is not _F:
                continue
            attempt = self.attempts.get(str(leaf))
            failing = [f for f in attempt.findings if f.verdict is _F] if attempt is not None else []
            covering = _covering(decisions, leaf.ref, failing)
            if covering:
                override[leaf] = _J
                used.update((d.id, d) for d in covering)
        verdict = self.tree_verdict(req.verified_by, override)
        if verdict is not _J:
            return (verdict, None, ()) if verdict is not _F else (_F, None, ())
        names = "; ".join(f"{d.id} ({d.decided_by}, {d.decided_at.isoformat()}): {d.measure}" for d in used.values())
        return _J, f"justified by risk decision {names}", tuple(used.values())

    def missing_for(self, evidence: Iterable[LeafResult]) -> Iterable[str]:
        """What would close an inconclusive verdict; through a referenced requirement, what closes it; through a
        referenced scheme (a law met through its harmonised standard), what that scheme still misses."""
        for item in evidence:
            if item.verdict not in (_I, _E, _W):
                continue
            if item.leaf.kind is LeafKind.REQUIREMENT:
                yield from self.requirement_key(item.leaf.ref).missing
                continue
            yield f"{item.leaf}: {item.detail}" if item.detail else str(item.leaf)
            if item.leaf.kind is LeafKind.SCHEME:
                yield from self.scheme(self.catalog.scheme(item.leaf.ref)).missing_evidence

    # decision trees (trees.py) --------------------------------------------------------------------------
    def leaf_detail(self, leaf: Leaf) -> str | None:
        return self.leaf(leaf).detail

    def requirement_verdict(self, key: str) -> Verdict:
        return self.requirement_key(key).verdict

    def missing_in(self, node: Node) -> Iterable[str]:
        return self.missing_for(self.leaf(leaf) for leaf in _leaves(node))

    def judge(self) -> TreeJudge:
        if self._judge is None:
            self._judge = TreeJudge(self, DossierAnswers())
        return self._judge

    def requirement_manual(self, req: Requirement) -> ManualResult | None:
        """The manual result recorded for the requirement itself, dated on or before the assessment date."""
        scheme_id = req.scheme_key.split("@", 1)[0]
        return self._manual.get(req.key) or self._manual.get(f"{scheme_id}:{req.id}")

    def _late_requirement_manual(self, req: Requirement) -> ManualResult | None:
        if not self._late_manual:
            return None
        scheme_id = req.scheme_key.split("@", 1)[0]
        return self._late_manual.get(req.key) or self._late_manual.get(f"{scheme_id}:{req.id}")

    # schemes ------------------------------------------------------------------------------------------
    def schemes(self, schemes: Sequence[Scheme]) -> list[SchemeResult]:
        return [self.scheme(scheme) for scheme in schemes]

    def requirements_of(self, scheme: Scheme) -> Callable[[], tuple[RequirementResult, ...]]:
        """The scheme's requirement results, built when first read."""
        cache = self._requirement_cache

        def requirements() -> tuple[RequirementResult, ...]:
            return tuple(cache.get(req.key) or self.requirement(req) for req in scheme.requirements)

        return requirements

    def scheme(self, scheme: Scheme) -> SchemeResult:
        """A scheme's status on the assessment date, its levels, what changes later, and its requirements."""
        cache = self._requirement_cache
        results = tuple(cache.get(req.key) or self.requirement(req) for req in scheme.requirements)
        return SchemeResult(scheme, self._summary(scheme, results), results)

    def _summary(self, scheme: Scheme, results: tuple[RequirementResult, ...]) -> SchemeSummary:
        applying = tuple(r for r in results if r.applies)
        counts = _counts(r.verdict for r in applying)
        if not scheme.modelled:
            return SchemeSummary(SchemeStatus.NOT_MODELLED, None, (), _counts(r.verdict for r in results))
        status, highest, levels = _status(scheme, applying)
        later = _later(scheme, results) if len(applying) < len(results) else ()
        in_scope = evaluate_condition(scheme.scope, self.facts) if scheme.scope is not None else True
        scope_missing: tuple[str, ...] = ()
        if in_scope is False:
            status, highest = SchemeStatus.OUT_OF_SCOPE, None
        elif in_scope is None:
            assert scheme.scope is not None
            facts = ", ".join(sorted(f for f in scheme.scope.facts() if f not in self.facts))
            scope_missing = (f"scope of {scheme.key} ({scheme.scope_text}): declare facts {facts}",)
            if status in (SchemeStatus.MEETS, SchemeStatus.PENDING):
                status, highest = SchemeStatus.INCOMPLETE, None
        elif not applying:  # nothing applies yet: no level is met (or failed) on the date, vacuously or otherwise
            status, highest, levels = SchemeStatus.PREPARE, None, ()
        return SchemeSummary(status, highest, levels, counts, later, in_scope, scope_missing)


def _status(
    scheme: Scheme, results: Sequence[RequirementResult]
) -> tuple[SchemeStatus, str | None, tuple[LevelResult, ...]]:
    """Status and levels over ``results`` (the requirements that count on some date)."""
    if not scheme.levels:
        return level_status(r.verdict for r in results if r.required), None, ()
    by_key = {r.requirement.key: r for r in results}
    levels: list[LevelResult] = []
    for level in scheme.levels:
        reqs = [by_key[r.key] for r in scheme.required_at(level.id) if r.key in by_key and by_key[r.key].required]
        status = level_status(r.verdict for r in reqs)
        levels.append(LevelResult(level.id, level.title, status, _counts(r.verdict for r in reqs)))
    highest: str | None = None
    for level_result in levels:  # the highest level met counts up from the lowest, without gaps
        if level_result.status is not SchemeStatus.MEETS:
            break
        highest = level_result.level
    return (SchemeStatus.MEETS if highest is not None else levels[0].status), highest, tuple(levels)


def _later(scheme: Scheme, results: tuple[RequirementResult, ...]) -> tuple[LaterResult, ...]:
    """For each later date a requirement applies from: the status once everything due by then applies."""
    dates = sorted(
        {r.requirement.applies_from for r in results if not r.applies and r.requirement.applies_from}, key=_date
    )
    out = []
    for date in dates:
        due = [r for r in results if r.applies or _date(r.requirement.applies_from or date) <= _date(date)]
        status, highest, _ = _status(scheme, due)
        out.append(LaterResult(date, status, highest, _counts(r.verdict for r in due)))
    return tuple(out)


def _risk_decisions(catalog: Catalog, dossier: Dossier, as_of: dt.date | None) -> dict[str, tuple[RiskDecision, ...]]:
    """Decisions by requirement key; a decision naming no known requirement is a dossier error."""
    out: dict[str, list[RiskDecision]] = {}
    for i, decision in enumerate(dossier.risk_decisions):
        try:
            key = catalog.requirement(decision.requirement).key
        except SchemeError as exc:
            raise DossierError(str(exc), field=f"risk_decisions[{i}].requirement") from None
        if as_of is None or decision.decided_at <= as_of:  # a decision dated after the assessment does not count
            out.setdefault(key, []).append(decision)
    return {key: tuple(found) for key, found in out.items()}


def _covering(decisions: Sequence[RiskDecision], check_id: str, failing: Sequence[Any]) -> list[RiskDecision]:
    """The decisions that together cover every failing finding of a check; empty when one is uncovered."""
    used: dict[str, RiskDecision] = {}
    if not failing:
        return []
    for finding in failing:
        paths = {loc.path for loc in finding.locations if loc.path}
        cover = next(
            (
                d
                for d in decisions
                for c in d.covers
                if c.check == check_id and (not c.paths or (paths and paths <= set(c.paths)))
            ),
            None,
        )
        if cover is None:
            return []
        used[cover.id] = cover
    return list(used.values())


# A scheme referenced as a whole (a law met through its harmonised standard): what its status says of it.
_SCHEME_VERDICT = {
    SchemeStatus.MEETS: _P,
    SchemeStatus.FAILS: _F,
    SchemeStatus.PENDING: _W,
    SchemeStatus.OUT_OF_SCOPE: _N,
}


def _justified_in_ics(entry: Any) -> bool:
    return entry is not None and entry.support is not IcsSupport.YES and bool(entry.justification)


@functools.cache
def _date(text: str) -> dt.date:
    return date_by(text)  # a YYYY-MM or YYYY date counts from the end of that month or year


_DECLARED_STATE = {_P: "declared", _F: "declared false"}


@functools.cache
def _parts(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))


def _declared(declarations: Any, path: str) -> Verdict:
    """A declaration key: absent or empty is inconclusive, False fails, anything else passes."""
    value: Any = declarations
    for part in _parts(path):
        value = getattr(value, part, None)
        if value is None:
            return _I
    if value is False:
        return _F
    if isinstance(value, list | tuple | dict) and not value:
        return _I
    return _P


def _undeclared_state(declarations: Any, path: str) -> str:
    value: Any = declarations
    for part in path.split("."):
        value = getattr(value, part, None)
        if value is None:
            return "not declared"
    return "declared empty"


def _checked_answers(dossier: Dossier, catalog: Catalog) -> DossierAnswers:
    """The dossier's decision answers, each naming a node some tree of the catalog has (one line otherwise)."""
    refs = node_refs(list(catalog.schemes.values()))
    every = set().union(*refs.values()) if refs else set()
    for i, given in enumerate(dossier.decisions):
        scheme_id, node_ref = split_node_ref(given.node)
        known = refs.get(scheme_id, set()) if scheme_id is not None else every
        if node_ref not in known:
            where = f"scheme {scheme_id}" if scheme_id is not None else "any scheme of the catalog"
            raise DossierError(f"no decision node {node_ref} in {where}", field=f"decisions[{i}].node")
    return DossierAnswers.of(dossier)


def _counts(verdicts: Iterable[Verdict]) -> dict[str, int]:
    return {v.value: n for v, n in Counter(verdicts).items()}


def _leaves(node: Node | None) -> Iterable[Leaf]:
    if node is None:
        return
    if type(node) is Leaf:
        yield node
        return
    for child in node.children:  # type: ignore[union-attr]
        yield from _leaves(child)


def _summary(attempt: CheckAttempt) -> str:
    failing = [f for f in attempt.findings if f.verdict is attempt.verdict]
    first = failing[0] if failing else (attempt.findings[0] if attempt.findings else None)
    return first.message if first is not None else str(attempt.status)


def _reason(verdict: Verdict, evidence: Iterable[LeafResult], node: Node | None = None) -> str:
    evidence = tuple(evidence)
    decisive = [e for e in evidence if e.verdict is verdict]
    if not decisive:
        return str(verdict)
    first = decisive[0]
    more = f" (+{len(decisive) - 1} more)" if len(decisive) > 1 else ""
    text = f"{first.leaf}: {first.detail}{more}" if first.detail else f"{first.leaf}{more}"
    if verdict is _F and node is not None:
        # a recorded step that was an alternative to the failing evidence: say why it did not decide
        alternatives = set(_step_alternatives(node))
        recorded = [e for e in evidence if e.leaf in alternatives and e.verdict is _P]
        if recorded:
            text += (
                f"; {recorded[0].leaf} is recorded ({recorded[0].detail}), but a scheme body's step is another "
                "procedure for the same requirement and does not outweigh failing evidence"
            )
    return text


def _step_alternatives(node: Node) -> Iterable[Leaf]:
    """The grant leaves that are alternatives of an ``any`` somewhere in ``node``."""
    if type(node) is Leaf:
        return
    if type(node) is AnyOf:
        yield from grant_children(node)
    for child in node.children:  # type: ignore[union-attr]
        yield from _step_alternatives(child)
