"""A delta run on a release that is one whole SquashFS (``reuse.py``): its files are told apart from the baseline's by
their locators without unpacking the image, and the inventory, problems and memo are the full scan's, fact for
fact. Whatever the route cannot vouch for (a changed file unblob must search, an image behind a header, a baseline
without locators) is unpacked as usual, with the same result."""

from __future__ import annotations

import bz2
import datetime as dt
import gzip
import io
import lzma
import random
import shutil
import struct
import tarfile
import zlib
from dataclasses import dataclass, field, replace
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


@dataclass
class Route:
    """What the in-place route did: the files it wrote out, those it had unblob search, and those it inflated
    (paths in the image)."""

    written: list[str] = field(default_factory=list)
    searched: list[str] = field(default_factory=list)
    inflated: list[str] = field(default_factory=list)  # plain gzip files decompressed in process


@pytest.fixture
def route(monkeypatch: pytest.MonkeyPatch) -> Route:
    out = Route()
    unpacked = reuse._unpacked

    def recording(workdir: Path, plan: Any, found: Any, entries: Any, started: float, budget: Any) -> Any:
        out.written.extend(sorted(found.files))
        out.searched.extend(found.searched)
        out.inflated.extend(path for path, _ in found.inflated)
        return unpacked(workdir, plan, found, entries, started, budget)

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
    compressor: str, tmp_path: Path, extractions: list[Path], route: Route, monkeypatch: pytest.MonkeyPatch
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
    assert sorted(route.written) == [
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


def test_a_changed_file_unblob_must_search_is_searched_alone(
    tmp_path: Path, extractions: list[Path], route: Route
) -> None:
    root = _rootfs(tmp_path / "rootfs")
    _, memo = _scanned(_pack(root, tmp_path / "r1.img"))
    # Given release 2, whose rebuilt binary carries bytes after its ELF contents (unblob searches it)
    (root / "bin/true").write_bytes(FALSE.read_bytes() + b"\x00appended\x00" * 64)
    second = _pack(root, tmp_path / "r2.img")
    full = scan_image(second, TEST_BUDGET, now=NOW)
    extractions.clear()
    delta = scan_image(second, TEST_BUDGET, now=NOW, memo=memo)
    # Then the image was read in place and unblob searched that file alone; the result is the full scan's, and so
    # is the memo it leaves
    assert extractions == [second] and route.searched == ["bin/true"]
    assert _facts(delta) == _facts(full)
    assert delta.file_facts is not None and full.file_facts is not None
    assert delta.file_facts.to_wire() == full.file_facts.to_wire()


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


def _with_compressed_files(root: Path) -> Path:
    """Compressed files as Debian packages ship them (``gzip -9n``: no name in the header), one of them holding a
    token, and one kind each of xz and bzip2."""
    doc = root / "usr/share/doc/app"
    doc.mkdir(parents=True)
    (doc / "changelog.Debian.gz").write_bytes(gzip.compress(b"app (1.0-1) stable; urgency=low\n" * 40, mtime=0))
    (doc / "NEWS.xz").write_bytes(lzma.compress(b"news of the release\n" * 30))
    (doc / "README.bz2").write_bytes(bz2.compress(b"read me first\n" * 30))
    (root / "usr/share/app").mkdir(parents=True, exist_ok=True)
    (root / "usr/share/app/settings.txt.gz").write_bytes(
        gzip.compress(b"github_token = ghp_abcdefghijklmnopqrstuvwxyz0123456789\n", mtime=0)
    )
    return root


def test_a_compressed_file_the_baseline_decompressed_stays_virtual_with_its_output(
    tmp_path: Path, extractions: list[Path], route: Route
) -> None:
    # Given release 1 with compressed files unblob decompresses, one of them holding a token
    root = _with_compressed_files(_rootfs(tmp_path / "rootfs"))
    first, memo = _scanned(_pack(root, tmp_path / "r1.img"))
    outputs = {f.path.partition("!/")[0] for f in first.files if "!/" in f.path}
    # Then its memo records each as decompressed as a whole (its sha256, handler and output), with its locator
    assert set(memo.decompressed) == outputs == {
        "/usr/share/doc/app/changelog.Debian.gz", "/usr/share/doc/app/NEWS.xz", "/usr/share/doc/app/README.bz2",
        "/usr/share/app/settings.txt.gz",
    }  # fmt: skip
    assert {p.handler for p in memo.decompressed.values()} == {"gzip", "xz", "bzip2"}
    assert set(memo.decompressed) <= set(memo.locators)
    # When release 2 changes a configuration file and is scanned with that memo
    (root / "etc/app/app.conf").write_text("user=svc\npassword=An0therS3cret!\n")
    second = _pack(root, tmp_path / "r2.img")
    full = scan_image(second, TEST_BUDGET, now=NOW)
    extractions.clear()
    delta = scan_image(second, TEST_BUDGET, now=NOW, memo=memo)
    # Then nothing was unpacked or decompressed, and the inventory is the full scan's, the token in a
    # decompressed file included
    assert extractions == []
    assert "usr/share/app/settings.txt.gz" not in route.written and "etc/app/app.conf" in route.written
    assert _facts(delta) == _facts(full)
    assert any(s.path == "/usr/share/app/settings.txt.gz!/gzip.uncompressed" for s in delta.secrets)
    assert delta.stats["extracted_entries"] == full.stats["extracted_entries"]
    assert delta.stats["extracted_bytes"] == full.stats["extracted_bytes"]
    assert delta.stats["written_files"] == len(route.written) < len(delta.files)
    # and the memo it leaves for release 3 is the full scan's, and serves release 3 the same way
    assert delta.file_facts is not None and full.file_facts is not None
    assert delta.file_facts.to_wire() == full.file_facts.to_wire()
    chained = FileMemo.from_wire(delta.file_facts.to_wire(), {f.path: f.sha256 for f in delta.files})
    assert chained is not None
    extractions.clear()
    assert _facts(scan_image(second, TEST_BUDGET, now=NOW, memo=chained)) == _facts(full)
    assert extractions == []


@pytest.mark.parametrize(
    ("change", "searched", "inflated"),
    [
        # the gzip changelog changed: one plain member, inflated in process as unblob's handler would
        (
            lambda root: (root / "usr/share/doc/app/changelog.Debian.gz").write_bytes(
                gzip.compress(b"app (1.1-1) stable; urgency=high\n" * 40, mtime=0)
            ),
            [],
            ["usr/share/doc/app/changelog.Debian.gz"],
        ),
        # the same bytes under another name (its facts are keyed by where it is): unblob decompresses and searches it
        (
            lambda root: (root / "usr/share/doc/app/README.bz2").rename(root / "usr/share/doc/app/README.1.bz2"),
            ["usr/share/doc/app/README.1.bz2"],
            [],
        ),
    ],
    ids=["changed", "renamed"],
)
def test_a_compressed_file_that_changed_is_searched_alone(
    change: Any, searched: list[str], inflated: list[str], tmp_path: Path, extractions: list[Path], route: Route
) -> None:
    root = _with_compressed_files(_rootfs(tmp_path / "rootfs"))
    _, memo = _scanned(_pack(root, tmp_path / "r1.img"))
    change(root)
    second = _pack(root, tmp_path / "r2.img")
    full = scan_image(second, TEST_BUDGET, now=NOW)
    extractions.clear()
    delta = scan_image(second, TEST_BUDGET, now=NOW, memo=memo)
    # Then only that file was decompressed (by unblob alone, or in process), the others stayed virtual; the result
    # and the memo are the full scan's
    assert route.searched == searched and route.inflated == inflated
    assert extractions == ([second] if searched else [])
    assert _facts(delta) == _facts(full)
    assert delta.file_facts is not None and full.file_facts is not None
    assert delta.file_facts.to_wire() == full.file_facts.to_wire()


def test_a_search_that_leaves_a_gap_is_unpacked_as_usual(tmp_path: Path, extractions: list[Path], route: Route) -> None:
    # Given release 2 adds a compressed file that decompresses past the extraction limit
    root = _rootfs(tmp_path / "rootfs")
    _, memo = _scanned(_pack(root, tmp_path / "r1.img"))
    (root / "usr/share/zeros.gz").write_bytes(gzip.compress(bytes(16 * 1024 * 1024), mtime=0))
    second = _pack(root, tmp_path / "r2.img")
    full = scan_image(second, TEST_BUDGET, now=NOW)
    assert full.not_examined  # the full scan records where it stopped
    extractions.clear()
    delta = scan_image(second, TEST_BUDGET, now=NOW, memo=memo)
    # Then the search of that file alone stopped at the limit, and the usual route recorded it as a full run does
    assert route.searched == ["usr/share/zeros.gz"] and extractions == [second, second]
    assert _facts(delta) == _facts(full)


def _tar_of(name: str, data: bytes) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "why"),
    [
        # its output is an archive unblob opened in turn
        ("bundle.tar.gz", gzip.compress(_tar_of("etc/key.txt", b"aws_key=AKIAIOSFODNN7ABCDEFG\n"), mtime=0), "nested"),
        # bytes after the compressed stream: a second chunk
        ("trailing.gz", gzip.compress(b"text\n" * 50, mtime=0) + random.Random(3).randbytes(512), "trailing"),
        # right in the file system's root: whether its name shows depends on its neighbours
        ("../../top.gz", gzip.compress(b"text\n" * 50, mtime=0), "top"),
    ],
    ids=["nested-archive", "trailing-bytes", "in-the-root"],
)
def test_what_unblob_did_more_with_is_not_recorded_and_searched_again(
    name: str, data: bytes, why: str, tmp_path: Path, extractions: list[Path], route: Route
) -> None:
    root = _rootfs(tmp_path / "rootfs")
    target = (root / "usr/share" / name).resolve()
    target.write_bytes(data)
    first, memo = _scanned(_pack(root, tmp_path / "r1.img"))
    display = "/" + target.relative_to(root).as_posix()
    assert any(f.path.startswith(display + "!") for f in first.files), why  # unblob did open it
    assert display not in memo.decompressed and display not in memo.locators
    (root / "etc/app/app.conf").write_text("user=svc\n")
    second = _pack(root, tmp_path / "r2.img")
    full = scan_image(second, TEST_BUDGET, now=NOW)
    extractions.clear()
    assert _facts(scan_image(second, TEST_BUDGET, now=NOW, memo=memo)) == _facts(full)
    assert extractions == [second]
    # a file right in the root goes the usual route (how its output is shown depends on its neighbours); unblob
    # searches the others alone
    assert route.searched == ([] if why == "top" else [display[1:]])


def test_a_decompression_record_that_does_not_parse_is_left_out() -> None:
    good = ["a" * 64, "gzip", "gzip.uncompressed", 12]
    wire = {
        "key": "k",
        "files": {
            "/d/ok.gz": {"x": good, "q": "b" * 64},
            "/d/ok.gz!/gzip.uncompressed": {},
            **{
                f"/d/bad{i}.gz": {"x": bad, "q": "b" * 64}
                for i, bad in enumerate(
                    [
                        good[:3], ["a" * 63, *good[1:]], [good[0], "", *good[2:]], [*good[:2], "../x", 12],
                        [*good[:2], "a/b", 12], [*good[:3], -1], [*good[:3], True], [*good[:3], "12"], "x", None,
                    ]
                )
            },
        },
    }  # fmt: skip
    memo = FileMemo.from_wire(wire, {"/d/ok.gz!/gzip.uncompressed": "c" * 64})
    assert memo is not None
    assert list(memo.decompressed) == ["/d/ok.gz"] and list(memo.locators) == ["/d/ok.gz"]
    assert memo.decompressed["/d/ok.gz"].to_wire() == good
    assert memo.to_wire()["files"]["/d/ok.gz"] == {"x": good, "q": "b" * 64}


def test_a_decompressed_file_the_text_collectors_read_is_searched_again(
    tmp_path: Path, extractions: list[Path], route: Route
) -> None:
    # Given a gzip that names its contents "shadow" (unblob writes that name, and the account collector reads it)
    root = _rootfs(tmp_path / "rootfs")
    packed = io.BytesIO()
    with gzip.GzipFile(filename="shadow", mode="wb", fileobj=packed, mtime=0) as stream:
        stream.write(f"admin:{_md5crypt('admin')}:19000:0:99999:7:::\n".encode())
    (root / "usr/share/shadow.gz").write_bytes(packed.getvalue())
    _, memo = _scanned(_pack(root, tmp_path / "r1.img"))
    assert memo.decompressed["/usr/share/shadow.gz"].name == "shadow"
    (root / "etc/app/app.conf").write_text("user=svc\n")
    second = _pack(root, tmp_path / "r2.img")
    full = scan_image(second, TEST_BUDGET, now=NOW)
    extractions.clear()
    # Then the delta run has unblob decompress it again (the collectors need its bytes), with the full scan's result
    assert _facts(scan_image(second, TEST_BUDGET, now=NOW, memo=memo)) == _facts(full)
    assert extractions == [second] and route.searched == ["usr/share/shadow.gz"]


def test_a_compressed_unit_in_a_wants_directory_is_written_out(tmp_path: Path, route: Route) -> None:
    # Given a unit enabled by a file in a .wants directory that happens to be gzip-compressed (the service
    # collector counts any file there, read from disk)
    root = _rootfs(tmp_path / "rootfs")
    (root / "etc/systemd/system/multi-user.target.wants").mkdir(parents=True)
    (root / "etc/systemd/system/telnetd.service").write_text("[Service]\nExecStart=/usr/sbin/telnetd -F -l /bin/sh\n")
    wanted = root / "etc/systemd/system/multi-user.target.wants/telnetd.service"
    wanted.write_bytes(gzip.compress(b"x\n" * 40, mtime=0))
    _, memo = _scanned(_pack(root, tmp_path / "r1.img"))
    assert "/etc/systemd/system/multi-user.target.wants/telnetd.service" in memo.decompressed
    (root / "etc/app/app.conf").write_text("user=svc\n")
    second = _pack(root, tmp_path / "r2.img")
    full = scan_image(second, TEST_BUDGET, now=NOW)
    delta = scan_image(second, TEST_BUDGET, now=NOW, memo=memo)
    # Then it is on disk for the collector (decompressed again), and the service is reported as in full
    assert route.inflated == ["etc/systemd/system/multi-user.target.wants/telnetd.service"]
    assert any(s.name == "telnetd" for s in delta.services)
    assert _facts(delta) == _facts(full)


@pytest.mark.parametrize(
    "forged",
    [
        lambda p: replace(p, handler="tar"),  # a file system: its modes would be read from the file
        lambda p: replace(p, handler="squashfs_v4_le"),
        lambda p: replace(p, name="0-56.unknown"),  # a carved chunk: the scan skips those
    ],
    ids=["tar", "squashfs", "carved-name"],
)
def test_a_decompression_record_a_full_scan_does_not_write_is_not_followed(
    forged: Any, tmp_path: Path, route: Route
) -> None:
    root = _rootfs(tmp_path / "rootfs")
    (root / "usr/share/a").mkdir(parents=True)
    (root / "usr/share/a/s.gz").write_bytes(gzip.compress(b"aws_key=AKIAIOSFODNN7ABCDEFG\n" * 9, mtime=0))
    image = _pack(root, tmp_path / "r1.img")
    _, memo = _scanned(image)
    memo.decompressed["/usr/share/a/s.gz"] = forged(memo.decompressed["/usr/share/a/s.gz"])
    delta = scan_image(image, TEST_BUDGET, now=NOW, memo=memo)
    assert route.inflated == ["usr/share/a/s.gz"]
    assert _facts(delta) == _facts(scan_image(image, TEST_BUDGET, now=NOW))


def test_a_failure_inside_the_route_leaves_no_work_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    second, memo = _release_with(tmp_path, lambda root: (root / "etc/app/app.conf").write_text("user=svc\n"))
    work = tmp_path / "work"
    work.mkdir()

    def failing(*args: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(reuse, "_unpacked", failing)
    with pytest.raises(RuntimeError):
        scan_image(second, TEST_BUDGET, now=NOW, memo=memo, workdir_parent=work)
    assert list(work.iterdir()) == []


def test_an_extraction_past_its_budget_gives_the_same_result_however_soon_its_child_ends(tmp_path: Path) -> None:
    # Given a byte budget one byte short of what the image unpacks to: a delta run's child, which skips the files it
    # knows, ends before the budget is noticed; a full scan's child is stopped while it searches
    root = _with_compressed_files(_rootfs(tmp_path / "rootfs"))
    image = _pack(root, tmp_path / "r1.img")
    whole, memo = _scanned(image)
    short = replace(TEST_BUDGET, bytes_written=whole.stats["extracted_bytes"] - 1)
    full = scan_image(image, short, now=NOW)
    delta = scan_image(image, short, now=NOW, memo=memo)
    # Then both record the budget, and neither takes what the child found past it
    assert any("byte budget" in gap.reason for gap in full.not_examined)
    assert _facts(delta) == _facts(full)
    assert full.filesystems == ()


def _gzip_with(flags: int = 0, os_byte: int = 3, name: bytes = b"") -> Any:
    def make(data: bytes) -> bytes:
        body = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
        deflated = body.compress(data) + body.flush()
        header = bytes([0x1F, 0x8B, 8, flags, 0, 0, 0, 0, 2, os_byte]) + (name + b"\0" if name else b"")
        return header + deflated + struct.pack("<II", zlib.crc32(data), len(data))

    return make


_TEXT = b"app (2.0-1) stable; urgency=medium\n\n  * aws_key=AKIAIOSFODNN7ABCDEFG\n" * 20


@pytest.mark.parametrize(
    ("contents", "inflated"),
    [
        (gzip.compress(_TEXT, mtime=0), True),  # as Debian ships it (gzip -9n)
        (_gzip_with()(_TEXT), True),
        (_gzip_with(os_byte=255)(_TEXT), True),
        # everything else is unblob's to decide
        (_gzip_with(flags=8, name=b"notes.txt")(_TEXT), False),  # a name in the header: unblob writes that name
        (_gzip_with(os_byte=0x20)(_TEXT), False),  # an operating system byte unblob's pattern does not take
        (gzip.compress(_TEXT, mtime=0) + gzip.compress(b"more\n", mtime=0), False),  # two members
        (gzip.compress(_TEXT, mtime=0) + b"\0" * 64, False),  # bytes after the member
        (gzip.compress(_TEXT, mtime=0)[:-8] + b"\0" * 8, False),  # a wrong CRC and length
        (gzip.compress(_TEXT, mtime=0)[:-20], False),  # truncated
        (gzip.compress(b"", mtime=0), False),  # nothing in it
        (gzip.compress(_tar_of("etc/key.txt", b"aws_key=AKIAIOSFODNN7ABCDEFG\n"), mtime=0), False),  # an archive
        (gzip.compress(bytes(16 * 1024 * 1024), mtime=0), False),  # past the decompression allowance
    ],
    ids=[
        "debian", "plain", "os-255", "named", "unknown-os", "two-members", "trailing", "bad-crc", "truncated", "empty",
        "archive", "bomb",
    ],
)  # fmt: skip
def test_a_new_gzip_is_inflated_in_process_only_when_unblob_would_write_the_same(
    contents: bytes, inflated: bool, tmp_path: Path, route: Route
) -> None:
    root = _rootfs(tmp_path / "rootfs")
    _, memo = _scanned(_pack(root, tmp_path / "r1.img"))
    (root / "usr/lib/app").mkdir(parents=True)  # not a documentation dir: the key in it is a finding
    (root / "usr/lib/app/notes.gz").write_bytes(contents)
    second = _pack(root, tmp_path / "r2.img")
    delta = scan_image(second, TEST_BUDGET, now=NOW, memo=memo)
    assert route.inflated == (["usr/lib/app/notes.gz"] if inflated else [])
    assert _facts(delta) == _facts(scan_image(second, TEST_BUDGET, now=NOW))
    if inflated:
        assert reuse._gunzipped(contents, 1 << 30) == _TEXT
        assert any(s.path == "/usr/lib/app/notes.gz!/gzip.uncompressed" for s in delta.secrets)
