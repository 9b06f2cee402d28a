"""Issue and render a label for every scheme an assessment meets (used by ``make demo``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cybersafe.label.issue import LabelRefused, issue_label, label_level, write_envelope
from cybersafe.label.qr import qr_url
from cybersafe.label.render import LabelFormat, render
from cybersafe.results import Assessment


def issue_and_render_all(  # signature fixed for make demo
    assessment: Assessment,
    out_dir: Path,
    private_key: Ed25519PrivateKey,
    issuer: str,
    registry_url: str,
    now: dt.datetime,
) -> list[Path]:
    """For each scheme the assessment meets: ``<label id>.label.json`` (signed envelope), ``.png`` and ``.svg``.

    Schemes not met are skipped (they are not an error here); returns the files written, in scheme order. The
    issuer is not recorded as any scheme's administrator, so every artwork is a conformity-attestation card.
    """
    written: list[Path] = []
    for result in assessment.schemes:
        try:
            label_level(result)
        except LabelRefused:
            continue
        record, envelope = issue_label(
            assessment, f"{result.scheme}@{result.version}", private_key, issuer, registry_url, now
        )
        written.append(write_envelope(envelope, record, out_dir))
        for fmt in (LabelFormat.PNG, LabelFormat.SVG):
            path = out_dir / f"{record.label_id}.{fmt}"
            path.write_bytes(render(record, fmt, qr_url=qr_url(record, envelope)))
            written.append(path)
    return written
