"""CLI tests for the core commands: every command, JSON for scripts, exit codes, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.support import NOW_ISO
from typer.testing import CliRunner

from cybersafe.cli import app
from cybersafe.schemes.catalog import default_catalog

runner = CliRunner()


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def test_schemes_lists_every_scheme_id() -> None:
    code, out, _ = _run("schemes", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert {row["id"] for row in rows} == set(default_catalog().scheme_ids())
    assert all("dates" in row and "markets" in row for row in rows)
    code, out, _ = _run("schemes")
    assert code == 0 and "etsi-en-303-645" in out


def test_scheme_show_with_version_and_level() -> None:
    code, out, _ = _run("scheme", "show", "etsi-en-303-645@2.1.1", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["version"] == "2.1.1" and len(data["requirements"]) == 68
    code, out, _ = _run("scheme", "show", "sg-cls", "--level", "1", "--format", "json")
    level1 = json.loads(out)["requirements"]
    code, out, _ = _run("scheme", "show", "sg-cls", "--level", "2", "--format", "json")
    assert code == 0 and len(json.loads(out)["requirements"]) > len(level1), "levels are cumulative"
    code, out, _ = _run("scheme", "show", "uk-psti")
    assert code == 0 and "Schedule 1 para 1" in out


def test_crosswalk_and_recognize() -> None:
    code, out, _ = _run("crosswalk", "uk-psti", "etsi-en-303-645@2.1.1", "--format", "json")
    assert code == 0
    edges = {(e["from"].split(":", 1)[1], e["to"].split(":", 1)[1]): e["relationship"] for e in json.loads(out)}
    assert edges[("Schedule 1 para 1", "5.1-1")] == "subset-of"  # Schedule 2 deemed compliance
    # 5.3-13 suffices only subject to para 3(3), (5) and (6): it does not recognise para 3 alone
    assert edges[("Schedule 1 para 3", "5.3-13")] == "intersects-with"
    code, out, _ = _run("recognize", "--have", "sg-cls:2", "--want", "de-bsi", "--format", "json")
    assert code == 1 and json.loads(out)["open"], "the BSI arrangement excludes some product types"
    code, out, _ = _run(
        "recognize", "--have", "sg-cls:2", "--want", "de-bsi", "--type", "security-camera", "--format", "json"
    )
    assert code == 0 and json.loads(out)["fully_covered"] is True
    code, out, _ = _run("recognize", "--have", "sg-cls:2", "--want", "de-bsi", "--type", "smart-door-lock")
    assert code == 1 and "excludes smart-door-lock" in out
    code, out, _ = _run("recognize", "--have", "sg-cls:2", "--want", "eu-cra")
    assert code == 1 and "Marginal test plan" in out


def test_assess_example_json_and_exit_code(example_dossier_path: Path, tmp_path: Path) -> None:
    code, out, _ = _run(
        "assess", str(example_dossier_path), "--format", "json", "--now", NOW_ISO, "--out", str(tmp_path)
    )
    data = json.loads(out)
    assert data["schema"] == "cybersafe/assessment/v1"
    judged_ok = all(m["status"] in ("meets", "pending", "prepare", "out_of_scope") for m in data["markets"])
    assert code == (0 if judged_ok else 1)
    assert (tmp_path / "assessment.json").is_file()
    assert json.loads((tmp_path / "assessment.json").read_text()) == data


def test_assess_table_and_selected_scheme(example_dossier_path: Path) -> None:
    code, out, _ = _run("assess", str(example_dossier_path), "--scheme", "uk-psti", "--now", NOW_ISO)
    assert code in (0, 1)
    assert "Scheme verdicts" in out and "uk-psti" in out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(["assess", "missing.yaml"], "missing.yaml: file not found", id="missing-dossier"),
        pytest.param(["scheme", "show", "xx-none"], "unknown scheme 'xx-none'", id="unknown-scheme"),
        pytest.param(["scheme", "show", "etsi-en-303-645@9.9"], "unknown scheme version", id="unknown-version"),
        pytest.param(["scheme", "show", "sg-cls", "--level", "9"], "has no level '9'", id="unknown-level"),
        pytest.param(["recognize", "--have", "sg-cls:9", "--want", "eu-cra"], "has no level '9'", id="bad-have"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], expected: str) -> None:
    code, out, err = _run(*args)
    assert code == 2
    assert expected in err
    assert "Traceback" not in err + out
    assert len([line for line in err.splitlines() if line.strip()]) == 1


def test_assess_bad_dossier_names_file_line_field(tmp_path: Path) -> None:
    dossier = tmp_path / "d.yaml"
    dossier.write_text(
        "schema: cybersafe/dossier/v1\nproduct: {name: P, model: M, manufacturer: {name: X}}\nsupport: 5\n"
    )
    code, _, err = _run("assess", str(dossier))
    assert code == 2
    assert f"{dossier}:3: support: unknown field" in err


def test_recognize_says_the_confidence_each_coverage_rests_on() -> None:
    # Given a Cyber Trust Mark wanting EN 303 645: covered only through our own derived edges
    code, out, _ = _run("recognize", "--have", "us-ctm", "--want", "etsi-en-303-645", "--format", "json")
    covered = {c["requirement"]: c["confidence"] for c in json.loads(out)["covered"]}
    # Then the JSON and the table say so (and the rest stays residual: exit 1)
    assert code == 1
    assert covered == {"etsi-en-303-645@3.1.3:5.4-1": "derived", "etsi-en-303-645@3.1.3:5.5-7": "derived"}
    code, out, _ = _run("recognize", "--have", "us-ctm", "--want", "etsi-en-303-645")
    assert code == 1 and "covered (derived): etsi-en-303-645@3.1.3:5.4-1" in out
