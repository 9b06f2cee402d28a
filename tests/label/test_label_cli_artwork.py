"""CLI: `label issue --administrator-of` decides the artwork, `label render` draws what was signed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.support import NOW_ISO
from typer.testing import CliRunner

from cybersafe.cli import app

ASSESSMENT = Path(__file__).parent / "data" / "assessment.json"
runner = CliRunner()


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("keys")
    result = runner.invoke(app, ["keys", "generate", "--out", str(out), "--name", "cla", "--format", "json"])
    assert result.exit_code == 0, result.output
    return Path(json.loads(result.stdout)["private_key"])


def _issue(key: Path, out: Path, *extra: str) -> tuple[int, str, str]:
    result = runner.invoke(
        app,
        ["label", "issue", str(ASSESSMENT), "--key", str(key), "--issuer", "Example CLA", "--now", NOW_ISO, "-o", str(out),
         *extra],
    )  # fmt: skip
    # words joined again: Rich wraps piped output at 80 columns
    return result.exit_code, " ".join(result.stdout.split()), result.stderr


def test_the_administrator_gets_the_schemes_style_and_everyone_else_the_card(key: Path, tmp_path: Path) -> None:
    # Given the Cyber Trust Mark's administrator and an issuer that is not
    code, out, _ = _issue(key, tmp_path / "admin", "--scheme", "us-ctm", "--administrator-of", "us-ctm")
    assert code == 0, out
    assert "artwork: US Cyber Trust Mark label style (the issuer is its label administrator)" in out
    code, out, _ = _issue(key, tmp_path / "other", "--scheme", "us-ctm")
    assert code == 0, out
    assert "artwork: conformity attestation card (not the scheme's label or mark)" in out
    # When each label is drawn, Then the artwork follows the signed record
    for folder, card in (("admin", False), ("other", True)):
        label = next((tmp_path / folder).glob("*.label.json"))
        svg = tmp_path / f"{folder}.svg"
        done = runner.invoke(app, ["label", "render", str(label), "--format", "svg", "-o", str(svg)])
        assert done.exit_code == 0, done.output
        assert ("CONFORMITY ATTESTATION" in svg.read_text(encoding="utf-8")) is card


def test_json_output_carries_the_artwork_and_the_administrator_claim(key: Path, tmp_path: Path) -> None:
    code, out, _ = _issue(key, tmp_path, "--scheme", "sg-cls", "--administrator-of", "sg-cls", "--format", "json")
    assert code == 0, out
    data = json.loads(out)  # JSON survives the re-joining: no string in it holds a line break
    assert (data["artwork"], data["issuer"]["administrator_of"], data["label_style"]) == (
        "scheme-mark",
        "sg-cls",
        "levelled",
    )


@pytest.mark.parametrize(
    ("scheme", "claim", "words"),
    [
        pytest.param("eu-cra", "eu-cra", "has no consumer label", id="law"),
        pytest.param("us-ctm", "sg-cls", "but the label is for us-ctm", id="other-scheme"),
    ],
)
def test_an_impossible_administrator_claim_is_exit_2_with_one_line(
    key: Path, tmp_path: Path, scheme: str, claim: str, words: str
) -> None:
    code, _, err = _issue(key, tmp_path, "--scheme", scheme, "--administrator-of", claim)
    assert code == 2
    assert words in err and "administrator_of" in err
    assert len(err.strip().splitlines()) == 1
    assert not list(tmp_path.glob("*.label.json"))
