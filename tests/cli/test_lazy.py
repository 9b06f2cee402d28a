"""The command line imports only what the command run needs: each command family loads when one of its commands
runs (or when help lists it), so ``cybersafe firmware scan`` does not pay for labels, the registry, the network
prober or Dask; help, the config file and typo hints still see the whole tree, in the same order."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.main
from typer.testing import CliRunner

from cybersafe.cli import RootGroup, app
from cybersafe.cli.conventions import LazyGroup, family_group, walk
from cybersafe.cli.sbom_group import SbomGroup

runner = CliRunner()

# Modules only other commands need: none may load for a firmware scan.
NOT_FOR_A_FIRMWARE_SCAN = (
    "cybersafe.cli.label",
    "cybersafe.cli.registry",
    "cybersafe.cli.network",
    "cybersafe.cli.fleet",
    "cybersafe.cli.sbom",
    "cybersafe.label",
    "cybersafe.registry",
    "cybersafe.results",
    "cybersafe.evidence.network.probe",
    "cybersafe.evidence.network.session",
    "cybersafe.evidence.vulndb.match",
    "cybersafe.evidence.vulndb.store",
    "univers",
    "dask",
    "jinja2",
    "segno",
    "httpx",
    "fastapi",
    "sqlalchemy",
)

_FIRMWARE_SCAN_IMPORTS = """
import json, sys
import click, typer.main
import cybersafe.cli
root = typer.main.get_command(cybersafe.cli.app)
ctx = click.Context(root)
firmware = root.get_command(ctx, "firmware")
scan = firmware.get_command(click.Context(firmware, parent=ctx), "scan")
assert scan is not None and scan.callback is not None
# what the command runs: the assessment of an anonymous product that has only the image
from cybersafe.assess import assess_dossier
from cybersafe.dossier.model import anonymous_dossier
from cybersafe.evidence.firmware.collector import FirmwareCollector
from cybersafe.schemes.catalog import default_catalog
print(json.dumps(sorted(sys.modules)))
"""


def _modules_after(code: str) -> set[str]:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.splitlines()[-1]))


def _loaded(modules: set[str], name: str) -> bool:
    return name in modules or any(m.startswith(f"{name}.") for m in modules)


def test_a_firmware_scan_imports_only_its_own_family() -> None:
    # Given a fresh interpreter that builds the command line, resolves `firmware scan` and imports what it runs
    modules = _modules_after(_FIRMWARE_SCAN_IMPORTS)
    # Then the firmware family is there, and nothing only other commands need
    assert "cybersafe.cli.firmware" in modules
    assert [name for name in NOT_FOR_A_FIRMWARE_SCAN if _loaded(modules, name)] == []


def test_importing_the_command_line_loads_no_command_family() -> None:
    modules = _modules_after("import json, sys, cybersafe.cli; print(json.dumps(sorted(sys.modules)))")
    families = {*RootGroup.FAMILIES.values(), *SbomGroup.FAMILIES.values()} - {"sbom_group"}
    assert [f for f in sorted(families) if f"cybersafe.cli.{f}" in modules] == []
    assert not _loaded(modules, "pydantic") and not _loaded(modules, "cybersafe.checks")


def test_an_evidence_model_does_not_load_its_package() -> None:
    # A check reads the network and vulnerability models; the prober and the matcher stay unloaded.
    code = (
        "import json, sys; import cybersafe.evidence.network.model, cybersafe.evidence.vulndb.model, "
        "cybersafe.evidence.sbom.model, cybersafe.label.defaults; print(json.dumps(sorted(sys.modules)))"
    )
    modules = _modules_after(code)
    assert "cybersafe.evidence.network.probe" not in modules
    assert "cybersafe.evidence.vulndb.match" not in modules
    assert "cybersafe.evidence.sbom.parse" not in modules
    assert "cybersafe.label.issue" not in modules


@pytest.mark.parametrize(
    "package", ["cybersafe.evidence.network", "cybersafe.evidence.vulndb", "cybersafe.evidence.sbom", "cybersafe.label"]
)
def test_every_package_export_resolves_to_its_module(package: str) -> None:
    module: Any = importlib.import_module(package)
    for name, submodule in module._EXPORTS.items():
        assert getattr(module, name) is getattr(importlib.import_module(f"{package}.{submodule}"), name), name
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = module.no_such_name


@pytest.mark.parametrize("group", [RootGroup, SbomGroup], ids=["cybersafe", "sbom"])
def test_the_lazy_tables_name_what_the_families_register(group: type[LazyGroup]) -> None:
    # Each family registers exactly the names the table gives it (under the group's path), so no command is
    # missing from help or listed under the wrong family; a family that adds to a shared group (sbom) also
    # registers that group's name.
    nested = {"sbom": SbomGroup} if group is RootGroup else {}
    for module in set(group.FAMILIES.values()):
        found: Any = family_group(module).commands
        for name in group.PATH:
            found = found[name].commands if name in found else {}
        expected = {name for name, family in group.FAMILIES.items() if family == module}
        expected |= {name for name, sub in nested.items() if module in sub.FAMILIES.values()}
        assert set(found) == expected, module


def _listed(args: list[str]) -> list[str]:
    result = runner.invoke(app, [*args, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    panel = result.stdout.split("Commands", 1)[1]
    return re.findall(r"^│ (\S+)", panel, flags=re.MULTILINE)


def test_help_lists_every_command_of_the_tree_in_order() -> None:
    # Given the whole tree, every family loaded
    root = typer.main.get_command(app)
    groups = [path for path, command in walk(root) if hasattr(command, "commands")]
    assert ("sbom",) in groups and ("registry", "issuer") in groups
    for path in groups:
        command: Any = root
        for name in path:
            command = command.commands[name]
        # Then `cybersafe <group> --help` lists each of its commands, in the order of the tree
        assert _listed(list(path)) == list(command.commands), path


def test_root_help_keeps_the_order_commands_then_groups() -> None:
    assert _listed([]) == list(RootGroup.FAMILIES)
    assert _listed(["sbom"]) == list(SbomGroup.FAMILIES)


def test_a_config_file_naming_another_family_is_checked_against_it(tmp_path: Path) -> None:
    # Given settings for commands of families the command run does not otherwise load
    config = tmp_path / "cybersafe.toml"
    config.write_text('[sbom.vulns]\nfail-on = "high"\n\n[registry.issuer.add]\nbogus = 1\n', encoding="utf-8")
    # Then they are still checked against those commands: the unknown key is one line naming it
    result = runner.invoke(app, ["--config", str(config), "schemes"], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "registry.issuer.add.bogus: unknown setting" in result.stderr
    # and a valid table of another family applies to its command
    config.write_text('[sbom.vulns]\nformat = "json"\n', encoding="utf-8")
    result = runner.invoke(app, ["--config", str(config), "sbom", "vulns", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "default: json" in result.stdout


def test_a_mistyped_command_is_one_line_with_a_suggestion() -> None:
    result = runner.invoke(app, ["firmwar", "scan"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: No such command 'firmwar'. Did you mean 'firmware'? (see cybersafe --help)"
