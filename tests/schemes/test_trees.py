"""Decision trees as data (schemes/trees.py): loading, walking, answering, deciding, presumption restrictions.

A small catalog written per test exercises the rules; hypothesis holds the two safety properties: a walk that
ends in FAIL never yields a pass, and a walk stopped on an unanswered node never yields a pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.support import dossier as make_dossier

from cybersafe.checks.interface import CheckAttempt, Finding
from cybersafe.dossier.facts import derive_facts
from cybersafe.dossier.model import DecisionAnswer, Dossier
from cybersafe.errors import CatalogError, DossierError
from cybersafe.schemes.catalog import Catalog, load_catalog
from cybersafe.schemes.evaluate import Evaluator, evaluate_condition
from cybersafe.schemes.interface import Confidence, Leaf, LeafKind, Node, Obligation, Requirement, Source
from cybersafe.schemes.status import SchemeStatus
from cybersafe.schemes.trees import (
    Answer,
    AnswerRule,
    DecisionNode,
    DecisionTree,
    DossierAnswers,
    PresumptionState,
    TreeJudge,
    decide,
    presumption_flags,
)
from cybersafe.verdict import AttemptStatus, ErrorReason, Severity, Verdict

SCHEME = """
schema: cybersafe/catalog/v1
scheme:
  id: {id}
  version: "1"
  title: Tree test
  short_title: TT
  jurisdiction: eu
  markets: []
  kind: standard
  modelled: true
  current: true
  dates: {{confidence: unconfirmed}}
  source: {{document: test}}
  scope: {{condition: wireless, text: radio equipment}}
  conditions: {{wireless: radio equipment, password_optional: the password may be skipped,
                network_equipment: it provides connectivity to other devices}}
  assets:
    - {{id: security, name: security asset, description: a security function or parameter}}
  presumption:
    act: {{document: test decision}}
    presumes: test article
    restrictions:
      - {{id: optional-password, requirements: [R1], clauses: "1.1", when: password_optional, text: t, effect: e,
          confidence: secondary}}
      - {{id: always, requirements: [R2], clauses: "1.2", text: t, effect: e, confidence: secondary}}
requirements:
  - id: R1
    title: Access control
    text: paraphrase
    obligation: mandatory
    source: {{document: test}}
    decision_tree:
      id: DT.R1
      subject: each security asset
      assets: [security]
      confidence: secondary
      functional: network.default-credentials
      nodes:
        - {{id: DN-1, question: "Is an exception met?", if_yes: NOT_APPLICABLE, if_no: DN-2}}
        - id: DN-2
          question: "Is there a mechanism?"
          if_yes: PASS
          if_no: FAIL
          answers:
            - {{by: network.default-credentials, when: fail, means: no}}
            - {{by: "declaration:authentication.user_authentication", means: yes}}
  - id: R2
    title: Follows R1
    text: paraphrase
    obligation: mandatory
    source: {{document: test}}
    decision_tree:
      id: DT.R2
      subject: each mechanism R1 requires
      confidence: derived
      needs: [R1]
      nodes:
        - {{id: DN-1, question: "Does it work?", if_yes: PASS, if_no: FAIL}}
  - id: R3
    title: Unconfirmed branch
    text: paraphrase
    obligation: mandatory
    source: {{document: test}}
    decision_tree:
      id: DT.R3
      subject: the equipment
      confidence: unconfirmed
      nodes:
        - {{id: DN-1, question: "Is it immutable?", if_yes: OPEN, if_no: PASS}}
  - id: R4
    title: Network equipment only
    text: paraphrase
    obligation: mandatory
    source: {{document: test}}
    decision_tree:
      id: DT.R4
      subject: the equipment
      confidence: derived
      nodes:
        - {{id: DN-1, question: "Is it network equipment?", if_yes: DN-2, if_no: NOT_APPLICABLE,
            answers: [{{fact: network_equipment}}]}}
        - {{id: DN-2, question: "Does it monitor traffic?", if_yes: PASS, if_no: FAIL}}
"""


def _catalog(tmp_path: Path, *ids: str) -> Catalog:
    for scheme_id in ids or ("tree-a",):
        (tmp_path / f"{scheme_id}-1.yaml").write_text(SCHEME.format(id=scheme_id), encoding="utf-8")
    return load_catalog(tmp_path)


def _dossier(
    decisions: Iterable[dict[str, Any]] = (),
    facts: Mapping[str, bool] | None = None,
    manual: Iterable[dict[str, Any]] = (),
    **decl: Any,
) -> Dossier:
    return make_dossier(
        patch={"product": {"wireless": True}},
        facts=dict(facts or {}),
        declarations=decl,
        decisions=[{"justification": "because", **d} for d in decisions],
        manual_results=list(manual),
    )


def _attempt(check_id: str, verdict: Verdict) -> CheckAttempt:
    if verdict is Verdict.ERROR:
        return CheckAttempt(check_id, AttemptStatus.ERROR, reason=ErrorReason.BUG, detail="boom")
    return CheckAttempt(check_id, AttemptStatus.COMPLETED, findings=(Finding(check_id, verdict, Severity.HIGH, "x"),))


def _evaluator(catalog: Catalog, dossier: Dossier, *attempts: CheckAttempt) -> Evaluator:
    return Evaluator(catalog, {a.check_id: a for a in attempts}, dossier, derive_facts(dossier))


AUTH = {"uses_passwords": True, "default_password_approach": "user-defined", "user_authentication": True}
NO_EXCEPTION = {"node": "DT.R1.DN-1", "answer": "no"}


# ------------------------------------------------------------------------------------------------ walking


def test_an_unanswered_node_is_an_open_question_never_a_pass(tmp_path: Path) -> None:
    # Given a tree whose first node nothing answers
    result = _evaluator(_catalog(tmp_path), _dossier()).requirement_key("tree-a@1:R1")
    # Then the requirement is inconclusive and the question is listed for the assessor, with the subject
    assert result.verdict is Verdict.INCONCLUSIVE
    assert result.missing == (
        "DT.R1.DN-1 (each security asset): Is an exception met? - answer yes or no with a justification in the "
        "dossier's decisions; no evidence answers it",
    )


def test_dossier_answers_and_evidence_walk_to_pass_once_functional_evidence_passes(tmp_path: Path) -> None:
    # Given the exception answered "no" in the dossier, the mechanism declared, and the functional check passing
    dossier = _dossier([NO_EXCEPTION], authentication=AUTH)
    result = _evaluator(_catalog(tmp_path), dossier, _attempt("network.default-credentials", Verdict.PASS))
    got = result.requirement_key("tree-a@1:R1")
    # Then the walk reaches PASS and the reason shows the path and where each answer came from
    assert got.verdict is Verdict.PASS
    assert "DN-1 no, DN-2 yes -> PASS" in got.reason
    assert "dossier decision: because" in got.reason
    assert "declaration:authentication.user_authentication pass" in got.reason
    assert "functional assessment: pass" in got.reason


def test_a_pass_without_functional_evidence_stays_inconclusive(tmp_path: Path) -> None:
    dossier = _dossier([NO_EXCEPTION], authentication=AUTH)
    got = _evaluator(_catalog(tmp_path), dossier).requirement_key("tree-a@1:R1")
    assert got.verdict is Verdict.INCONCLUSIVE
    assert got.missing == ("network.default-credentials: check not run in this assessment",)


def test_evidence_answers_before_the_dossier_and_a_contradiction_is_reported(tmp_path: Path) -> None:
    # Given the dossier answers DN-2 "yes" and the declaration agrees, but the device check fails
    dossier = _dossier([NO_EXCEPTION, {"node": "DT.R1.DN-2", "answer": "yes"}], authentication=AUTH)
    got = _evaluator(_catalog(tmp_path), dossier, _attempt("network.default-credentials", Verdict.FAIL))
    result = got.requirement_key("tree-a@1:R1")
    # Then the first rule that fires (the failing check) answers "no": the requirement fails
    assert result.verdict is Verdict.FAIL
    assert "DN-2: network.default-credentials fail" in result.reason
    assert "contradicted by declaration:authentication.user_authentication" in result.reason


@pytest.mark.parametrize(
    "declared", [pytest.param({}, id="nothing-else-fired"), pytest.param(AUTH, id="declaration-fired")]
)
def test_errored_evidence_stops_the_walk_and_nothing_covers_it(tmp_path: Path, declared: dict[str, Any]) -> None:
    # Given the check that answers DN-2 errored, the dossier answers DN-2 "yes" (and maybe a declaration says yes)
    dossier = _dossier(
        [NO_EXCEPTION, {"node": "DT.R1.DN-2", "answer": "yes"}], **({"authentication": declared} if declared else {})
    )
    got = _evaluator(_catalog(tmp_path), dossier, _attempt("network.default-credentials", Verdict.ERROR))
    result = got.requirement_key("tree-a@1:R1")
    # Then the requirement reads error, never pass: the errored check might have answered the other way
    assert result.verdict is Verdict.ERROR
    assert result.missing == ("DT.R1.DN-2: evidence errored: network.default-credentials",)


def test_each_named_subject_is_walked_and_one_failing_subject_fails_the_requirement(tmp_path: Path) -> None:
    decisions = [
        {"node": "DT.R1.DN-1", "subject": "admin password", "answer": "no"},
        {"node": "DT.R1.DN-1", "subject": "public status page", "answer": "yes"},
        {"node": "DT.R1.DN-2", "subject": "admin password", "answer": "no"},
    ]
    got = _evaluator(_catalog(tmp_path), _dossier(decisions)).requirement_key("tree-a@1:R1")
    assert got.verdict is Verdict.FAIL
    assert "[admin password] DN-1 no, DN-2 no -> FAIL" in got.reason
    assert "[public status page] DN-1 yes -> NOT_APPLICABLE" in got.reason


def test_a_scheme_prefixed_answer_answers_for_that_scheme_only(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path, "tree-a", "tree-b")
    dossier = _dossier([{"node": "tree-b:DT.R1.DN-1", "answer": "yes"}])
    evaluator = _evaluator(catalog, dossier)
    assert evaluator.requirement_key("tree-b@1:R1").verdict is Verdict.NOT_APPLICABLE
    assert evaluator.requirement_key("tree-a@1:R1").verdict is Verdict.INCONCLUSIVE


def test_a_tree_whose_prerequisite_is_not_applicable_is_not_applicable(tmp_path: Path) -> None:
    dossier = _dossier([{"node": "DT.R1.DN-1", "answer": "yes"}])
    got = _evaluator(_catalog(tmp_path), dossier).requirement_key("tree-a@1:R2")
    assert got.verdict is Verdict.NOT_APPLICABLE
    assert got.reason == "DT.R2: not applicable, as R1 is not applicable"


def test_an_open_branch_asks_for_the_assessors_outcome_and_a_manual_result_closes_it(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    dossier = _dossier([{"node": "DT.R3.DN-1", "answer": "yes"}])
    got = _evaluator(catalog, dossier).requirement_key("tree-a@1:R3")
    assert got.verdict is Verdict.INCONCLUSIVE
    assert "not confirmed by a public source; record the outcome of R3 as a manual result tree-a:R3" in got.missing[0]
    recorded = [{"id": "tree-a:R3", "verdict": "pass", "by": "Lab", "at": "2026-01-01"}]
    closed = _dossier([{"node": "DT.R3.DN-1", "answer": "yes"}], manual=recorded)
    assert _evaluator(catalog, closed).requirement_key("tree-a@1:R3").verdict is Verdict.PASS


@pytest.mark.parametrize(
    ("network_equipment", "verdict", "text"),
    [
        pytest.param(False, Verdict.NOT_APPLICABLE, "DN-1 no -> NOT_APPLICABLE (DN-1: fact network_equipment = false)", id="not-network-equipment"),
        pytest.param(True, Verdict.INCONCLUSIVE, "DN-1 yes -> DN-2 unanswered", id="network-equipment"),
        pytest.param(None, Verdict.INCONCLUSIVE, "-> DN-1 unanswered", id="undeclared"),
    ],
)  # fmt: skip
def test_a_dossier_fact_answers_a_node(
    tmp_path: Path, network_equipment: bool | None, verdict: Verdict, text: str
) -> None:
    facts = {} if network_equipment is None else {"network_equipment": network_equipment}
    got = _evaluator(_catalog(tmp_path), _dossier(facts=facts)).requirement_key("tree-a@1:R4")
    assert got.verdict is verdict
    assert text in got.reason
    if network_equipment is None:
        assert "fact network_equipment = not declared" in got.missing[0]


def test_out_of_scope_when_the_scope_condition_is_false(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    dossier = Dossier.model_validate(_dossier().wire() | {"facts": {"wireless": False}})
    result = _evaluator(catalog, dossier).scheme(catalog.scheme("tree-a"))
    assert result.status is SchemeStatus.OUT_OF_SCOPE


# ------------------------------------------------------------------------------------------------ dossier answers


def test_an_answer_to_a_node_no_tree_has_is_one_line_naming_the_field(tmp_path: Path) -> None:
    dossier = _dossier([{"node": "DT.R9.DN-1", "answer": "no"}])
    with pytest.raises(DossierError, match=r"decisions\[0\]\.node: no decision node DT\.R9\.DN-1 in any scheme"):
        _evaluator(_catalog(tmp_path), dossier)


def test_an_answer_for_an_unknown_scheme_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DossierError, match=r"no decision node DT\.R1\.DN-1 in scheme zz"):
        _evaluator(_catalog(tmp_path), _dossier([{"node": "zz:DT.R1.DN-1", "answer": "no"}]))


@pytest.mark.parametrize(("raw", "answer"), [(True, "yes"), (False, "no"), ("yes", "yes"), ("no", "no")])
def test_an_unquoted_yaml_yes_or_no_is_read_as_the_answer(raw: object, answer: str) -> None:
    given = DecisionAnswer.model_validate({"node": "DT.R1.DN-1", "answer": raw, "justification": "j"})
    assert given.answer == answer


# ------------------------------------------------------------------------------------------------ catalog data


def _broken(tmp_path: Path, old: str, new: str) -> CatalogError:
    text = SCHEME.format(id="tree-a")
    assert old in text
    (tmp_path / "tree-a-1.yaml").write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        load_catalog(tmp_path)
    return caught.value


@pytest.mark.parametrize(
    ("old", "new", "message", "field"),
    [
        pytest.param("if_no: DN-2}", "if_no: DN-7}", "leads to 'DN-7'", "requirements[0].decision_tree.nodes[0].if_no",
                     id="unknown-target"),
        pytest.param("if_yes: PASS\n          if_no: FAIL", "if_yes: DN-1\n          if_no: FAIL", "loop back to DN-1",
                     "requirements[0].decision_tree.nodes", id="loop"),
        pytest.param("if_yes: NOT_APPLICABLE, if_no: DN-2}", "if_yes: NOT_APPLICABLE, if_no: PASS}",
                     "cannot be reached", "requirements[0].decision_tree.nodes", id="unreachable"),
        pytest.param("assets: [security]", "assets: [radio]", "unknown asset class 'radio'",
                     "requirements[0].decision_tree.assets", id="unknown-asset"),
        pytest.param("needs: [R1]", "needs: [R7]", "needs 'R7'", "requirements[1].decision_tree.needs",
                     id="unknown-prerequisite"),
        pytest.param("requirements: [R2]", "requirements: [R8]", "unknown requirement 'R8'",
                     "scheme.presumption.restrictions[1]", id="restriction-requirement"),
        pytest.param("answers: [{fact: network_equipment}]", "answers: [{fact: router}]",
                     "fact 'router' is not declared", "requirements[3].decision_tree", id="undeclared-tree-fact"),
        pytest.param("when: password_optional", "when: skippable", "fact 'skippable' is not declared",
                     "scheme.presumption.restrictions[0].when", id="undeclared-restriction-fact"),
    ],
)  # fmt: skip
def test_inconsistent_tree_data_is_one_line_naming_file_line_and_field(
    tmp_path: Path, old: str, new: str, message: str, field: str
) -> None:
    error = _broken(tmp_path, old, new)
    assert message in str(error)
    assert error.field == field
    assert error.file is not None and error.file.endswith("tree-a-1.yaml") and error.line


def test_an_answer_rule_mixing_both_forms_is_refused_by_the_schema(tmp_path: Path) -> None:
    error = _broken(tmp_path, "{by: network.default-credentials, when: fail, means: no}",
                    "{by: network.default-credentials, when: fail, yes_when: pass}")  # fmt: skip
    assert "decision_tree.nodes[1].answers[0]" in str(error)


# ------------------------------------------------------------------------------------------------ presumption


@pytest.mark.parametrize(
    ("password_optional", "states"),
    [
        pytest.param(True, {"optional-password": PresumptionState.LOST}, id="user-may-skip-password"),
        pytest.param(False, {}, id="password-required"),
        pytest.param(None, {"optional-password": PresumptionState.UNDETERMINED}, id="not-declared"),
    ],
)
def test_a_restriction_with_a_condition_is_flagged_by_the_dossier_facts(
    tmp_path: Path, password_optional: bool | None, states: dict[str, PresumptionState]
) -> None:
    catalog = _catalog(tmp_path)
    auth = dict(AUTH) | ({} if password_optional is None else {"password_optional": password_optional})
    dossier = _dossier([{"node": "DT.R1.DN-1", "answer": "yes"}], authentication=auth)
    evaluator = _evaluator(catalog, dossier)
    scheme = catalog.scheme("tree-a")
    flags = presumption_flags(
        scheme,
        evaluator.facts,
        lambda rid: evaluator.requirement_key(f"tree-a@1:{rid}").verdict,
        evaluate_condition,
    )
    # R2 is not applicable (R1 is), so the unconditional restriction on R2 does not bite
    assert {f.restriction.id: f.state for f in flags} == states


def test_a_restriction_without_condition_bites_whenever_its_requirement_applies(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    evaluator = _evaluator(catalog, _dossier(authentication=AUTH | {"password_optional": False}))
    flags = presumption_flags(
        catalog.scheme("tree-a"), evaluator.facts, lambda rid: evaluator.requirement_key(f"tree-a@1:{rid}").verdict,
        evaluate_condition,
    )  # fmt: skip
    assert [(f.restriction.id, f.state, f.detail) for f in flags] == [
        ("always", PresumptionState.LOST, "R2 applies to this product")
    ]


# ------------------------------------------------------------------------------------------------ properties


class _StubEvaluator:
    """Leaf verdicts from a table; everything else neutral."""

    def __init__(self, verdicts: Mapping[Leaf, Verdict], functional: Verdict) -> None:
        self.facts: dict[str, bool] = {}
        self.as_of = None  # every answer counts, whatever its date
        self._verdicts = verdicts
        self._functional = functional

    def tree_verdict(self, node: Node) -> Verdict:
        if isinstance(node, Leaf):
            if node.kind is LeafKind.MANUAL:
                return self._functional
            return self._verdicts.get(node, Verdict.INCONCLUSIVE)
        return Verdict.INCONCLUSIVE

    def leaf_detail(self, leaf: Leaf) -> str | None:
        return None

    def requirement_verdict(self, key: str) -> Verdict:
        return Verdict.PASS

    def missing_in(self, node: Node) -> Iterable[str]:
        return ["functional"]


_TARGETS = ("PASS", "FAIL", "NOT_APPLICABLE", "OPEN")


_EVIDENCE = tuple(Leaf(LeafKind.CHECK, f"family.check-{i}") for i in range(3))


@st.composite
def _trees(draw: st.DrawFn) -> DecisionTree:
    size = draw(st.integers(1, 5))
    nodes = []
    for i in range(1, size + 1):
        later = [f"DN-{j}" for j in range(i + 1, size + 1)]
        yes, no = (draw(st.sampled_from((*_TARGETS, *later))) for _ in range(2))
        rules = tuple(
            AnswerRule(draw(st.sampled_from(list(Answer))), draw(st.sampled_from([Verdict.PASS, Verdict.FAIL])), leaf)
            for leaf in draw(st.lists(st.sampled_from(_EVIDENCE), max_size=2))
        )
        nodes.append(DecisionNode(f"DN-{i}", f"question {i}?", yes, no, rules))
    return DecisionTree("DT.R", "each thing", tuple(nodes), Confidence.DERIVED, functional=Leaf(LeafKind.MANUAL, "f"))


_ANSWERS = st.sampled_from(["yes", "no", None])


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(
    tree=_trees(),
    answers=st.lists(st.dictionaries(st.integers(1, 5), _ANSWERS), min_size=1, max_size=3),
    functional=st.sampled_from(list(Verdict)),
    evidence=st.fixed_dictionaries({leaf: st.sampled_from(list(Verdict)) for leaf in _EVIDENCE}),
)
def test_no_fail_outcome_and_no_unanswered_node_ever_yields_pass(
    tree: DecisionTree, answers: list[dict[int, str | None]], functional: Verdict, evidence: dict[Leaf, Verdict]
) -> None:
    # Given any tree, any set of subjects with any answers (some nodes unanswered), any evidence answering nodes
    # (some of it errored) and any functional evidence
    index = DossierAnswers()
    for s, answered in enumerate(answers):
        for number, answer in answered.items():
            if answer is not None:
                index.by_key[(None, f"DT.R.DN-{number}", f"s{s}")] = DecisionAnswer(
                    node=f"DT.R.DN-{number}", answer=answer, justification="j", subject=f"s{s}"
                )
    req = Requirement("p@1", "R", "t", "x", Obligation.MANDATORY, Source("d"), decision_tree=tree)
    judge = TreeJudge(_StubEvaluator(evidence, functional), index)
    decision = decide(req, tree, judge)
    outcomes = [w.outcome for w in decision.walks]
    # An errored leaf read on any walked node never lets the requirement pass
    read = {rule.node for w in decision.walks for s in w.steps for rule in s.node.rules}
    if any(evidence[leaf] is Verdict.ERROR for leaf in _EVIDENCE if leaf in read):
        assert decision.verdict is not Verdict.PASS
    # Then a FAIL anywhere fails it, an unanswered node or an OPEN branch anywhere keeps it from passing,
    # and a pass needs every walk to end in PASS or NOT_APPLICABLE and the functional evidence to pass
    if "FAIL" in outcomes:
        assert decision.verdict is Verdict.FAIL
    if None in outcomes or "OPEN" in outcomes:
        assert decision.verdict is not Verdict.PASS
    if decision.verdict is Verdict.PASS:
        assert set(outcomes) <= {"PASS", "NOT_APPLICABLE"} and "PASS" in outcomes
        assert functional in (Verdict.PASS, Verdict.NOT_APPLICABLE)
    # And the order the subjects are named in does not change the verdict
    reordered = DossierAnswers(dict(reversed(list(index.by_key.items()))))
    assert decide(req, tree, TreeJudge(_StubEvaluator(evidence, functional), reordered)).verdict is decision.verdict
