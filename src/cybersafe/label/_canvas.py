"""The drawing surface of label artwork: an SVG in millimetres with text measured by the font's own metrics.

Text that must appear in full (product name, model, firmware version) is set in a box: it is wrapped at word
boundaries (and inside a word only when the word alone is wider than the box) and shrunk step by step down to a
floor until it fits; only text that still does not fit at the floor is cut, with "…" (a hostile 500-character
name, not a real one).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import segno

FONT_FAMILY = "DejaVu Sans, Verdana, Arial, sans-serif"
MONO_FAMILY = "DejaVu Sans Mono, Menlo, Consolas, monospace"
LEADING = 1.18  # line pitch as a multiple of the font size
_ASCENT = 0.76  # DejaVu Sans cap height and a little more: first baseline below a box's top, per unit of size
_DESCENT = 0.24  # below the last baseline
_SHRINK = 0.95


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


@dataclass(frozen=True, slots=True)
class Font:
    size: float
    bold: bool = False
    mono: bool = False
    spacing: float = 0.0

    def width(self, text: str) -> float:
        return text_width(text, self.size, bold=self.bold, mono=self.mono) + self.spacing * max(len(text) - 1, 0)

    def scaled(self, size: float) -> Font:
        return Font(size, self.bold, self.mono, self.spacing)


def wrap(text: str, font: Font, max_width: float) -> list[str]:
    """Greedy word wrap; a word wider than the line is broken between characters."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if font.width(candidate) <= max_width:
            current = candidate
            continue
        if current:
            lines.append(current)
        rest = word
        while len(rest) > 1 and font.width(rest) > max_width:
            cut = _longest_prefix(rest, font, max_width)
            lines.append(rest[:cut])
            rest = rest[cut:]
        current = rest
    if current:
        lines.append(current)
    return lines or [""]


def _longest_prefix(word: str, font: Font, max_width: float) -> int:
    cut = 1
    while cut < len(word) and font.width(word[: cut + 1]) <= max_width:
        cut += 1
    return cut


def ellipsise(text: str, font: Font, max_width: float) -> str:
    if font.width(text) <= max_width:
        return text
    while len(text) > 1 and font.width(text + "…") > max_width:
        text = text[:-1]
    return text.rstrip() + "…"


def fit(text: str, font: Font, max_width: float, height: float, min_size: float) -> tuple[Font, list[str]]:
    """The largest size (from ``font.size`` down to ``min_size``) at which ``text`` wraps into ``height``; a line
    that is only a little too wide is shrunk a little (down to 80 %) rather than wrapped."""
    one_line = font
    while one_line.width(text) > max_width and one_line.size * _SHRINK >= max(min_size, font.size * 0.8):
        one_line = one_line.scaled(one_line.size * _SHRINK)
    if one_line.width(text) <= max_width:
        return one_line, [text]
    while True:
        lines = wrap(text, font, max_width)
        if _block_height(len(lines), font.size) <= height + 1e-6 or font.size <= min_size:
            break
        font = font.scaled(max(min_size, font.size * _SHRINK))
    room = max(1, int((height - font.size * (_ASCENT + _DESCENT)) / (font.size * LEADING) + 1e-6) + 1)
    if len(lines) > room:  # only when it does not fit even at the floor: keep what fits, say so with "…"
        lines = [*lines[: room - 1], ellipsise(" ".join(lines[room - 1 :]), font, max_width)]
    return font, lines


def _block_height(count: int, size: float) -> float:
    """From a box's top to the last baseline of ``count`` lines, plus the descent."""
    return size * (_ASCENT + _DESCENT) + (count - 1) * size * LEADING


class Canvas:
    def __init__(self, width: float, height: float, title: str) -> None:
        self.width = width
        self.height = height
        self.title = title
        self.parts: list[str] = []
        self.frame_colour: str | None = None
        self.frame_width = 0.8

    def frame(self, colour: str, *, radius: float = 3.6) -> None:
        """White card with a rounded border; the border is drawn last, over any band that touches it."""
        self.frame_colour = colour
        self.rect(0, 0, self.width, self.height, "#ffffff", rx=radius)

    def rect(self, x: float, y: float, w: float, h: float, fill: str, *, rx: float = 0, stroke: str | None = None,
             stroke_width: float = 0) -> None:  # fmt: skip
        extra = f' stroke="{stroke}" stroke-width="{n(stroke_width)}"' if stroke else ""
        self.parts.append(
            f'<rect x="{n(x)}" y="{n(y)}" width="{n(w)}" height="{n(h)}" rx="{n(rx)}" fill="{fill}"{extra}/>'
        )

    def line(self, x1: float, y1: float, x2: float, y2: float, colour: str, width: float) -> None:
        self.parts.append(
            f'<line x1="{n(x1)}" y1="{n(y1)}" x2="{n(x2)}" y2="{n(y2)}" stroke="{colour}" stroke-width="{n(width)}"/>'
        )

    def top_band(self, height: float, colour: str) -> None:
        """A band across the top, under the border (no anti-aliasing seam between band and border)."""
        w, r = self.width, 3.6
        self.parts.append(
            f'<path d="M0 {r} A{r} {r} 0 0 1 {r} 0 H{n(w - r)} A{r} {r} 0 0 1 {n(w)} {r} V{n(height)} H0 Z" '
            f'fill="{colour}"/>'
        )

    def bottom_band(self, top: float, colour: str) -> None:
        w, h, r = self.width, self.height, 3.6
        self.parts.append(
            f'<path d="M0 {n(top)} H{n(w)} V{n(h - r)} A{r} {r} 0 0 1 {n(w - r)} {n(h)} H{r} '
            f'A{r} {r} 0 0 1 0 {n(h - r)} Z" fill="{colour}"/>'
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
        font = Font(size, bold, mono, spacing)
        if max_width is not None:
            floor = min_size if min_size is not None else size
            while font.size > floor and font.width(text) > max_width:
                font = font.scaled(max(floor, font.size * _SHRINK))
            text = ellipsise(text, font, max_width)
        self._line(x, y, text, font, fill, anchor)
        return font.size

    def block(
        self,
        x: float,
        top: float,
        text: str,
        font: Font,
        *,
        width: float,
        height: float,
        min_size: float,
        fill: str = "#111111",
        anchor: str = "start",
    ) -> float:
        """Set ``text`` in the box (``x`` is the anchor's x), wrapped and shrunk to fit; returns the y below it."""
        font, lines = fit(text, font, width, height, min_size)
        baseline = top + font.size * _ASCENT
        for line in lines:
            self._line(x, baseline, line, font, fill, anchor)
            baseline += font.size * LEADING
        return top + _block_height(len(lines), font.size)

    def _line(self, x: float, y: float, text: str, font: Font, fill: str, anchor: str) -> None:
        family = MONO_FAMILY if font.mono else FONT_FAMILY
        attrs = f'x="{n(x)}" y="{n(y)}" font-family={quoteattr(family)} font-size="{n(font.size)}" fill="{fill}"'
        if font.bold:
            attrs += ' font-weight="bold"'
        if anchor != "start":
            attrs += f' text-anchor="{anchor}"'
        if font.spacing:
            attrs += f' letter-spacing="{n(font.spacing)}"'
        self.parts.append(f"<text {attrs}>{escape(text)}</text>")

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
            f'<g transform="translate({n(x)} {n(y)}) scale({scale:.6f})">'
            f'<rect width="{total}" height="{total}" fill="#ffffff"/>'
            f'<path d="{"".join(runs)}" fill="{dark}" shape-rendering="crispEdges"/></g>'
        )

    def star(self, cx: float, cy: float, radius: float, *, filled: bool, colour: str) -> None:
        points = []
        for i in range(10):
            r = radius if i % 2 == 0 else radius * 0.45
            angle = math.pi / 2 + i * math.pi / 5
            points.append(f"{n(cx + r * math.cos(angle))},{n(cy - r * math.sin(angle))}")
        fill = colour if filled else "#ffffff"
        self.parts.append(
            f'<polygon points="{" ".join(points)}" fill="{fill}" stroke="{colour}" stroke-width="{n(radius * 0.12)}" '
            'stroke-linejoin="round"/>'
        )

    def svg(self) -> str:
        parts = list(self.parts)
        if self.frame_colour is not None:
            inset = self.frame_width / 2
            parts.append(
                f'<rect x="{n(inset)}" y="{n(inset)}" width="{n(self.width - 2 * inset)}" '
                f'height="{n(self.height - 2 * inset)}" rx="3.2" fill="none" stroke="{self.frame_colour}" '
                f'stroke-width="{n(self.frame_width)}"/>'
            )
        body = "\n".join(parts)
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{n(self.width)}mm" height="{n(self.height)}mm" '
            f'viewBox="0 0 {n(self.width)} {n(self.height)}" role="img" aria-label={quoteattr(self.title)}>\n'
            f"<title>{escape(self.title)}</title>\n{body}\n</svg>\n"
        )


def n(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text if text not in {"", "-0"} else "0"
