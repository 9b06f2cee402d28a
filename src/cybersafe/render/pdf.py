"""PDF report: the HTML report in its print layout, laid out by WeasyPrint (A4, page numbers).

The print layout lists findings as one flat table per check (no nested tables, no disclosure widgets),
which keeps WeasyPrint's layout time linear in the number of findings (bench/reports.py: 5,000 findings).
Metadata dates come from the injected ``now`` so the same input gives the same document.
"""

from __future__ import annotations

import datetime as dt
import logging

from cybersafe.errors import RenderError
from cybersafe.render.html import TEMPLATES, render_html
from cybersafe.results import Assessment


class PdfRenderer:
    def render(self, assessment: Assessment, *, now: dt.datetime) -> bytes:
        html = render_html(assessment, now=now, print_layout=True)
        try:
            import weasyprint
        except (ImportError, OSError) as exc:  # OSError: pango missing on the system
            raise RenderError(f"PDF output needs WeasyPrint and pango: {exc}") from exc
        # WeasyPrint logs every CSS property it does not support at WARNING; they are not the user's problem.
        logging.getLogger("weasyprint").setLevel(logging.ERROR)
        try:
            document = weasyprint.HTML(string=html, base_url=str(TEMPLATES)).render()
            document.metadata.created = now.isoformat()
            document.metadata.modified = now.isoformat()
            pdf = document.write_pdf()
        except Exception as exc:  # translate any layout failure at the boundary (weasyprint raises many kinds)
            raise RenderError(f"PDF layout failed: {type(exc).__name__}: {exc}") from exc
        if not isinstance(pdf, bytes):  # write_pdf() without a target returns bytes
            raise RenderError("PDF layout produced no document")
        return pdf
