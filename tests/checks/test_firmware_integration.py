"""firmware.* checks driven by tests/integration/firmware/<check-id>/ (case.json, expected.json), run through the
real FirmwareCollector on images built by tests/evidence/firmware/build_images.py, plus each clean control."""

from __future__ import annotations

import json
from fnmatch import fnmatch
from functools import cache
from pathlib import Path

import pytest
from tests.evidence.firmware.fwfixtures import image

from cybersafe.checks import BUILTIN_CHECKS
from cybersafe.checks.interface import CheckAttempt, run_check
from cybersafe.dossier.model import Dossier
from cybersafe.evidence.firmware.collector import FirmwareCollector
from cybersafe.evidence.firmware.model import FirmwareInventory
from cybersafe.evidence.interface import Evidence, NullProgressReporter
from cybersafe.verdict import AttemptStatus, Verdict

CASES = Path(__file__).resolve().parent.parent / "integration" / "firmware"
FIRMWARE_CHECKS = {c.ID: c for c in BUILTIN_CHECKS if c.ID.startswith("firmware.")}

pytestmark = pytest.mark.slow


def _dossier(firmware: str) -> Dossier:
    return Dossier.model_validate(
        {
            "schema": "cybersafe/dossier/v1",
            "product": {"manufacturer": {"name": "ACME"}, "name": "Acme Cam", "model": "C2"},
            "artefacts": {"firmware": firmware},
        }
    )


@cache
def _evidence(image_name: str) -> Evidence:
    """The collector as an assessment runs it: the dossier names the image relative to its directory."""
    path = image(image_name)
    dossier = _dossier(path.name)
    collector = FirmwareCollector()
    assert collector.applies(dossier)
    result = collector.collect(dossier, path.parent, NullProgressReporter())
    assert [a.sha256 for a in result.artefacts] == [result.items[0].sha256]  # type: ignore[attr-defined]
    evidence = Evidence(dossier=dossier, base_dir=path.parent)
    for item in result.items:
        evidence.add(item)
    assert isinstance(evidence.get(FirmwareInventory), FirmwareInventory)
    return evidence


def _run(check_id: str, image_name: str) -> CheckAttempt:
    attempt = run_check(FIRMWARE_CHECKS[check_id](), _evidence(image_name))
    assert attempt.status is AttemptStatus.COMPLETED, attempt.detail
    return attempt


def test_every_firmware_check_has_an_integration_case() -> None:
    assert {p.name for p in CASES.iterdir() if p.is_dir()} == set(FIRMWARE_CHECKS)
    assert len(FIRMWARE_CHECKS) == 12


@pytest.mark.parametrize("check_id", sorted(FIRMWARE_CHECKS))
def test_integration_case(check_id: str) -> None:
    # Given the case's vulnerable image and its clean control
    case = json.loads((CASES / check_id / "case.json").read_text())
    expected = json.loads((CASES / check_id / "expected.json").read_text())

    # When the check runs on the collector's evidence
    attempt = _run(check_id, case["image"])

    # Then it fails with exactly the expected findings and locations
    got = [
        {"verdict": str(f.verdict), "severity": str(f.severity), "location": str(f.locations[0]), "message": f.message}
        for f in attempt.findings
    ]
    assert len(got) == len(expected), got
    for want in expected:
        assert any(
            g["verdict"] == want["verdict"]
            and g["severity"] == want["severity"]
            and fnmatch(g["location"], want["location"])
            and want["message_contains"] in g["message"]
            for g in got
        ), (want, got)
    # and the clean control has zero findings of this kind: one finding that states what was examined
    control = _run(check_id, case["control"])
    assert control.verdict is Verdict(case["control_verdict"])
    assert [f.verdict for f in control.findings] == [Verdict(case["control_verdict"])]


def test_missing_firmware_file_is_a_bad_input_failure(tmp_path: Path) -> None:
    from cybersafe.errors import UnpackError

    with pytest.raises(UnpackError, match=r"absent\.img: artefacts\.firmware: file not found") as info:
        FirmwareCollector().collect(_dossier("absent.img"), tmp_path, NullProgressReporter())
    assert getattr(info.value, "reason", None) == "bad_input"


def test_assessment_with_the_firmware_collector_feeds_every_scheme() -> None:
    # Given a dossier naming the vulnerable image, assessed with the firmware collector
    import datetime as dt

    from cybersafe.assess import assess_dossier

    path = image("vuln-squashfs-xz")
    run = assess_dossier(
        _dossier(path.name),
        now=dt.datetime.now(dt.UTC),
        base_dir=path.parent,
        collectors=[FirmwareCollector()],
        plans=False,
    )

    # Then the firmware checks ran once on the collected inventory and the image digest is recorded
    firmware = {k: a for k, a in run.attempts.items() if k.startswith("firmware.")}
    assert firmware and all(a.status is AttemptStatus.COMPLETED for a in firmware.values())
    assert firmware["firmware.universal-default-password"].verdict is Verdict.FAIL
    assert any(a.kind == "firmware" and a.sha256 for a in run.evidence.artefacts)
