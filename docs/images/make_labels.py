"""Draw docs/images/labels.png: the label artwork cybersafe produces, from the label tests' assessment.

Left, conformity-attestation cards (any issuer; the only artwork for laws and standards): the EU CRA met with a
justified risk decision, and a Cyber Trust Mark label pending the administrator's grant issued by an issuer that
is not the administrator. Right, the scheme's own label style, drawn only for its label administrator: the
Cyber Trust Mark (binary) and Singapore CLS (levelled). Deterministic: fixed key, label ids and dates.

    .venv/bin/python docs/images/make_labels.py
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image, ImageDraw, ImageFont

from cybersafe.label.issue import issue_label
from cybersafe.label.render import render_png
from cybersafe.results import Assessment, RequirementResultOut, load_assessment
from cybersafe.schemes.status import SchemeStatus

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).with_name("labels.png")
NOW = dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC)
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
REGISTRY = "https://registry.example.org"
DPI = 300
GAP = 60


def _ids() -> Callable[[int], bytes]:
    counter = itertools.count(1)
    return lambda n: next(counter).to_bytes(n, "big")


def _with(assessment: Assessment, scheme: str, **update: object) -> Assessment:
    schemes = [s.model_copy(update=update) if s.scheme == scheme else s for s in assessment.schemes]
    return assessment.model_copy(update={"schemes": schemes})


def _assessment() -> Assessment:
    base = load_assessment(ROOT / "tests" / "label" / "data" / "assessment.json")
    justified = RequirementResultOut.model_validate(
        {"id": "Annex I Part I (2)(k)", "title": "Exploitation mitigation", "obligation": "mandatory",
         "required": True, "verdict": "justified", "reason": "risk decision RD-1", "confidence": "confirmed",
         "source": "Regulation (EU) 2024/2847", "justified_by": ["RD-1"]}
    )  # fmt: skip
    grant = RequirementResultOut.model_validate(
        {"id": "8.222(b)(3)-(5)", "title": "Label administrator's grant", "obligation": "mandatory", "required": True,
         "verdict": "pending", "reason": "grant:us-ctm: pending", "confidence": "confirmed", "source": "47 CFR 8.222",
         "evidence": [{"ref": "grant:us-ctm", "kind": "grant", "verdict": "pending"}]}
    )  # fmt: skip
    as_of = NOW.date()
    changed = _with(base, "eu-cra", requirements=[justified], as_of=as_of)
    return _with(changed, "us-ctm", requirements=[grant], status=SchemeStatus.PENDING, as_of=as_of)


def _png(assessment: Assessment, scheme: str, administrator_of: str | None, ids: Callable[[int], bytes]) -> Image.Image:
    record, _ = issue_label(
        assessment, scheme, KEY, "Example Lab", REGISTRY, NOW, administrator_of=administrator_of, random_bytes=ids
    )
    return Image.open(io.BytesIO(render_png(record, dpi=DPI))).convert("RGBA")


def main() -> None:
    assessment = _assessment()
    ids = _ids()
    cards = [_png(assessment, "eu-cra", None, ids), _png(assessment, "us-ctm", None, ids)]
    marks = [_png(assessment, "us-ctm", "us-ctm", ids), _png(assessment, "sg-cls", "sg-cls", ids)]
    font = ImageFont.truetype("DejaVuSans-Bold.ttf", 34)
    caption_height = 70
    width = sum(i.width for i in cards + marks) + GAP * 5
    height = max(i.height for i in cards + marks) + caption_height + GAP
    sheet = Image.new("RGBA", (width, height), (255, 255, 255, 255))  # readable on a dark page too
    draw = ImageDraw.Draw(sheet)
    x = GAP
    for group, caption in ((cards, "Conformity attestation cards: any issuer; laws and standards"),
                           (marks, "The scheme's own label style: its label administrator only")):  # fmt: skip
        draw.text((x, 12), caption, fill=(31, 35, 40, 255), font=font)
        for image in group:
            sheet.alpha_composite(image, (x, caption_height))
            x += image.width + GAP
        x += GAP
    sheet.save(OUT, optimize=True)
    print(f"wrote {OUT.relative_to(ROOT)} ({sheet.width}x{sheet.height})")


if __name__ == "__main__":
    main()
