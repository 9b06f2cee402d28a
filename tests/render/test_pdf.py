"""PDF report: WeasyPrint lays out the print variant of the HTML; page 1 rasterises to a non-empty PNG."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest

from cybersafe.render import OutputFormat, render
from cybersafe.results import Assessment

pytestmark = pytest.mark.slow


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm) not installed")
def test_pdf_renders_and_page_one_rasterises(sample: Assessment, report_now: dt.datetime, tmp_path: Path) -> None:
    # Given the sample assessment rendered as PDF
    pdf = render(sample, OutputFormat.PDF, now=report_now)
    assert pdf.startswith(b"%PDF-")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    # When poppler turns page 1 into a PNG
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", "-singlefile", str(path), str(tmp_path / "p1")],
                   check=True, timeout=60)  # fmt: skip
    png = tmp_path / "p1.png"
    # Then there is a real image, not an empty page
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 5000
    # And the text layer carries the product and the verdicts (pdftotext from the same poppler)
    text = subprocess.run(["pdftotext", "-l", "2", str(path), "-"], check=True, capture_output=True, text=True,
                          timeout=60).stdout  # fmt: skip
    assert "Acme Smart Camera" in text and "Summary as of 2026-11-02" in text
    # the summary comes first, with its why and what next
    assert text.index("Summary as of") < text.index("Findings by check")
    assert "WHAT NEXT" in text or "What next" in text
