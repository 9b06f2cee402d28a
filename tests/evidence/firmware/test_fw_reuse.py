"""A delta run on a release that is one whole SquashFS (``reuse.py``): its files are told apart from the baseline's by
their locators without unpacking the image, and the inventory, problems and memo are the full scan's, fact for
fact. Whatever the route cannot vouch for (a changed file unblob must search, an image behind a header, a baseline
without locators) is unpacked as usual, with the same result."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from tests.evidence.firmware.fwfixtures import TEST_BUDGET
from tests.evidence.firmware.test_fw_memo import FALSE, _facts, _pack, _rootfs, _scanned
from tests.fleet.fleet_support import _md5crypt

from cybersafe.evidence.firmware import reuse, scan
from cybersafe.evidence.firmware.memo import FileMemo
from cybersafe.evidence.firmware.scan import scan_image
from cybersafe.evidence.firmware.unpack import Extraction

NOW = dt.datetime(2026, 12, 5, 12, tzinfo=dt.UTC)


@pytest.fixture
def extractions(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The images an extraction child was started for."""
    started: list[Path] = []
    start = Extraction.start

    def counting(self: Extraction) -> None:
        started.append(self.image)
        start(self)

    monkeypatch.setattr(Extraction, "start", counting)
    return started


@pytest.fixture
def written(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files the delta route wrote out (paths inside the image)."""
    out: list[str] = []
    unpacked = reuse._unpacked

    def recording(workdir: Path, plan: Any, found: Any, entries: Any, started: float) -> Any:
        out.extend(sorted(found.files))
        return unpacked(workdir, plan, found, entries, started)

    monkeypatch.setattr(reuse, "_unpacked", recording)
    return out


def _release_2(root: Path) -> None:
    """What a release changes: a configuration edited, a binary rebuilt, a file added and one removed, an account
    with a default password, a service enabled, a file made setuid, a private key, and an absolute symlink."""
    (root / "etc/app/app.conf").write_text("user=svc\npassword=An0therS3cret!\n")
    shutil.copyfile(FALSE, root / "bin/true")
    (root / "etc/app/new.json").write_text('{"api_token": "ghp_abcdefghijklmnopqrstuvwxyz0123456789"}\n')
    (root / "etc/app/token.txt").unlink()
    (root / "etc/shadow").write_text(f"root:{_md5crypt('admin')}:19000:0:99999:7:::\nuser::19000:0:99999:7:::\n")
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n")
    (root / "etc/init.d").mkdir(exist_ok=True)
    (root / "etc/init.d/telnetd").write_text("#!/bin/sh\ntelnetd -l /bin/sh\n")
    (root / "etc/rc.d").mkdir(exist_ok=True)
    (root / "etc/rc.d/S50telnetd").symlink_to("../init.d/telnetd")
    (root / "bin/false").chmod(0o4755)
    (root / "etc/ssl").mkdir(exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    (root / "etc/ssl/device.key").write_bytes(pem)
    (root / "etc/localtime").symlink_to("/usr/share/zoneinfo/UTC")


@pytest.mark.parametrize("compressor", ["gzip", "xz"])
def test_a_release_is_told_apart_without_unpacking_and_gives_the_full_inventory(
    compressor: str, tmp_path: Path, extractions: list[Path], written: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _rootfs(tmp_path / "rootfs")
    _, memo = _scanned(_pack(root, tmp_path / "r1.img", compressor))
    assert memo.locators  # the full scan of a whole SquashFS records where each file sits
    _release_2(root)
    second = _pack(root, tmp_path / "r2.img", compressor)
    full = scan_image(second, TEST_BUDGET, now=NOW)
    extractions.clear()
    # When release 2 is scanned with release 1's memo
    delta = scan_image(second, TEST_BUDGET, now=NOW, memo=memo)
    # Then nothing was unpacked: only new and changed files, and those the text collectors read, were written
    assert extractions == []
    assert sorted(written) == [
        "bin/true", "etc/app/app.conf", "etc/app/new.json", "etc/init.d/telnetd", "etc/os-release", "etc/passwd",
        "etc/shadow", "etc/ssl/device.key",
    ]  # fmt: skip
    # and the inventory is the full scan's, fact for fact: accounts, credentials, secrets, keys, services,
    # hardening, modes, the file digests
    assert _facts(delta) == _facts(full)
    assert {a.name for a in delta.accounts if a.matched_password is not None or a.empty_password} >= {
        "root",
        "user",
    }
    assert any(s.path == "/etc/app/new.json" for s in delta.secrets)
    assert any(k.path == "/etc/ssl/device.key" for k in delta.keys)
    assert any(r.path == "/bin/false" and r.kind == "setuid" for r in delta.file_risks)
    assert delta.stats["extracted_entries"] == full.stats["extracted_entries"]
    assert delta.stats["extracted_bytes"] == full.stats["extracted_bytes"]
    # and the memo it leaves for release 3 is the full scan's, locators included
    assert delta.file_facts is not None and full.file_facts is not None
    assert delta.file_facts.to_wire() == full.file_facts.to_wire()


def test_release_after_release_stays_the_full_scan(tmp_path: Path, extractions: list[Path]) -> None:
    # a memo made by a delta run serves the next delta run as one made by a full scan would
    root = _rootfs(tmp_path / "rootfs")
    _, memo = _scanned(_pack(root, tmp_path / "r1.img"))
    for release in range(2, 5):
        (root / "etc/app/app.conf").write_text(f"user=svc\npassword=Release{release}Secret!\n")
        (root / f"etc/app/added{release}.conf").write_text(f"token = {release}\n")
        image = _pack(root, tmp_path / f"r{release}.img")
        full = scan_image(image, TEST_BUDGET, now=NOW)
        extractions.clear()
        delta = scan_image(image, TEST_BUDGET, now=NOW, memo=memo)
        assert extractions == [] and _facts(delta) == _facts(full)
        assert delta.file_facts is not None
        memo = FileMemo.from_wire(delta.file_facts.to_wire(), {f.path: f.sha256 for f in delta.files})
        assert memo is not None


def test_a_changed_file_unblob_must_search_is_unpacked_as_usual(tmp_path: Path, extractions: list[Path]) -> None:
    root = _rootfs(tmp_path / "rootfs")
    _, memo = _scanned(_pack(root, tmp_path / "r1.img"))
    # Given release 2, whose rebuilt binary carries bytes after its ELF contents (unblob searches it)
    (root / "bin/true").write_bytes(FALSE.read_bytes() + b"\x00appended\x00" * 64)
    second = _pack(root, tmp_path / "r2.img")
    full = scan_image(second, TEST_BUDGET, now=NOW)
    extractions.clear()
    delta = scan_image(second, TEST_BUDGET, now=NOW, memo=memo)
    # Then it went the usual way, and the result is the full scan's
    assert extractions == [second]
    assert _facts(delta) == _facts(full)


def test_an_image_the_route_cannot_vouch_for_is_unpacked_as_usual(tmp_path: Path, extractions: list[Path]) -> None:
    root = _rootfs(tmp_path / "rootfs")
    first = _pack(root, tmp_path / "r1.img")
    _, memo = _scanned(first)
    # a baseline made without locators (an older cybersafe, or an image behind a header)
    bare = FileMemo(memo.key, dict(memo.files))
    extractions.clear()
    assert _facts(scan_image(first, TEST_BUDGET, now=NOW, memo=bare)) == _facts(scan_image(first, TEST_BUDGET, now=NOW))
    assert len(extractions) == 2
    # an image that is no longer one whole SquashFS: a header in front of it
    wrapped = tmp_path / "wrapped.img"
    wrapped.write_bytes(b"\x27\x05\x19\x56" + bytes(60) + first.read_bytes())
    extractions.clear()
    scan_image(wrapped, TEST_BUDGET, now=NOW, memo=memo)
    assert extractions == [wrapped]
    # an image damaged in its tables: the reader refuses it and unsquashfs has its say, as in a full scan
    damaged = tmp_path / "damaged.img"
    data = bytearray(first.read_bytes())
    table = int.from_bytes(data[64:72], "little")  # the inode table's offset (superblock)
    data[table : table + 64] = bytes(64)
    damaged.write_bytes(bytes(data))
    extractions.clear()
    delta = scan_image(damaged, TEST_BUDGET, now=NOW, memo=memo)
    assert extractions == [damaged]
    assert _facts(delta) == _facts(scan_image(damaged, TEST_BUDGET, now=NOW))


def test_a_locator_that_differs_is_checked_against_the_contents(
    tmp_path: Path, extractions: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a baseline memo with no locator for one file and a locator for other bytes for another
    root = _rootfs(tmp_path / "rootfs")
    first = _pack(root, tmp_path / "r1.img")
    _, memo = _scanned(first)
    memo.locators.pop("/etc/app/app.conf")
    memo.locators["/etc/app/token.txt"] = "f" * 64
    read: list[str] = []
    contents = reuse.SquashfsReader.read

    def reading(self: reuse.SquashfsReader, entry: Any) -> bytes:
        read.append(entry.path)
        return contents(self, entry)

    monkeypatch.setattr(reuse.SquashfsReader, "read", reading)
    extractions.clear()
    delta = scan_image(first, TEST_BUDGET, now=NOW, memo=memo)
    # Then both are read and known by their sha256 (their facts come from the memo); the one without a locator
    # is also classified again (unblob may not have been asked about it), so it is written out
    assert extractions == []
    assert {"etc/app/app.conf", "etc/app/token.txt"} <= set(read)
    assert delta.stats["reused_files"] == len(delta.files)
    assert _facts(delta) == _facts(scan_image(first, TEST_BUDGET, now=NOW))


def test_the_delta_work_dir_is_removed(tmp_path: Path) -> None:
    root = _rootfs(tmp_path / "rootfs")
    _, memo = _scanned(_pack(root, tmp_path / "r1.img"))
    (root / "etc/app/app.conf").write_text("user=svc\npassword=Changed!\n")
    second = _pack(root, tmp_path / "r2.img")
    work = tmp_path / "work"
    work.mkdir()
    scan_image(second, TEST_BUDGET, now=NOW, memo=memo, workdir_parent=work)
    assert list(work.iterdir()) == []
    assert scan._reads_bytes("etc/shadow", has_credentials=False)
    assert not scan._reads_bytes("usr/bin/busybox", has_credentials=False)


def _release_with(tmp_path: Path, change: Any) -> tuple[Path, FileMemo]:
    root = _rootfs(tmp_path / "rootfs")
    _, memo = _scanned(_pack(root, tmp_path / "r1.img"))
    change(root)
    return _pack(root, tmp_path / "r2.img"), memo


@pytest.mark.parametrize(
    "change",
    [
        # unblob's fix-up removes one link of a loop or of an escaping chain: which one depends on the order the
        # file system lists them, so the usual route (unsquashfs on disk) decides
        lambda root: ((root / "etc/l1").symlink_to("l2"), (root / "etc/l2").symlink_to("l1")),
        lambda root: (root / "etc/escape").symlink_to("../../../../../etc/hostname"),
        # a directory named like an extraction's output next to a file the route would not write out
        lambda root: (
            (root / "usr/share/blob.bin_extract").mkdir(),
            (root / "usr/share/blob.bin_extract/0-9.unknown").write_text("aws_key=AKIAIOSFODNN7ABCDEFG\n"),
        ),
    ],
    ids=["symlink-loop", "escaping-symlink", "extract-named-directory"],
)
def test_what_depends_on_the_files_around_it_is_unpacked_as_usual(
    change: Any, tmp_path: Path, extractions: list[Path]
) -> None:
    second, memo = _release_with(tmp_path, change)
    full = scan_image(second, TEST_BUDGET, now=NOW)
    extractions.clear()
    delta = scan_image(second, TEST_BUDGET, now=NOW, memo=memo)
    assert extractions == [second]
    assert _facts(delta) == _facts(full)


@pytest.mark.parametrize("offset", [56, 88], ids=["xattr-table", "export-table"])
def test_a_table_unsquashfs_refuses_is_unpacked_as_usual_and_its_failure_recorded(
    offset: int, tmp_path: Path, extractions: list[Path]
) -> None:
    # Given release 2 with one byte of the superblock's pointer to a table the listing does not need flipped:
    # unsquashfs refuses the image as corrupt
    second, memo = _release_with(tmp_path, lambda root: (root / "etc/app/app.conf").write_text("user=svc\n"))
    data = bytearray(second.read_bytes())
    data[offset] ^= 0x5A
    second.write_bytes(bytes(data))
    full = scan_image(second, TEST_BUDGET, now=NOW)
    extractions.clear()
    delta = scan_image(second, TEST_BUDGET, now=NOW, memo=memo)
    # Then the delta run does not vouch for it either: the usual route records what unsquashfs says
    assert extractions == [second]
    assert _facts(delta) == _facts(full)
    assert delta.not_examined
