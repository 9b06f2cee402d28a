"""The format enum is exhaustive: every format has a renderer, and renderers never read the clock."""

from __future__ import annotations

import datetime as dt

import pytest

from cybersafe.errors import RenderError
from cybersafe.render import OutputFormat, render, renderer_for
from cybersafe.results import Assessment
from tests.render.helpers import SAMPLE
from tests.render.make_sample import build
from tests.support import check_golden

FAST_FORMATS = [f for f in OutputFormat if f is not OutputFormat.PDF]


def test_every_format_has_a_renderer_and_a_suffix() -> None:
    for fmt in OutputFormat:
        assert callable(renderer_for(fmt).render)
        assert fmt.suffix.startswith(".")
    assert {f.value for f in OutputFormat} == {"json", "html", "pdf", "oscal", "sarif"}


@pytest.mark.parametrize("fmt", [pytest.param(f, id=f.value) for f in FAST_FORMATS])
def test_same_input_and_time_give_the_same_bytes(
    sample: Assessment, report_now: dt.datetime, fmt: OutputFormat
) -> None:
    # Given one assessment and one injected report time
    # When it is rendered twice
    first = render(sample, fmt, now=report_now)
    second = render(sample, fmt, now=report_now)
    # Then the bytes are identical and not empty
    assert first == second
    assert len(first) > 1000


@pytest.mark.parametrize("fmt", [pytest.param(f, id=f.value) for f in (OutputFormat.HTML, OutputFormat.OSCAL)])
def test_the_report_time_is_injected_not_read(sample: Assessment, report_now: dt.datetime, fmt: OutputFormat) -> None:
    later = report_now + dt.timedelta(days=1)
    assert later.isoformat().encode() in render(sample, fmt, now=later)
    assert later.isoformat().encode() not in render(sample, fmt, now=report_now)


def test_a_naive_report_time_is_refused(sample: Assessment) -> None:
    with pytest.raises(RenderError, match="timezone"):
        render(sample, OutputFormat.JSON, now=dt.datetime(2026, 1, 1))


def test_the_report_view_names_every_verdict_and_status() -> None:
    # A verdict or status the view cannot name would break the report template (it indexes these tables)
    from cybersafe.render._view import STATUS_LABEL, STATUS_SYMBOL, VERDICT_LABEL, VERDICT_SYMBOL, VERDICTS
    from cybersafe.schemes.status import SchemeStatus
    from cybersafe.verdict import Verdict

    assert set(VERDICTS) == set(VERDICT_LABEL) == set(VERDICT_SYMBOL) == {v.value for v in Verdict}
    assert set(STATUS_LABEL) == set(STATUS_SYMBOL) == {s.value for s in SchemeStatus}


def test_sample_assessment_is_current() -> None:
    # The sample every render test reads is what make_sample.py builds (a golden file: the updater rewrites it).
    check_golden(SAMPLE, build().to_json() + "\n")
