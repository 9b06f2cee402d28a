"""Every command that reads a file the user names refuses a FIFO and a link to /dev/zero with one line, exit 2.

A FIFO used to block 6 of 7 commands forever and ``/dev/zero`` was read until memory ran out. The commands
run in-process with an alarm as a guard: a regression fails the test (exit 3) instead of hanging the suite.
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from cybersafe.cli import app

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "smart-camera"
ASSESSMENT = REPO / "tests" / "label" / "data" / "assessment.json"
runner = CliRunner()

# X is the hostile path; the other files are real ones, so X is what the command trips over.
COMMANDS: list[tuple[str, list[str]]] = [
    ("assess", ["assess", "X"]),
    ("probe --dossier", ["probe", "127.0.0.1", "--dossier", "X"]),
    ("report", ["report", "X"]),
    ("paperwork", ["paperwork", "X", "--out", "{tmp}/paperwork"]),
    ("verify", ["verify", "X"]),
    ("verify --key", ["verify", "{label}", "--key", "X"]),
    ("verify --firmware", ["verify", "{label}", "--firmware", "X"]),
    ("verify --sbom", ["verify", "{label}", "--sbom", "X"]),
    ("label issue", ["label", "issue", "X", "--scheme", "us-ctm", "--key", "{key}", "--out", "{tmp}"]),
    ("label issue --key", ["label", "issue", str(ASSESSMENT), "--scheme", "us-ctm", "--key", "X", "--out", "{tmp}"]),
    ("label render", ["label", "render", "X"]),
    ("registry publish", ["registry", "publish", "X", "--token", "t", "--url", "http://127.0.0.1:9"]),
    ("registry issuer add", ["registry", "issuer", "add", "n", "--public-key", "X", "--db", "sqlite:///{tmp}/r.db"]),
    ("sbom check", ["sbom", "check", "X"]),
    ("sbom vulns", ["sbom", "vulns", "X", "--db", "{tmp}/v.db"]),
    ("sbom vulns --vex", ["sbom", "vulns", "{sbom}", "--vex", "X", "--db", "{tmp}/v.db"]),
    ("sbom vulns --db", ["sbom", "vulns", "{sbom}", "--db", "X"]),
    ("sbom vex", ["sbom", "vex", "X", "--db", "{tmp}/v.db"]),
    ("sbom compare", ["sbom", "compare", "X", "{sbom}"]),
    ("sbom compare observed", ["sbom", "compare", "{sbom}", "X"]),
    ("vulndb import", ["vulndb", "import", "X", "--db", "{tmp}/v.db"]),
    ("watch add", ["watch", "add", "X", "--product", "p", "--store", "{tmp}/s.db"]),
    ("watch add --store", ["watch", "add", "{sbom}", "--product", "p", "--store", "X"]),
    ("firmware scan", ["firmware", "scan", "X"]),
    ("firmware scan --fail-on", ["firmware", "scan", "X", "--fail-on", "high", "--format", "json"]),
    ("sbom generate", ["sbom", "generate", "X", "--output", "{tmp}/out.json"]),
    ("--config", ["--config", "X", "schemes"]),
    ("assess --catalog", ["assess", str(EXAMPLE / "dossier.yaml"), "--catalog", "X"]),
    ("schemes --catalog", ["schemes", "--catalog", "X"]),
    ("recognize --dossier", ["recognize", "--have", "a", "--want", "b", "--dossier", "X"]),
    ("paperwork --kinds", ["paperwork", str(ASSESSMENT), "--kinds", "X", "--out", "{tmp}/paperwork"]),
]

# X is a file inside a directory the command is given: the directory is read, the hostile file refused.
IN_DIRECTORY: list[tuple[str, str, list[str]]] = [
    ("assess --catalog DIR", "x.yaml", ["assess", str(EXAMPLE / "dossier.yaml"), "--catalog", "D"]),
    ("assess --catalog DIR/catalogs", "catalogs/x.yaml", ["assess", str(EXAMPLE / "dossier.yaml"), "--catalog", "D"]),
    ("schemes --catalog DIR arrangements", "arrangements.yaml", ["schemes", "--catalog", "D"]),
    ("paperwork --kinds DIR", "x.yaml", ["paperwork", str(ASSESSMENT), "--kinds", "D", "--out", "{tmp}/paperwork"]),
]


@pytest.fixture(scope="module")
def materials(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A real issuer key, a real label and a real SBOM, made once."""
    tmp = tmp_path_factory.mktemp("materials")
    assert runner.invoke(app, ["keys", "generate", "--out", str(tmp)]).exit_code == 0
    issued = runner.invoke(
        app,
        ["label", "issue", str(ASSESSMENT), "--scheme", "us-ctm", "--key", str(tmp / "issuer.key"), "--out", str(tmp)],
    )
    assert issued.exit_code == 0, issued.output
    label = next(tmp.glob("*.label.json"))
    sbom = tmp / "sbom.cdx.json"
    shutil.copyfile(EXAMPLE / "sbom.cdx.json", sbom)
    return {"label": str(label), "key": str(tmp / "issuer.key"), "sbom": str(sbom)}


def _hostile(kind: str, tmp: Path, name: str = "hostile.json") -> Path:
    path = tmp / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    return path


class _Hung(Exception):
    pass


@pytest.fixture
def alarm() -> Iterator[None]:
    def hung(signum: int, frame: FrameType | None) -> None:
        raise _Hung("the command blocked on its input")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.usefixtures("alarm")
@pytest.mark.parametrize("kind", ["fifo", "dev-zero-link"])
@pytest.mark.parametrize("argv", [pytest.param(a, id=n) for n, a in COMMANDS])
def test_command_refuses_special_file(kind: str, argv: list[str], materials: dict[str, str], tmp_path: Path) -> None:
    # Given a FIFO or a symlink to /dev/zero where the command expects a file
    hostile = _hostile(kind, tmp_path)
    args = [str(hostile) if a == "X" else a.format(tmp=tmp_path, **materials) for a in argv]

    # When the command runs
    result = runner.invoke(app, args)

    # Then it stops at once with one line naming the file and saying what it is, exit code 2
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert str(hostile.name) in lines[0]
    assert "FIFO" in lines[0] or "character device" in lines[0], lines[0]


@pytest.mark.usefixtures("alarm")
@pytest.mark.parametrize("kind", ["fifo", "dev-zero-link"])
@pytest.mark.parametrize(("name", "argv"), [pytest.param(f, a, id=n) for n, f, a in IN_DIRECTORY])
def test_special_file_inside_a_named_directory(
    kind: str, name: str, argv: list[str], materials: dict[str, str], tmp_path: Path
) -> None:
    # Given a directory the command reads (a catalog, document kinds) holding a FIFO or a link to /dev/zero
    directory = tmp_path / "dir"
    hostile = _hostile(kind, directory, name)
    args = [str(directory) if a == "D" else a.format(tmp=tmp_path, **materials) for a in argv]

    # When the command runs
    result = runner.invoke(app, args)

    # Then it stops at once with one line naming that file, exit code 2
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert hostile.name in lines[0]
    assert "FIFO" in lines[0] or "character device" in lines[0], lines[0]


@pytest.mark.usefixtures("alarm")
@pytest.mark.parametrize("kind", ["fifo", "dev-zero-link"])
@pytest.mark.parametrize(
    ("field", "artefact"),
    [
        ("artefacts.sbom", {"sbom": "hostile"}),
        ("artefacts.vex[0]", {"vex": ["hostile"]}),
        ("artefacts.firmware", {"firmware": "hostile"}),
        ("artefacts.vulndb", {"vulndb": "hostile"}),
    ],
)
def test_dossier_artefact_that_is_special(kind: str, field: str, artefact: dict[str, Any], tmp_path: Path) -> None:
    # Given the example dossier naming a FIFO or a link to /dev/zero as one of its artefacts
    work = tmp_path / "product"
    shutil.copytree(EXAMPLE, work, ignore=shutil.ignore_patterns("firmware", "vulndb"))
    _hostile(kind, work, "hostile")
    data = yaml.safe_load((work / "dossier.yaml").read_text(encoding="utf-8"))
    data["artefacts"] |= artefact
    (work / "dossier.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")

    # When it is assessed
    result = runner.invoke(app, ["assess", str(work / "dossier.yaml")])

    # Then one line names the dossier, the field and the file, exit code 2
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    assert f"{field}: not a regular file" in lines[0] and lines[0].endswith(": hostile"), lines[0]


def test_dossier_artefact_that_is_a_fifo(tmp_path: Path) -> None:
    # Given the example dossier whose SBOM artefact has been replaced by a FIFO
    work = tmp_path / "product"
    shutil.copytree(EXAMPLE, work, ignore=shutil.ignore_patterns("firmware", "vulndb"))
    (work / "sbom.cdx.json").unlink()
    os.mkfifo(work / "sbom.cdx.json")

    result = runner.invoke(app, ["assess", str(work / "dossier.yaml")])

    assert result.exit_code == 2, result.output
    assert "artefacts.sbom: not a regular file (a FIFO (named pipe)): sbom.cdx.json" in result.stderr
