"""CLI: `cybersafe report` (every format, to a file or stdout) and `cybersafe paperwork` (exit codes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.render.helpers import SAMPLE
from typer.testing import CliRunner

from cybersafe.cli import app
from cybersafe.render.paperwork_kinds import document_kinds

runner = CliRunner()
EPOCH = "1793707200"  # 2026-11-03T12:00:00Z


def _run(*args: str, epoch: str = EPOCH) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200", "SOURCE_DATE_EPOCH": epoch})
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("fmt", "magic"),
    [
        pytest.param("html", b"<!DOCTYPE html>", id="html"),
        pytest.param("json", b"{", id="json"),
        pytest.param("oscal", b'{\n  "assessment-results"', id="oscal"),
        pytest.param("sarif", b'{\n  "$schema"', id="sarif"),
    ],
)
def test_report_writes_each_format(tmp_path: Path, fmt: str, magic: bytes) -> None:
    out = tmp_path / f"report.{fmt}"
    code, stdout, _ = _run("report", str(SAMPLE), "--format", fmt, "-o", str(out))
    assert code == 0
    assert out.read_bytes().startswith(magic)
    assert f"wrote {out}" in stdout


def test_report_to_stdout_uses_the_injected_time() -> None:
    # Given SOURCE_DATE_EPOCH, the report time in the HTML is that time, so two runs are identical
    code, first, _ = _run("report", str(SAMPLE))
    assert code == 0 and "2026-11-03T12:00:00+00:00" in first
    assert _run("report", str(SAMPLE))[1] == first


@pytest.mark.slow
def test_report_pdf(tmp_path: Path) -> None:
    out = tmp_path / "r.pdf"
    code, _, _ = _run("report", str(SAMPLE), "-f", "pdf", "-o", str(out))
    assert code == 0 and out.read_bytes().startswith(b"%PDF-")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["report", "missing.json"], "missing.json: file not found", id="missing-file"),
        pytest.param(["report", str(SAMPLE), "-f", "docx"], "", id="unknown-format"),
        pytest.param(
            ["paperwork", str(SAMPLE), "--kind", "tax-return"], "--kind: unknown kind 'tax-return'", id="kind"
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    code, _, stderr = _run(*args)
    assert code == 2
    assert "Traceback" not in stderr
    assert message in stderr


def test_malformed_assessment_names_file_and_field(tmp_path: Path) -> None:
    data = json.loads(SAMPLE.read_text())
    data["schemes"][0]["status"] = "great"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    code, _, stderr = _run("report", str(bad))
    assert code == 2
    assert f"{bad}: schemes.0.status:" in stderr
    assert len(stderr.strip().splitlines()) == 1


def test_bad_source_date_epoch_is_bad_input() -> None:
    code, _, stderr = _run("report", str(SAMPLE), epoch="yesterday")
    assert code == 2 and "SOURCE_DATE_EPOCH" in stderr


def test_paperwork_all_writes_every_document_and_exits_1_when_input_is_missing(tmp_path: Path) -> None:
    # Given the sample (CRA Annex II items missing, CRA and CTM not met)
    code, stdout, _ = _run("paperwork", str(SAMPLE), "--out", str(tmp_path), "--format", "json")
    # Then every document is written, the summary says what is missing, and the exit code is 1
    assert code == 1
    summary = {row["kind"]: row for row in json.loads(stdout)}
    assert set(summary) == set(document_kinds(None)), "every bundled kind"
    assert summary["psti-statement"]["ready"] is True
    assert any("product.foreseeable_misuse" in m for m in summary["cra-user-info"]["missing"])
    names = sorted(p.name for p in tmp_path.iterdir())
    assert {"psti-statement.md", "psti-statement.html", "cra-user-info.md", "eu-doc.html", "ctm-registry.json"} <= set(
        names
    )
    assert {n.split(".", 1)[0] for n in names} == set(summary), "every kind writes its files"


def test_paperwork_one_ready_kind_exits_0(tmp_path: Path) -> None:
    code, stdout, _ = _run("paperwork", str(SAMPLE), "--kind", "psti-statement", "--out", str(tmp_path))
    assert code == 0
    assert "psti-statement" in stdout and (tmp_path / "psti-statement.html").is_file()


_MINI_KIND = """\
schema: cybersafe/paperwork/v1
kind: maker-card
title: Maker card
basis: none (an example of a kind kept outside the package)
audience: anyone
intro: Who made it.
formats: [markdown]
sections:
- title: Maker
  items:
  - {key: maker, clause: "-", label: Manufacturer, dossier: product.manufacturer.name}
"""


def test_paperwork_kinds_adds_a_kind_kept_in_a_directory(tmp_path: Path) -> None:
    # Given a directory with one document kind file
    kinds = tmp_path / "kinds"
    kinds.mkdir()
    (kinds / "maker-card.yaml").write_text(_MINI_KIND)
    # When it is named with --kinds, the kind can be asked for like a bundled one
    code, stdout, _ = _run(
        "paperwork", str(SAMPLE), "--kinds", str(kinds), "--kind", "maker-card", "--out", str(tmp_path / "out")
    )
    assert code == 0, stdout
    assert "| - | Manufacturer | Acme Devices Ltd |" in (tmp_path / "out" / "maker-card.md").read_text()


def test_paperwork_bad_kind_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "maker-card.yaml").write_text(_MINI_KIND.replace("product.manufacturer.name", "product.maker"))
    code, _, stderr = _run("paperwork", str(SAMPLE), "--kinds", str(tmp_path), "--out", str(tmp_path / "out"))
    assert code == 2 and "Traceback" not in stderr
    assert stderr.strip() == (
        f"error: {tmp_path / 'maker-card.yaml'}:11: sections[0].items[0].dossier: product.maker: the dossier has no field "
        "product.maker"
    )
