"""HTML report: one self-contained page (inline CSS, SVG and script; nothing fetched from anywhere).

Jinja2 with autoescape on; everything shown is precomputed in ``_view.build_view`` and ``_summary``. The page
opens with the summary (per market and scheme: status as of the date, why, what next), then the findings, which
a small inline script lets people search and filter by scheme, verdict and severity (without JavaScript the
filter form stays hidden and every finding is shown), then the requirements, collapsed per scheme.

The PDF renderer uses the same template with ``print_layout=True``: findings become one compact text block per
check, requirement tables are laid out open, and the filter form, the script and the ``<details>`` widgets are
left out, because a printed page cannot be clicked open.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import jinja2

from cybersafe.errors import RenderError
from cybersafe.render._view import STATUS_LABEL, STATUS_SYMBOL, VERDICT_LABEL, VERDICT_SYMBOL, VERDICTS, build_view
from cybersafe.results import Assessment

TEMPLATES = Path(__file__).parent / "templates"


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(
        VERDICTS=VERDICTS,
        VERDICT_LABEL=VERDICT_LABEL,
        VERDICT_SYMBOL=VERDICT_SYMBOL,
        STATUS_LABEL=STATUS_LABEL,
        STATUS_SYMBOL=STATUS_SYMBOL,
    )
    return env


def render_html(assessment: Assessment, *, now: dt.datetime, print_layout: bool = False) -> str:
    view = build_view(assessment, now=now.isoformat())
    try:
        template = environment().get_template("report.html.j2")
        return template.render(view=view, print_layout=print_layout)
    except jinja2.TemplateError as exc:  # a template bug, not bad input: name it
        raise RenderError(f"report template failed: {exc}") from exc


class HtmlRenderer:
    def render(self, assessment: Assessment, *, now: dt.datetime) -> bytes:
        return render_html(assessment, now=now).encode("utf-8")
