"""The Cyber Trust Mark's registry items, 47 CFR 8.222(b)(1)-(10): each is judged on its own item (standards.md 2.5)."""

from __future__ import annotations

from tests.support import NOW, dossier

from cybersafe.assess import assess_dossier
from cybersafe.to_wire import to_assessment


def test_a_missing_registry_item_makes_only_its_own_requirement_inconclusive() -> None:
    # Given the example without a support period (registry item (9)) and without a CTM grant
    changed = dossier(base="example", patch={"declarations": {"support_period": None}}, grants=[])
    # When the Cyber Trust Mark is judged
    run = assess_dossier(changed, now=NOW, scheme_refs=("us-ctm",), plans=False)
    ctm = next(s for s in to_assessment(run).schemes if s.scheme == "us-ctm")
    verdicts = {r.id: str(r.verdict) for r in ctm.requirements if r.id.startswith("8.222(b)")}
    # Then only (9) is inconclusive; the product and manufacturer names pass, and the items set at grant stay pending
    assert verdicts == {
        "8.222(b)(1)": "pass",
        "8.222(b)(2)": "pass",
        "8.222(b)(3)": "pending",
        "8.222(b)(4)": "pending",
        "8.222(b)(5)": "pending",
        "8.222(b)(6)": "pass",
        "8.222(b)(7)": "pass",
        "8.222(b)(8)": "pass",
        "8.222(b)(9)": "inconclusive",
        "8.222(b)(10)": "pass",
    }
    item_1 = next(r for r in ctm.requirements if r.id == "8.222(b)(1)")
    assert "support period" not in item_1.reason
