"""``cybersafe probe`` against the weak and strong devices on 127.0.0.1, JSON and table output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.support import dossier_data
from typer.testing import CliRunner

from cybersafe.cli import app

runner = CliRunner()
pytestmark = pytest.mark.slow


def _ports(device: Any) -> str:
    return ",".join(str(p) for p in device.tcp.values())


def test_json_output_of_weak_device_exits_1(weak_device: Any) -> None:
    # When the weak device is probed with JSON output and a small credential budget
    weak_device.reset()
    result = runner.invoke(
        app,
        ["probe", "127.0.0.1", "--ports", _ports(weak_device), "--only-ports", "--timeout", "2",
         "--credentials-budget", "4", "--throttle-attempts", "3", "--format", "json"],
    )  # fmt: skip
    # Then the findings fail, and the output carries observations and the manual test list
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["schema"] == "cybersafe/probe/v1" and data["target"] == "127.0.0.1"
    verdicts = {c["check"]: c["verdict"] for c in data["checks"]}
    assert verdicts["network.default-credentials"] == "fail"
    assert verdicts["network.tls-legacy-protocol"] == "fail"
    assert verdicts["network.undeclared-services"] == "inconclusive"  # no dossier: nothing declared
    telnet = next(c for c in data["checks"] if c["check"] == "network.cleartext-services")["findings"][0]
    assert telnet["locations"][0] == {"host": "127.0.0.1", "port": weak_device.tcp["telnet"], "protocol": "telnet"}
    assert {t["test_case"] for t in data["manual_tests"]} >= {"5.1-2-2", "5.13-1-2"}
    assert data["observations"]["hosts"][0]["reachability"]["open_ports"] == 5


def test_table_output_with_dossier_declarations(strong_device: Any, tmp_path: Path) -> None:
    # Given a dossier that declares every port of the strong device
    ports = [{"port": port, "protocol": "tcp", "service": role} for role, port in strong_device.tcp.items()]
    dossier = tmp_path / "dossier.yaml"
    dossier.write_text(
        yaml.safe_dump(dossier_data(declarations={"interfaces": {"network_ports": ports}})), encoding="utf-8"
    )
    # When it is probed with the table output
    strong_device.reset()
    result = runner.invoke(
        app,
        ["probe", "127.0.0.1", "--ports", _ports(strong_device), "--only-ports", "--timeout", "2",
         "--dossier", str(dossier)],
        env={"COLUMNS": "200"},
    )  # fmt: skip
    # Then nothing fails and the table shows the checks
    assert result.exit_code == 0, result.output
    assert "network.undeclared-services" in result.stdout and "every open service is declared" in result.stdout
    assert "│ fail " not in result.stdout and "│ pass " in result.stdout


@pytest.mark.parametrize("command", ["probe", "assess"])
def test_help_states_the_probe_budget(command: str) -> None:
    # The wall-clock budget of the whole probe is stated where a user looks for it.
    from cybersafe.evidence.network.session import DEFAULT_BUDGET_S

    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert DEFAULT_BUDGET_S <= 300 and f"{DEFAULT_BUDGET_S:g} s" in text and "5 minutes" in text


@pytest.mark.parametrize(
    ("fail_on", "expected"),
    [
        pytest.param("none", 0, id="none-never-trips"),
        pytest.param("medium", 1, id="below-the-top-finding-trips"),
        pytest.param("high", 1, id="at-the-top-finding-trips"),
        pytest.param("critical", 0, id="above-every-finding-passes"),
    ],
)
def test_fail_on_gates_the_exit_code_on_severity(weak_device: Any, fail_on: str, expected: int) -> None:
    # Given the weak device's TLS port alone: failing findings of high (legacy protocol, weak cipher) and
    # medium (certificate) severity, none critical
    weak_device.reset()
    result = runner.invoke(
        app,
        ["probe", "127.0.0.1", "--ports", str(weak_device.tcp["tls"]), "--only-ports", "--timeout", "2",
         "--format", "json", "--fail-on", fail_on],
    )  # fmt: skip
    # Then the exit code follows the gate, not the mere presence of a failing finding
    assert result.exit_code == expected, result.output
    failing = {
        f["severity"] for c in json.loads(result.stdout)["checks"] for f in c["findings"] if f["verdict"] == "fail"
    }
    assert failing == {"high", "medium"}
