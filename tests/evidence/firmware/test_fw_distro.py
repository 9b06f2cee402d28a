"""A product image built only from hardened real Debian packages: every firmware check passes, the generated
SBOM lists each package once and passes `sbom check`, and `sbom compare` with the true package list finds
nothing undeclared."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pytest
from tests.evidence.firmware.distro_image import HARDENED_PACKAGES, DistroImage, build, declared_sbom
from typer.testing import CliRunner

from cybersafe.checks.firmware_checks import run_firmware_checks
from cybersafe.cli import app
from cybersafe.evidence.firmware.budget import budget_for
from cybersafe.evidence.firmware.memo import FileMemo
from cybersafe.evidence.firmware.model import FirmwareInventory
from cybersafe.evidence.firmware.scan import scan_image
from cybersafe.evidence.firmware.unpack import Extraction
from cybersafe.verdict import AttemptStatus, Verdict

pytestmark = pytest.mark.slow
runner = CliRunner()


@pytest.fixture(scope="module")
def hardened(tmp_path_factory: pytest.TempPathFactory) -> tuple[DistroImage, FirmwareInventory]:
    image = build(tmp_path_factory.mktemp("distro") / "hardened.img", HARDENED_PACKAGES)
    return image, scan_image(image.path, budget_for("standard"), now=dt.datetime.now(dt.UTC))


def test_hardened_image_passes_every_firmware_check(hardened: tuple[DistroImage, FirmwareInventory]) -> None:
    # Given an image of hardened Debian packages (loader, libc, OpenSSL with its stock openssl.cnf, daemons)
    _, inventory = hardened

    # When every firmware check runs
    attempts = run_firmware_checks(inventory)

    # Then none fails or is left open; certificates and keys are not applicable (there are none)
    assert all(a.status is AttemptStatus.COMPLETED for a in attempts)
    bad = {
        a.check_id: [f.message for f in a.findings]
        for a in attempts
        if a.verdict not in (Verdict.PASS, Verdict.NOT_APPLICABLE)
    }
    assert bad == {}
    hardening = next(a for a in attempts if a.check_id == "firmware.binary-hardening")
    assert "dynamic loader or libc files exempt from the canary rule" in hardening.findings[0].message
    credentials = next(a for a in attempts if a.check_id == "firmware.hard-coded-credential")
    assert any("stock demo value" in f.message for f in credentials.findings)  # openssl.cnf's Insta Demo CA line


def test_each_package_is_one_component_with_its_banners(hardened: tuple[DistroImage, FirmwareInventory]) -> None:
    image, inventory = hardened
    names = [c.name for c in inventory.components]
    assert sorted(names) == sorted(image.packages)  # nothing from docs, changelogs or sshd's peer table
    by_name = {c.name: c for c in inventory.components}
    banners = {
        name: {(e.path, e.version) for e in c.evidence if e.how_found == "version-banner"}
        for name, c in by_name.items()
    }
    assert ("/usr/sbin/sshd", "9.2p1") in banners["openssh-server"]
    assert ("/usr/lib/x86_64-linux-gnu/libcrypto.so.3", "3.0.22") in banners["libssl3"]
    assert not any("/usr/share/doc/" in path for found in banners.values() for path, _ in found)
    assert (by_name["openssh-server"].cpe or "").startswith("cpe:2.3:a:openbsd:openssh:9.2p1:")
    elf = {e.path: e.package for e in inventory.elf}
    assert elf["/usr/sbin/dropbear"] == "dropbear-bin"
    assert elf["/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"] == "libc6"


def test_generated_sbom_passes_check_and_matches_the_true_package_list(
    hardened: tuple[DistroImage, FirmwareInventory], tmp_path: Path
) -> None:
    image, _ = hardened
    observed = tmp_path / "observed.cdx.json"
    declared = tmp_path / "declared.cdx.json"
    declared.write_text(json.dumps(declared_sbom(image)))

    generated = runner.invoke(
        app,
        ["sbom", "generate", str(image.path), "-o", str(observed), "--supplier", "ACME Devices", "--version", "1.0"],
    )
    assert generated.exit_code == 0, generated.output

    checked = runner.invoke(app, ["sbom", "check", str(observed), "--format", "json"])
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.stdout)["met"] is True

    compared = runner.invoke(app, ["sbom", "compare", str(declared), str(observed), "--format", "json"])
    result = json.loads(compared.stdout)
    assert (result["undeclared"], result["version_mismatches"]) == ([], [])
    assert compared.exit_code == 0
    assert result["matched"] == len(image.packages)


def _new_release(root: Path) -> None:
    """What a release of a Debian-based product changes: the init table edited (a shell on telnet) and one
    package's changelog rewritten (a full scan has unblob decompress it)."""
    (root / "etc/inittab").write_text("::sysinit:/etc/init.d/rcS\n::respawn:/usr/sbin/telnetd -F -l /bin/sh\n")
    changelog = root / "usr/share/doc/zlib1g/changelog.Debian.gz"
    changelog.write_bytes(
        gzip.compress(
            b"zlib (1:1.2.13.dfsg-1+b1) bookworm; urgency=high\n\n" + gzip.decompress(changelog.read_bytes()), mtime=0
        )
    )


def test_a_release_of_real_packages_is_assessed_from_its_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given release 1 of an image of real Debian packages (their changelogs and docs gzip-compressed) and release
    # 2, which edits /etc/inittab and rewrites one changelog
    packages = ("libc6", "zlib1g", "libssl3", "openssl", "dropbear-bin")
    now = dt.datetime(2026, 12, 5, 12, tzinfo=dt.UTC)
    first = scan_image(build(tmp_path / "r1.img", packages).path, budget_for("standard"), now=now)
    assert first.file_facts is not None
    memo = FileMemo.from_wire(first.file_facts.to_wire(), {f.path: f.sha256 for f in first.files})
    assert memo is not None and len(memo.decompressed) > 50  # the packages' compressed docs
    second = build(tmp_path / "r2.img", packages, change=_new_release).path
    full = scan_image(second, budget_for("standard"), now=now)
    started: list[Path] = []
    start = Extraction.start
    monkeypatch.setattr(Extraction, "start", lambda self: (started.append(self.image), start(self))[1])
    # When release 2 is scanned with release 1's memo
    delta = scan_image(second, budget_for("standard"), now=now, memo=memo)
    # Then no extraction child was started: the image was read in place and the rewritten changelog (one plain gzip
    # member) inflated in process; every other file's facts came from the baseline; the inventory and the memo it
    # leaves are the full scan's
    assert started == []
    assert delta.stats["reused_files"] == len(delta.files) - 2  # the inittab, and the changelog's new contents
    facts = {k: v for k, v in delta.as_dict().items() if k not in ("duration_s", "extraction_s", "stats")}
    assert facts == {k: v for k, v in full.as_dict().items() if k not in ("duration_s", "extraction_s", "stats")}
    assert any(s.name == "telnetd" and s.path == "/etc/inittab" for s in delta.services)
    assert delta.file_facts is not None and full.file_facts is not None
    assert delta.file_facts.to_wire() == full.file_facts.to_wire()
