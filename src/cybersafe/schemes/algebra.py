"""The verdict algebra: how leaf verdicts combine, how a level's verdicts give a status, three-valued conditions.

Rules (DESIGN.md, "Verdict rules"):

- ``all``: fail if any fail; else error; else inconclusive; else pending; else justified; else pass if any
  pass; else not_applicable.
- ``any``: pass if any pass; else justified if any justified; else fail if any fail and none inconclusive,
  error or pending; else error, inconclusive or pending in that order; else not_applicable.
- ``any`` with a scheme body's step among its alternatives (``grant:``, a notified body's certificate beside the
  harmonised standard): the step is another conformity-assessment procedure for the same requirement, not
  evidence about the product. The evidence alternatives are combined by ``any`` first; when they fail, the
  node fails whether the step is recorded or not (a certificate does not make failing evidence go away, and an
  unrecorded one never makes a failing product read pending); otherwise the step is one more alternative.
- A level (or a scheme without levels) is met when every requirement that counts is pass, justified or
  not_applicable; it fails when one fails; it is pending when only a scheme body's step is missing;
  incomplete otherwise.

Hypothesis properties hold them: one fail never yields a pass; adding not_applicable never changes a
verdict; the verdict is independent of the order of children.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from cybersafe.schemes.interface import Condition
from cybersafe.schemes.status import SchemeStatus
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
_ALL_ORDER = (_F, _E, _I, _W, _J, _P)
_BLOCKING_FAIL = frozenset({_I, _E, _W})
_MET = frozenset({_P, _N, _J})
_MET_OR_PENDING = _MET | {_W}


def all_of(verdicts: Iterable[Verdict]) -> Verdict:
    seen = set(verdicts)
    for verdict in _ALL_ORDER:
        if verdict in seen:
            return verdict
    return _N


def any_of(verdicts: Iterable[Verdict]) -> Verdict:
    seen = set(verdicts)
    if _P in seen:
        return _P
    if _J in seen:
        return _J
    if _F in seen and not seen & _BLOCKING_FAIL:
        return _F
    for verdict in (_E, _I, _W):
        if verdict in seen:
            return verdict
    return _N


def any_route(evidence: Iterable[Verdict], procedures: Iterable[Verdict]) -> Verdict:
    """``any`` over evidence alternatives and scheme-body steps (grants): failing evidence is never outranked by
    a step, recorded (pass) or not (pending); otherwise the steps are alternatives like any other."""
    shown = any_of(evidence)
    if shown is _F:
        return _F
    return any_of((shown, *procedures))


def level_status(verdicts: Iterable[Verdict]) -> SchemeStatus:
    seen = set(verdicts)
    if _F in seen:
        return SchemeStatus.FAILS
    if seen <= _MET:
        return SchemeStatus.MEETS
    if seen <= _MET_OR_PENDING:
        return SchemeStatus.PENDING
    return SchemeStatus.INCOMPLETE


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
