"""Hypothesis properties of the verdict rules (DESIGN.md, "Verdict rules")."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cybersafe.schemes.algebra import all_of, any_of, any_route, level_status
from cybersafe.schemes.status import SchemeStatus
from cybersafe.verdict import Verdict

verdicts = st.sampled_from(list(Verdict))
verdict_lists = st.lists(verdicts, max_size=8)


@given(verdict_lists)
def test_one_fail_never_yields_pass_under_all(children: list[Verdict]) -> None:
    assert all_of([*children, Verdict.FAIL]) is Verdict.FAIL


@given(verdict_lists)
def test_a_fail_under_any_passes_only_with_a_passing_sibling(children: list[Verdict]) -> None:
    result = any_of([*children, Verdict.FAIL])
    assert (result is Verdict.PASS) == (Verdict.PASS in children)
    # a justification is never a pass, and only a justified sibling makes a failing "any" justified
    assert (result is Verdict.JUSTIFIED) == (Verdict.JUSTIFIED in children and Verdict.PASS not in children)


@given(verdict_lists)
def test_justified_and_pending_never_read_as_pass(children: list[Verdict]) -> None:
    for marker in (Verdict.JUSTIFIED, Verdict.PENDING):
        assert all_of([*children, marker]) is not Verdict.PASS
    # pending blocks "met" but is not a failure: only a scheme body's step is missing
    assert level_status([*children, Verdict.PENDING]) is not SchemeStatus.MEETS


@given(verdict_lists, st.lists(st.sampled_from([Verdict.PASS, Verdict.PENDING]), min_size=1, max_size=3))
def test_failing_evidence_is_never_outranked_by_a_scheme_body_step(
    evidence: list[Verdict], steps: list[Verdict]
) -> None:
    # Given evidence alternatives and grant alternatives (a notified body's certificate, recorded or not)
    result = any_route(evidence, steps)
    # Then evidence that fails fails the node whatever the steps; otherwise a step is one more alternative
    if any_of(evidence) is Verdict.FAIL:
        assert result is Verdict.FAIL
    else:
        assert result is any_of([*evidence, *steps])
    # and the order of the steps does not matter; not_applicable evidence changes nothing
    assert any_route([*evidence, Verdict.NOT_APPLICABLE], steps[::-1]) is result


def test_a_grant_alternative_does_not_hide_a_fail() -> None:
    assert any_route([Verdict.FAIL], [Verdict.PENDING]) is Verdict.FAIL
    assert any_route([Verdict.FAIL], [Verdict.PASS]) is Verdict.FAIL
    assert any_route([Verdict.INCONCLUSIVE], [Verdict.PASS]) is Verdict.PASS
    assert any_route([Verdict.INCONCLUSIVE], [Verdict.PENDING]) is Verdict.INCONCLUSIVE
    assert any_route([Verdict.FAIL, Verdict.INCONCLUSIVE], [Verdict.PENDING]) is Verdict.INCONCLUSIVE
    assert any_route([Verdict.PASS], [Verdict.PENDING]) is Verdict.PASS
    assert any_route([], [Verdict.PENDING]) is Verdict.PENDING


@given(verdict_lists)
def test_not_applicable_never_changes_a_verdict(children: list[Verdict]) -> None:
    assert all_of([*children, Verdict.NOT_APPLICABLE]) is all_of(children)
    assert any_of([*children, Verdict.NOT_APPLICABLE]) is any_of(children)


@given(verdict_lists, st.randoms())
def test_child_order_does_not_matter(children: list[Verdict], rnd: object) -> None:
    shuffled = list(children)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert all_of(shuffled) is all_of(children)
    assert any_of(shuffled) is any_of(children)


@given(verdict_lists)
def test_error_never_becomes_pass_under_all(children: list[Verdict]) -> None:
    assert all_of([*children, Verdict.ERROR]) is not Verdict.PASS


@given(verdict_lists)
def test_error_or_inconclusive_never_becomes_pass_without_a_passing_child(children: list[Verdict]) -> None:
    for blocker in (Verdict.ERROR, Verdict.INCONCLUSIVE, Verdict.PENDING):
        result = any_of([*children, blocker])
        assert result is not Verdict.PASS or Verdict.PASS in children


@given(verdict_lists)
def test_a_level_meets_only_when_every_requirement_passes_is_justified_or_not_applicable(
    children: list[Verdict],
) -> None:
    status = level_status(children)
    met = {Verdict.PASS, Verdict.NOT_APPLICABLE, Verdict.JUSTIFIED}
    assert (status is SchemeStatus.MEETS) == (set(children) <= met)
    assert (status is SchemeStatus.PENDING) == (
        Verdict.PENDING in children and set(children) <= met | {Verdict.PENDING}
    )
    if Verdict.FAIL in children:
        assert status is SchemeStatus.FAILS


def test_empty_all_is_not_applicable_and_single_pass_passes() -> None:
    assert all_of([]) is Verdict.NOT_APPLICABLE
    assert all_of([Verdict.PASS, Verdict.NOT_APPLICABLE]) is Verdict.PASS
    assert any_of([Verdict.FAIL, Verdict.INCONCLUSIVE]) is Verdict.INCONCLUSIVE
    assert any_of([Verdict.FAIL, Verdict.ERROR]) is Verdict.ERROR
    assert any_of([Verdict.FAIL, Verdict.NOT_APPLICABLE]) is Verdict.FAIL
