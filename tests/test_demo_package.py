"""The demo lives in its own subpackage, ``cybersafe.demo``: the package root holds no demo module, nothing but
the CLI imports it, and ``cybersafe demo`` still finds what it runs."""

from __future__ import annotations

import ast
from pathlib import Path

from typer.testing import CliRunner

import cybersafe
from cybersafe.cli import app
from cybersafe.demo import example_dir, run_demo
from cybersafe.demo.device import SimulatedCamera
from cybersafe.demo.product import prepare_example
from cybersafe.demo.registry import publish_and_verify_locally
from tests.support import EXAMPLE_DOSSIER

PACKAGE = Path(cybersafe.__file__).resolve().parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_package_root_holds_no_demo_module() -> None:
    assert not sorted(p.name for p in PACKAGE.glob("*demo*.py"))
    assert not sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.glob("*/*demo*.py") if p.parent.name != "demo")
    assert all(callable(f) for f in (run_demo, prepare_example, publish_and_verify_locally, SimulatedCamera))


def test_only_the_cli_imports_the_demo() -> None:
    importers = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "demo" not in path.relative_to(PACKAGE).parts
        and any(name == "cybersafe.demo" or name.startswith("cybersafe.demo.") for name in _imports(path))
    )
    assert importers == ["cli/core.py"]


def test_the_demo_command_is_there_and_finds_the_example() -> None:
    result = CliRunner().invoke(app, ["demo", "--help"])
    assert result.exit_code == 0, result.output
    assert "example product" in result.output
    assert example_dir() == EXAMPLE_DOSSIER.parent
