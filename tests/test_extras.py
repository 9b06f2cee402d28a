"""Light installs: the core and the registry extra pull no scanner and no (A)GPL code, and a command whose
extra is missing says which one to install (the import of its packages is blocked in a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cybersafe.extras import EXTRA_OF_MODULE
from cybersafe.licenses import closure, report
from tests.support import EXAMPLE_DOSSIER

SCANNERS = {"unblob", "lief", "pyperscan", "sslyze", "nassl", "ssh-audit", "ubi-reader"}


def _copyleft(licence: str) -> bool:
    text = licence.lower()
    return "affero" in text or "agpl" in text or ("gpl" in text and "lgpl" not in text and "lesser" not in text)


@pytest.mark.parametrize("extra", [None, "registry"])
def test_the_core_and_the_registry_pull_no_scanner_and_no_copyleft_code(extra: str | None) -> None:
    packages = closure(None) | (closure(extra) if extra else {})
    assert packages, "cybersafe's requirements are visible in its installed metadata"
    assert not SCANNERS & set(packages), sorted(SCANNERS & set(packages))
    assert not [p for p in packages.values() if _copyleft(p.licence)]


def test_sslyze_is_only_in_the_network_extra_and_the_report_says_so() -> None:
    assert "sslyze" in closure("network") and "sslyze" not in closure(None)
    text = report()
    assert "| [network] | sslyze |" in text


BLOCKER = textwrap.dedent(
    """
    import importlib.abc, sys
    BLOCK = set(%r)
    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name.split(".")[0] in BLOCK:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None
    sys.meta_path.insert(0, Blocker())
    """
)


@pytest.fixture(scope="module")
def no_extras(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    site = tmp_path_factory.mktemp("no-extras")
    (site / "sitecustomize.py").write_text(BLOCKER % sorted(EXTRA_OF_MODULE), encoding="utf-8")
    return {**os.environ, "PYTHONPATH": str(site), "COLUMNS": "200"}


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cybersafe.cli", *args], capture_output=True, text=True, env=env, check=False
    )


def test_without_extras_the_core_commands_work(no_extras: dict[str, str]) -> None:
    assert _cli(no_extras, "--help").returncode == 0
    assert _cli(no_extras, "schemes").returncode == 0
    result = _cli(no_extras, "assess", str(EXAMPLE_DOSSIER), "--format", "json")
    assert result.returncode in (0, 1), result.stderr


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        pytest.param(("firmware", "scan", __file__), "firmware", id="firmware-scan"),
        pytest.param(("probe", "127.0.0.1", "--only-ports", "--ports", "1"), "network", id="probe"),
        pytest.param(("registry", "serve", "--db", "sqlite:////nonexistent/x.sqlite"), "registry", id="registry"),
    ],
)
def test_a_command_whose_extra_is_missing_names_it(
    no_extras: dict[str, str], args: tuple[str, ...], extra: str, tmp_path: Path
) -> None:
    result = _cli(no_extras, *args)
    assert result.returncode == 2, result.stderr
    assert f"pip install 'cybersafe[{extra}]'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
