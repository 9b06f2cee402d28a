"""``cybersafe firmware scan`` and ``cybersafe sbom generate`` end to end on the built test images."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.evidence.firmware.fwfixtures import image
from typer.testing import CliRunner

from cybersafe.checks import BUILTIN_CHECKS
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
    assert set(verdicts) == {c.ID for c in BUILTIN_CHECKS if c.ID.startswith("firmware.")}
    assert set(verdicts.values()) == {"fail"}
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


@pytest.mark.parametrize(("fail_on", "code"), [("critical", 1), ("none", 0)])
def test_fail_on_gates_the_exit_code_on_severity(fail_on: str, code: int) -> None:
    # Given an image whose failing findings reach critical (a universal default password)
    # When it is scanned with a gate
    result = runner.invoke(
        app, ["firmware", "scan", str(image("vuln-squashfs-xz")), "--budget", "quick", "--fail-on", fail_on]
    )

    # Then the exit code says whether a failing finding is at or above the gate; the report is the same
    assert result.exit_code == code, result.output
    assert "firmware.universal-default-password" in result.stdout


def test_fail_on_low_passes_a_clean_image() -> None:
    result = runner.invoke(app, ["firmware", "scan", str(image("clean-ext4")), "--fail-on", "low", "-f", "json"])

    assert result.exit_code == 0, result.output


def test_gate_counts_only_failing_findings_at_or_above_it() -> None:
    from cybersafe.checks.interface import CheckAttempt, Finding
    from cybersafe.cli._common import FailOn
    from cybersafe.cli.firmware import _gated
    from cybersafe.verdict import AttemptStatus, Severity, Verdict

    medium = CheckAttempt(
        "firmware.weak-key",
        AttemptStatus.COMPLETED,
        findings=(
            Finding("firmware.weak-key", Verdict.FAIL, Severity.MEDIUM, "weak"),
            Finding("firmware.weak-key", Verdict.PASS, Severity.CRITICAL, "ok"),
        ),
    )

    assert _gated([medium], None)  # no gate: any failing check
    assert _gated([medium], FailOn.MEDIUM)
    assert not _gated([medium], FailOn.HIGH)  # the critical finding passed: it does not count
    assert not _gated([medium], FailOn.NONE)


def test_scan_runs_through_the_assessment(monkeypatch: pytest.MonkeyPatch) -> None:
    import cybersafe.assess
    from cybersafe.evidence.firmware.collector import FirmwareCollector

    seen: dict[str, object] = {}
    real = cybersafe.assess.assess_dossier

    def spy(dossier: object, **kwargs: object) -> object:
        seen.update(kwargs, dossier=dossier)
        return real(dossier, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cybersafe.assess, "assess_dossier", spy)
    path = image("clean-ext4")

    # When an image is scanned from the command line
    result = runner.invoke(app, ["firmware", "scan", str(path), "--format", "json"])

    # Then it was assessed like `assess` does: an anonymous product with this image, the firmware checks only
    assert result.exit_code == 0, result.output
    assert seen["families"] == {"firmware"}
    collectors = list(seen["collectors"])  # type: ignore[call-overload]
    assert len(collectors) == 1 and isinstance(collectors[0], FirmwareCollector)
    dossier = seen["dossier"]
    assert dossier.artefacts.firmware == path.name and not dossier.markets  # type: ignore[attr-defined]
    assert seen["base_dir"] == path.parent
    checks = json.loads(result.stdout)["checks"]
    assert len({c["check"] for c in checks}) == 12 and all(c["check"].startswith("firmware.") for c in checks)
    # a check a requirement runs with its own parameters shows once per parameter set, the parameters named
    hardening = [c.get("parameters") for c in checks if c["check"] == "firmware.binary-hardening"]
    assert None in hardening and any(p and "protections" in p for p in hardening), hardening


@pytest.mark.parametrize(
    ("content", "why"),
    [
        pytest.param(b"", "is empty (0 bytes)", id="empty"),
        pytest.param(bytes(range(256)) * 64, "not a firmware image cybersafe can unpack", id="unrecognisable"),
    ],
)
@pytest.mark.parametrize("command", [["firmware", "scan"], ["sbom", "generate"]], ids=["scan", "sbom-generate"])
def test_empty_or_unrecognisable_image_is_one_line_and_exit_2(
    tmp_path: Path, content: bytes, why: str, command: list[str]
) -> None:
    # an SBOM of an image nothing could be read from would say "no components": a silent pass
    path = tmp_path / "blob.bin"
    path.write_bytes(content)

    result = runner.invoke(app, [*command, str(path), "--format", "json"])

    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "blob.bin: IMAGE: " in lines[0] and why in lines[0]
    assert result.stdout == ""


def test_help_states_exit_codes_gate_and_input_limits() -> None:
    result = runner.invoke(app, ["firmware", "scan", "--help"], env={"COLUMNS": "200"})

    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "--fail-on" in text
    for phrase in ("Exit codes: 0", "1 a check fails", "2 bad input", "3 a bug", "regular file", "64 GiB"):
        assert phrase in text, phrase
