from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from label_fixtures import NOW, REGISTRY, with_dossier

from cybersafe.label.batch import issue_and_render_all
from cybersafe.label.issue import issue_label, read_envelope
from cybersafe.label.model import LabelRecord
from cybersafe.label.render import (
    DEFAULT_DPI,
    LabelFormat,
    LabelStyle,
    long_date,
    render,
    render_pdf,
    render_png,
    render_svg,
    style_for,
)
from cybersafe.label.verify import verify_label
from cybersafe.results import Assessment

SVG_NS = "{http://www.w3.org/2000/svg}"
Issued = dict[str, tuple[LabelRecord, dict[str, Any]]]
STYLES = [
    pytest.param("us-ctm", LabelStyle.TRUST, id="trust-us-ctm"),
    pytest.param("sg-cls", LabelStyle.LEVELLED, id="levelled-sg-cls"),
    pytest.param("eu-cra", LabelStyle.SUPPORT_END, id="support-end-eu-cra"),
    pytest.param("etsi-en-303-645", LabelStyle.GENERIC, id="generic-etsi"),
]


def decode_qr(png: bytes) -> tuple[str, float]:
    """Decode with OpenCV's QR detector; (text, symbol width in pixels)."""
    image = cv2.imdecode(np.frombuffer(png, dtype=np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, "PNG does not decode"
    text, points, _ = cv2.QRCodeDetector().detectAndDecode(image)
    width = float(np.linalg.norm(points[0][1] - points[0][0])) if points is not None else 0.0
    return text, width


def _texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return [el.text or "" for el in root.iter(f"{SVG_NS}text")]


@pytest.mark.parametrize(("scheme", "style"), STYLES)
def test_png_qr_decodes_to_the_label_url_for_every_style(issued: Issued, scheme: str, style: LabelStyle) -> None:
    # Given a label of each style
    record, _ = issued[scheme]
    assert style_for(record) is style
    # When it is rendered as the PNG printed on packaging
    png = render_png(record)
    # Then a real decoder reads the registry URL back
    text, width_px = decode_qr(png)
    assert text == f"{REGISTRY}/l/{record.label_id}"
    # and the symbol (without its quiet zone) is at least 18 mm wide: scannable from a shelf
    assert width_px / DEFAULT_DPI * 25.4 >= 18


@pytest.mark.parametrize(("scheme", "style"), STYLES)
def test_svg_is_well_formed_and_sized_in_millimetres(issued: Issued, scheme: str, style: LabelStyle) -> None:
    record, _ = issued[scheme]
    svg = render_svg(record)
    root = ET.fromstring(svg)  # raises on malformed XML
    assert root.tag == f"{SVG_NS}svg"
    assert root.get("width", "").endswith("mm")
    assert root.get("height", "").endswith("mm")
    assert record.label_id in _texts(svg)
    assert root.find(f"{SVG_NS}title") is not None
    assert "DejaVu Sans" in svg


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


def test_levelled_label_shows_the_level_as_filled_stars_and_the_registration_expiry(issued: Issued) -> None:
    record, _ = issued["sg-cls"]
    svg = render_svg(record)
    stars = list(ET.fromstring(svg).iter(f"{SVG_NS}polygon"))
    filled = [s for s in stars if s.get("fill") != "#ffffff"]
    assert (len(stars), len(filled)) == (4, 2)
    texts = _texts(svg)
    assert "LEVEL 2" in texts
    assert "Registration ID" in texts
    assert f"Valid till {long_date(record.valid_until)}" in texts


def test_eu_label_shows_support_end_month_and_year(issued: Issued) -> None:
    texts = _texts(render_svg(issued["eu-cra"][0]))
    assert "NOVEMBER" in texts
    assert "2031" in texts
    assert "Support period ends 30 Nov 2031" in texts


def test_trust_label_is_binary_without_expiry_date(issued: Issued) -> None:
    # The FCC rejected an expiry date on the label (standards.md 2.4); the support end is shown instead.
    record, _ = issued["us-ctm"]
    texts = _texts(render_svg(record))
    assert not any(record.valid_until.isoformat() in t or long_date(record.valid_until) in t for t in texts)
    assert "Security updates until November 2031" in texts
    assert not any("LEVEL" in t.upper() for t in texts)


def test_long_and_hostile_product_names_fit_and_stay_well_formed(
    assessment: Assessment, private_key: Ed25519PrivateKey
) -> None:
    # Given a product name with markup characters and far too long for the label
    name = "<script>&amp; Ultra Deluxe Panoramic Outdoor Security Camera With Night Vision Pro Max"
    changed = with_dossier(assessment, ("product", "name"), name)
    record, _ = issue_label(changed, "etsi-en-303-645", private_key, "CLA", REGISTRY, NOW)
    # When it is drawn, Then the SVG parses, the text is escaped and shortened with an ellipsis
    svg = render_svg(record)
    texts = _texts(svg)
    product = next(t for t in texts if t.startswith("Acme Devices Ltd <script>"))
    assert product.endswith("…")
    assert "<script>" not in svg


def test_render_dispatches_every_format(issued: Issued) -> None:
    record, _ = issued["us-ctm"]
    assert render(record, LabelFormat.SVG).startswith(b"<svg")
    assert render(record, LabelFormat.PDF).startswith(b"%PDF-")
    assert render(record, LabelFormat.PNG, dpi=150).startswith(b"\x89PNG")


def test_issue_and_render_all_writes_png_svg_and_envelope_for_each_met_scheme(
    assessment: Assessment, private_key: Ed25519PrivateKey, public_key: Ed25519PublicKey, tmp_path: Path
) -> None:
    # When the demo step runs on an assessment meeting four of six schemes
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
        assert (tmp_path / f"{label_id}.svg").exists()


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
