"""The opt-in summary memo never changes a result: memoised and plain evaluation agree on every variant."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import EXAMPLE_DOSSIER

from cybersafe.assess import needed_checks, run_checks, select_schemes
from cybersafe.checks import BUILTIN_CHECKS
from cybersafe.dossier.facts import derive_facts
from cybersafe.dossier.model import Dossier
from cybersafe.evidence.interface import Evidence
from cybersafe.schemes.catalog import default_catalog
from cybersafe.schemes.evaluate import Evaluator
from cybersafe.schemes.memo import SummaryMemo

BASE = yaml.safe_load(EXAMPLE_DOSSIER.read_text(encoding="utf-8"))
BASE.pop("artefacts", None)


def _variant(
    approach: str,
    signed: bool,
    end: str,
    markets: list[str],
    manual: bool,
    ics_no: bool,
    decisions: bool = True,
    tree_fact: bool | None = False,
) -> Dossier:
    data: dict[str, Any] = yaml.safe_load(yaml.safe_dump(BASE))
    auth = data["declarations"]["authentication"]
    auth["default_password_approach"] = approach
    auth["uses_passwords"] = approach != "none"
    data["declarations"]["update"]["signed"] = signed
    data["declarations"]["support_period"]["end"] = end
    data["markets"] = markets
    if not manual:
        data["manual_results"] = []
    if ics_no:
        data["ics"]["5.6-7"] = {"support": "no"}
    if not decisions:  # decision-tree answers are an input of the summaries too
        data["decisions"] = []
    # a fact a decision tree and a scheme scope read (EN 18031: toy answers DT.ACM-3.DN-1; transfers_money scopes -3)
    for fact in ("toy", "transfers_money"):
        data["facts"].pop(fact, None)
        if tree_fact is not None:
            data["facts"][fact] = tree_fact
    return Dossier.model_validate(data)


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["user-defined", "universal", "unique-per-device", "none"]),
            st.booleans(),
            st.sampled_from(["2027-01-01", "2033-06-30"]),
            st.sampled_from([["us"], ["eu", "uk"], ["sg"]]),
            st.booleans(),
            st.booleans(),
            st.booleans(),
            st.sampled_from([True, False, None]),
        ),
        min_size=2,
        max_size=6,
    )
)
def test_memoised_summaries_equal_full_evaluation(variants: list[tuple[Any, ...]]) -> None:
    catalog = default_catalog()
    now = dt.date(2026, 11, 29)
    memo = SummaryMemo(catalog)
    for args in itertools.chain(variants, variants):  # the second pass hits the memo
        dossier = _variant(*args)
        schemes, _ = select_schemes(catalog, None, dossier)
        attempts = run_checks(BUILTIN_CHECKS, Evidence(dossier=dossier, as_of=now), needed_checks(catalog, schemes))
        memoised = memo.schemes(Evaluator(catalog, attempts, dossier, derive_facts(dossier)), schemes)
        plain = Evaluator(catalog, attempts, dossier, derive_facts(dossier)).schemes(schemes)
        for got, want in zip(memoised, plain, strict=True):
            assert (got.status, got.highest_level, got.counts) == (want.status, want.highest_level, want.counts)
            assert [(lv.level, lv.status, dict(lv.counts)) for lv in got.levels] == [
                (lv.level, lv.status, dict(lv.counts)) for lv in want.levels
            ]
            assert [(r.requirement.key, r.verdict) for r in got.requirements] == [
                (r.requirement.key, r.verdict) for r in want.requirements
            ]
