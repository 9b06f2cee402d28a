from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from label_fixtures import REGISTRY, counter_bytes, decode_qr, with_scheme
from tests.support import NOW, with_dossier

from cybersafe.label.batch import issue_and_render_all
from cybersafe.label.issue import issue_label, read_envelope
from cybersafe.label.model import Artwork, LabelRecord
from cybersafe.label.render import (
    DEFAULT_DPI,
    LabelFormat,
    LabelStyle,
    long_date,
    render,
    render_pdf,
    render_png,
    render_svg,
    text_width,
)
from cybersafe.label.verify import verify_label
from cybersafe.results import Assessment, RequirementResultOut, SchemeLabelOut
from cybersafe.schemes.status import SchemeStatus

SVG_NS = "{http://www.w3.org/2000/svg}"
Issued = dict[str, tuple[LabelRecord, dict[str, Any]]]
# A product name of 60 characters: with the manufacturer in front it is 77, far wider than any label's line.
LONG_NAME = "Panoramic Outdoor Security Camera Pro with Night Vision 4K X"
# Every artwork: (scheme, the style its catalog names (None: no consumer label), administrator_of).
ARTWORKS = [
    pytest.param("us-ctm", LabelStyle.TRUST, "us-ctm", id="trust-us-ctm-administrator"),
    pytest.param("sg-cls", LabelStyle.LEVELLED, "sg-cls", id="levelled-sg-cls-administrator"),
    pytest.param("us-ctm", LabelStyle.SUPPORT_END, "us-ctm", id="support-end-administrator"),
    pytest.param("us-ctm", LabelStyle.GENERIC, "us-ctm", id="generic-administrator"),
    pytest.param("us-ctm", LabelStyle.TRUST, None, id="attestation-us-ctm-not-administrator"),
    pytest.param("eu-cra", None, None, id="attestation-eu-cra-law"),
    pytest.param("etsi-en-303-645", None, None, id="attestation-etsi-standard"),
]


def _texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return [el.text or "" for el in root.iter(f"{SVG_NS}text")]


def _issue(
    assessment: Assessment, key: Ed25519PrivateKey, scheme: str, style: LabelStyle | None, admin: str | None,
    name: str | None = None,
) -> LabelRecord:  # fmt: skip
    """A label of ``scheme`` whose catalog names ``style``, issued by an administrator of ``admin`` (or not)."""
    changed = assessment if name is None else with_dossier(assessment, {"product": {"name": name}})
    label = None if style is None else SchemeLabelOut(name=f"Label of {scheme}", style=style)
    changed = with_scheme(changed, scheme, label=label)
    record, _ = issue_label(
        changed, scheme, key, "Example CLA", REGISTRY, NOW, administrator_of=admin, random_bytes=counter_bytes()
    )
    return record


def _overflows(svg: str) -> list[str]:
    """Every text line that does not fit inside the card (measured with the font's metrics)."""
    root = ET.fromstring(svg)
    width = float(root.get("viewBox", "0 0 0 0").split()[2])
    out = []
    for el in root.iter(f"{SVG_NS}text"):
        size, x = float(el.get("font-size", "0")), float(el.get("x", "0"))
        spacing = float(el.get("letter-spacing", "0")) * max(len(el.text or "") - 1, 0)
        w = text_width(
            el.text or "", size, bold=el.get("font-weight") == "bold", mono="Mono" in el.get("font-family", "")
        )
        w += spacing
        left = {"start": x, "middle": x - w / 2, "end": x - w}[el.get("text-anchor", "start")]
        if left < 1.0 or left + w > width - 1.0:
            out.append(f"{el.text!r} spans {left:.2f}..{left + w:.2f} of {width}")
    return out


@pytest.mark.parametrize(("scheme", "style", "admin"), ARTWORKS)
def test_a_60_character_product_name_fits_in_full_with_model_and_firmware_and_the_qr_decodes(
    assessment: Assessment, private_key: Ed25519PrivateKey, scheme: str, style: LabelStyle | None, admin: str | None
) -> None:
    # Given a product whose name is 60 characters long, in every artwork there is
    assert len(LONG_NAME) == 60
    record = _issue(assessment, private_key, scheme, style, admin, name=LONG_NAME)
    assert record.scheme_mark is (admin is not None)
    # When it is drawn
    svg = render_svg(record)
    text = " ".join(_texts(svg))
    # Then the whole name (wrapped, never cut), the model and the firmware version are on it
    assert f"Acme Devices Ltd {LONG_NAME}" in text
    assert "…" not in text
    assert "Model SC-200 · firmware 1.4.2" in text
    # and no line runs off the card
    assert _overflows(svg) == []
    # and a real decoder reads the registry URL back from the PNG printed on packaging
    decoded, width_px = decode_qr(render_png(record))
    assert decoded == f"{REGISTRY}/l/{record.label_id}"
    # with the symbol (without its quiet zone) at least 18 mm wide: scannable from a shelf
    assert width_px / DEFAULT_DPI * 25.4 >= 18


@pytest.mark.parametrize(("scheme", "style", "admin"), ARTWORKS)
def test_svg_is_well_formed_and_sized_in_millimetres(
    assessment: Assessment, private_key: Ed25519PrivateKey, scheme: str, style: LabelStyle | None, admin: str | None
) -> None:
    record = _issue(assessment, private_key, scheme, style, admin)
    svg = render_svg(record)
    root = ET.fromstring(svg)  # raises on malformed XML
    assert root.tag == f"{SVG_NS}svg"
    assert root.get("width", "").endswith("mm")
    assert root.get("height", "").endswith("mm")
    texts = " ".join(_texts(svg))
    assert record.label_id in texts
    assert root.find(f"{SVG_NS}title") is not None
    assert "DejaVu Sans" in svg


def test_laws_and_standards_and_non_administrators_get_a_visibly_different_attestation_card(
    assessment: Assessment, private_key: Ed25519PrivateKey
) -> None:
    # Given labels issued by an issuer that is not the scheme's administrator (and laws with no label at all)
    for scheme in ("us-ctm", "sg-cls", "eu-cra", "etsi-en-303-645"):
        record, _ = issue_label(assessment, scheme, private_key, "Example CLA", REGISTRY, NOW)
        # When they are drawn, Then each is a conformity-attestation card, never the scheme's label
        assert record.artwork is Artwork.ATTESTATION
        svg = render_svg(record)
        texts = " ".join(_texts(svg))
        assert "CONFORMITY ATTESTATION" in texts
        assert (f"Not a {record.scheme_name} label:" if record.label_style else "Not a label:") in texts
        assert "Conformity attestation" in (ET.fromstring(svg).findtext(f"{SVG_NS}title") or "")
        # what was assessed, by whom, as of when, and the registry link are written out
        assert "Assessed by Example CyberLAB Inc.; attested by Example CLA" in texts
        assert record.registry_url in texts
        assert f"Issued {long_date(record.issued)}" in texts
        # no stars, no badge, no "MEETS" stamp: nothing that reads as a consumer label
        assert "<polygon" not in svg and "<circle" not in svg
        assert "MEETS" not in texts and "LEVEL" not in texts
    # and the scheme's own style is drawn for its administrator only
    mark, _ = issue_label(assessment, "us-ctm", private_key, "CLA", REGISTRY, NOW, administrator_of="us-ctm")
    assert "CONFORMITY ATTESTATION" not in " ".join(_texts(render_svg(mark)))


def test_trust_style_draws_no_look_alike_word_mark(assessment: Assessment, private_key: Ed25519PrivateKey) -> None:
    # The FCC's mark is its own artwork: even for the administrator we set the catalog's name in plain type and
    # draw no "CYBER TRUST" word mark of our own.
    record, _ = issue_label(assessment, "us-ctm", private_key, "CLA", REGISTRY, NOW, administrator_of="us-ctm")
    texts = _texts(render_svg(record))
    assert "CYBER" not in texts and "TRUST" not in texts
    assert "US Cyber Trust Mark" in " ".join(texts)


def test_the_card_states_justified_risk_decisions_and_pending_grants(
    assessment: Assessment, private_key: Ed25519PrivateKey
) -> None:
    # Given a CRA result met with one justified risk decision, and a CTM result pending the CLA's grant
    justified = RequirementResultOut.model_validate(
        {"id": "Annex I Part I (2)(k)", "title": "Exploitation mitigation", "obligation": "mandatory",
         "required": True, "verdict": "justified", "reason": "risk decision RD-1", "confidence": "confirmed",
         "source": "CRA", "justified_by": ["RD-1"]}
    )  # fmt: skip
    pending = RequirementResultOut.model_validate(
        {"id": "8.222(b)(3)", "title": "Authorisation date", "obligation": "mandatory", "required": True,
         "verdict": "pending", "reason": "grant:us-ctm: pending", "confidence": "confirmed", "source": "47 CFR 8.222",
         "evidence": [{"ref": "grant:us-ctm", "kind": "grant", "verdict": "pending"}]}
    )  # fmt: skip
    changed = with_scheme(assessment, "eu-cra", requirements=[justified], as_of=dt.date(2026, 12, 5))
    changed = with_scheme(
        changed, "us-ctm", requirements=[pending], status=SchemeStatus.PENDING, as_of=dt.date(2026, 12, 5)
    )
    cra, _ = issue_label(changed, "eu-cra", private_key, "CLA", REGISTRY, NOW)
    ctm, _ = issue_label(changed, "us-ctm", private_key, "CLA", REGISTRY, NOW)
    # Then the signed summaries say so, and so does each card
    assert cra.verdict_summary.justified == ["Annex I Part I (2)(k) (RD-1)"]
    assert (ctm.verdict_summary.status, ctm.verdict_summary.pending) == ("pending", ["8.222(b)(3)"])
    cra_text = " ".join(_texts(render_svg(cra)))
    assert "Meets as of 2026-12-05; 1 justified risk decision: Annex I Part I (2)(k) (RD-1)" in cra_text
    ctm_text = " ".join(_texts(render_svg(ctm)))
    assert "Pending as of 2026-12-05: 8.222(b)(3) await the scheme body's grant" in ctm_text


def test_pdf_renders_one_page_that_pdftoppm_turns_into_a_decodable_image(issued: Issued, tmp_path: Path) -> None:
    record, _ = issued["eu-cra"]
    pdf = render_pdf(record)
    assert pdf.startswith(b"%PDF-")
    assert shutil.which("pdftoppm"), "poppler-utils is needed"
    (tmp_path / "label.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "300", "-f", "1", "-l", "1", "-singlefile", "label.pdf", "page"],
                   cwd=tmp_path, check=True)  # fmt: skip
    page = (tmp_path / "page.png").read_bytes()
    assert len(page) > 1000
    assert decode_qr(page)[0] == record.registry_url


def test_levelled_label_shows_the_level_as_filled_stars_and_the_registration_expiry(
    assessment: Assessment, private_key: Ed25519PrivateKey
) -> None:
    record, _ = issue_label(assessment, "sg-cls", private_key, "CLA", REGISTRY, NOW, administrator_of="sg-cls")
    svg = render_svg(record)
    stars = list(ET.fromstring(svg).iter(f"{SVG_NS}polygon"))
    filled = [s for s in stars if s.get("fill") != "#ffffff"]
    assert (len(stars), len(filled)) == (4, 2)
    texts = _texts(svg)
    assert "LEVEL 2" in texts
    assert "Registration ID" in texts
    assert f"Valid till {long_date(record.valid_until)}" in texts


def test_support_end_label_shows_support_end_month_and_year(
    assessment: Assessment, private_key: Ed25519PrivateKey
) -> None:
    texts = _texts(render_svg(_issue(assessment, private_key, "us-ctm", LabelStyle.SUPPORT_END, "us-ctm")))
    assert "NOVEMBER" in texts
    assert "2031" in texts
    assert "Support period ends 30 Nov 2031" in texts


def test_trust_label_is_binary_without_expiry_date(assessment: Assessment, private_key: Ed25519PrivateKey) -> None:
    # The FCC rejected an expiry date on the label (standards.md 2.4); the support end is shown instead.
    record, _ = issue_label(assessment, "us-ctm", private_key, "CLA", REGISTRY, NOW, administrator_of="us-ctm")
    texts = _texts(render_svg(record))
    assert not any(record.valid_until.isoformat() in t or long_date(record.valid_until) in t for t in texts)
    assert "Security updates until November 2031" in texts
    assert not any("LEVEL" in t.upper() for t in texts)


@pytest.mark.parametrize(("scheme", "style", "admin"), ARTWORKS)
def test_hostile_product_names_are_escaped_and_only_cut_when_nothing_else_fits(
    assessment: Assessment, private_key: Ed25519PrivateKey, scheme: str, style: LabelStyle | None, admin: str | None
) -> None:
    # Given a product name with markup characters and far too long for any label (300 characters)
    name = "<script>&amp; " + "Ultra Deluxe Panoramic " * 13
    record = _issue(assessment, private_key, scheme, style, admin, name=name)
    # When it is drawn, Then the SVG parses, the text is escaped, cut with an ellipsis, and stays on the card
    svg = render_svg(record)
    texts = _texts(svg)
    assert any(t.startswith("Acme Devices Ltd <script>&amp; Ultra") for t in texts)
    assert any(t.endswith("…") for t in texts)
    assert "<script>" not in svg
    assert _overflows(svg) == []
    # and the model and firmware version are still there in full
    assert "Model SC-200 · firmware 1.4.2" in " ".join(texts)


def test_render_dispatches_every_format(issued: Issued) -> None:
    record, _ = issued["us-ctm"]
    assert render(record, LabelFormat.SVG).startswith(b"<svg")
    assert render(record, LabelFormat.PDF).startswith(b"%PDF-")
    assert render(record, LabelFormat.PNG, dpi=150).startswith(b"\x89PNG")


def test_issue_and_render_all_writes_png_svg_and_envelope_for_each_met_scheme(
    assessment: Assessment, private_key: Ed25519PrivateKey, public_key: Ed25519PublicKey, tmp_path: Path
) -> None:
    # When the demo step runs on an assessment meeting four of six schemes (its issuer administers none of them)
    files = issue_and_render_all(assessment, tmp_path, private_key, "Example CLA", REGISTRY, NOW)
    # Then each met scheme has a signed envelope, a PNG and an SVG; the others have nothing
    envelopes = [f for f in files if f.name.endswith(".label.json")]
    tags = sorted(f.name.split("-")[1] for f in envelopes)
    assert tags == ["ETSIEN303645", "EUCRA", "SGCLS", "USCTM"]
    assert len(files) == 12
    assert all(f.exists() and f.stat().st_size > 0 for f in files)
    for envelope_file in envelopes:
        report = verify_label(read_envelope(envelope_file), public_key, now=NOW + dt.timedelta(days=1))
        label_id = report.label_id
        assert (tmp_path / f"{label_id}.png").exists()
        # and no consumer-label artwork at all: the CRA and EN 303 645 have none, and the demo issuer is no
        # scheme's administrator, so every drawing is a conformity-attestation card
        assert report.record is not None and report.record.artwork is Artwork.ATTESTATION
        assert "CONFORMITY ATTESTATION" in (tmp_path / f"{label_id}.svg").read_text(encoding="utf-8")


def test_png_has_transparent_corners_and_an_opaque_card(issued: Issued) -> None:
    from io import BytesIO

    from PIL import Image

    image = Image.open(BytesIO(render_png(issued["eu-cra"][0], dpi=150)))
    assert image.mode == "RGBA"
    assert image.getpixel((0, 0))[3] == 0  # outside the rounded corner
    assert image.getpixel((image.width // 2, image.height // 2))[3] == 255


def test_png_falls_back_to_pdftoppm_without_pdftocairo(issued: Issued, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a machine with pdftoppm but no pdftocairo
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "pdftocairo" else real_which(name))
    # When a label is rendered, Then the QR code still decodes
    record, _ = issued["us-ctm"]
    assert decode_qr(render_png(record, dpi=300))[0] == record.registry_url
