"""The firmware inventory over real test images in every supported format, and the clean controls."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from tests.evidence.firmware.fwfixtures import CLEAN, VULN, image, inventory

from cybersafe.evidence.firmware.budget import budget_for
from cybersafe.evidence.firmware.model import Area, CrackStatus
from cybersafe.evidence.firmware.scan import scan_image

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", [pytest.param(n, id=n) for n in VULN])
def test_vulnerable_image_inventory_is_the_same_in_every_format(name: str) -> None:
    # Given the same root file system packed in one format
    # When it is scanned
    inv = inventory(name)

    # Then every planted problem is found, at the same place
    cracked = {(a.name, a.matched_password, a.source) for a in inv.accounts if a.crack_status is CrackStatus.MATCHED}
    assert cracked == {
        ("root", "admin", "/etc/shadow"),
        ("admin", "admin", "/etc/shadow"),
        ("support", "vizxv", "/etc/passwd"),
    }
    assert [a.name for a in inv.accounts if a.empty_password and a.login_capable] == ["guest"]
    assert {(s.rule, s.path, s.in_binary) for s in inv.secrets} == {
        ("aws-access-key-id", "/etc/config.ini", False),
        ("github-token", "/etc/config.ini", False),
        ("aws-access-key-id", "/usr/bin/legacyd", True),
    }
    assert {(c.path, c.kind) for c in inv.credentials} == {
        ("/www/cgi-bin/config.xml", "password"),
        ("/etc/wpa_supplicant.conf", "psk"),
        ("/opt/webui.tar.gz!/app/static/app.js", "password"),  # a constant in JavaScript inside a tarball
    }
    private = {(k.path, k.algorithm, k.bits) for k in inv.keys if k.kind == "private-key"}
    assert private == {
        ("/etc/ssl/private/device.key", "RSA", 1024),
        ("/etc/dropbear/dropbear_ed25519_host_key", "Ed25519", 256),
    }
    assert [k.path for k in inv.keys if k.kind == "certificate" and k.expired] == ["/etc/ssl/certs/device.pem"]
    assert {(s.name, s.category, s.path, s.line) for s in inv.services if s.category != "remote-login"} == {
        ("telnetd", "cleartext-login", "/etc/inittab", 2),
        ("serial-shell", "debug", "/etc/inittab", 3),
        ("gdbserver", "debug", "/etc/init.d/rcS", 3),
        ("upnp-igd", "discovery", "/etc/init.d/rcS", 4),
    }
    upnp = next(s for s in inv.services if s.name == "upnp-igd")
    assert dict(upnp.settings) == {"secure_mode": "no", "secure_mode_source": "/etc/miniupnpd.conf"}
    weak = {e.path: e.weaknesses for e in inv.elf if e.weaknesses}
    assert set(weak) == {"/bin/busybox", "/usr/bin/legacyd"}
    assert "no NX (executable stack requested by PT_GNU_STACK)" in weak["/usr/bin/legacyd"]
    # each package once, with the banners its binaries show (busybox-static owns /bin/busybox)
    assert {c.name for c in inv.components} == {"busybox-static", "dropbear-bin"}
    if name == "vuln-ubi":
        # UBIFS modes are not read: a named gap, never a silent "no risk"
        assert inv.file_risks == ()
        assert [(g.area, g.path) for g in inv.not_examined] == [(Area.PERMISSIONS, "/")]
        assert "ubifs" in inv.not_examined[0].reason
        return
    # modes come from the image's own metadata (unsquashfs, debugfs, cpio headers, jffs2 nodes)
    assert {(r.path, r.kind, r.mode) for r in inv.file_risks} == {
        ("/bin/busybox", "setuid", "4755"),
        ("/etc/rw.conf", "world-writable-file", "0666"),
        ("/var/share", "world-writable-dir", "0777"),
    }
    assert not inv.not_examined


@pytest.mark.parametrize("name", [pytest.param(n, id=n) for n in CLEAN])
def test_clean_control_image_has_nothing_to_report(name: str) -> None:
    inv = inventory(name)

    assert inv.accounts and all(a.crack_status in (CrackStatus.NOT_MATCHED, CrackStatus.NO_HASH) for a in inv.accounts)
    assert not [a for a in inv.accounts if a.empty_password]
    assert inv.credentials == ()
    assert inv.secrets == ()  # the example key in /usr/share/doc and the PEM header string are not secrets
    assert [k.kind for k in inv.keys if k.kind == "private-key"] == []
    assert sorted(k.kind for k in inv.keys) == ["certificate", "public-key"]
    assert not [k for k in inv.keys if k.weak_reasons or k.expired]
    assert [s.name for s in inv.services] == ["ssh"]
    assert [e.path for e in inv.elf if e.weaknesses] == []
    assert inv.file_risks == ()  # a sticky world-writable /tmp is fine
    assert inv.not_examined == ()


def test_package_database_and_banners_give_purls_with_how_and_confidence() -> None:
    inv = inventory("vuln-squashfs-xz")
    by_name = {c.name: c for c in inv.components}

    dropbear, busybox = by_name["dropbear-bin"], by_name["busybox-static"]
    assert dropbear.purl.startswith("pkg:deb/debian/dropbear-bin@2022.83")
    assert (dropbear.how_found, str(dropbear.confidence)) == ("dpkg-database", "high")
    assert dropbear.cpe == "cpe:2.3:a:dropbear_ssh_project:dropbear_ssh:2022.83:*:*:*:*:*:*:*"
    assert ("version-banner", "/usr/sbin/dropbear", "2022.83") in {
        (e.how_found, e.path, e.version) for e in dropbear.evidence
    }
    assert busybox.purl.startswith("pkg:deb/debian/busybox-static@") and (busybox.version or "").startswith("1:1.35.0")
    assert [(e.how_found, e.path) for e in busybox.evidence] == [
        ("dpkg-database", "/var/lib/dpkg/status"),
        ("version-banner", "/bin/busybox"),
    ]
    assert busybox.cpe == "cpe:2.3:a:busybox:busybox:1.35.0:*:*:*:*:*:*:*"
    assert busybox.supplier  # the package's maintainer


def test_scan_removes_its_work_dir_and_records_the_digest(tmp_path: Path) -> None:
    # Given an empty parent for the private work dir
    work = tmp_path / "work"
    work.mkdir()

    # When an image is scanned
    inv = scan_image(image("clean-squashfs-xz"), budget_for("quick"), now=dt.datetime.now(dt.UTC), workdir_parent=work)

    # Then nothing is left behind and the artefact digest is known
    assert list(work.iterdir()) == []
    assert len(inv.sha256) == 64 and inv.size == image("clean-squashfs-xz").stat().st_size
    assert inv.filesystems[0].metadata_source == "squashfs inode table"  # read in process, not by unsquashfs


def test_archive_without_mode_metadata_is_a_named_gap(tmp_path: Path) -> None:
    # Given a 7z "firmware": unblob extracts it, but no reader gives its file modes
    import subprocess

    (tmp_path / "root/etc").mkdir(parents=True)
    (tmp_path / "root/etc/passwd").write_text("root:x:0:0::/root:/bin/sh\n")
    (tmp_path / "root/etc/shadow").write_text("root:!:19000::::::\n")
    archive = tmp_path / "fw.7z"
    subprocess.run(["7z", "a", str(archive), "etc"], cwd=tmp_path / "root", check=True, capture_output=True)

    inv = scan_image(archive, budget_for("quick"), now=dt.datetime.now(dt.UTC), workdir_parent=tmp_path)

    # Then the setuid/world-writable facts are not claimed: the gap is named instead
    assert inv.file_risks == ()
    assert [g.path for g in inv.gaps(Area.PERMISSIONS)] == ["/"]
    assert [a.name for a in inv.accounts] == ["root"]


def test_a_file_whose_analysis_crashes_is_a_gap_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an ELF parser that blows up on hostile input
    from cybersafe.checks.firmware_checks import run_firmware_checks
    from cybersafe.evidence.firmware import elf
    from cybersafe.verdict import Verdict

    def explode(path: Path, display: str) -> None:
        raise RuntimeError("malformed section table")

    monkeypatch.setattr(elf, "harden", explode)

    # When the image is scanned
    inv = scan_image(image("clean-squashfs-xz"), budget_for("quick"), now=dt.datetime.now(dt.UTC))

    # Then each failure is recorded and the checks reading that area are inconclusive
    assert {p.kind for p in inv.problems} == {"analysis-failed"}
    assert "/usr/bin/hardened" in {g.path for g in inv.gaps(Area.ELF)}
    verdicts = {a.check_id: a.verdict for a in run_firmware_checks(inv)}
    assert verdicts["firmware.binary-hardening"] is Verdict.INCONCLUSIVE
    assert verdicts["firmware.cleartext-remote-login-enabled"] is Verdict.PASS
