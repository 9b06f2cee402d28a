"""Golden files: the SVG of each style and the label record's JSON Schema stay as committed.

Regenerate after an intended change with ``CYBERSAFE_UPDATE_GOLDEN=1 pytest tests/label/test_label_golden.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from label_fixtures import ISSUER_KEY, counter_bytes
from tests.support import NOW, check_golden

from cybersafe.label.issue import issue_label
from cybersafe.label.model import label_json_schema
from cybersafe.label.render import render_svg
from cybersafe.results import Assessment

GOLDEN = Path(__file__).parent / "golden"
SCHEMA_FILE = Path(__file__).parents[2] / "src" / "cybersafe" / "label" / "label-v1.schema.json"


@pytest.mark.parametrize(
    ("scheme", "administrator_of"),
    [("us-ctm", "us-ctm"), ("sg-cls", "sg-cls"), ("us-ctm", None), ("eu-cra", None), ("etsi-en-303-645", None)],
)
def test_svg_matches_golden(assessment: Assessment, scheme: str, administrator_of: str | None) -> None:
    record, _ = issue_label(
        assessment,
        scheme,
        ISSUER_KEY,
        "Example CLA",
        "https://registry.example.test",
        NOW,
        administrator_of=administrator_of,
        random_bytes=counter_bytes(),
    )
    check_golden(GOLDEN / f"{scheme}-{record.artwork}.svg", render_svg(record))


def test_published_schema_is_in_step_with_the_model() -> None:
    check_golden(SCHEMA_FILE, json.dumps(label_json_schema(), indent=2, sort_keys=True) + "\n")


def test_issued_records_validate_against_the_published_schema(assessment: Assessment) -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    for scheme in ("us-ctm", "sg-cls"):
        record, _ = issue_label(assessment, scheme, ISSUER_KEY, "CLA", "https://r.test", NOW)
        jsonschema.validate(record.wire(), schema)
