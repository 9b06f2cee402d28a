"""Decision trees of requirements as data (EN 18031 style), walked on answers from evidence and the dossier.

A requirement may carry a ``decision_tree`` instead of a hand-written ``verified_by``: decision nodes
(``DN-1``, ``DN-2`` ...), each a yes/no question whose branches lead to another node or to an outcome:
``PASS``, ``FAIL``, ``NOT_APPLICABLE``, or ``OPEN`` for a branch whose outcome no public source confirms
(the assessor then records the requirement's outcome as a manual result; we never guess it).

A node is answered, in this order:

1. by evidence: answer rules name a check, a declaration, a manual result, a requirement or a dossier
   fact, the verdict that fires (pass or fail) and what it means (yes or no). The first rule that fires
   answers; a later rule that fires the other way is reported as contradicting it. A rule whose evidence
   errored stops the walk with ``error``, whatever the other rules say: a dossier answer never covers an
   error, and an error never turns into a pass.
2. by the dossier's ``decisions``: the manufacturer's or assessor's answer to that node, with its
   justification, for the equipment or for one named subject (an asset, an interface, a mechanism);
   ``<scheme>:DT.X.DN-n`` answers for one scheme only.
3. otherwise the node is an open question: the requirement is ``inconclusive`` and the question is listed
   in its ``missing`` evidence, with what the evidence said so far.

The tree is the conceptual assessment. An outcome of ``PASS`` still needs the tree's ``functional``
evidence (functional completeness and sufficiency: checks on the device and the firmware, or the lab's
manual result) to pass before the requirement passes. A walk ending in ``FAIL`` fails the requirement; a
walk that stops on an unanswered node never passes it.

A scheme's ``presumption`` lists the restrictions under which a harmonised standard gives no presumption of
conformity (Implementing Decision (EU) 2025/138 for EN 18031): which requirements they concern and the
condition over dossier facts under which they apply. They are flagged beside the scheme's status, never
folded into it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from cybersafe.schemes.algebra import all_of
from cybersafe.schemes.interface import AllOf, Condition, Confidence, Leaf, LeafKind, Node, Source
from cybersafe.verdict import Verdict

if TYPE_CHECKING:
    from cybersafe.dossier.model import DecisionAnswer, Dossier
    from cybersafe.schemes.interface import Requirement, Scheme

_P, _F, _I, _N, _E = Verdict.PASS, Verdict.FAIL, Verdict.INCONCLUSIVE, Verdict.NOT_APPLICABLE, Verdict.ERROR


class Outcome(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    NOT_APPLICABLE = "NOT_APPLICABLE"
    OPEN = "OPEN"  # the branch's outcome is not confirmed by a public source: the assessor decides


_OUTCOME_VERDICT = {Outcome.PASS: _P, Outcome.FAIL: _F, Outcome.NOT_APPLICABLE: _N, Outcome.OPEN: _I}


class Answer(StrEnum):
    YES = "yes"
    NO = "no"


@dataclass(frozen=True, slots=True)
class AnswerRule:
    """``means`` is the answer when the evidence (``node``, or the dossier fact ``fact``) has verdict ``when``."""

    means: Answer
    when: Verdict  # PASS or FAIL
    node: Node | None = None
    fact: str | None = None

    def source(self) -> str:
        return f"fact:{self.fact}" if self.fact is not None else _node_text(self.node)


@dataclass(frozen=True, slots=True)
class DecisionNode:
    id: str  # "DN-1"
    question: str  # our paraphrase, never the standard's text
    yes: str  # a node id or an Outcome value
    no: str
    rules: tuple[AnswerRule, ...] = ()

    def branch(self, answer: Answer) -> str:
        return self.yes if answer is Answer.YES else self.no


@dataclass(frozen=True, slots=True)
class DecisionTree:
    id: str  # "DT.ACM-1"
    subject: str  # what the tree is walked for, e.g. "each security or network asset entities can access"
    nodes: tuple[DecisionNode, ...]  # nodes[0] is where the walk starts
    confidence: Confidence  # of the nodes and their branches
    assets: tuple[str, ...] = ()  # asset classes of the scheme the subjects are drawn from
    note: str | None = None
    functional: Node | None = None  # functional completeness and sufficiency evidence, needed for PASS
    needs: tuple[str, ...] = ()  # requirement ids of the scheme: when every one is not applicable, so is this

    def node(self, node_id: str) -> DecisionNode:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)

    def node_ref(self, node: DecisionNode) -> str:
        return f"{self.id}.{node.id}"

    def facts(self) -> set[str]:
        return {rule.fact for node in self.nodes for rule in node.rules if rule.fact is not None}

    def evidence(self, scheme_key: str) -> Node | None:
        """Every leaf the tree reads, as one ``all`` node: what runs the checks, feeds reuse figures, keys memos."""
        children: list[Node] = [rule.node for node in self.nodes for rule in node.rules if rule.node is not None]
        if self.functional is not None:
            children.append(self.functional)
        children.extend(Leaf(LeafKind.REQUIREMENT, f"{scheme_key}:{dep}") for dep in self.needs)
        unique = list(dict.fromkeys(children))
        return AllOf(tuple(unique)) if unique else None


@dataclass(frozen=True, slots=True)
class AssetClass:
    """A kind of asset a scheme's requirements protect (EN 18031: security, network, privacy, financial)."""

    id: str
    name: str
    description: str
    examples: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Restriction:
    """Where the harmonised standard gives no presumption of conformity, and for which requirements."""

    id: str
    requirements: tuple[str, ...]  # requirement ids of the scheme it concerns
    clauses: str
    text: str  # our paraphrase of the restriction
    effect: str  # what the manufacturer must do instead
    confidence: Confidence
    when: Condition | None = None  # over dossier facts; absent: whenever the requirements apply
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Presumption:
    """The act that cites the standard (with restrictions) and the legal requirement it presumes conformity with."""

    act: Source
    presumes: str  # e.g. "RED Art. 3(3)(d)"
    restrictions: tuple[Restriction, ...] = ()
    note: str | None = None


# ------------------------------------------------------------------------------------------------ parsing


class TreeDataError(ValueError):
    """A decision tree's data is inconsistent; ``where`` is the path inside the tree."""

    def __init__(self, message: str, where: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.where = where


_OUTCOMES = frozenset(o.value for o in Outcome)


def parse_tree(raw: Mapping[str, Any], parse_node: Callable[[Any], Node]) -> DecisionTree:
    """A tree from its catalog form (already validated by the JSON Schema); raises ``TreeDataError``."""
    nodes = tuple(_parse_decision_node(n, i, parse_node) for i, n in enumerate(raw["nodes"]))
    tree = DecisionTree(
        id=raw["id"],
        subject=raw["subject"],
        nodes=nodes,
        confidence=Confidence(raw["confidence"]),
        assets=tuple(raw.get("assets", ())),
        note=raw.get("note"),
        functional=parse_node(raw["functional"]) if "functional" in raw else None,
        needs=tuple(raw.get("needs", ())),
    )
    _check_structure(tree)
    return tree


def _parse_decision_node(raw: Mapping[str, Any], index: int, parse_node: Callable[[Any], Node]) -> DecisionNode:
    rules: list[AnswerRule] = []
    for j, rule in enumerate(raw.get("answers", ())):
        try:
            rules.extend(_parse_rule(rule, parse_node))
        except ValueError as exc:
            raise TreeDataError(str(exc), ("nodes", index, "answers", j)) from None
    return DecisionNode(id=raw["id"], question=raw["question"], yes=raw["if_yes"], no=raw["if_no"], rules=tuple(rules))


def _parse_rule(raw: Mapping[str, Any], parse_node: Callable[[Any], Node]) -> list[AnswerRule]:
    """``{by|fact, yes_when?}`` answers both ways; ``{by|fact, when?, means}`` answers one way."""
    node = parse_node(raw["by"]) if "by" in raw else None
    fact = raw.get("fact")
    if "means" in raw:
        when = Verdict(raw.get("when", "pass"))
        means = raw["means"]
        if isinstance(means, bool):  # YAML 1.1 reads an unquoted yes/no as a boolean
            means = "yes" if means else "no"
        return [AnswerRule(Answer(means), when, node, fact)]
    yes_when = Verdict(raw.get("yes_when", "pass"))
    no_when = _F if yes_when is _P else _P
    return [AnswerRule(Answer.YES, yes_when, node, fact), AnswerRule(Answer.NO, no_when, node, fact)]


def _check_structure(tree: DecisionTree) -> None:
    ids = [node.id for node in tree.nodes]
    for i, node in enumerate(tree.nodes):
        if ids.count(node.id) > 1:
            raise TreeDataError(f"{tree.id}: node {node.id} is defined twice", ("nodes", i, "id"))
        for branch in ("yes", "no"):
            target = getattr(node, branch)
            if target not in _OUTCOMES and target not in ids:
                raise TreeDataError(
                    f"{tree.id}.{node.id}: '{branch}' leads to {target!r}, neither a node nor one of {sorted(_OUTCOMES)}",
                    ("nodes", i, f"if_{branch}"),
                )
    reached = _reachable(tree, tree.nodes[0].id, ())
    unreached = [n for n in ids if n not in reached]
    if unreached:
        raise TreeDataError(f"{tree.id}: nodes {unreached} cannot be reached from {ids[0]}", ("nodes",))


def _reachable(tree: DecisionTree, node_id: str, path: tuple[str, ...]) -> set[str]:
    if node_id in path:
        raise TreeDataError(
            f"{tree.id}: the branches loop back to {node_id} ({' -> '.join((*path, node_id))})", ("nodes",)
        )
    node = tree.node(node_id)
    seen = {node_id}
    for target in (node.yes, node.no):
        if target not in _OUTCOMES:
            seen |= _reachable(tree, target, (*path, node_id))
    return seen


# ------------------------------------------------------------------------------------------------ walking


@dataclass(frozen=True, slots=True)
class NodeAnswer:
    answer: Answer | None  # None: not answered
    verdict: Verdict  # PASS when answered; INCONCLUSIVE or ERROR when not
    source: str  # where the answer (or the lack of it) comes from


@dataclass(frozen=True, slots=True)
class Step:
    node: DecisionNode
    answer: NodeAnswer


@dataclass(frozen=True, slots=True)
class Walk:
    """One walk through a tree for one subject (None: the equipment as a whole)."""

    tree: DecisionTree
    subject: str | None
    steps: tuple[Step, ...]
    outcome: Outcome | None  # None: the walk stopped at the last step's node, unanswered

    @property
    def verdict(self) -> Verdict:
        if self.outcome is not None:
            return _OUTCOME_VERDICT[self.outcome]
        return self.steps[-1].answer.verdict

    @property
    def stopped(self) -> Step | None:
        return self.steps[-1] if self.outcome is None else None

    def path(self) -> str:
        """``DN-1 no, DN-2 yes -> NOT_APPLICABLE`` (or ``-> DN-3 unanswered``)."""
        parts = [f"{s.node.id} {s.answer.answer}" for s in self.steps if s.answer.answer is not None]
        end = str(self.outcome) if self.outcome is not None else f"{self.steps[-1].node.id} unanswered"
        return ", ".join(parts) + f" -> {end}" if parts else f"-> {end}"


def walk(tree: DecisionTree, answer: Callable[[DecisionNode], NodeAnswer], subject: str | None = None) -> Walk:
    """Follow the branches from the first node until an outcome or an unanswered node."""
    steps: list[Step] = []
    node = tree.nodes[0]
    for _ in range(len(tree.nodes)):  # the structure check rules out loops; this bounds the walk anyway
        given = answer(node)
        steps.append(Step(node, given))
        if given.answer is None:
            return Walk(tree, subject, tuple(steps), None)
        target = node.branch(given.answer)
        if target in _OUTCOMES:
            return Walk(tree, subject, tuple(steps), Outcome(target))
        node = tree.node(target)
    raise TreeDataError(f"{tree.id}: the walk did not end")  # pragma: no cover - excluded by _check_structure


# ------------------------------------------------------------------------------------------------ answering


class _Evaluates(Protocol):
    """What the tree needs of the evaluator (evaluate.Evaluator provides it)."""

    facts: Mapping[str, bool]
    as_of: dt.date | None

    def tree_verdict(self, node: Node) -> Verdict: ...

    def leaf_detail(self, leaf: Leaf) -> str | None: ...

    def requirement_verdict(self, key: str) -> Verdict: ...

    def missing_in(self, node: Node) -> Iterable[str]: ...


def _node_text(node: Node | None) -> str:
    if node is None:
        return "-"
    if isinstance(node, Leaf):
        return str(node)
    joiner = "all" if isinstance(node, AllOf) else "any"
    return f"{joiner} of ({', '.join(_node_text(c) for c in node.children)})"


def _leaves(node: Node | None) -> Iterator[Leaf]:
    if node is None:
        return
    if isinstance(node, Leaf):
        yield node
        return
    for child in node.children:
        yield from _leaves(child)


@dataclass
class DossierAnswers:
    """The dossier's ``decisions``, indexed by (scheme id or None, node ref, subject or None)."""

    by_key: dict[tuple[str | None, str, str | None], DecisionAnswer] = field(default_factory=dict)

    @classmethod
    def of(cls, dossier: Dossier) -> DossierAnswers:
        out = cls()
        for answer in dossier.decisions:
            scheme, node_ref = split_node_ref(answer.node)
            out.by_key[(scheme, node_ref, answer.subject)] = answer
        return out

    def subjects(self, scheme_id: str, tree: DecisionTree) -> list[str | None]:
        """The subjects the dossier answers this tree for; ``[None]`` (the equipment) when it names none."""
        prefix = f"{tree.id}."
        named = [
            subject
            for (scheme, ref, subject) in self.by_key
            if subject is not None and scheme in (None, scheme_id) and ref.startswith(prefix)
        ]
        return list(dict.fromkeys(named)) or [None]

    def find(self, scheme_id: str, node_ref: str, subject: str | None) -> DecisionAnswer | None:
        for key in ((scheme_id, node_ref, subject), (None, node_ref, subject), (scheme_id, node_ref, None)):
            if key in self.by_key:
                return self.by_key[key]
        return self.by_key.get((None, node_ref, None))


def split_node_ref(ref: str) -> tuple[str | None, str]:
    """``eu-red-en-18031-1:DT.ACM-1.DN-2`` -> (scheme id, node ref); a bare node ref has no scheme."""
    scheme, sep, node_ref = ref.rpartition(":")
    return (scheme.split("@", 1)[0] or None, node_ref) if sep else (None, ref)


@dataclass
class TreeJudge:
    """Walks the decision trees of one scheme's requirements against one evaluator and one dossier's answers."""

    evaluator: _Evaluates
    answers: DossierAnswers

    def evidence_answer(self, node: DecisionNode) -> NodeAnswer | None:
        """The first rule that fires, noting rules that fire the other way. Errored evidence stops the walk even
        when another rule fired: it might have answered the other way, and an error never turns into a pass."""
        fired: list[tuple[AnswerRule, Verdict]] = []
        errored: list[str] = []
        for rule in node.rules:
            verdict = self._rule_verdict(rule)
            if verdict is rule.when:
                fired.append((rule, verdict))
            elif verdict is _E:
                errored.append(rule.source())
        if errored:
            return NodeAnswer(None, _E, f"evidence errored: {', '.join(dict.fromkeys(errored))}")
        if fired:
            rule, verdict = fired[0]
            source = self._describe(rule, verdict)
            others = sorted({r.source() for r, _ in fired[1:] if r.means is not rule.means})
            if others:
                source += f" (contradicted by {', '.join(others)}; the first rule answers)"
            return NodeAnswer(rule.means, _P, source)
        return None

    def _rule_verdict(self, rule: AnswerRule) -> Verdict:
        if rule.fact is not None:
            value = self.evaluator.facts.get(rule.fact)
            return _I if value is None else (_P if value else _F)
        assert rule.node is not None
        return self.evaluator.tree_verdict(rule.node)

    def _describe(self, rule: AnswerRule, verdict: Verdict, *, detail: bool = True) -> str:
        """``fact toy = false``, or ``network.tls-weak-cipher pass: <what the check found>``."""
        if rule.fact is not None:
            value = self.evaluator.facts.get(rule.fact)
            return f"fact {rule.fact} = {'not declared' if value is None else str(value).lower()}"
        text = f"{rule.source()} {verdict}"
        if detail and isinstance(rule.node, Leaf):
            found = self.evaluator.leaf_detail(rule.node)
            text += f": {found}" if found else ""
        return text

    def answer(self, scheme_id: str, tree: DecisionTree, node: DecisionNode, subject: str | None) -> NodeAnswer:
        from_evidence = self.evidence_answer(node)
        if from_evidence is not None:
            return from_evidence
        given = self.answers.find(scheme_id, tree.node_ref(node), subject)
        if given is not None:
            who = f" by {given.by}" if given.by else ""
            as_of = self.evaluator.as_of
            if given.at is not None and as_of is not None and given.at > as_of:
                # an answer recorded after the assessment date does not count on it (as manual results, grants)
                late = (
                    f"the dossier decision{who} is dated {given.at.isoformat()}, after the assessment date "
                    f"({as_of.isoformat()}), and does not count on it"
                )
                return NodeAnswer(None, _I, f"{self._evidence_so_far(node)}; {late}")
            return NodeAnswer(Answer(given.answer), _P, f"dossier decision{who}: {given.justification}")
        return NodeAnswer(None, _I, self._evidence_so_far(node))

    def _evidence_so_far(self, node: DecisionNode) -> str:
        seen = [self._describe(r, self._rule_verdict(r)) for r in node.rules]
        unique = list(dict.fromkeys(seen))
        return f"evidence so far does not answer it: {'; '.join(unique)}" if unique else "no evidence answers it"

    def walks(self, scheme_id: str, tree: DecisionTree) -> list[Walk]:
        out: list[Walk] = []
        for subject in self.answers.subjects(scheme_id, tree):

            def answer(node: DecisionNode, subject: str | None = subject) -> NodeAnswer:
                return self.answer(scheme_id, tree, node, subject)

            out.append(walk(tree, answer, subject))
        return out


# ------------------------------------------------------------------------------------------------ deciding


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    reason: str
    missing: tuple[str, ...]
    walks: tuple[Walk, ...] = ()


def decide(req: Requirement, tree: DecisionTree, judge: TreeJudge) -> Decision:
    """A requirement's verdict from its tree: every subject's walk, then the functional evidence on a PASS."""
    scheme_id = req.scheme_key.split("@", 1)[0]
    if tree.needs:
        deps = [judge.evaluator.requirement_verdict(f"{req.scheme_key}:{dep}") for dep in tree.needs]
        if all(v is _N for v in deps):
            return Decision(_N, f"{tree.id}: not applicable, as {' and '.join(tree.needs)} is not applicable", ())
    walks = judge.walks(scheme_id, tree)
    verdict = all_of(w.verdict for w in walks)
    reason = f"{tree.id} ({tree.confidence}): " + "; ".join(_walk_text(w) for w in walks)
    missing = tuple(dict.fromkeys(m for w in walks for m in _walk_missing(req, w)))
    if verdict is not _P or tree.functional is None:
        return Decision(verdict, reason, missing, tuple(walks))
    functional = judge.evaluator.tree_verdict(tree.functional)
    reason += f"; functional assessment: {functional} ({_node_text(tree.functional)})"
    functional_missing = tuple(judge.evaluator.missing_in(tree.functional)) if functional in (_I, _E) else ()
    return Decision(all_of((_P, functional)), reason, functional_missing, tuple(walks))


def _walk_text(w: Walk) -> str:
    who = f"[{w.subject}] " if w.subject is not None else ""
    sources = "; ".join(f"{s.node.id}: {s.answer.source}" for s in w.steps if s.answer.answer is not None)
    return f"{who}{w.path()}" + (f" ({sources})" if sources else "")


def _walk_missing(req: Requirement, w: Walk) -> Iterator[str]:
    who = f" [{w.subject}]" if w.subject is not None else ""
    if w.outcome is Outcome.OPEN:
        last = w.steps[-1]
        yield (
            f"{w.tree.node_ref(last.node)}{who}: the '{last.answer.answer}' branch is not confirmed by a public "
            f"source; record the outcome of {req.id} as a manual result {req.scheme_key.split('@', 1)[0]}:{req.id}"
        )
        return
    stopped = w.stopped
    if stopped is None:
        return
    ref = w.tree.node_ref(stopped.node)
    if stopped.answer.verdict is _E:
        yield f"{ref}{who}: {stopped.answer.source}"
        return
    yield (
        f"{ref}{who} ({w.tree.subject}): {stopped.node.question} - answer yes or no with a justification in the "
        f"dossier's decisions; {stopped.answer.source}"
    )


# ------------------------------------------------------------------------------------------------ presumption


class PresumptionState(StrEnum):
    LOST = "lost"  # the restriction applies: no presumption of conformity for the requirements it names
    UNDETERMINED = "undetermined"  # a fact it depends on is not declared


@dataclass(frozen=True, slots=True)
class PresumptionFlag:
    restriction: Restriction
    state: PresumptionState
    detail: str


def presumption_flags(
    scheme: Scheme,
    facts: Mapping[str, bool],
    verdict_of: Callable[[str], Verdict],
    evaluate_condition: Callable[[Condition, Mapping[str, bool]], bool | None],
) -> list[PresumptionFlag]:
    """The restrictions that bite (or may bite) for this product. A restriction with a condition (``when``)
    bites when the condition holds over the dossier's facts, and may bite when a fact it needs is unknown; one
    without a condition bites whenever a requirement it names applies (is not ``not_applicable``)."""
    if scheme.presumption is None:
        return []
    flags: list[PresumptionFlag] = []
    for restriction in scheme.presumption.restrictions:
        if restriction.when is None:
            applying = [rid for rid in restriction.requirements if verdict_of(rid) is not _N]
            if restriction.requirements and not applying:
                continue
            verb = "applies" if len(applying) == 1 else "apply"
            detail = f"{' and '.join(applying)} {verb} to this product" if applying else "it applies to every product"
            flags.append(PresumptionFlag(restriction, PresumptionState.LOST, detail))
            continue
        holds = evaluate_condition(restriction.when, facts)
        if holds is None:
            unknown = sorted(f for f in restriction.when.facts() if f not in facts)
            detail = f"whether it applies depends on facts not declared: {', '.join(unknown)}"
            flags.append(PresumptionFlag(restriction, PresumptionState.UNDETERMINED, detail))
        elif holds:
            detail = f"the dossier's facts meet its condition ({restriction.when})"
            flags.append(PresumptionFlag(restriction, PresumptionState.LOST, detail))
    return flags


def node_refs(schemes: Sequence[Scheme]) -> dict[str, set[str]]:
    """Scheme id -> every decision-node ref of its trees (``DT.ACM-1.DN-2``), for checking the dossier's answers."""
    out: dict[str, set[str]] = {}
    for scheme in schemes:
        refs = out.setdefault(scheme.id, set())
        for req in scheme.requirements:
            tree = req.decision_tree
            if tree is not None:
                refs.update(tree.node_ref(node) for node in tree.nodes)
    return out
