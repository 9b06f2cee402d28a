"""An opt-in memo of scheme summaries for batch work; the evaluator itself stays pure.

A scheme set's status, levels and counts are a pure function of the assessment date, the verdicts of every
leaf it reaches (through requirement references too), the facts its conditions, scopes and decision trees read,
the ICS rows, the requirement-level manual results of the requirements it reaches and the dossier's answers to
decision-tree nodes (a dossier with risk decisions is
evaluated in full: a justified verdict depends on the findings themselves). Assessing many variants of a product repeats those inputs,
so ``SummaryMemo`` remembers the summaries keyed on exactly them; requirement results (with their
explanations) are still built from each dossier's own evidence when read. A property test holds memoised
and plain evaluation to the same answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cybersafe.schemes.catalog import Catalog, iter_leaves
from cybersafe.schemes.evaluate import Evaluator, SchemeResult, SchemeSummary
from cybersafe.schemes.interface import Leaf, LeafKind, Requirement, Scheme


@dataclass(frozen=True)
class _Plan:
    """What a scheme set's summaries depend on, found once per scheme set."""

    leaves: tuple[Leaf, ...]
    facts: tuple[str, ...]
    requirements: tuple[Requirement, ...]
    ics_ids: tuple[str, ...]  # requirement ids of schemes that read the dossier's ICS


@dataclass
class SummaryMemo:
    """Scheme summaries remembered per scheme set, bounded to ``limit`` entries per set."""

    catalog: Catalog
    limit: int = 4096
    _plans: dict[tuple[str, ...], _Plan] = field(default_factory=dict)
    _memo: dict[tuple[str, ...], dict[tuple[object, ...], tuple[SchemeSummary, ...]]] = field(default_factory=dict)

    def schemes(self, evaluator: Evaluator, schemes: Sequence[Scheme]) -> list[SchemeResult]:
        """The same results as ``evaluator.schemes(schemes)``, from the memo when its inputs were seen."""
        together = tuple(schemes)
        if evaluator.dossier.risk_decisions:
            # A justified verdict depends on the failing findings themselves, not only on leaf verdicts.
            return evaluator.schemes(together)
        keys = tuple(s.key for s in together)
        plan = self._plans.get(keys) or self._plans.setdefault(keys, self._plan(together))
        memo = self._memo.setdefault(keys, {})
        key = _inputs(evaluator, plan)
        summaries = memo.get(key)
        if summaries is None:
            results = evaluator.schemes(together)
            if len(memo) >= self.limit:
                memo.clear()
            memo[key] = tuple(r.summary for r in results)
            return results
        return [
            SchemeResult(scheme, summary, evaluator.requirements_of(scheme))
            for scheme, summary in zip(together, summaries, strict=True)
        ]

    def _plan(self, schemes: tuple[Scheme, ...]) -> _Plan:
        leaves: dict[Leaf, None] = {}
        facts: dict[str, None] = {}
        reached: dict[str, Requirement] = {}
        for scheme in schemes:
            if scheme.scope is not None:
                facts.update(dict.fromkeys(sorted(scheme.scope.facts())))
        stack = [req for scheme in schemes for req in scheme.requirements]
        while stack:
            req = stack.pop()
            if req.key in reached:
                continue
            reached[req.key] = req
            if req.condition is not None:
                facts.update(dict.fromkeys(sorted(req.condition.facts())))
            if req.decision_tree is not None:
                facts.update(dict.fromkeys(sorted(req.decision_tree.facts())))
            for leaf in iter_leaves(req.verified_by):
                if leaf.kind is LeafKind.REQUIREMENT:
                    stack.append(self.catalog.requirement(leaf.ref))
                else:  # a scheme reference is one leaf: its verdict is its status
                    leaves[leaf] = None
        requirements = tuple(reached.values())
        ics_schemes = {s.key for s in self.catalog.schemes.values() if s.ics}
        ics_ids = tuple(r.id for r in requirements if r.scheme_key in ics_schemes)
        return _Plan(tuple(leaves), tuple(facts), requirements, ics_ids)


def _inputs(evaluator: Evaluator, plan: _Plan) -> tuple[object, ...]:
    """Exactly the inputs a scheme set's summaries depend on."""
    verdict = evaluator.leaf_verdict
    facts = evaluator.facts
    key: tuple[object, ...] = (
        evaluator.as_of,
        tuple(verdict(x) for x in plan.leaves),
        tuple(facts.get(f) for f in plan.facts),
    )
    dossier = evaluator.dossier
    if dossier.ics:
        key += (tuple((e.support, bool(e.justification)) if (e := dossier.ics.get(i)) else None for i in plan.ics_ids),)
    if dossier.decisions:
        key += (tuple((d.node, d.subject, d.answer, d.at) for d in dossier.decisions),)
    if dossier.manual_results:
        manual = evaluator.requirement_manual
        key += (tuple(m.verdict if (m := manual(r)) else None for r in plan.requirements),)
    return key
