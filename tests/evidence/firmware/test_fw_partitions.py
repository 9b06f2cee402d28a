"""Images with more than one root: every location names its container chain (handler and offset)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from tests.evidence.firmware.fwfixtures import TEST_BUDGET, image

from cybersafe.checks.firmware_checks import run_firmware_checks
from cybersafe.checks.interface import Location
from cybersafe.evidence.firmware.scan import scan_image
from cybersafe.render.sarif import _locations
from cybersafe.results import LocationOut
from cybersafe.verdict import Verdict

MiB = 1024 * 1024
VULN_ROOT = "squashfs_v4_le@0x40"  # the vulnerable rootfs behind a 64-byte uImage header
CLEAN_ROOT = "squashfs_v4_le@0x200000"  # the clean rootfs at 2 MiB


def _flash_dump(tmp: Path) -> Path:
    """A NOR-flash style dump: uImage + vulnerable SquashFS, erased flash (0xFF), a clean SquashFS at 2 MiB."""
    first = image("vuln-uimage").read_bytes()
    second = image("clean-squashfs-xz").read_bytes()
    data = first + b"\xff" * (2 * MiB - len(first)) + second
    data += b"\xff" * (4 * MiB - len(data))
    path = tmp / "flash.bin"
    path.write_bytes(data)
    return path


@pytest.mark.slow
def test_flash_dump_with_two_roots_names_the_partition_of_every_finding(tmp_path: Path) -> None:
    # Given a flash dump with two file systems both rooted at /
    inv = scan_image(_flash_dump(tmp_path), TEST_BUDGET, now=dt.datetime.now(dt.UTC))

    # Then both roots are listed with their chains, and an archive nested in one names that partition too
    roots = sorted(f.root for f in inv.filesystems)
    assert roots == [f"{CLEAN_ROOT}:/", f"{VULN_ROOT}:/", f"{VULN_ROOT}:/opt/webui.tar.gz!"]
    # and the accounts of one partition never hide those of the other (both have root)
    assert sorted(a.source for a in inv.accounts if a.name == "root") == [
        f"{CLEAN_ROOT}:/etc/shadow",
        f"{VULN_ROOT}:/etc/shadow",
    ]
    # and every location of every finding names its partition
    attempts = {a.check_id: a for a in run_firmware_checks(inv)}
    telnet = attempts["firmware.cleartext-remote-login-enabled"]
    assert telnet.verdict is Verdict.FAIL
    where = telnet.findings[0].locations[0]
    assert (where.container, where.path, where.line) == (VULN_ROOT, "/etc/inittab", 2)
    assert str(where) == f"{VULN_ROOT}:/etc/inittab:2"
    locations = [loc for a in attempts.values() for f in a.findings for loc in f.locations if loc.path]
    assert locations
    assert all(loc.container in (VULN_ROOT, CLEAN_ROOT) for loc in locations), locations


@pytest.mark.slow
def test_single_root_image_keeps_plain_paths() -> None:
    inv = scan_image(image("vuln-uimage"), TEST_BUDGET, now=dt.datetime.now(dt.UTC))

    assert [f.root for f in inv.filesystems] == ["/", "/opt/webui.tar.gz!"]  # the rootfs and a nested archive
    telnet = next(a for a in run_firmware_checks(inv) if a.check_id == "firmware.cleartext-remote-login-enabled")
    assert telnet.findings[0].locations[0] == Location(path="/etc/inittab", line=2)


@pytest.mark.parametrize(
    ("path", "container", "inner"),
    [
        pytest.param("squashfs_v4_le@0x40:/etc/shadow", "squashfs_v4_le@0x40", "/etc/shadow", id="one-level"),
        pytest.param("uimage@0x0 > squashfs@0x40:/etc/x", "uimage@0x0 > squashfs@0x40", "/etc/x", id="two-levels"),
        pytest.param("/usr/a.tar.gz!/etc/x", None, "/usr/a.tar.gz!/etc/x", id="nested-archive"),
        pytest.param("dossier:support_period", None, "dossier:support_period", id="document"),
        pytest.param("/etc/a@0x1:/b", None, "/etc/a@0x1:/b", id="colon-in-path"),
    ],
)
def test_location_splits_a_chained_path(path: str, container: str | None, inner: str) -> None:
    loc = Location(path=path, line=3)

    assert (loc.container, loc.path) == (container, inner)
    assert str(loc) == f"{path}:3"
    assert ("container" in loc.as_dict()) is (container is not None)


def test_sarif_uri_puts_the_partition_first() -> None:
    [entry] = _locations([LocationOut(path="/etc/shadow", container="uimage@0x0 > squashfs@0x40", line=2)], "ROOT")

    assert entry["physicalLocation"]["artifactLocation"]["uri"] == "uimage%400x0/squashfs%400x40/etc/shadow"
