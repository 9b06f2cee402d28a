"""CLI: keys generate, label issue, label render, verify: exit codes, one-line errors, JSON on stdout."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from tests.support import NOW_ISO
from typer.testing import CliRunner

from cybersafe.cli import app

DATA = Path(__file__).parents[1] / "label" / "data"
ASSESSMENT = DATA / "assessment.json"
runner = CliRunner()


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("keys")
    result = runner.invoke(app, ["keys", "generate", "--out", str(out), "--name", "cla", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["key_id"]) == 64
    return Path(data["private_key"]), Path(data["public_key"])


@pytest.fixture(scope="module")
def label(keys: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("labels")
    result = runner.invoke(
        app,
        ["label", "issue", str(ASSESSMENT), "--scheme", "sg-cls", "--key", str(keys[0]), "--issuer", "Example CLA",
         "--registry", "https://registry.example.test", "--now", NOW_ISO, "-o", str(out), "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["level"] == "2"
    return Path(data["file"])


def test_keys_generate_writes_a_0600_private_key(keys: tuple[Path, Path]) -> None:
    assert stat.S_IMODE(keys[0].stat().st_mode) == 0o600
    again = runner.invoke(app, ["keys", "generate", "--out", str(keys[0].parent), "--name", "cla"])
    assert again.exit_code == 2
    assert "already exists" in again.stderr


def test_issue_prints_the_label_and_caps_validity(keys: tuple[Path, Path], tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["label", "issue", str(ASSESSMENT), "--scheme", "us-ctm", "--key", str(keys[0]), "--valid-days", "4000",
         "--now", NOW_ISO, "-o", str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "capped at the support-period end" in result.stdout
    assert len(list(tmp_path.glob("CSL-USCTM-*.label.json"))) == 1


@pytest.mark.parametrize(
    ("scheme", "code", "message"),
    [
        pytest.param("uk-psti", 1, "status is fails, not meets", id="not-met"),
        pytest.param("de-bsi", 1, "not modelled", id="not-modelled"),
        pytest.param("nope", 2, "not in the assessment", id="unknown"),
    ],
)
def test_issue_refuses_a_scheme_not_met_with_one_line(
    keys: tuple[Path, Path], tmp_path: Path, scheme: str, code: int, message: str
) -> None:
    result = runner.invoke(
        app, ["label", "issue", str(ASSESSMENT), "--scheme", scheme, "--key", str(keys[0]), "-o", str(tmp_path)]
    )
    assert result.exit_code == code
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert not list(tmp_path.iterdir())


def test_issue_with_a_missing_assessment_is_bad_input(keys: tuple[Path, Path], tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["label", "issue", str(tmp_path / "x.json"), "--scheme", "us-ctm", "--key", str(keys[0])]
    )
    assert result.exit_code == 2
    assert "x.json: file not found" in result.stderr


@pytest.mark.parametrize("fmt", ["svg", "png", "pdf"])
def test_render_writes_each_format(label: Path, tmp_path: Path, fmt: str) -> None:
    target = tmp_path / f"label.{fmt}"
    result = runner.invoke(app, ["label", "render", str(label), "--format", fmt, "-o", str(target), "--dpi", "200"])
    assert result.exit_code == 0, result.output
    magic = {"svg": b"<svg", "png": b"\x89PNG", "pdf": b"%PDF-"}[fmt]
    assert target.read_bytes().startswith(magic)


def test_render_rejects_an_unknown_format(label: Path) -> None:
    result = runner.invoke(app, ["label", "render", str(label), "--format", "gif"])
    assert result.exit_code == 2
    assert "svg, png, pdf" in result.stderr


def test_verify_a_genuine_label(label: Path, keys: tuple[Path, Path]) -> None:
    result = runner.invoke(
        app,
        ["verify", str(label), "--key", str(keys[1]), "--firmware", str(DATA / "firmware.bin"),
         "--sbom", str(DATA / "sbom.cdx.json"), "--now", NOW_ISO, "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["verified"] is True
    assert {c["check"]: c["status"] for c in report["checks"]}["firmware"] == "pass"


def test_verify_fails_loudly_with_one_line_per_failed_check(
    label: Path, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    # Given a changed firmware image and a date after the label's validity
    firmware = tmp_path / "firmware.bin"
    firmware.write_bytes((DATA / "firmware.bin").read_bytes().replace(b"v1.4.2", b"v1.4.3"))
    # When the label is verified
    result = runner.invoke(
        app, ["verify", str(label), "--key", str(keys[1]), "--firmware", str(firmware), "--now", "2030-01-01"]
    )
    # Then exit 1, and stderr names each failed check on its own line
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("FAILED firmware: firmware.bin has sha256")
    assert lines[1].startswith("FAILED validity: label expired on 2029-11-28")


def test_verify_a_tampered_file(label: Path, keys: tuple[Path, Path], tmp_path: Path) -> None:
    # Given a label file cut short (broken JSON)
    broken = tmp_path / "broken.label.json"
    broken.write_text(label.read_text()[:-10])
    result = runner.invoke(app, ["verify", str(broken), "--key", str(keys[1])])
    assert result.exit_code == 1
    assert "FAILED envelope:" in result.stderr
    assert "not valid JSON" in result.stderr


def test_verify_missing_file_is_bad_input(tmp_path: Path) -> None:
    result = runner.invoke(app, ["verify", str(tmp_path / "nope.label.json")])
    assert result.exit_code == 2
    assert "file not found" in result.stderr
