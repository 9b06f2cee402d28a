"""The drawings: a conformity-attestation card for every label, and four consumer-label styles drawn only for a
scheme's label administrator (``LabelRecord.artwork``).

No official mark is reproduced or imitated: the scheme styles set the scheme's name (from its catalog) in plain
type beside our own drawings (a round badge, stars, an update arrow), and the card looks like a signed document,
not a label. Every drawing shows the full product name, model and firmware version (wrapped and shrunk to fit,
``_canvas.fit``) and a QR code to ``record.registry_url``.
"""

from __future__ import annotations

import datetime as dt

from cybersafe.label._canvas import Canvas, Font
from cybersafe.label.model import LabelRecord
from cybersafe.schemes.interface import LabelStyle

_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_INK = "#14213d"
_GREY = "#4a5568"


def style_for(record: LabelRecord) -> LabelStyle:
    """The scheme's consumer-label style (carried in the record); a record without one is drawn generic."""
    return record.label_style or LabelStyle.GENERIC


def scheme_name(record: LabelRecord) -> str:
    return record.scheme_name or record.scheme.upper()


def month_year(date: dt.date) -> str:
    return f"{_MONTHS[date.month - 1]} {date.year}"


def long_date(date: dt.date) -> str:
    return f"{date.day} {_MONTHS[date.month - 1][:3]} {date.year}"


def product_text(record: LabelRecord) -> str:
    return f"{record.product.manufacturer} {record.product.name}"


def model_text(record: LabelRecord) -> str:
    model = f"Model {record.product.model}"
    if record.product.firmware_version:
        model += f" · firmware {record.product.firmware_version}"
    return model


def status_text(record: LabelRecord) -> str:
    """The verdict the label rests on, with its date, pending grants and justified risk decisions."""
    summary = record.verdict_summary
    when = f" as of {summary.as_of.isoformat()}" if summary.as_of else f" (assessment of {record.issued.isoformat()})"
    text = ("Meets" if summary.status == "meets" else "Pending") + when
    if summary.pending:
        text += f": {', '.join(summary.pending)} await the scheme body's grant"
    if summary.justified:
        count = len(summary.justified)
        text += f"; {count} justified risk decision{'s' if count != 1 else ''}: {', '.join(summary.justified)}"
    return text


def _scheme_line(record: LabelRecord) -> str:
    """Name, version (unless the name already carries it: "EN 303 645 V3.1.3") and level."""
    name = scheme_name(record)
    version = "" if record.scheme_version.lower() in name.lower() else f" · {record.scheme_version}"
    level = f" · level {record.level}" if record.level else ""
    return f"{name}{version}{level}"


def title(record: LabelRecord) -> str:
    what = "Conformity attestation" if not record.scheme_mark else f"{scheme_name(record)} label"
    level = f" level {record.level}" if record.level else ""
    return f"{what}{level} {record.label_id} for {product_text(record)}, {model_text(record)}"


def _product(c: Canvas, record: LabelRecord, x: float, top: float, box: tuple[float, float, float], **kw: str) -> float:
    """Product name (bold, wrapped) then model and firmware version, in a box of (width, height, size); the name
    takes what it needs of the box, the model line comes right under it. Returns the y below the block."""
    width, height, size = box
    model_height = size * 0.86 * 1.05
    below = c.block(x, top, product_text(record), Font(size, bold=True), width=width, height=height - model_height,
                    min_size=size * 0.62, **kw)  # fmt: skip
    return c.block(x, below + size * 0.12, model_text(record), Font(size * 0.86), width=width,
                   height=max(model_height, top + height - below), min_size=size * 0.55, **kw)  # fmt: skip


# --------------------------------------------------------------------------------------------- the card


def attestation(record: LabelRecord) -> str:
    """A signed conformity-attestation card (ID-1 size): what was assessed, by whom, as of when, the verdict,
    the registry link. Greyscale, a double rule, "CONFORMITY ATTESTATION" across the top: not a label."""
    ink, rule = "#1f1f1f", "#5c5c5c"
    c = Canvas(86, 54, title(record))
    c.frame_width = 0.5
    c.frame(ink, radius=1.2)
    c.rect(1.5, 1.5, 83, 51, "none", rx=0.6, stroke=rule, stroke_width=0.2)
    c.text(4, 7.2, "CONFORMITY ATTESTATION", 3.0, fill=ink, bold=True, spacing=0.32, max_width=52, min_size=2.4)
    c.text(82, 7.0, "signed · Ed25519", 1.6, fill=_GREY, anchor="end", max_width=24, min_size=1.3)
    c.line(4, 9.2, 82, 9.2, rule, 0.2)
    top = 10.6
    rows = (
        ("SCHEME ASSESSED", _scheme_line(record), Font(2.3, bold=True), 5.4),
        ("STATUS", status_text(record), Font(1.95), 6.8),
    )
    for label, value, font, height in rows:
        c.text(4, top + 1.3, label, 1.35, fill=_GREY, bold=True, spacing=0.12)
        top = c.block(4, top + 1.9, value, font, width=51, height=height, min_size=font.size * 0.6, fill=ink) + 1.3
    c.text(4, top + 1.3, "PRODUCT", 1.35, fill=_GREY, bold=True, spacing=0.12)
    top = _product(c, record, 4, top + 1.9, (51, min(11.0, max(4.0, 40.6 - top)), 2.2), fill=ink) + 1.2
    by = f"Assessed by {record.lab or 'a lab not named in the dossier'}; attested by {record.issuer.name}"
    c.block(4, top, by, Font(1.75), width=51, height=max(2.0, 44.6 - top), min_size=1.1, fill=ink)
    c.qr(record.registry_url, 59.5, 10.8, 23.5)
    c.text(71.25, 36.6, "Scan to verify", 1.9, fill=ink, bold=True, anchor="middle", max_width=24, min_size=1.4)
    dates = (
        f"Issued {long_date(record.issued)}", f"valid till {long_date(record.valid_until)}",
        f"updates until {month_year(record.support_end)}",
    )  # fmt: skip
    c.block(71.25, 37.9, " · ".join(dates), Font(1.55), width=24, height=6.2, min_size=1.2, fill=_GREY,
            anchor="middle")  # fmt: skip
    c.line(4, 45.2, 82, 45.2, rule, 0.2)
    what = f"a {scheme_name(record)} label" if record.label_style else "a label"
    note = f"Not {what}: a signed statement of this assessment. Verify at"
    c.text(4, 47.9, note, 1.6, fill=ink, max_width=78, min_size=1.2)
    # The QR code may carry the envelope digest as its fragment (label/qr.py); the printed link is the page alone.
    page = record.registry_url.split("#", 1)[0]
    c.text(4, 50.9, page, 1.5, fill=ink, mono=True, max_width=78, min_size=1.05)
    return c.svg()


# --------------------------------------------------------------------------------------------- scheme styles


def trust(record: LabelRecord) -> str:
    """Binary label: our own round badge, the scheme's name in plain type, the QR code; product and support in a
    band. No expiry date is printed (the FCC rejected one, standards.md 2.4); the support end is."""
    navy, accent = "#0b2e59", "#1f9d8b"
    c = Canvas(72, 54, title(record))
    c.frame(navy)
    c.raw(f'<circle cx="12" cy="12.5" r="7.6" fill="{navy}"/>')
    c.raw(f'<circle cx="12" cy="12.5" r="6.1" fill="none" stroke="{accent}" stroke-width="0.8"/>')
    c.raw(
        '<path d="M8.7 12.9 L11.1 15.3 L15.6 10" fill="none" stroke="#ffffff" stroke-width="1.5" '
        'stroke-linecap="round" stroke-linejoin="round"/>'
    )
    c.block(22, 5.2, scheme_name(record), Font(3.4, bold=True), width=20.5, height=10.5, min_size=2.2, fill=navy)
    c.block(4.5, 22.6, "Meets the program's cybersecurity criteria for connected devices", Font(2.35),
            width=37, height=6.2, min_size=1.8, fill=_INK)  # fmt: skip
    c.qr(record.registry_url, 44, 3.2, 25)
    c.text(56.5, 31.2, "Scan to verify", 2.4, fill=navy, bold=True, anchor="middle", max_width=25, min_size=1.8)
    c.bottom_band(33.6, navy)
    _product(c, record, 4.5, 35.0, (63, 9.2, 2.6), fill="#ffffff")
    c.text(4.5, 47.6, f"Security updates until {month_year(record.support_end)}", 2.2, fill="#ffffff",
           max_width=63, min_size=1.8)  # fmt: skip
    c.text(4.5, 51.2, record.label_id, 1.55, fill="#c9d6e8", mono=True, max_width=63, min_size=1.3)
    return c.svg()


def levelled(record: LabelRecord) -> str:
    """Levelled label: the level as stars, the registration id with its expiry (standards.md 5.2), QR code."""
    teal = "#006b5f"
    level = int(record.level or "1")
    stars = max(4, level)
    width = 46.0
    c = Canvas(width, 80, title(record))
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
    _product(c, record, mid, 56.6, (41, 9.4, 2.35), fill=_INK, anchor="middle")
    c.text(mid, 69.6, "Registration ID", 1.7, fill=_GREY, anchor="middle")
    c.text(mid, 72.5, record.label_id, 1.75, fill=_INK, mono=True, anchor="middle", max_width=42, min_size=1.3)
    c.text(mid, 76.6, f"Valid till {long_date(record.valid_until)}", 2.0, fill=teal, bold=True, anchor="middle",
           max_width=41, min_size=1.6)  # fmt: skip
    return c.svg()


def support_end(record: LabelRecord) -> str:
    """Support-end label: the end of the security updates, month and year, in the largest type on the label."""
    blue, yellow = "#1d3557", "#e09f3e"  # not the EU flag's colours: no bundled scheme is the EU's label
    c = Canvas(72, 56, title(record))
    c.frame(blue)
    c.top_band(11, blue)
    c.raw(f'<path d="M65.6 5.9 A3.2 3.2 0 1 1 62.4 2.7" fill="none" stroke="{yellow}" stroke-width="1.1" '
          'stroke-linecap="round"/>')  # fmt: skip
    c.raw(f'<polygon points="62.2,1.2 64.6,2.7 62.2,4.2" fill="{yellow}"/>')
    c.text(4.5, 7.4, "SECURITY UPDATES UNTIL", 3.3, fill="#ffffff", bold=True, max_width=52, min_size=2.4)
    end = record.support_end
    c.text(4.5, 20.4, _MONTHS[end.month - 1].upper(), 6.2, fill=blue, bold=True, max_width=37, min_size=4)
    c.text(4.3, 31.4, str(end.year), 10.5, fill=blue, bold=True, max_width=37)
    c.rect(4.5, 33.6, 12, 0.9, yellow)
    c.text(4.5, 37.6, f"Support period ends {long_date(end)}", 2.05, fill=_INK, max_width=37, min_size=1.6)
    c.qr(record.registry_url, 44.5, 13.5, 24)
    c.text(56.5, 40.4, "Scan for details", 2.2, fill=blue, bold=True, anchor="middle", max_width=25, min_size=1.7)
    _product(c, record, 4.5, 41.6, (63, 8.4, 2.3), fill=_INK)
    c.text(4.5, 53.4, _scheme_line(record), 1.55, fill=_GREY, max_width=30, min_size=1.2)
    c.text(67.5, 53.4, record.label_id, 1.5, fill=_GREY, mono=True, anchor="end", max_width=33, min_size=1.1)
    return c.svg()


def generic(record: LabelRecord) -> str:
    """Any other consumer label: the scheme's name, a clear verdict, level, support end and validity, QR code."""
    slate, green = "#263845", "#1e8e3e"
    c = Canvas(72, 56, title(record))
    c.frame(slate)
    c.top_band(11, slate)
    c.text(4.5, 7.5, scheme_name(record), 3.5, fill="#ffffff", bold=True, max_width=63, min_size=2.2)
    meets = record.verdict_summary.status == "meets"
    c.raw(f'<circle cx="8.6" cy="17.6" r="4.1" fill="{green if meets else slate}"/>')
    if meets:
        c.raw('<path d="M6.6 17.8 L8.1 19.3 L10.8 16" fill="none" stroke="#ffffff" stroke-width="1" '
              'stroke-linecap="round" stroke-linejoin="round"/>')  # fmt: skip
    c.text(14.8, 19.3, "MEETS" if meets else "PENDING", 4.6, fill=green if meets else slate, bold=True, spacing=0.2)
    detail = f"Version {record.scheme_version}" + (f" · level {record.level}" if record.level else "")
    c.text(4.5, 26.2, detail, 2.2, fill=_INK, max_width=37, min_size=1.6)
    c.text(4.5, 30.4, "Security updates until", 2.2, fill=_INK, max_width=37, min_size=1.6)
    c.text(4.5, 34.0, month_year(record.support_end), 3.0, fill=slate, bold=True, max_width=37, min_size=2)
    c.text(4.5, 38.0, f"Label valid till {long_date(record.valid_until)}", 2.05, fill=_INK, max_width=37,
           min_size=1.6)  # fmt: skip
    c.qr(record.registry_url, 44.5, 13.5, 24)
    c.text(56.5, 40.4, "Scan to verify", 2.2, fill=slate, bold=True, anchor="middle", max_width=25, min_size=1.7)
    _product(c, record, 4.5, 41.6, (63, 8.4, 2.3), fill=_INK)
    c.text(67.5, 53.6, record.label_id, 1.5, fill=_GREY, mono=True, anchor="end", max_width=63, min_size=1.2)
    return c.svg()
