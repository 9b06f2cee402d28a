"""Label artwork: one SVG per label, drawn here; PDF through WeasyPrint; PNG from that PDF through poppler.

What is drawn is what the issuer signed (``LabelRecord.artwork``, decided by ``label/issue.py``):

- ``attestation``: a conformity-attestation card, for any issuer and any scheme, and the only artwork for laws
  and standards that have no consumer label (UK PSTI, the CRA, EN 303 645, EN 18031). It says what was
  assessed, by whom, as of when, with which verdict (justified risk decisions and pending grants included),
  and that it is not the scheme's label or mark.
- ``scheme-mark``: the scheme's consumer-label style named in its catalog (``label:``), only when the issuer is
  recorded as that scheme's label administrator or licensee:

  - ``trust``: a binary label, our own round badge beside the scheme's name and the QR code (no expiry date:
    the FCC rejected one, standards.md 2.4; the support end is printed);
  - ``levelled``: the level as 1-4 stars with the registration id and its expiry (standards.md 5.2);
  - ``support-end``: the end of the support period, month and year in large type;
  - ``generic``: scheme name, verdict, level, support end, validity.

No official mark is reproduced or imitated. Every drawing carries a QR code (segno) to the label's registry
page, ``<registry>/l/<label id>#<envelope digest>`` (``label/qr.py``), with a 4-module quiet zone, and the full
product name, model and firmware version, wrapped and shrunk to fit (``_canvas``). The SVG is the single source
of the artwork: sizes are in millimetres (the viewBox unit), text is DejaVu Sans measured with the font's own
metrics. Nothing here reads the clock.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import assert_never

from cybersafe.errors import RenderError
from cybersafe.label._canvas import FONT_FAMILY, MONO_FAMILY, text_width
from cybersafe.label._styles import (
    attestation,
    generic,
    levelled,
    long_date,
    month_year,
    scheme_name,
    style_for,
    support_end,
    trust,
)
from cybersafe.label.defaults import LabelFormat
from cybersafe.label.model import LabelRecord
from cybersafe.schemes.interface import LabelStyle

__all__ = [
    "DEFAULT_DPI",
    "FONT_FAMILY",
    "MONO_FAMILY",
    "LabelFormat",
    "LabelStyle",
    "long_date",
    "month_year",
    "pdf_to_png",
    "render",
    "render_pdf",
    "render_png",
    "render_svg",
    "scheme_name",
    "style_for",
    "svg_to_pdf",
    "text_width",
]

DEFAULT_DPI = 600


# --------------------------------------------------------------------------------------------- rendering


def render_svg(record: LabelRecord) -> str:
    if not record.scheme_mark:
        return attestation(record)
    style = style_for(record)
    if style is LabelStyle.TRUST:
        return trust(record)
    if style is LabelStyle.LEVELLED:
        return levelled(record)
    if style is LabelStyle.SUPPORT_END:
        return support_end(record)
    if style is LabelStyle.GENERIC:
        return generic(record)
    assert_never(style)


def render_pdf(record: LabelRecord) -> bytes:
    return svg_to_pdf(render_svg(record))


def render_png(record: LabelRecord, dpi: int = DEFAULT_DPI) -> bytes:
    return pdf_to_png(render_pdf(record), dpi)


def render(record: LabelRecord, fmt: LabelFormat, *, dpi: int = DEFAULT_DPI, qr_url: str | None = None) -> bytes:
    """The artwork in ``fmt``. ``qr_url`` is what the QR code encodes: ``cybersafe.label.qr.qr_url`` (the
    registry page with the envelope digest as its fragment); without it, the signed registry URL alone."""
    if qr_url is not None:
        # The styles draw the QR code from ``registry_url``; the card prints it without the fragment.
        record = record.model_copy(update={"registry_url": qr_url})
    if fmt is LabelFormat.SVG:
        return render_svg(record).encode()
    if fmt is LabelFormat.PDF:
        return render_pdf(record)
    if fmt is LabelFormat.PNG:
        return render_png(record, dpi)
    assert_never(fmt)


def svg_to_pdf(svg: str) -> bytes:
    """One page exactly the size of the label (WeasyPrint draws the inline SVG as vectors)."""
    import weasyprint  # heavy import: only when a PDF or PNG is asked for

    width, height = _svg_size(svg)
    html = (
        "<!doctype html><html><head><meta charset='utf-8'><style>"
        f"@page{{size:{width}mm {height}mm;margin:0}}html,body{{margin:0;padding:0}}svg{{display:block}}"
        f"</style></head><body>{svg}</body></html>"
    )
    try:
        pdf = weasyprint.HTML(string=html).write_pdf()
    except Exception as exc:  # WeasyPrint raises many types; translate them at the boundary
        raise RenderError(f"PDF rendering failed: {exc}") from exc
    if not isinstance(pdf, bytes):
        raise RenderError("PDF rendering produced no output")
    return pdf


def pdf_to_png(pdf: bytes, dpi: int = DEFAULT_DPI) -> bytes:
    """Rasterise page 1 with poppler: pdftocairo with a transparent page (so the rounded corners stay
    transparent on packaging artwork), or pdftoppm on white when pdftocairo is missing."""
    if not 72 <= dpi <= 2400:
        raise RenderError(f"dpi {dpi} out of range 72-2400")
    cairo = shutil.which("pdftocairo")
    tool = cairo or shutil.which("pdftoppm")
    if tool is None:
        raise RenderError("pdftocairo/pdftoppm not found: install poppler-utils to render PNG labels")
    with tempfile.TemporaryDirectory(prefix="cybersafe-label-") as tmp:
        src = Path(tmp) / "label.pdf"
        src.write_bytes(pdf)
        args = [tool, "-png", *(["-transp"] if cairo else []), "-r", str(dpi), "-singlefile", "-f", "1", "-l", "1"]
        proc = subprocess.run([*args, str(src), str(Path(tmp) / "label")], capture_output=True, timeout=60, check=False)
        out = Path(tmp) / "label.png"
        if proc.returncode != 0 or not out.exists():
            raise RenderError(f"{Path(tool).name} failed: {proc.stderr.decode(errors='replace').strip()[:200]}")
        return out.read_bytes()


def _svg_size(svg: str) -> tuple[str, str]:
    head = svg[: svg.index(">")]
    width = head.split('width="', 1)[1].split("mm", 1)[0]
    height = head.split('height="', 1)[1].split("mm", 1)[0]
    return width, height
