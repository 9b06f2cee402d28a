"""Scheme paperwork: every kind lists what the dossier still lacks, what a person must add, and blockers."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from cybersafe.errors import RenderError
from cybersafe.render.paperwork import (
    Gap,
    PaperworkKind,
    build_paperwork,
    paperwork_files,
    render_markdown,
)
from cybersafe.results import Assessment
from tests.render.helpers import with_dossier

NOW = dt.datetime(2026, 11, 3, 12, tzinfo=dt.UTC)


def _keys(items: Any) -> set[str]:
    return {i.key for i in items}


@pytest.mark.parametrize(
    ("kind", "files"),
    [
        pytest.param(PaperworkKind.PSTI_STATEMENT, {"psti-statement.md", "psti-statement.html"}, id="psti"),
        pytest.param(PaperworkKind.CRA_USER_INFO, {"cra-user-info.md", "cra-user-info.html"}, id="cra"),
        pytest.param(PaperworkKind.EU_DOC, {"eu-doc.md", "eu-doc.html"}, id="doc"),
        pytest.param(PaperworkKind.CTM_REGISTRY, {"ctm-registry.md", "ctm-registry.json"}, id="ctm"),
    ],
)
def test_every_kind_writes_its_files(sample: Assessment, kind: PaperworkKind, files: set[str]) -> None:
    result = paperwork_files(kind, sample, now=NOW)
    assert set(result.files) == files
    for name, data in result.files.items():
        text = data.decode()
        assert "Acme Smart Camera" in text, name
        assert NOW.isoformat() in text, name


def test_psti_statement_is_ready_when_the_scheme_is_met(sample: Assessment) -> None:
    # Given the sample: uk-psti meets, the dossier has name, address and support period
    doc = build_paperwork(PaperworkKind.PSTI_STATEMENT, sample, now=NOW)
    # Then nothing is missing and only the signature and batch are left for a person
    assert doc.ready and not doc.missing and not doc.blocking
    assert _keys(doc.by_hand) == {"batch", "signatory", "place_date", "signature"}
    values = {i.key: i.value for i in doc.items}
    assert values["support_period_end"] == "2031-12-31"
    assert values["req_passwords"] is not None and values["req_passwords"].startswith("pass")


def test_psti_statement_lists_missing_dossier_input(sample: Assessment) -> None:
    # Given a dossier without manufacturer address and without a support period
    def strip(d: dict[str, Any]) -> None:
        del d["product"]["manufacturer"]["address"]
        del d["declarations"]["support_period"]

    doc = build_paperwork(PaperworkKind.PSTI_STATEMENT, with_dossier(sample, strip), now=NOW)
    # Then both are listed as missing, with the dossier path to fill in
    missing = {i.key: i.source for i in doc.missing}
    assert missing["manufacturer_address"] == "product.manufacturer.address"
    assert missing["support_period_end"] == "declarations.support_period.end"
    assert not doc.ready
    md = render_markdown(doc)
    assert "## Still missing from the dossier" in md and "`product.manufacturer.address`" in md


def test_cra_user_info_lists_every_annex_ii_point(sample: Assessment) -> None:
    doc = build_paperwork(PaperworkKind.CRA_USER_INFO, sample, now=NOW)
    clauses = {i.clause for i in doc.items}
    expected = {f"Annex II {n}" for n in range(1, 10) if n != 8} | {f"Annex II 8({c})" for c in "abcdef"}
    assert clauses == expected
    # The sample lacks foreseeable misuse, DoC address, support type, 8(b), 8(d), 8(e) and 8(f)
    assert _keys(doc.missing) == {
        "foreseeable_misuse", "doc_url", "support_type", "data_security_changes", "decommissioning",
        "disable_automatic_updates", "integrator_information",
    }  # fmt: skip


def test_cra_user_info_not_applicable_items_are_not_missing(sample: Assessment) -> None:
    # Given: no automatic updates by default, not for integration, and the remaining items declared
    def complete(d: dict[str, Any]) -> None:
        d["product"]["foreseeable_misuse"] = "Exposing the camera's port to the internet."
        d["facts"] = {"integrated_into_other_products": False}
        d["declarations"]["update"]["automatic_by_default"] = False
        d["declarations"]["support_period"]["type_of_support"] = "security updates"
        d["declarations"]["user_information"] |= {
            "declaration_of_conformity_url": "https://acme.example/doc",
            "data_security_change_effects": "Changing cloud settings affects retention.",
            "decommissioning_instructions": "Factory reset, then remove from the app.",
        }

    doc = build_paperwork(PaperworkKind.CRA_USER_INFO, with_dossier(sample, complete), now=NOW)
    # Then nothing is missing, and 8(e), 8(f) and 9 read as not applicable
    assert doc.missing == ()
    na = {i.key for i in doc.items if i.gap is Gap.NOT_APPLICABLE}
    assert na == {"disable_automatic_updates", "integrator_information", "sbom_url"}
    assert doc.ready


def test_eu_doc_is_blocked_while_the_cra_is_not_met(sample: Assessment) -> None:
    doc = build_paperwork(PaperworkKind.EU_DOC, sample, now=NOW)
    assert doc.blocking[0].startswith("EU CRA status in this assessment is 'fails'")
    assert any("I-2(a)" in b for b in doc.blocking)
    assert [i.clause for i in doc.items][:5] == [f"Annex V {n}" for n in range(1, 6)]
    # important class I: a notified body may be needed, so it is a by-hand item, not "not applicable"
    assert "notified_body" in _keys(doc.by_hand)
    assert "sole responsibility of Acme Devices Ltd" in render_markdown(doc)


def test_eu_doc_default_class_needs_no_notified_body(sample: Assessment) -> None:
    doc = build_paperwork(
        PaperworkKind.EU_DOC,
        with_dossier(sample, lambda d: d["product"].__setitem__("cra_product_class", "default")),
        now=NOW,
    )
    item = next(i for i in doc.items if i.key == "notified_body")
    assert item.gap is Gap.NOT_APPLICABLE
    assert "module A" in next(i.value for i in doc.items if i.key == "procedure" and i.value)


def test_ctm_registry_record_has_the_8_222_b_fields(sample: Assessment) -> None:
    result = paperwork_files(PaperworkKind.CTM_REGISTRY, sample, now=NOW)
    record = json.loads(result.files["ctm-registry.json"])
    clauses = [f["clause"] for f in record["fields"].values()]
    assert clauses == [f"8.222(b)({n})" for n in range(1, 11)]
    assert record["fields"]["support_period_end"]["value"] == "2031-12-31"
    assert record["fields"]["lab"]["value"] == "Example Test Lab"
    assert record["fields"]["cla"]["gap"] == "by-hand"
    assert record["ready"] is False and record["blocking"]


def test_ctm_registry_missing_and_alternative_statements(sample: Assessment) -> None:
    # Given a dossier without lab, secure-configuration link or SBOM declaration, whose product uses no passwords
    def strip(d: dict[str, Any]) -> None:
        del d["assessment"]["lab"]
        del d["declarations"]["user_information"]["secure_configuration_url"]
        del d["declarations"]["sbom"]
        d["declarations"]["authentication"] = {"uses_passwords": False, "default_password_approach": "none"}

    doc = build_paperwork(PaperworkKind.CTM_REGISTRY, with_dossier(sample, strip), now=NOW)
    assert _keys(doc.missing) == {"lab", "secure_configuration", "sbom_hbom"}
    values = {i.key: i.value for i in doc.items}
    assert values["default_password"] == "The product uses no passwords."


def test_markdown_cells_are_escaped(sample: Assessment) -> None:
    hostile = with_dossier(sample, lambda d: d["product"].__setitem__("intended_purpose", "a | b <img src=x>"))
    md = render_markdown(build_paperwork(PaperworkKind.CRA_USER_INFO, hostile, now=NOW))
    assert "a \\| b &lt;img src=x&gt;" in md and "<img" not in md


def test_html_is_escaped(sample: Assessment) -> None:
    hostile = with_dossier(sample, lambda d: d["product"].__setitem__("intended_purpose", "<script>x</script>"))
    html = paperwork_files(PaperworkKind.CRA_USER_INFO, hostile, now=NOW).files["cra-user-info.html"].decode()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_an_invalid_dossier_names_the_field(sample: Assessment) -> None:
    data = json.loads(sample.to_json())
    data["dossier"]["product"]["cra_product_class"] = "galactic"
    broken = Assessment.model_validate(data)
    with pytest.raises(RenderError, match=r"^dossier\.product\.cra_product_class: "):
        build_paperwork(PaperworkKind.EU_DOC, broken, now=NOW)
