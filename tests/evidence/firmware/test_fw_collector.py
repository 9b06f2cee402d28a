"""The firmware collector as an assessment runs it: a missing image, and an assessment on a real image."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.evidence.firmware.fwfixtures import image
from tests.support import NOW, dossier

from cybersafe.assess import assess_dossier
from cybersafe.errors import UnpackError
from cybersafe.evidence.firmware.collector import FirmwareCollector
from cybersafe.evidence.interface import NullProgressReporter
from cybersafe.verdict import AttemptStatus, Verdict


def test_missing_firmware_file_is_a_bad_input_failure(tmp_path: Path) -> None:
    with pytest.raises(UnpackError, match=r"absent\.img: artefacts\.firmware: file not found") as info:
        FirmwareCollector().collect(dossier(artefacts={"firmware": "absent.img"}), tmp_path, NullProgressReporter())
    assert getattr(info.value, "reason", None) == "bad_input"


@pytest.mark.slow
def test_assessment_with_the_firmware_collector_feeds_every_scheme() -> None:
    # Given a dossier naming the vulnerable image, assessed with the firmware collector
    path = image("vuln-squashfs-xz")
    run = assess_dossier(
        dossier(artefacts={"firmware": path.name}),
        now=NOW,
        base_dir=path.parent,
        collectors=[FirmwareCollector()],
        plans=False,
    )

    # Then the firmware checks ran once on the collected inventory and the image digest is recorded
    firmware = {k: a for k, a in run.attempts.items() if k.startswith("firmware.")}
    assert firmware and all(a.status is AttemptStatus.COMPLETED for a in firmware.values())
    assert firmware["firmware.universal-default-password"].verdict is Verdict.FAIL
    assert any(a.kind == "firmware" and a.sha256 for a in run.evidence.artefacts)


def test_an_extraction_failure_that_left_a_gap_is_a_warning_and_one_that_did_not_is_information() -> None:
    from cybersafe.evidence.firmware.collector import problem_severity, unexamined_paths
    from cybersafe.evidence.firmware.model import Area, FirmwareInventory, NotExamined, UnpackProblem
    from cybersafe.evidence.interface import ProblemSeverity

    # Given a corrupt image whose xz part failed to extract (a gap on the image), and a misdetected chunk inside a
    # binary of a file system that was examined (no gap)
    failed = UnpackProblem("ExtractCommandFailedReport", "7z x: Data Error", "securecam.img")
    misdetected = UnpackProblem("ExtractCommandFailedReport", "7z x: Data Error", "rootfs/usr/bin/tool")
    inventory = FirmwareInventory(
        image="securecam.img",
        sha256="0" * 64,
        size=1,
        budget="standard",
        not_examined=(NotExamined(Area.UNPACK, "a part of the image could not be extracted", "securecam.img"),),
        problems=(failed, misdetected),
    )
    # Then the first is a warning, the second information; a bomb is a warning wherever it is
    gaps = unexamined_paths(inventory)
    assert problem_severity(failed, gaps) is ProblemSeverity.WARNING
    assert problem_severity(misdetected, gaps) is ProblemSeverity.INFO
    bomb = UnpackProblem("decompression-limit", "stopped at 1 GiB", "rootfs/a.gz")
    assert problem_severity(bomb, gaps) is ProblemSeverity.WARNING
