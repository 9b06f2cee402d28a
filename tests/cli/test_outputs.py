"""Our own documents are checked against their published schemas before they are written; one document to
stdout with ``-o -`` (never a file named ``-``), a summary with ``--format json``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cybersafe.cli import app
from cybersafe.errors import InvalidOutput
from cybersafe.outputs import Document, check_document

runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]
ASSESSMENT = REPO / "tests" / "render" / "data" / "assessment.json"


@pytest.mark.parametrize(
    ("fmt", "renderer", "breaks", "field"),
    [
        pytest.param(
            "oscal",
            "cybersafe.render.oscal.OscalRenderer",
            lambda d: d["assessment-results"].update(uuid="not-a-uuid"),
            "assessment-results.uuid",
            id="oscal",
        ),
        pytest.param(
            "sarif", "cybersafe.render.sarif.SarifRenderer", lambda d: d.update(version="9.9"), "version", id="sarif"
        ),
        pytest.param(
            "json",
            "cybersafe.render.json.JsonRenderer",
            lambda d: d["schemes"][0].update(status="great"),
            "schemes.0.status",
            id="assessment",
        ),
    ],
)
def test_an_invalid_document_of_ours_is_not_written(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fmt: str, renderer: str, breaks: Any, field: str
) -> None:
    # Given a renderer that would write a document invalid against its schema (a bug on our side)
    module, name = renderer.rsplit(".", 1)
    cls = getattr(__import__(module, fromlist=[name]), name)
    original = cls.render

    def broken(self: Any, assessment: Any, *, now: Any) -> bytes:
        doc = json.loads(original(self, assessment, now=now))
        breaks(doc)
        return json.dumps(doc).encode()

    monkeypatch.setattr(cls, "render", broken)
    out = tmp_path / f"report.{fmt}"
    # When the report is asked for
    result = runner.invoke(app, ["report", str(ASSESSMENT), "--format", fmt, "-o", str(out)])
    # Then exit 2, one line naming the element at fault, and no file
    assert result.exit_code == 2, result.output
    assert f"{field}: our " in result.stderr and "would not be valid" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize("fmt", ["oscal", "sarif", "json"])
def test_our_documents_pass_their_schemas(fmt: str) -> None:
    result = runner.invoke(app, ["report", str(ASSESSMENT), "--format", fmt])
    assert result.exit_code == 0, result.stderr
    kind = {"oscal": Document.OSCAL_ASSESSMENT_RESULTS, "sarif": Document.SARIF, "json": Document.ASSESSMENT}[fmt]
    check_document(kind, result.stdout)


def test_an_invalid_cyclonedx_sbom_is_refused() -> None:
    bom = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": [{"name": "busybox"}]}
    with pytest.raises(InvalidOutput, match=r"components\.0: our CycloneDX 1.6 SBOM would not be valid"):
        check_document(Document.CYCLONEDX_1_6, bom)


def test_assess_out_writes_a_schema_valid_assessment(tmp_path: Path) -> None:
    from tests.conftest import EXAMPLE_DOSSIER

    result = runner.invoke(app, ["assess", str(EXAMPLE_DOSSIER), "--out", str(tmp_path), "--format", "json"])
    assert result.exit_code in (0, 1), result.stderr
    check_document(Document.ASSESSMENT, (tmp_path / "assessment.json").read_text(encoding="utf-8"))


_BREAKS = {
    "a status outside its enum": lambda d: d["checks"][0].update(status="weird"),
    "a missing required field": lambda d: d["checks"][0].pop("check_id"),
    "an unknown field": lambda d: d.update(surprise=1),
    "a number for a string": lambda d: d["schemes"][0].update(status=3),
    "a list for an object": lambda d: d.update(tool=[]),
    "a wrong schema id": lambda d: d.update(schema="cybersafe/assessment/v0"),
    "null for a list": lambda d: d.update(checks=None),
}


@pytest.mark.parametrize("name", sorted(_BREAKS))
def test_the_fast_assessment_check_agrees_with_the_reference_validator(name: str) -> None:
    from jsonschema import Draft202012Validator

    from cybersafe.outputs import _fast_assessment_validator, _schema

    reference = Draft202012Validator(_schema("cybersafe", "schemas", "assessment-v1.schema.json"))
    fast = _fast_assessment_validator()
    doc = json.loads(ASSESSMENT.read_text(encoding="utf-8"))
    assert fast.is_valid(doc) and reference.is_valid(doc)
    _BREAKS[name](doc)
    # both refuse it, and the error named is the reference validator's
    assert not fast.is_valid(doc) and not reference.is_valid(doc)
    with pytest.raises(InvalidOutput):
        check_document(Document.ASSESSMENT, doc)


@pytest.mark.slow
def test_sbom_generate_to_stdout_and_to_a_file(tmp_path: Path) -> None:
    from tests.evidence.firmware.fwfixtures import image

    firmware = str(image("vuln-squashfs-gzip"))
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        # -o - writes the SBOM to stdout (and no file named '-')
        piped = runner.invoke(app, ["sbom", "generate", firmware, "-o", "-", "--budget", "quick"])
        assert piped.exit_code == 0, piped.stderr
        assert not (tmp_path / "-").exists()
        check_document(Document.CYCLONEDX_1_6, piped.stdout)
        # -o FILE with --format json: the document in the file, a summary on stdout
        written = runner.invoke(
            app, ["sbom", "generate", firmware, "-o", "fw.cdx.json", "--format", "json", "--budget", "quick"]
        )
        assert written.exit_code == 0, written.stderr
        summary = json.loads(written.stdout)
        assert summary["output"] == "fw.cdx.json" and summary["components"] >= 2
        check_document(Document.CYCLONEDX_1_6, (tmp_path / "fw.cdx.json").read_text(encoding="utf-8"))
    finally:
        os.chdir(old)


def test_label_render_summary_as_json(tmp_path: Path) -> None:
    from cybersafe.attest.keys import generate_keypair

    key, _ = generate_keypair(tmp_path, "issuer")
    label_dir = tmp_path / "labels"
    issued = runner.invoke(
        app,
        ["label", "issue", str(REPO / "tests" / "label" / "data" / "assessment.json"), "-s", "sg-cls", "-k", str(key),
         "--now", "2026-11-29T12:00:00+00:00", "--out", str(label_dir), "--format", "json"],
    )  # fmt: skip
    assert issued.exit_code == 0, issued.stderr
    label = json.loads(issued.stdout)["file"]
    # The artwork follows the -o suffix; the summary is JSON
    result = runner.invoke(app, ["label", "render", label, "-o", str(tmp_path / "l.svg"), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["artwork"] == "svg" and summary["output"] == str(tmp_path / "l.svg")
    assert (tmp_path / "l.svg").read_bytes().startswith(b"<svg")
    # -o - writes the SVG to stdout
    piped = runner.invoke(app, ["label", "render", label, "-o", "-", "--artwork", "svg"])
    assert piped.exit_code == 0 and piped.stdout.startswith("<svg")
