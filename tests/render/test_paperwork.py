"""Scheme paperwork: every kind lists what the dossier still lacks, what a person must add, and blockers.

Document kinds are data (src/cybersafe/render/data/paperwork/*.yaml); these tests hold the bundled kinds to
their golden files, show that a new kind is one data file, and that verdicts are the assessment's own.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cybersafe.errors import PaperworkDataError, RenderError
from cybersafe.render.paperwork import (
    Gap,
    build_paperwork,
    document_kinds,
    paperwork_files,
    render_html,
    render_markdown,
)
from cybersafe.render.paperwork_kinds import kinds_dir, load_kind
from cybersafe.results import Assessment
from cybersafe.schemes.catalog import default_catalog
from tests.render.helpers import GOLDEN, REPORT_NOW
from tests.support import check_golden, with_dossier

NOW = REPORT_NOW  # the render sample is reported at this instant (tests/render/helpers.py)
BUNDLED = sorted(document_kinds())


def _keys(items: Any) -> set[str]:
    return {i.key for i in items}


def _with_scheme(assessment: Assessment, scheme: str, mutate: Any) -> Assessment:
    """A copy of the assessment whose result for ``scheme`` was changed by ``mutate(dict)``."""
    data = json.loads(assessment.to_json())
    mutate(next(s for s in data["schemes"] if s["scheme"] == scheme))
    return Assessment.model_validate(data)


def _write_kind(directory: Path, name: str, text: str) -> Path:
    path = directory / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- the bundled kinds


@pytest.mark.parametrize("kind", BUNDLED)
def test_every_kind_matches_its_golden_files(sample: Assessment, kind: str) -> None:
    # Given the sample assessment and a fixed report time, every file of every kind is byte for byte the golden one
    result = paperwork_files(kind, sample, now=NOW)
    assert list(result.files) == list(document_kinds()[kind].files)
    digest = sample.digest()
    for name, data in result.files.items():
        text = data.decode()
        assert "Acme Smart Camera" in text and NOW.isoformat() in text and digest in text, name
        # The digest changes with every field the assessment format gains; the golden holds the document
        check_golden(GOLDEN / "paperwork" / name, text.replace(digest, "<assessment digest>"))


def test_every_bundled_kind_names_a_catalog_scheme_and_its_requirements() -> None:
    catalog = default_catalog()
    for kind in document_kinds().values():
        assert kind.scheme is not None, kind.kind
        scheme = catalog.scheme(kind.scheme)
        ids = {r.id for r in scheme.requirements}
        verdicts = [i.value.arg for s in kind.sections for i in s.items if i.value and i.value.source == "verdict"]
        assert set(verdicts) <= ids, kind.kind


def test_kinds_are_found_by_file_name() -> None:
    assert sorted(p.stem for p in kinds_dir().glob("*.yaml")) == BUNDLED


# ---------------------------------------------------------------- UK PSTI statement (SI 2023/1007)


def test_psti_statement_cites_regulation_7_schedule_4_and_regulation_8(sample: Assessment) -> None:
    # SI 2023/1007: the statement's content is set by regulation 7 and Schedule 4, retention by regulation 8;
    # Schedule 3 lists excepted products (standards.md 5.1)
    doc = build_paperwork("psti-statement", sample, now=NOW)
    assert "regulation 7 and Schedule 4" in doc.basis and "regulation 8" in doc.basis
    assert "10 years or the support period, whichever is longer (regulation 8)" in doc.audience
    content = [i for i in doc.items if not i.clause.startswith("Sch. 1")]
    assert {i.clause for i in content} == {"reg. 7, Sch. 4"}
    md = render_markdown(doc)
    assert "Schedule 3" not in md and "Sch. 3" not in md
    assert any(n.startswith("Retention (regulation 8)") for n in doc.notes)


def test_psti_schedule_4_content_is_marked_unconfirmed(sample: Assessment) -> None:
    # The list of Schedule 4 contents is background knowledge [M]: each such item says so, with no invented
    # paragraph number; the Schedule 1 requirements (read in the SI) do not
    doc = build_paperwork("psti-statement", sample, now=NOW)
    for item in doc.items:
        expected = "confirmed" if item.clause.startswith("Sch. 1") else "unconfirmed"
        assert item.confidence == expected, item.key
        assert "para" not in item.clause or item.clause.startswith("Sch. 1"), item.key
    assert "| reg. 7, Sch. 4 (unconfirmed) | Manufacturer name |" in render_markdown(doc)
    assert '<small class="confidence">unconfirmed</small>' in render_html(doc)


def test_psti_notes_name_the_iso_29147_deemed_compliance_route(sample: Assessment) -> None:
    # SI 2023/1007 Schedule 2: para 2 is deemed met by EN 303 645 5.2-1 or ISO/IEC 29147 6.2.2, 6.2.5 and 6.5
    doc = build_paperwork("psti-statement", sample, now=NOW)
    assert any("ISO/IEC 29147 clauses 6.2.2, 6.2.5 and 6.5" in n for n in doc.notes)


def test_psti_statement_is_ready_when_the_scheme_is_met(sample: Assessment) -> None:
    # Given the sample: uk-psti meets, the dossier has name, address and support period
    doc = build_paperwork("psti-statement", sample, now=NOW)
    # Then nothing is missing and only the signature and batch are left for a person
    assert doc.ready and not doc.missing and not doc.blocking
    assert _keys(doc.by_hand) == {"batch", "signatory", "place_date", "signature"}
    values = {i.key: i.value for i in doc.items}
    assert values["support_period_end"] == "2031-12-31"
    assert values["req_passwords"] == "pass (all verifying checks pass)"


def test_psti_statement_lists_missing_dossier_input(sample: Assessment) -> None:
    # Given a dossier without manufacturer address and without a support period
    def strip(d: dict[str, Any]) -> None:
        del d["product"]["manufacturer"]["address"]
        del d["declarations"]["support_period"]

    doc = build_paperwork("psti-statement", with_dossier(sample, strip), now=NOW)
    # Then both are listed as missing, with the dossier path to fill in
    missing = {i.key: i.source for i in doc.missing}
    assert missing["manufacturer_address"] == "product.manufacturer.address"
    assert missing["support_period_end"] == "declarations.support_period.end"
    assert not doc.ready
    md = render_markdown(doc)
    assert "## Still missing from the dossier" in md and "`product.manufacturer.address`" in md


# ---------------------------------------------------------------- verdicts come from the assessment


def test_a_scheme_not_met_blocks_with_the_requirement_verdicts_as_the_assessment_states_them(
    sample: Assessment,
) -> None:
    # Given the sample's CRA result: status fails; required requirements fail or are inconclusive
    doc = build_paperwork("eu-doc", sample, now=NOW)
    # Then the blocking list is the status, then every required requirement not met, word for word
    assert doc.blocking == (
        "EU CRA status in this assessment is 'fails', not 'meets'",
        "eu-cra@2024:I-2(a) Made available without known exploitable vulnerabilities: fail (a verifying check fails)",
        "eu-cra@2024:I-2(b) Secure by default configuration: fail (a verifying check fails)",
        "eu-cra@2024:I-2(e) Confidentiality of data by state-of-the-art encryption: fail (a verifying check fails)",
        "eu-cra@2024:II-1 Identify and document components, including an SBOM: inconclusive (evidence insufficient)",
        "eu-cra@2024:II-info Information and instructions to the user (Annex II): fail (a verifying check fails)",
        "eu-cra@2024:14 Reporting of actively exploited vulnerabilities and severe incidents: inconclusive "
        "(not assessable automatically, needs declaration or manual result)",
    )
    assert not doc.ready
    md = render_markdown(doc)
    assert "> **NOT READY TO ISSUE.**" in md and "> - eu-cra@2024:II-1 Identify" in md


def test_a_failing_requirement_the_document_states_is_blocking_not_missing(sample: Assessment) -> None:
    # Given uk-psti with Schedule 1 para 1 failing in the assessment
    def fail_para_1(s: dict[str, Any]) -> None:
        s["status"] = "fails"
        req = next(r for r in s["requirements"] if r["id"] == "Schedule 1 para 1")
        req |= {"verdict": "fail", "reason": "firmware.universal-default-password: 'admin' in /etc/shadow"}

    doc = build_paperwork("psti-statement", _with_scheme(sample, "uk-psti", fail_para_1), now=NOW)
    # Then the statement is blocked by exactly that verdict, and the item shows it as not met (not as dossier input)
    line = (
        "uk-psti@2023:Schedule 1 para 1 Passwords unique per product or defined by the user: fail "
        "(firmware.universal-default-password: 'admin' in /etc/shadow)"
    )
    assert doc.blocking == ("UK PSTI status in this assessment is 'fails', not 'meets'", line)
    item = next(i for i in doc.items if i.key == "req_passwords")
    assert (
        item.gap is Gap.BLOCKING and item.value == "fail (firmware.universal-default-password: 'admin' in /etc/shadow)"
    )
    assert "req_passwords" not in _keys(doc.missing)
    assert "**NOT MET**: fail (firmware.universal-default-password" in render_markdown(doc)


def test_a_requirement_that_does_not_count_never_blocks(sample: Assessment, tmp_path: Path) -> None:
    # Given a kind for EN 303 645 stating 5.6-8 (recommended: required false, verdict fail in the sample)
    _write_kind(tmp_path, "etsi-sheet", _KIND.replace("REQ", "5.6-8"))
    kind = document_kinds(tmp_path)["etsi-sheet"]
    doc = build_paperwork(kind, sample, now=NOW)
    # Then the item shows the fail as the assessment states it, but only required requirements block
    item = next(i for i in doc.items if i.key == "provision")
    assert item.value == "fail (a verifying check fails)" and item.gap is Gap.NONE
    assert not any("5.6-8" in b or "5.6-4" in b for b in doc.blocking)
    assert [b.split(" ", 1)[0] for b in doc.blocking[1:]] == [
        "etsi-en-303-645@3.1.3:5.3-8",
        "etsi-en-303-645@3.1.3:5.4-3",
        "etsi-en-303-645@3.1.3:5.5-1",
        "etsi-en-303-645@3.1.3:5.5-5",
        "etsi-en-303-645@3.1.3:5.6-1",
        "etsi-en-303-645@3.1.3:5.8-3",
    ]


def test_a_scheme_missing_from_the_assessment_blocks_and_its_verdicts_are_missing(sample: Assessment) -> None:
    data = json.loads(sample.to_json())
    data["schemes"] = [s for s in data["schemes"] if s["scheme"] != "uk-psti"]
    doc = build_paperwork("psti-statement", Assessment.model_validate(data), now=NOW)
    assert doc.blocking == ("the assessment has no result for uk-psti; run `cybersafe assess` with that scheme",)
    item = next(i for i in doc.items if i.key == "req_reporting")
    assert item.gap is Gap.MISSING and item.note == "scheme not in the assessment"


def test_a_law_that_fails_from_a_later_date_blocks_its_declaration_today(sample: Assessment) -> None:
    # Given a CRA result as of 2026-12-05 that meets today (only Art. 14 applies) and fails from 2027-12-11
    def later(s: dict[str, Any]) -> None:
        s |= {"status": "meets", "as_of": "2026-12-05"}
        s["later"] = [{"date": "2027-12-11", "status": "fails", "counts": {"fail": 4}}]
        for req in s["requirements"]:
            if req["id"] == "14":
                req |= {"verdict": "pass", "reason": "declared"}
            else:
                req |= {"applies": False, "applies_from": "2027-12-11"}

    doc = build_paperwork("eu-doc", _with_scheme(sample, "eu-cra", later), now=NOW)
    # Then the declaration is not ready: it claims conformity that will not hold when the rest applies
    assert doc.blocking[0] == "EU CRA status from 2027-12-11 would be 'fails', not 'meets'"
    assert [b.split(" ", 1)[0] for b in doc.blocking[1:]] == [
        "eu-cra@2024:I-2(a)",
        "eu-cra@2024:I-2(b)",
        "eu-cra@2024:I-2(e)",
        "eu-cra@2024:II-1",
        "eu-cra@2024:II-info",
    ]


def test_a_ctm_record_may_be_issued_while_only_the_grant_is_pending(sample: Assessment) -> None:
    # Given the Cyber Trust Mark pending: everything the product shows is met, the CLA's grant is not recorded
    def pending(s: dict[str, Any]) -> None:
        s["status"] = "pending"
        next(r for r in s["requirements"] if r["id"] == "4").update(verdict="pass")
        s["requirements"].append(
            {
                "id": "8.222(b)(3)",
                "title": "Registry: date of authorisation",
                "obligation": "mandatory",
                "required": True,
                "verdict": "pending",
                "reason": "grant:cla-authorisation: awaits the CLA's grant",
                "confidence": "confirmed",
                "source": "47 CFR 8.222(b)(3)",
            }
        )

    doc = build_paperwork("ctm-registry", _with_scheme(sample, "us-ctm", pending), now=NOW)
    # Then the record is not blocked (it is part of the grant) and says the status in its (b)(3) note
    assert doc.blocking == () and doc.ready
    assert next(i for i in doc.items if i.key == "authorization").note == "assessment status for us-ctm: pending"


def test_a_pending_requirement_is_not_listed_as_what_blocks_a_failing_scheme(sample: Assessment) -> None:
    def pending_and_failing(s: dict[str, Any]) -> None:
        next(r for r in s["requirements"] if r["id"] == "9").update(verdict="pending", reason="awaits the grant")

    doc = build_paperwork("ctm-registry", _with_scheme(sample, "us-ctm", pending_and_failing), now=NOW)
    assert doc.blocking == (
        "Cyber Trust Mark status in this assessment is 'fails', not 'meets' or 'pending'",
        "us-ctm@2024:4 Interface access control: fail (a verifying check fails)",
    )


# ---------------------------------------------------------------- a new kind is one data file

_KIND = """\
schema: cybersafe/paperwork/v1
kind: etsi-sheet
scheme: etsi-en-303-645
title: EN 303 645 summary sheet
basis: ETSI EN 303 645
audience: lab
intro: One page for the lab file.
formats: [markdown, html, json]
sections:
- title: Product
  items:
  - {key: name, clause: "4", label: Product, join: ['{product.name}', '{product.model}'], sep: ' ', source: product}
  - key: updates
    clause: "5.3"
    label: Updates
    text: Updates from {declarations.update.instructions_url}
    cases:
    - when: {path: declarations.update.automatic, equals: true}
      text: Automatic ({scheme.short_title} status {scheme.status})
  - {key: provision, clause: REQ, label: The provision, verdict: REQ}
  - {key: witness, clause: "6", label: Witnessed by, by_hand: the lab, sign: true}
"""


def test_a_new_kind_is_one_data_file(sample: Assessment, tmp_path: Path) -> None:
    # Given one YAML file in a directory of our own, and no Python edit
    _write_kind(tmp_path, "etsi-sheet", _KIND.replace("REQ", "5.2-1"))
    kinds = document_kinds(tmp_path)
    # Then it is a kind beside the bundled ones, and renders in each format it names
    assert set(kinds) == {*BUNDLED, "etsi-sheet"}
    result = paperwork_files(kinds["etsi-sheet"], sample, now=NOW)
    assert list(result.files) == ["etsi-sheet.md", "etsi-sheet.html", "etsi-sheet.json"]
    values = {i.key: i.value for i in result.doc.items}
    assert values == {
        "name": "Acme Smart Camera AC-200",
        "updates": "Automatic (EN 303 645 status fails)",
        "provision": "pass (all verifying checks pass)",
        "witness": None,
    }
    md = result.files["etsi-sheet.md"].decode()
    assert md.startswith("# EN 303 645 summary sheet: Acme Devices Ltd Acme Smart Camera AC-200\n")
    assert '<div class="sign"></div>' in result.files["etsi-sheet.html"].decode()
    record = json.loads(result.files["etsi-sheet.json"])
    assert record["schema"] == "cybersafe/etsi-sheet-record/v1" and record["fields"]["witness"]["gap"] == "by-hand"


def test_a_new_kind_may_bring_its_own_template(sample: Assessment, tmp_path: Path) -> None:
    _write_kind(tmp_path, "etsi-sheet", _KIND.replace("REQ", "5.2-1") + "templates: {markdown: sheet.md.j2}\n")
    (tmp_path / "sheet.md.j2").write_text("{% for i in doc.items %}{{ i.key }}={{ i.value }};{% endfor %}\n")
    doc = build_paperwork(document_kinds(tmp_path)["etsi-sheet"], sample, now=NOW)
    assert render_markdown(doc).startswith("name=Acme Smart Camera AC-200;updates=Automatic")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        pytest.param(
            ("formats: [markdown, html, json]", "formats: [pdf]"), r":8: formats\[0\]: 'pdf' is not one of", id="format"
        ),
        pytest.param(
            ("basis: ETSI EN 303 645", "basis: x\ncolour: red"), r"Additional properties are not allowed", id="field"
        ),
        pytest.param(
            ("kind: etsi-sheet", "kind: other"), r":2: kind: kind 'other' differs from the file name", id="kind"
        ),
        pytest.param(
            ("'{product.model}'", "'{product.modle}'"),
            r":12: sections\[0\]\.items\[0\]\.join\[1\]: product\.modle: the dossier has no field product\.modle",
            id="typo",
        ),
        pytest.param(
            ("{path: declarations.update.automatic,", "{path: declarations.update.automatic.x,"),
            r"declarations\.update\.automatic has no fields",
            id="leaf",
        ),
        pytest.param(
            ("{scheme.status}", "{scheme.colour}"),
            r"scheme\.colour: the assessment's scheme result has no field scheme\.colour",
            id="scheme",
        ),
        pytest.param(("key: witness", "key: name"), r"items\[3\]\.key: duplicate key 'name'", id="duplicate"),
        pytest.param(
            ("scheme: etsi-en-303-645\n", "scheme: etsi-en-303-645\nissue_when: [great]\n"),
            r"issue_when\[0\]: 'great' is not a scheme status",
            id="status",
        ),
        pytest.param(
            ("'{product.model}'", "{each: product.name, text: '{x}'}"),
            r"items\[0\]\.join\[1\]\.each: product\.name: not a list of records",
            id="each",
        ),
        pytest.param(
            ("'{product.model}'", "{each: scheme.classification.routes, text: '{colour}'}"),
            r"items\[0\]\.join\[1\]: colour: a list element has no field colour",
            id="each-field",
        ),
        pytest.param(("scheme: etsi-en-303-645\n", ""), r"a verdict item needs the document's scheme", id="no-scheme"),
        pytest.param(("intro: One", "intro: [One"), r":8: malformed YAML: .*started at line 7", id="yaml"),
        pytest.param(
            ("formats: [markdown, html, json]", "formats: [markdown]\ntemplates: {markdown: nowhere.md.j2}"),
            r"templates\.markdown: template nowhere\.md\.j2 not found",
            id="template",
        ),
    ],
)
def test_a_bad_kind_file_is_one_line_naming_file_line_and_field(
    tmp_path: Path, edit: tuple[str, str], message: str
) -> None:
    text = _KIND.replace("REQ", "5.2-1")
    assert edit[0] in text
    path = _write_kind(tmp_path, "etsi-sheet", text.replace(edit[0], edit[1], 1))
    with pytest.raises(PaperworkDataError, match=message) as info:
        load_kind(path)
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)


# ---------------------------------------------------------------- CRA Annex II, EU DoC, CTM record


def test_cra_user_info_lists_every_annex_ii_point(sample: Assessment) -> None:
    doc = build_paperwork("cra-user-info", sample, now=NOW)
    clauses = {i.clause for i in doc.items}
    expected = {f"Annex II {n}" for n in range(1, 10) if n != 8} | {f"Annex II 8({c})" for c in "abcdef"}
    assert clauses == expected
    # The sample lacks foreseeable misuse, DoC address, support type, 8(b), 8(d), 8(e) and 8(f)
    assert _keys(doc.missing) == {
        "foreseeable_misuse", "doc_url", "support_type", "data_security_changes", "decommissioning",
        "disable_automatic_updates", "integrator_information",
    }  # fmt: skip
    # Annex II is published whatever the CRA verdict: the failing CRA result does not block it
    assert doc.blocking == ()


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

    doc = build_paperwork("cra-user-info", with_dossier(sample, complete), now=NOW)
    # Then nothing is missing, and 8(e), 8(f) and 9 read as not applicable
    assert doc.missing == ()
    na = {i.key: (i.label, i.note) for i in doc.items if i.gap is Gap.NOT_APPLICABLE}
    assert set(na) == {"disable_automatic_updates", "integrator_information", "sbom_url"}
    assert na["integrator_information"] == ("Information for integrators", None)
    assert doc.ready


def test_cra_user_info_sbom_shared_but_no_address_is_missing(sample: Assessment) -> None:
    doc = build_paperwork(
        "cra-user-info",
        with_dossier(sample, lambda d: d.__setitem__("facts", {"sbom_shared_with_users": True})),
        now=NOW,
    )
    item = next(i for i in doc.items if i.key == "sbom_url")
    assert item.gap is Gap.MISSING and item.note == "facts.sbom_shared_with_users is true"


def test_eu_doc_important_class_needs_a_notified_body_by_hand(sample: Assessment) -> None:
    doc = build_paperwork("eu-doc", sample, now=NOW)
    assert [i.clause for i in doc.items][:5] == [f"Annex V {n}" for n in range(1, 6)]
    # important class I: a notified body may be needed, so it is a by-hand item, not "not applicable"
    assert "notified_body" in _keys(doc.by_hand)
    assert "sole responsibility of Acme Devices Ltd" in render_markdown(doc)


# The CRA classification as the engine writes it (schemes/classification.py), for an Annex III Class I product
# on a date with no harmonised standard cited, and for a default product.
_ROUTE_A = {"id": "module-a", "title": "Internal control (module A)", "notified_body": False}
_ROUTE_BC = {"id": "module-b-c", "title": "EU-type examination (module B) + module C", "notified_body": True}
_ROUTE_H = {"id": "module-h", "title": "Full quality assurance (module H)", "notified_body": True}
CLASS_I = {
    "product_class": "important-class-i",
    "title": "Important products with digital elements, Class I",
    "annex": "Annex III, Class I",
    "routes": [
        _ROUTE_A | {"open": False, "why": "no harmonised standard is cited for EU CRA on 2026-11-02"},
        _ROUTE_BC | {"open": True, "why": "open"},
        _ROUTE_H | {"open": True, "why": "open"},
    ],
    "notified_body_required": True,
}
DEFAULT = CLASS_I | {
    "product_class": "default",
    "title": "Products with digital elements not listed in Annex III or IV",
    "annex": "none",
    "routes": [_ROUTE_A | {"open": True, "why": "open"}, _ROUTE_BC | {"open": True, "why": "open"}],
    "notified_body_required": False,
}


@pytest.mark.parametrize(
    ("classification", "procedure", "notified_body"),
    [
        pytest.param(
            CLASS_I,
            "EU-type examination (module B) + module C; or Full quality assurance (module H)",
            Gap.BY_HAND,
            id="class-i",
        ),
        pytest.param(
            DEFAULT,
            "Internal control (module A); or EU-type examination (module B) + module C",
            Gap.NOT_APPLICABLE,
            id="default",
        ),
    ],
)
def test_eu_doc_class_and_routes_are_the_assessments_classification(
    sample: Assessment, classification: dict[str, Any], procedure: str, notified_body: Gap
) -> None:
    # Given the engine's classification in the CRA result (the dossier's declared class is not re-read here)
    def classify(s: dict[str, Any]) -> None:
        s["classification"] = classification
        s["as_of"] = "2026-11-02"

    doc = build_paperwork("eu-doc", _with_scheme(sample, "eu-cra", classify), now=NOW)
    items = {i.key: i for i in doc.items}
    # Then the class and the routes open on the date are its own, and a notified body is asked for only when needed
    assert items["product_class"].value == f"{classification['product_class']}: {classification['title']}"
    assert items["procedure"].value == procedure
    assert items["procedure"].note == "the routes open for this class on 2026-11-02; state the one followed"
    assert items["notified_body"].gap is notified_body


def test_eu_doc_without_a_classification_says_what_is_missing(sample: Assessment) -> None:
    # Given an assessment whose CRA result carries no classification (the sample predates it)
    doc = build_paperwork("eu-doc", sample, now=NOW)
    items = {i.key: i for i in doc.items}
    # Then class and procedure are missing (never guessed from the dossier) and a notified body stays by hand
    assert items["product_class"].gap is Gap.MISSING and items["procedure"].gap is Gap.MISSING
    assert items["notified_body"].gap is Gap.BY_HAND
    assert items["notified_body"].note == "the assessment has no classification to say whether one is needed"


def test_ctm_registry_record_has_the_8_222_b_fields(sample: Assessment) -> None:
    result = paperwork_files("ctm-registry", sample, now=NOW)
    record = json.loads(result.files["ctm-registry.json"])
    clauses = [f["clause"] for f in record["fields"].values()]
    assert clauses == [f"8.222(b)({n})" for n in range(1, 11)]
    assert record["schema"] == "cybersafe/ctm-registry-record/v1"
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

    doc = build_paperwork("ctm-registry", with_dossier(sample, strip), now=NOW)
    assert _keys(doc.missing) == {"lab", "secure_configuration", "sbom_hbom"}
    values = {i.key: i.value for i in doc.items}
    assert values["default_password"] == "The product uses no passwords."


@pytest.mark.parametrize(
    ("update", "sbom", "updates", "boms"),
    [
        pytest.param(
            {"updatable": False}, {"available": False}, "The product's software cannot be updated.",
            "Neither an SBOM nor an HBOM is kept.", id="not-updatable",
        ),
        pytest.param(
            {"updatable": True, "automatic": False, "instructions_url": "https://u"}, {"available": True},
            "Updates are not automatic; get them at https://u", "SBOM kept (available on request to the FCC, CyberLAB or CLA)",
            id="manual-updates",
        ),
        pytest.param(
            {"updatable": True, "automatic": True}, {"available": False, "hbom_available": True},
            "Security updates are installed automatically", "HBOM kept (available on request to the FCC, CyberLAB or CLA)",
            id="automatic",
        ),
    ],
)  # fmt: skip
def test_ctm_registry_update_and_bom_statements(
    sample: Assessment, update: dict[str, Any], sbom: dict[str, Any], updates: str, boms: str
) -> None:
    def change(d: dict[str, Any]) -> None:
        d["declarations"]["update"] = update
        d["declarations"]["sbom"] = sbom

    values = {i.key: i.value for i in build_paperwork("ctm-registry", with_dossier(sample, change), now=NOW).items}
    assert (values["updates"], values["sbom_hbom"]) == (updates, boms)


# ---------------------------------------------------------------- escaping and bad input


def test_markdown_cells_are_escaped(sample: Assessment) -> None:
    hostile = with_dossier(sample, lambda d: d["product"].__setitem__("intended_purpose", "a | b <img src=x>"))
    md = render_markdown(build_paperwork("cra-user-info", hostile, now=NOW))
    assert "a \\| b &lt;img src=x&gt;" in md and "<img" not in md


def test_html_is_escaped(sample: Assessment) -> None:
    hostile = with_dossier(sample, lambda d: d["product"].__setitem__("intended_purpose", "<script>x</script>"))
    html = paperwork_files("cra-user-info", hostile, now=NOW).files["cra-user-info.html"].decode()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_an_invalid_dossier_names_the_field(sample: Assessment) -> None:
    data = json.loads(sample.to_json())
    data["dossier"]["product"]["cra_product_class"] = "galactic"
    broken = Assessment.model_validate(data)
    with pytest.raises(RenderError, match=r"^dossier\.product\.cra_product_class: "):
        build_paperwork("eu-doc", broken, now=NOW)


def test_an_unknown_kind_names_the_known_ones(sample: Assessment) -> None:
    with pytest.raises(
        RenderError, match=r"unknown paperwork kind 'tax-return'; known: cra-technical-documentation, cra-user-info, "
    ):
        build_paperwork("tax-return", sample, now=NOW)


def test_the_readme_example_kind_works_as_written(sample: Assessment, tmp_path: Path) -> None:
    # The README's "Adding a document kind" example is loaded and rendered as a user would
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("#### Adding a document kind", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    _write_kind(tmp_path, "maker-card", example)
    result = paperwork_files(document_kinds(tmp_path)["maker-card"], sample, now=NOW)
    values = {i.key: i.value for i in result.doc.items}
    assert values["maker"] == "Acme Devices Ltd" and values["product"] == "Acme Smart Camera model AC-200"
    assert values["updates"] == "Get updates at https://acme.example/support/ac-200/updates"
    assert result.doc.notes == ("Status of EN 303 645: fails.",)
    assert set(result.files) == {"maker-card.md", "maker-card.html", "maker-card.json"}
