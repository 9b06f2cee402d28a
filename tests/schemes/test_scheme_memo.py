"""The opt-in summary memo never changes a result: memoised and plain evaluation agree on every variant."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.support import TODAY, dossier

from cybersafe.assess import needed_checks, run_checks, select_schemes
from cybersafe.checks import BUILTIN_CHECKS
from cybersafe.dossier.facts import derive_facts
from cybersafe.dossier.model import Dossier
from cybersafe.evidence.interface import Evidence
from cybersafe.schemes.catalog import default_catalog
from cybersafe.schemes.evaluate import Evaluator
from cybersafe.schemes.memo import SummaryMemo


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
    patch: dict[str, Any] = {
        "declarations": {
            "authentication": {"default_password_approach": approach, "uses_passwords": approach != "none"},
            "update": {"signed": signed},
            "support_period": {"end": end},
        },
        "markets": markets,
    }
    if not manual:
        patch["manual_results"] = []
    if ics_no:
        patch["ics"] = {"5.6-7": {"support": "no"}}
    if not decisions:  # decision-tree answers are an input of the summaries too
        patch["decisions"] = []
    # a fact a decision tree and a scheme scope read (EN 18031: toy answers DT.ACM-3.DN-1; transfers_money scopes -3);
    # None removes it
    patch["facts"] = {"toy": tree_fact, "transfers_money": tree_fact}
    return dossier(base="example", patch=patch)


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
    now = TODAY
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
