"""What every command shares: --version, settings from a config file and CYBERSAFE_* variables (with their
precedence), human help, the --fail-on gate, one-line errors with exit 2, and output fit for CI logs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support import EXAMPLE_DOSSIER
from typer.testing import CliRunner

from cybersafe.cli import app

runner = CliRunner()


def _run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> tuple[int, str, str]:
    old = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        result = runner.invoke(app, list(args), env={"COLUMNS": "200", **(env or {})})
    finally:
        os.chdir(old)
    return result.exit_code, result.stdout, result.stderr


def _now_of(out: str) -> str:
    return str(json.loads(out)["generated_at"])


def test_version() -> None:
    code, out, _ = _run("--version")
    assert code == 0 and out.startswith("cybersafe ")


def test_a_setting_comes_from_the_command_line_then_the_environment_then_the_config_file(tmp_path: Path) -> None:
    # Given a config file in the working directory that sets assess --now
    (tmp_path / "cybersafe.toml").write_text('[assess]\nnow = "2026-01-02"\nformat = "json"\n', encoding="utf-8")
    dossier = str(EXAMPLE_DOSSIER)
    # Then the config file applies when nothing else says otherwise
    code, out, err = _run("assess", dossier, cwd=tmp_path)
    assert code in (0, 1), err
    assert _now_of(out).startswith("2026-01-02")
    # the environment variable beats the config file
    code, out, _ = _run("assess", dossier, env={"CYBERSAFE_ASSESS_NOW": "2026-03-04"}, cwd=tmp_path)
    assert _now_of(out).startswith("2026-03-04")
    # and the command line beats both
    code, out, _ = _run(
        "assess", dossier, "--now", "2026-05-06", env={"CYBERSAFE_ASSESS_NOW": "2026-03-04"}, cwd=tmp_path
    )
    assert _now_of(out).startswith("2026-05-06")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param('[assess]\nnoww = "x"\n', "assess.noww: unknown setting", id="unknown-key"),
        pytest.param('[asess]\nnow = "x"\n', "asess: unknown setting", id="unknown-command"),
        pytest.param("[assess\n", "not valid TOML", id="bad-toml"),
    ],
)
def test_a_bad_config_file_is_one_line_naming_the_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    config = tmp_path / "settings.toml"
    config.write_text(text, encoding="utf-8")
    code, _, err = _run("--config", str(config), "schemes")
    assert code == 2
    assert str(config) in err and expected in err
    assert len(err.strip().splitlines()) == 1


def test_help_names_every_environment_variable_and_shows_words_not_python_types() -> None:
    code, out, _ = _run("assess", "--help")
    assert code == 0
    assert "CYBERSAFE_ASSESS_NOW" in out and "CYBERSAFE_ASSESS_FAIL_ON" in out
    assert "<bool>" not in out and "<path>" not in out and "<str>" not in out
    assert "DATE" in out and "critical|high|medium|low|none" in out


def test_help_prose_is_wrapped_by_the_terminal_not_by_the_source() -> None:
    # Given an 80-column terminal, when a user reads a help page whose docstring is wrapped at 110 columns
    result = runner.invoke(app, ["label", "issue", "--help"], env={"COLUMNS": "80"})
    prose = result.stdout.split("╭")[0]
    paragraphs: list[list[str]] = [[]]
    for line in prose.splitlines():
        if line.strip():
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    # Then each paragraph is wrapped once, by the terminal: only its last line is short
    assert len(paragraphs) >= 4
    for lines in paragraphs:
        assert all(len(line.rstrip()) >= 60 for line in lines[:-1] if line.strip()), lines


def test_reflow_joins_the_lines_of_a_paragraph_and_keeps_lists_and_verbatim_blocks() -> None:
    from cybersafe.cli.conventions import reflow

    text = "First line.\n\nOne sentence\nwrapped twice\nhere.\n\n- an item\n- another\n  continued\n\n\b\nkept\nas is"
    assert reflow(text) == (
        "First line.\n\nOne sentence wrapped twice here.\n\n- an item\n- another\n  continued\n\n\b\nkept\nas is"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(("assess", str(EXAMPLE_DOSSIER), "--now", "yesterday"), "--now: not an ISO 8601", id="bad-now"),
        pytest.param(("assess", "/nonexistent/dossier.yaml"), "dossier.yaml", id="missing-dossier"),
        pytest.param(("recognize", "--have", "sg-cls:9", "--want", "de-bsi"), "no level '9'", id="bad-level"),
    ],
)
def test_ordinary_mistakes_exit_2_with_one_line(args: tuple[str, ...], message: str) -> None:
    code, _, err = _run(*args)
    assert code == 2, err
    assert message in err and len(err.strip().splitlines()) == 1


def test_out_naming_a_file_is_exit_2(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    code, _, err = _run("assess", str(EXAMPLE_DOSSIER), "--out", str(blocker), "--format", "json")
    assert code == 2 and str(blocker) in err


@pytest.mark.parametrize(("fail_on", "expected"), [("none", 0), ("critical", 0)])
def test_fail_on_judges_the_exit_code_on_findings(fail_on: str, expected: int) -> None:
    # The example (declarations only, no firmware image built) has no critical failing finding.
    code, _, err = _run("assess", str(EXAMPLE_DOSSIER), "--fail-on", fail_on, "--format", "json")
    assert code == expected, err


def test_piped_tables_are_not_squeezed_to_80_columns() -> None:
    # When stdout is a pipe (a CI log), a table is as wide as its content.
    result = subprocess.run(
        [sys.executable, "-m", "cybersafe.cli", "schemes"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": ""},
    )
    assert result.returncode == 0, result.stderr
    assert "etsi-en-303-645" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) > 80
    assert "…" not in result.stdout
