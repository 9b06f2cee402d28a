"""Verdict algebra, requirement verdicts, scheme status per level, and missing evidence.

Rules (DESIGN.md, "Verdict rules"):

- ``all``: fail if any fail; else error if any error; else inconclusive if any inconclusive or missing;
  else pass if at least one pass; else not_applicable.
- ``any``: pass if any pass; else fail if any fail and none inconclusive or error; else error if any
  error; else inconclusive if any inconclusive; else not_applicable.
- A requirement with nothing that verifies it is inconclusive: unmapped never reads as pass.
- A scheme level is met when every requirement required at that level is pass or not_applicable, failed
  when any is fail, incomplete otherwise. Levels are cumulative where the scheme says so.

``Evaluator`` is the whole of these rules and is pure: the same attempts, dossier and facts give the same
results. ``SummaryMemo`` is an opt-in wrapper for batch work (many variants of a product): it remembers a
scheme set's summaries keyed on exactly the inputs they depend on, and a test holds it to the same answers.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cybersafe.checks.interface import CheckAttempt
from cybersafe.dossier.model import Dossier, IcsSupport, ManualResult
from cybersafe.schemes.catalog import Catalog
from cybersafe.schemes.interface import (
    AllOf,
    Condition,
    Leaf,
    LeafKind,
    Node,
    Obligation,
    Requirement,
    Scheme,
)
from cybersafe.schemes.status import SchemeStatus
from cybersafe.verdict import Verdict

_P, _F, _I, _N, _E = (
    Verdict.PASS,
    Verdict.FAIL,
    Verdict.INCONCLUSIVE,
    Verdict.NOT_APPLICABLE,
    Verdict.ERROR,
)

UNMAPPED_REASON = "not assessable automatically, needs declaration or manual result"


def all_of(verdicts: Iterable[Verdict]) -> Verdict:
    seen = set(verdicts)
    if _F in seen:
        return _F
    if _E in seen:
        return _E
    if _I in seen:
        return _I
    if _P in seen:
        return _P
    return _N


def any_of(verdicts: Iterable[Verdict]) -> Verdict:
    seen = set(verdicts)
    if _P in seen:
        return _P
    if _F in seen and _I not in seen and _E not in seen:
        return _F
    if _E in seen:
        return _E
    if _I in seen:
        return _I
    return _N


def level_status(verdicts: Iterable[Verdict]) -> SchemeStatus:
    seen = set(verdicts)
    if _F in seen:
        return SchemeStatus.FAILS
    if seen <= {_P, _N}:
        return SchemeStatus.MEETS
    return SchemeStatus.INCOMPLETE


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

    __slots__ = ("_evaluator", "_evidence", "_explain", "_missing", "_reason", "required", "requirement", "verdict")

    def __init__(
        self,
        requirement: Requirement,
        verdict: Verdict,
        reason: str | None = None,
        required: bool = True,
        explain: Callable[[], str] | None = None,
        evaluator: Evaluator | None = None,
    ) -> None:
        self.requirement = requirement
        self.verdict = verdict
        self.required = required
        self._reason = reason
        self._explain = explain
        self._evaluator = evaluator
        self._missing: tuple[str, ...] | None = None
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
            self._reason = self._explain() if self._explain is not None else _reason(self.verdict, self.evidence)
        return self._reason

    @property
    def missing(self) -> tuple[str, ...]:
        """What would close an inconclusive or errored verdict."""
        if self._missing is None:
            if self.verdict not in (_I, _E):
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


class SchemeResult:
    """A scheme's status, levels and counts; its requirement results are built when first read."""

    __slots__ = ("_requirements", "counts", "highest_level", "levels", "scheme", "status")

    def __init__(
        self,
        scheme: Scheme,
        status: SchemeStatus,
        highest_level: str | None,
        levels: tuple[LevelResult, ...],
        requirements: tuple[RequirementResult, ...] | Callable[[], tuple[RequirementResult, ...]],
        counts: Mapping[str, int],
    ) -> None:
        self.scheme = scheme
        self.status = status
        self.highest_level = highest_level
        self.levels = levels
        self.counts = counts
        self._requirements = requirements

    @property
    def requirements(self) -> tuple[RequirementResult, ...]:
        if callable(self._requirements):
            self._requirements = self._requirements()
        return self._requirements

    @property
    def missing_evidence(self) -> tuple[str, ...]:
        """Everything that would close an inconclusive or errored required requirement, once each."""
        return tuple(
            dict.fromkeys(m for r in self.requirements if r.required and r.verdict in (_I, _E) for m in r.missing)
        )


def evaluate_condition(condition: Condition, facts: Mapping[str, bool]) -> bool | None:
    """Three-valued: True, False, or None when a fact it needs is unknown."""
    if condition.op == "fact":
        return facts.get(condition.fact or "")
    values = [evaluate_condition(c, facts) for c in condition.children]
    if condition.op == "not":
        return None if values[0] is None else not values[0]
    if condition.op == "all":
        if False in values:
            return False
        return None if None in values else True
    if True in values:
        return True
    return None if None in values else False


class Evaluator:
    """Evaluates requirements of any scheme against one assessment's check attempts and dossier."""

    def __init__(
        self,
        catalog: Catalog,
        attempts: Mapping[str, CheckAttempt],
        dossier: Dossier,
        facts: Mapping[str, bool],
    ) -> None:
        self.catalog = catalog
        self.attempts = attempts
        self.dossier = dossier
        self.facts = facts
        self._manual: dict[str, ManualResult] = {m.id: m for m in dossier.manual_results}
        self._declarations = dossier.declarations
        self._leaf_cache: dict[Leaf, LeafResult] = {}
        self._leaf_verdicts: dict[Leaf, Verdict] = {}
        self._requirement_cache: dict[str, RequirementResult] = {}
        self._in_progress: set[str] = set()
        # The dossier's ICS rows apply to the schemes whose catalog says so (``ics: true``).
        self._ics_schemes = frozenset(s.key for s in catalog.schemes.values() if s.ics) if dossier.ics else frozenset()

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
                return LeafResult(leaf, _I, f"needs manual test {leaf.ref}")
            return LeafResult(leaf, Verdict(manual.verdict), f"manual: {manual.by}, {manual.at.isoformat()}")
        result = self.requirement_key(leaf.ref)
        return LeafResult(leaf, result.verdict, None, result)

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
        return LeafResult(leaf, verdict, detail)

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

    def tree_verdict(self, node: Node) -> Verdict:
        if type(node) is Leaf:
            return self._leaf_verdicts.get(node) or self.leaf_verdict(node)
        verdicts = [self.tree_verdict(child) for child in node.children]  # type: ignore[union-attr]
        return all_of(verdicts) if type(node) is AllOf else any_of(verdicts)

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

    def _evaluate_requirement(self, req: Requirement) -> RequirementResult:
        holds: bool | None = True
        condition = req.condition
        if condition is not None:
            holds = evaluate_condition(condition, self.facts)
            if holds is False:
                return RequirementResult(req, _N, None, False, lambda: f"condition does not hold: {condition}")
        required = req.obligation is not Obligation.RECOMMENDED
        ics = self.dossier.ics.get(req.id) if req.scheme_key in self._ics_schemes else None
        if ics is not None and ics.support is IcsSupport.NOT_APPLICABLE and req.obligation is not Obligation.MANDATORY:
            return RequirementResult(req, _N, f"ICS: not applicable - {ics.justification}", False)

        explain: Callable[[], str] | None = None
        if req.verified_by is None:
            verdict, reason = _I, UNMAPPED_REASON
        else:
            verdict, reason = self.tree_verdict(req.verified_by), None
        if ics is not None and ics.support is IcsSupport.NO and verdict is not _F:
            verdict, reason = _F, f"ICS: not implemented - {ics.justification or 'no justification'}"

        manual = self.requirement_manual(req) if self._manual else None
        if manual is not None and verdict not in (_F, _E):
            verdict = Verdict(manual.verdict)
            reason = f"manual result by {manual.by} on {manual.at.isoformat()}" + (
                f": {manual.summary}" if manual.summary else ""
            )
        if holds is None and verdict is not _P:
            base_verdict, base_reason = verdict, reason
            verdict = _I

            def explain() -> str:
                needed = ", ".join(sorted(f for f in (condition.facts() if condition else ()) if f not in self.facts))
                leaves = [self.leaf(leaf) for leaf in _leaves(req.verified_by)]
                return f"condition not declared (facts: {needed}); {base_reason or _reason(base_verdict, leaves)}"

            reason = None
        return RequirementResult(req, verdict, reason, required, explain, self)

    def missing_for(self, evidence: Iterable[LeafResult]) -> Iterable[str]:
        """What would close an inconclusive verdict; through a referenced requirement, what closes it."""
        for item in evidence:
            if item.verdict not in (_I, _E):
                continue
            if item.leaf.kind is LeafKind.REQUIREMENT:
                yield from self.requirement_key(item.leaf.ref).missing
            else:
                yield f"{item.leaf}: {item.detail}" if item.detail else str(item.leaf)

    def requirement_manual(self, req: Requirement) -> ManualResult | None:
        scheme_id = req.scheme_key.split("@", 1)[0]
        return self._manual.get(req.key) or self._manual.get(f"{scheme_id}:{req.id}")

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
        """A scheme's status, its levels (the highest met counting up from the lowest) and its requirements."""
        cache = self._requirement_cache
        results = tuple(cache.get(req.key) or self.requirement(req) for req in scheme.requirements)
        counts = _counts(r.verdict for r in results)
        if not scheme.modelled:
            return SchemeResult(scheme, SchemeStatus.NOT_MODELLED, None, (), results, counts)
        by_key = {r.requirement.key: r for r in results}
        levels: list[LevelResult] = []
        highest: str | None = None
        if scheme.levels:
            for level in scheme.levels:
                reqs = [by_key[r.key] for r in scheme.required_at(level.id) if by_key[r.key].required]
                status = level_status(r.verdict for r in reqs)
                levels.append(LevelResult(level.id, level.title, status, _counts(r.verdict for r in reqs)))
            for level_result in levels:  # the highest level met counts up from the lowest, without gaps
                if level_result.status != SchemeStatus.MEETS:
                    break
                highest = level_result.level
            overall = SchemeStatus.MEETS if highest is not None else levels[0].status
        else:
            overall = level_status(r.verdict for r in results if r.required)
        return SchemeResult(scheme, overall, highest, tuple(levels), results, counts)


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


def _reason(verdict: Verdict, evidence: Iterable[LeafResult]) -> str:
    decisive = [e for e in evidence if e.verdict is verdict]
    if not decisive:
        return str(verdict)
    first = decisive[0]
    more = f" (+{len(decisive) - 1} more)" if len(decisive) > 1 else ""
    return f"{first.leaf}: {first.detail}{more}" if first.detail else f"{first.leaf}{more}"
