"""JSON report: the assessment wire model itself, byte-stable (golden file) and loadable again."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from cybersafe.render import OutputFormat, render
from cybersafe.results import Assessment, load_assessment
from tests.render.helpers import GOLDEN
from tests.support import check_golden


def test_json_report_matches_golden(sample: Assessment, report_now: dt.datetime) -> None:
    check_golden(GOLDEN / "assessment.json", render(sample, OutputFormat.JSON, now=report_now).decode())


def test_json_report_round_trips(sample: Assessment, report_now: dt.datetime, tmp_path: Path) -> None:
    # Given the JSON report written to a file
    out = tmp_path / "report.json"
    out.write_bytes(render(sample, OutputFormat.JSON, now=report_now))
    # When it is loaded as an assessment again
    again = load_assessment(out)
    # Then nothing was lost: same digest, same schema tag
    assert again.digest() == sample.digest()
    assert json.loads(out.read_text())["schema"] == "cybersafe/assessment/v1"
