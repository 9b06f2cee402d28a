"""Label artwork: one SVG per label, drawn here; PDF through WeasyPrint; PNG from that PDF through poppler.

Every style is our own artwork (no official mark is reproduced) and carries a QR code (segno) to the label's
registry page, ``<registry>/l/<label id>``, with a 4-module quiet zone:

The style and the name printed come from the scheme's catalog (``label:``), carried in the label record:

- ``trust``: a binary "trust" label, an original round badge beside the QR code (the FCC label is a
  mark plus a QR code, no tiers). No expiry date is printed (the FCC rejected one, standards.md 2.4); the
  support end is.
- ``levelled``: the level as 1-4 stars with the registration id
  and its expiry (standards.md 5.2).
- ``support-end``: the end of the support period, month and year in large type
  (CRA Art. 13(19)).
- ``generic``: any other scheme: scheme name, "meets", level, support end, validity.

The SVG is the single source of the artwork: sizes are in millimetres (the viewBox unit), text is DejaVu
Sans measured with the font's own metrics so nothing overflows. Nothing here reads the clock.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import assert_never
from xml.sax.saxutils import escape, quoteattr

import segno

from cybersafe.errors import RenderError
from cybersafe.label.model import LabelRecord
from cybersafe.schemes.interface import LabelStyle

FONT_FAMILY = "DejaVu Sans, Verdana, Arial, sans-serif"
MONO_FAMILY = "DejaVu Sans Mono, Menlo, Consolas, monospace"
DEFAULT_DPI = 600
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


class LabelFormat(StrEnum):
    SVG = "svg"
    PNG = "png"
    PDF = "pdf"


def style_for(record: LabelRecord) -> LabelStyle:
    """The style the scheme's catalog names (carried in the record); a record without one is drawn generic."""
    return record.label_style or LabelStyle.GENERIC


def scheme_name(record: LabelRecord) -> str:
    return record.scheme_name or record.scheme.upper()


def month_year(date: dt.date) -> str:
    return f"{_MONTHS[date.month - 1]} {date.year}"


def long_date(date: dt.date) -> str:
    return f"{date.day} {_MONTHS[date.month - 1][:3]} {date.year}"


# --------------------------------------------------------------------------------------------- rendering


def render_svg(record: LabelRecord) -> str:
    style = style_for(record)
    if style is LabelStyle.TRUST:
        return _trust(record)
    if style is LabelStyle.LEVELLED:
        return _levelled(record)
    if style is LabelStyle.SUPPORT_END:
        return _eu(record)
    if style is LabelStyle.GENERIC:
        return _generic(record)
    assert_never(style)


def render_pdf(record: LabelRecord) -> bytes:
    return svg_to_pdf(render_svg(record))


def render_png(record: LabelRecord, dpi: int = DEFAULT_DPI) -> bytes:
    return pdf_to_png(render_pdf(record), dpi)


def render(record: LabelRecord, fmt: LabelFormat, *, dpi: int = DEFAULT_DPI) -> bytes:
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


# --------------------------------------------------------------------------------------------- text metrics


@functools.cache
def _measurer(bold: bool, mono: bool) -> Callable[[str], float] | None:
    """Width of a string at font size 1 (in the same unit), from the DejaVu metrics; None if unavailable."""
    try:
        from PIL import ImageFont
    except ImportError:  # pragma: no cover - Pillow comes with WeasyPrint
        return None
    name = "DejaVuSansMono" if mono else "DejaVuSans"
    name += "-Bold.ttf" if bold else ".ttf"
    try:
        font = ImageFont.truetype(name, 200)
    except OSError:
        return None
    return lambda text: float(font.getlength(text)) / 200.0


def text_width(text: str, size: float, *, bold: bool = False, mono: bool = False) -> float:
    measure = _measurer(bold, mono)
    if measure is None:  # conservative estimate: DejaVu Sans is wide
        return len(text) * size * (0.6 if mono else 0.72 if bold else 0.64)
    return measure(text) * size


# --------------------------------------------------------------------------------------------- drawing


class _Canvas:
    def __init__(self, width: float, height: float, title: str) -> None:
        self.width = width
        self.height = height
        self.title = title
        self.parts: list[str] = []
        self.frame_colour: str | None = None

    def frame(self, colour: str) -> None:
        """White card with a rounded border; the border is drawn last, over any band that touches it."""
        self.frame_colour = colour
        self.rect(0, 0, self.width, self.height, "#ffffff", rx=3.6)

    def rect(self, x: float, y: float, w: float, h: float, fill: str, *, rx: float = 0, stroke: str | None = None,
             stroke_width: float = 0) -> None:  # fmt: skip
        extra = f' stroke="{stroke}" stroke-width="{_n(stroke_width)}"' if stroke else ""
        self.parts.append(
            f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" rx="{_n(rx)}" fill="{fill}"{extra}/>'
        )

    def top_band(self, height: float, colour: str) -> None:
        """A band across the top, under the border (no anti-aliasing seam between band and border)."""
        w, r = self.width, 3.6
        self.parts.append(
            f'<path d="M0 {r} A{r} {r} 0 0 1 {r} 0 H{_n(w - r)} A{r} {r} 0 0 1 {_n(w)} {r} V{_n(height)} H0 Z" '
            f'fill="{colour}"/>'
        )

    def bottom_band(self, top: float, colour: str) -> None:
        w, h, r = self.width, self.height, 3.6
        self.parts.append(
            f'<path d="M0 {_n(top)} H{_n(w)} V{_n(h - r)} A{r} {r} 0 0 1 {_n(w - r)} {_n(h)} H{r} '
            f'A{r} {r} 0 0 1 0 {_n(h - r)} Z" fill="{colour}"/>'
        )

    def raw(self, element: str) -> None:
        self.parts.append(element)

    def text(
        self,
        x: float,
        y: float,
        text: str,
        size: float,
        *,
        fill: str = "#111111",
        bold: bool = False,
        mono: bool = False,
        anchor: str = "start",
        max_width: float | None = None,
        min_size: float | None = None,
        spacing: float = 0.0,
    ) -> float:
        """Draw one line; shrink down to ``min_size`` then ellipsise to fit ``max_width``. Returns the size used."""
        if max_width is not None:
            floor = min_size if min_size is not None else size
            while size > floor and self._width(text, size, bold, mono, spacing) > max_width:
                size = max(floor, size * 0.95)
            if self._width(text, size, bold, mono, spacing) > max_width:
                while len(text) > 1 and self._width(text + "…", size, bold, mono, spacing) > max_width:
                    text = text[:-1]
                text = text.rstrip() + "…"
        family = MONO_FAMILY if mono else FONT_FAMILY
        attrs = f'x="{_n(x)}" y="{_n(y)}" font-family={quoteattr(family)} font-size="{_n(size)}" fill="{fill}"'
        if bold:
            attrs += ' font-weight="bold"'
        if anchor != "start":
            attrs += f' text-anchor="{anchor}"'
        if spacing:
            attrs += f' letter-spacing="{_n(spacing)}"'
        self.parts.append(f"<text {attrs}>{escape(text)}</text>")
        return size

    @staticmethod
    def _width(text: str, size: float, bold: bool, mono: bool, spacing: float) -> float:
        return text_width(text, size, bold=bold, mono=mono) + spacing * max(len(text) - 1, 0)

    def qr(self, url: str, x: float, y: float, size: float, *, dark: str = "#000000") -> None:
        """QR code with a 4-module white quiet zone inside the ``size`` square; one path, so no seams."""
        code = segno.make(url, error="m", micro=False)
        matrix = code.matrix
        count = len(matrix)
        total = count + 8
        runs: list[str] = []
        for row_index, row in enumerate(matrix):
            col = 0
            while col < count:
                if row[col]:
                    start = col
                    while col < count and row[col]:
                        col += 1
                    runs.append(f"M{start + 4} {row_index + 4}h{col - start}v1h-{col - start}z")
                else:
                    col += 1
        scale = size / total
        self.parts.append(
            f'<g transform="translate({_n(x)} {_n(y)}) scale({scale:.6f})">'
            f'<rect width="{total}" height="{total}" fill="#ffffff"/>'
            f'<path d="{"".join(runs)}" fill="{dark}" shape-rendering="crispEdges"/></g>'
        )

    def star(self, cx: float, cy: float, radius: float, *, filled: bool, colour: str) -> None:
        points = []
        for i in range(10):
            r = radius if i % 2 == 0 else radius * 0.45
            angle = math.pi / 2 + i * math.pi / 5
            points.append(f"{_n(cx + r * math.cos(angle))},{_n(cy - r * math.sin(angle))}")
        fill = colour if filled else "#ffffff"
        self.parts.append(
            f'<polygon points="{" ".join(points)}" fill="{fill}" stroke="{colour}" stroke-width="{_n(radius * 0.12)}" '
            'stroke-linejoin="round"/>'
        )

    def svg(self) -> str:
        parts = list(self.parts)
        if self.frame_colour is not None:
            parts.append(
                f'<rect x="0.4" y="0.4" width="{_n(self.width - 0.8)}" height="{_n(self.height - 0.8)}" rx="3.2" '
                f'fill="none" stroke="{self.frame_colour}" stroke-width="0.8"/>'
            )
        body = "\n".join(parts)
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(self.width)}mm" height="{_n(self.height)}mm" '
            f'viewBox="0 0 {_n(self.width)} {_n(self.height)}" role="img" aria-label={quoteattr(self.title)}>\n'
            f"<title>{escape(self.title)}</title>\n{body}\n</svg>\n"
        )


def _n(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text if text not in {"", "-0"} else "0"


def _product_line(record: LabelRecord) -> str:
    return f"{record.product.manufacturer} {record.product.name}"


def _model_line(record: LabelRecord) -> str:
    model = f"Model {record.product.model}"
    if record.product.firmware_version:
        model += f" · firmware {record.product.firmware_version}"
    return model


def _title(record: LabelRecord) -> str:
    level = f" level {record.level}" if record.level else ""
    return f"{scheme_name(record)}{level} label {record.label_id} for {_product_line(record)}"


# --------------------------------------------------------------------------------------------- styles

_INK = "#14213d"


def _trust(record: LabelRecord) -> str:
    """Binary label: an original round badge, the word mark, the QR code; product and support in a band."""
    navy, accent = "#0b2e59", "#1f9d8b"
    c = _Canvas(72, 46, _title(record))
    c.frame(navy)
    # badge: a navy disc, a teal ring and a white tick (our own drawing, not the official shield)
    c.raw(f'<circle cx="13" cy="13.5" r="8.6" fill="{navy}"/>')
    c.raw(f'<circle cx="13" cy="13.5" r="6.9" fill="none" stroke="{accent}" stroke-width="0.9"/>')
    c.raw(
        '<path d="M9.2 13.9 L12 16.7 L17.2 10.6" fill="none" stroke="#ffffff" stroke-width="1.7" '
        'stroke-linecap="round" stroke-linejoin="round"/>'
    )
    c.text(24, 12.2, "CYBER", 5.4, fill=navy, bold=True, max_width=19, min_size=4)
    c.text(24, 18.2, "TRUST", 5.4, fill=navy, bold=True, max_width=19, min_size=4)
    c.text(4.5, 27.6, "Meets the US cybersecurity", 2.45, fill=_INK, max_width=37, min_size=2)
    c.text(4.5, 30.9, "criteria for connected devices", 2.45, fill=_INK, max_width=37, min_size=2)
    c.qr(record.registry_url, 44, 3.2, 25)
    c.text(56.5, 31.2, "Scan to verify", 2.4, fill=navy, bold=True, anchor="middle", max_width=25, min_size=1.8)
    c.bottom_band(34, navy)
    c.text(4.5, 38.3, _product_line(record), 2.6, fill="#ffffff", bold=True, max_width=63, min_size=2)
    c.text(
        4.5, 41.9, f"Security updates until {month_year(record.support_end)}", 2.2, fill="#ffffff",
        max_width=63, min_size=1.8,
    )  # fmt: skip
    c.text(4.5, 44.6, record.label_id, 1.55, fill="#c9d6e8", mono=True, max_width=63, min_size=1.3)
    return c.svg()


def _levelled(record: LabelRecord) -> str:
    """Levelled label (CLS style): stars for the level, registration id with its expiry, QR code."""
    teal = "#006b5f"
    level = int(record.level or "1")
    stars = max(4, level)
    width, height = 46.0, 70.0
    c = _Canvas(width, height, _title(record))
    c.frame(teal)
    c.top_band(13, teal)
    mid = width / 2
    c.text(mid, 6.6, "CYBERSECURITY", 3.9, fill="#ffffff", bold=True, anchor="middle", max_width=40, min_size=3)
    c.text(mid, 10.8, scheme_name(record), 2.3, fill="#d8f0ec", bold=True, anchor="middle",
           max_width=40, min_size=1.6)  # fmt: skip
    step = min(9.5, (width - 8) / stars)
    first = mid - step * (stars - 1) / 2
    for index in range(stars):
        c.star(first + index * step, 19.6, min(4.1, step * 0.45), filled=index < level, colour=teal)
    c.text(mid, 29.2, f"LEVEL {level}", 4.6, fill=teal, bold=True, anchor="middle", spacing=0.3)
    c.qr(record.registry_url, mid - 12.5, 31.0, 25)
    c.text(mid, 58.6, _product_line(record), 2.35, fill=_INK, bold=True, anchor="middle", max_width=41, min_size=1.8)
    c.text(mid, 62.3, "Registration ID", 1.7, fill="#4a5568", anchor="middle")
    c.text(mid, 65.0, record.label_id, 1.75, fill=_INK, mono=True, anchor="middle", max_width=42, min_size=1.3)
    c.text(mid, 68.0, f"Valid till {long_date(record.valid_until)}", 2.0, fill=teal, bold=True, anchor="middle",
           max_width=41, min_size=1.6)  # fmt: skip
    return c.svg()


def _eu(record: LabelRecord) -> str:
    """EU style: the support end, month and year, in the largest type on the label (CRA Art. 13(19))."""
    blue, yellow = "#0a3d91", "#ffcc00"
    c = _Canvas(72, 48, _title(record))
    c.frame(blue)
    c.top_band(11, blue)
    # update symbol: a circular arrow (our own drawing)
    c.raw(f'<path d="M65.6 5.9 A3.2 3.2 0 1 1 62.4 2.7" fill="none" stroke="{yellow}" stroke-width="1.1" '
          'stroke-linecap="round"/>')  # fmt: skip
    c.raw(f'<polygon points="62.2,1.2 64.6,2.7 62.2,4.2" fill="{yellow}"/>')
    c.text(4.5, 7.4, "SECURITY UPDATES UNTIL", 3.3, fill="#ffffff", bold=True, max_width=52, min_size=2.4)
    end = record.support_end
    c.text(4.5, 20.4, _MONTHS[end.month - 1].upper(), 6.2, fill=blue, bold=True, max_width=37, min_size=4)
    c.text(4.3, 31.4, str(end.year), 10.5, fill=blue, bold=True, max_width=37)
    c.rect(4.5, 33.6, 12, 0.9, yellow)
    c.text(4.5, 37.6, f"Support period ends {long_date(end)}", 2.05, fill=_INK, max_width=37, min_size=1.6)
    c.text(4.5, 40.9, _product_line(record), 2.2, fill=_INK, bold=True, max_width=37, min_size=1.7)
    c.qr(record.registry_url, 44.5, 13.5, 24)
    c.text(56.5, 40.9, "Scan for details", 2.2, fill=blue, bold=True, anchor="middle", max_width=25, min_size=1.7)
    note = f"{scheme_name(record)} · {record.scheme_version}"
    c.text(4.5, 45.2, note, 1.55, fill="#4a5568", max_width=30, min_size=1.3)
    c.text(67.5, 45.2, record.label_id, 1.5, fill="#4a5568", mono=True, anchor="end", max_width=33, min_size=1.2)
    return c.svg()


def _generic(record: LabelRecord) -> str:
    """Any other scheme: scheme name, a clear 'meets', level, support end and validity, QR code."""
    slate, green = "#263845", "#1e8e3e"
    c = _Canvas(72, 48, _title(record))
    c.frame(slate)
    c.top_band(11, slate)
    c.text(4.5, 7.5, scheme_name(record), 3.5, fill="#ffffff", bold=True, max_width=63, min_size=2.2)
    c.raw(f'<circle cx="8.6" cy="17.6" r="4.1" fill="{green}"/>')
    c.raw('<path d="M6.6 17.8 L8.1 19.3 L10.8 16" fill="none" stroke="#ffffff" stroke-width="1" '
          'stroke-linecap="round" stroke-linejoin="round"/>')  # fmt: skip
    c.text(14.8, 19.3, "MEETS", 4.6, fill=green, bold=True, spacing=0.2)
    detail = f"Version {record.scheme_version}" + (f" · level {record.level}" if record.level else "")
    c.text(4.5, 26.2, detail, 2.2, fill=_INK, max_width=37, min_size=1.6)
    c.text(4.5, 30.4, "Security updates until", 2.2, fill=_INK, max_width=37, min_size=1.6)
    c.text(4.5, 34.0, month_year(record.support_end), 3.0, fill=slate, bold=True, max_width=37, min_size=2)
    c.text(4.5, 38.0, f"Label valid till {long_date(record.valid_until)}", 2.05, fill=_INK, max_width=37,
           min_size=1.6)  # fmt: skip
    c.text(4.5, 41.6, _product_line(record), 2.2, fill=_INK, bold=True, max_width=37, min_size=1.7)
    c.qr(record.registry_url, 44.5, 13.5, 24)
    c.text(56.5, 40.9, "Scan to verify", 2.2, fill=slate, bold=True, anchor="middle", max_width=25, min_size=1.7)
    c.text(67.5, 45.6, record.label_id, 1.5, fill="#4a5568", mono=True, anchor="end", max_width=63, min_size=1.2)
    return c.svg()
