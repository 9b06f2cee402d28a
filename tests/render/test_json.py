"""JSON report: the assessment wire model itself, byte-stable (golden file) and loadable again."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import pytest

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


def test_an_assessment_nested_deeper_than_any_written_is_refused_in_one_line(
    sample: Assessment, report_now: dt.datetime, tmp_path: Path
) -> None:
    # Given an assessment whose first finding carries a value nested 300 deep (JSON reads it; writing it back, as
    # diff, report and assess --baseline do, would not)
    from typer.testing import CliRunner

    from cybersafe.cli import app
    from cybersafe.errors import InputError

    data = json.loads(sample.to_json())
    deep: list[object] = []
    for _ in range(300):
        deep = [deep]
    data["checks"][0]["findings"][0]["facts"]["x"] = deep
    path = tmp_path / "deep.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    # Then it is refused as bad input naming the file, by the reader and by each command that reads one
    with pytest.raises(InputError, match=r"deep\.json: nested deeper than 64 levels"):
        load_assessment(path)
    for args in (["diff", str(path), str(path)], ["report", str(path), "-o", str(tmp_path / "r.html")]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2, result.output
        assert "nested deeper than 64 levels" in result.stderr


def _nested(levels: int) -> object:
    value: object = "leaf"
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("where", "depth_of_holder"),
    [
        ("dossier", 2),  # the top object, then the dossier
        ("parameters", 4),  # the top object, the checks, the attempt, its parameters
        ("facts", 6),  # ... the attempt, its findings, the finding, its facts
        ("firmware_memo", 3),  # the top object, the inputs, the memo
    ],
)
def test_each_free_form_value_is_held_to_the_same_depth_from_the_top(
    sample: Assessment, tmp_path: Path, where: str, depth_of_holder: int
) -> None:
    from cybersafe.errors import InputError
    from cybersafe.results import MAX_ASSESSMENT_DEPTH

    def with_value(levels: int) -> Path:
        data = json.loads(sample.to_json())
        holder = {
            "dossier": lambda: data["dossier"],
            "parameters": lambda: data["checks"][0].setdefault("parameters", {}),
            "facts": lambda: data["checks"][0]["findings"][0]["facts"],
            "firmware_memo": lambda: data.setdefault("inputs", {"tool": "t", "digests": {}}).setdefault(
                "firmware_memo", {}
            ),
        }[where]()
        holder["x"] = _nested(levels)
        path = tmp_path / f"{where}-{levels}.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        return path

    # Given a value whose innermost list is exactly at the limit, counted from the top object: it is read
    at_limit = MAX_ASSESSMENT_DEPTH - depth_of_holder
    assert load_assessment(with_value(at_limit)).digest()
    # and one level more is refused in one line, wherever the free-form value sits
    with pytest.raises(InputError, match="nested deeper than 64 levels"):
        load_assessment(with_value(at_limit + 1))


def test_the_one_pass_reading_gives_what_the_json_module_and_the_model_give(sample: Assessment, tmp_path: Path) -> None:
    from cybersafe.results import _validated

    # Given an assessment whose free-form facts hold what JSON readers differ on: big integers, NaN, small and
    # large floats, escapes, a repeated key
    data = json.loads(sample.to_json())
    facts = {"big": 2**80, "nan": math.nan, "tiny": 5e-324, "huge": 1e308, "text": "é\\\n\t", "neg": -0.0}
    data["checks"][0]["findings"][0]["facts"].update(facts)
    text = json.dumps(data).replace('"schema":', '"schema": "x", "schema":', 1)  # the last one counts
    path = tmp_path / "a.json"
    path.write_text(text, encoding="utf-8")
    # When it is read in one pass (pydantic-core) and as the json module and the model read it
    one_pass, reference = load_assessment(path), _validated(path.read_bytes(), path)
    # Then they are the same assessment, to the digest
    assert one_pass.digest() == reference.digest()
    assert repr(one_pass.checks[0].findings[0].facts) == repr(reference.checks[0].findings[0].facts)


def test_an_integer_too_long_to_convert_is_bad_input_in_one_line(sample: Assessment, tmp_path: Path) -> None:
    from cybersafe.errors import InputError

    data = json.loads(sample.to_json())
    text = json.dumps(data).replace('"facts": {', '"facts": {"n": ' + "9" * 4301 + ", ", 1)
    path = tmp_path / "long.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=r"long\.json: malformed JSON: .*4300") as caught:
        load_assessment(path)
    assert "\n" not in str(caught.value)


def test_an_assessments_json_form_holds_no_float_json_cannot_write(sample: Assessment) -> None:
    from pydantic import ValidationError

    from cybersafe.results import ReuseOut

    # Given an assessment whose free-form values hold NaN, the infinities and floats written differently by orjson
    data = json.loads(sample.to_json())
    odd = {"nan": math.nan, "inf": math.inf, "ninf": -math.inf, "tiny": 1e-7, "small": 1e-5, "big": 1e16}
    data["dossier"]["x-odd"] = odd
    data["checks"][0]["findings"][0]["facts"].update(odd)
    data["checks"][0]["parameters"] = dict(odd)
    data.setdefault("inputs", {"tool": "t", "digests": {}})["firmware_memo"] = {"key": "k", "files": {"/a": odd}}
    assessment = Assessment.model_validate(data)
    # When its JSON form is made
    wire = assessment.wire()
    # Then the non-finite ones are null there (pydantic's JSON mode), which ``written`` relies on: its digest and
    # text are the json module's, byte for byte
    for holder in (
        wire["dossier"]["x-odd"],
        wire["checks"][0]["findings"][0]["facts"],
        wire["checks"][0]["parameters"],
        wire["inputs"]["firmware_memo"]["files"]["/a"],
    ):
        assert [holder[k] for k in ("nan", "inf", "ninf")] == [None, None, None]
        assert [holder[k] for k in ("tiny", "small", "big")] == [1e-7, 1e-5, 1e16]
    reference = json.dumps(wire, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert assessment.written().canonical() == reference
    assert assessment.to_json() == json.dumps(wire, indent=2, ensure_ascii=False)
    # and a model a check might put in its facts is JSON data there too, its non-finite floats null
    from pydantic import BaseModel

    class Measured(BaseModel):
        ratio: float

    data["checks"][0]["findings"][0]["facts"]["measured"] = Measured(ratio=math.nan)
    held = Assessment.model_validate(data)
    assert held.wire()["checks"][0]["findings"][0]["facts"]["measured"] == {"ratio": None}
    reference = json.dumps(held.wire(), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert held.written().canonical() == reference
    # and the one typed float refuses what JSON cannot hold
    with pytest.raises(ValidationError):
        ReuseOut(checks_run=1, requirement_verdicts=1, schemes_served=1, requirements_fed_per_check=math.nan)
