"""``cybersafe firmware scan`` and ``cybersafe sbom generate`` end to end on the built test images."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.evidence.firmware.fwfixtures import image
from typer.testing import CliRunner

from cybersafe.cli import app

runner = CliRunner()
pytestmark = pytest.mark.slow


def test_scan_json_reports_failures_with_exit_code_1() -> None:
    result = runner.invoke(
        app, ["firmware", "scan", str(image("vuln-squashfs-xz")), "--format", "json", "--budget", "quick"]
    )

    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["schema"] == "cybersafe/firmware-scan/v1"
    verdicts = {c["check"]: c["verdict"] for c in data["checks"]}
    assert len(verdicts) == 12 and set(verdicts.values()) == {"fail"}
    telnet = next(c for c in data["checks"] if c["check"] == "firmware.cleartext-remote-login-enabled")
    assert telnet["findings"][0]["locations"] == [{"path": "/etc/inittab", "line": 2}]
    assert data["inventory"]["budget"] == "quick"


def test_scan_table_of_clean_image_exits_0() -> None:
    result = runner.invoke(app, ["firmware", "scan", str(image("clean-ext4"))])

    assert result.exit_code == 0, result.output
    assert "firmware.binary-hardening" in result.stdout
    assert "fail" not in result.stdout


def test_scan_missing_image_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["firmware", "scan", str(tmp_path / "nope.bin")])

    assert result.exit_code == 2
    assert "nope.bin: IMAGE: file not found" in result.output
    assert "Traceback" not in result.output


def test_unknown_budget_is_rejected() -> None:
    result = runner.invoke(app, ["firmware", "scan", str(image("clean-ext4")), "--budget", "huge"])

    assert result.exit_code == 2


def test_sbom_generate_writes_valid_cyclonedx_1_6(tmp_path: Path) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    out = tmp_path / "fw.cdx.json"
    result = runner.invoke(app, ["sbom", "generate", str(image("vuln-squashfs-gzip")), "-o", str(out)])

    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    assert bom["specVersion"] == "1.6"
    assert bom["metadata"]["component"]["type"] == "firmware"
    purls = {c["purl"] for c in bom["components"]}
    assert len(purls) == len(bom["components"]) == 2  # busybox-static and dropbear-bin, each once
    assert any(p.startswith("pkg:deb/debian/busybox-static@") for p in purls)
    dropbear = next(c for c in bom["components"] if c["purl"].startswith("pkg:deb/debian/dropbear-bin@2022.83"))
    methods = dropbear["evidence"]["identity"][0]["methods"]
    assert {m["technique"] for m in methods} == {"manifest-analysis", "binary-analysis"}
    assert dropbear["cpe"] == "cpe:2.3:a:dropbear_ssh_project:dropbear_ssh:2022.83:*:*:*:*:*:*:*"
    assert "/usr/sbin/dropbear" in {o["location"] for o in dropbear["evidence"]["occurrences"]}
