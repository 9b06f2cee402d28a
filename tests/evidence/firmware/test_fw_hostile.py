"""Hostile images: nothing written outside the work dir, bounded time and memory, a problem recorded,
no traceback, temp data removed, and no check turns what was not examined into a pass."""

from __future__ import annotations

import datetime as dt
import io
import os
import resource
import tarfile
import time
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.evidence.firmware import hostile_images as hostile
from tests.evidence.firmware.fwfixtures import TEST_BUDGET, image

from cybersafe.checks.firmware_checks import run_firmware_checks
from cybersafe.evidence.firmware.model import Area
from cybersafe.evidence.firmware.scan import scan_image
from cybersafe.verdict import Verdict

pytestmark = pytest.mark.slow

MiB = 1024 * 1024


def _escape_target() -> Path:
    return Path("/tmp") / f"cybersafe-pwned-{uuid.uuid4().hex}"


def _tar_traversal(tmp: Path, target: Path) -> Path:
    path = tmp / "traversal.tar"
    with tarfile.open(path, "w") as tar:
        for name, data in (("etc/passwd", b"root:x:0:0::/root:/bin/sh\n"), ("../" * 16 + str(target)[1:], b"pwned")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _zip_traversal(tmp: Path, target: Path) -> Path:
    path = tmp / "traversal.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("etc/hostname", "device\n")
        zf.writestr("../" * 16 + str(target)[1:], "pwned")
    return path


def _symlink_escape(tmp: Path, target: Path) -> Path:
    # a symlink out of the tree, then a file written through it
    path = tmp / "symlink.tar"
    with tarfile.open(path, "w") as tar:
        link = tarfile.TarInfo("etc/link")
        link.type = tarfile.SYMTYPE
        link.linkname = str(target.parent)
        tar.addfile(link)
        data = b"pwned"
        info = tarfile.TarInfo(f"etc/link/{target.name}")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return path


def _gzip_bomb(tmp: Path, _: Path) -> Path:
    # 512 MiB of zeros in ~0.5 MiB: far beyond the test budget's 48 MiB
    return hostile.gzip_bomb(tmp / "bomb.gz", 512 * MiB)


def _overlapping_zip(tmp: Path, _: Path) -> Path:
    # 30 entries sharing one kernel of 4 MiB of zeros: 120 MiB from 14 KiB
    return hostile.overlapping_zip(tmp / "overlap.zip", 30, 4 * MiB)


def _sparse_tar(tmp: Path, _: Path) -> Path:
    return hostile.sparse_tar(tmp / "sparse.tar", 1 << 40)


def _many_files(tmp: Path, _: Path) -> Path:
    return hostile.many_files(tmp / "many.tar", TEST_BUDGET.files + 2000)


def _malformed_elfs(tmp: Path, _: Path) -> Path:
    return hostile.malformed_elfs(tmp / "elfs.tar", mutants=20)


def _special_files(tmp: Path, _: Path) -> Path:
    return hostile.special_files(tmp / "special.tar")


def _nested_bomb(tmp: Path, _: Path) -> Path:
    # zip of zips: 8 x 8 x 8 copies of 2 MiB of zeros = 1 GiB expanded, recursion and bytes both bounded
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.bin", bytes(2 * MiB))
    data = inner.getvalue()
    for level in range(3):
        outer = io.BytesIO()
        with zipfile.ZipFile(outer, "w", zipfile.ZIP_DEFLATED) as zf:
            for i in range(8):
                zf.writestr(f"l{level}-{i}.zip", data)
        data = outer.getvalue()
    path = tmp / "nested.zip"
    path.write_bytes(data)
    return path


def _truncated(tmp: Path, _: Path) -> Path:
    data = image("vuln-squashfs-xz").read_bytes()
    path = tmp / "truncated.sqfs"
    path.write_bytes(data[: len(data) // 2])
    return path


def _random(tmp: Path, _: Path) -> Path:
    path = tmp / "random.bin"
    path.write_bytes(os.urandom(256 * 1024))
    return path


CASES: list[tuple[str, Callable[[Path, Path], Path], set[str]]] = [
    ("tar-traversal", _tar_traversal, set()),
    ("zip-traversal", _zip_traversal, set()),
    ("symlink-escape", _symlink_escape, set()),
    ("gzip-bomb", _gzip_bomb, {"limit"}),
    ("nested-archive-bomb", _nested_bomb, {"budget"}),
    ("overlapping-zip-bomb", _overlapping_zip, {"limit"}),
    ("sparse-1tib-tar", _sparse_tar, {"limit"}),
    ("more-files-than-the-budget", _many_files, {"budget"}),
    ("malformed-elfs", _malformed_elfs, set()),
    ("fifo-and-devices-inside", _special_files, set()),
    ("truncated-filesystem", _truncated, {"gap"}),
    ("random-bytes", _random, {"gap"}),
]


@pytest.mark.parametrize(("builder", "expect"), [pytest.param(b, e, id=n) for n, b, e in CASES])
def test_hostile_image_is_contained(tmp_path: Path, builder: Callable[[Path, Path], Path], expect: set[str]) -> None:
    # Given a hostile image and an empty parent for the private work dir
    target = _escape_target()
    hostile = builder(tmp_path, target)
    work = tmp_path / "work"
    work.mkdir()

    # When it is scanned within the test budget
    started = time.monotonic()
    inv = scan_image(hostile, TEST_BUDGET, now=dt.datetime.now(dt.UTC), workdir_parent=work)
    elapsed = time.monotonic() - started

    # Then nothing escaped, the work dir is gone, time and memory stayed bounded
    assert not target.exists()
    assert not (target.parent / "link").exists()
    assert list(work.iterdir()) == []
    assert elapsed < TEST_BUDGET.wall_s + 15
    peak_child_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert peak_child_kib < 1024 * 1024  # < 1 GiB in any extraction process so far
    # and a problem or a gap says what happened
    if expect:
        assert inv.problems or inv.not_examined
    if "limit" in expect:
        assert any(p.kind == "decompression-limit" for p in inv.problems), inv.problems
        assert inv.gaps(Area.SECRETS)
    if "budget" in expect:
        assert any(p.kind in ("budget-exceeded", "decompression-limit") for p in inv.problems), inv.problems
        assert inv.gaps(Area.SECRETS)
    if "gap" in expect:
        assert inv.gaps(Area.SECRETS)
    # and what was not examined never reads as a pass
    if inv.gaps(Area.SECRETS):
        verdicts = {a.check_id: a.verdict for a in run_firmware_checks(inv)}
        assert Verdict.PASS not in verdicts.values(), verdicts


@pytest.mark.parametrize("builder", [pytest.param(_tar_traversal, id="tar"), pytest.param(_zip_traversal, id="zip")])
def test_traversal_is_recorded_as_a_problem(tmp_path: Path, builder: Callable[[Path, Path], Path]) -> None:
    target = _escape_target()
    inv = scan_image(builder(tmp_path, target), TEST_BUDGET, workdir_parent=tmp_path)

    assert not target.exists()
    traversal = [p for p in inv.problems if p.kind == "path-traversal"]
    assert traversal and target.name in traversal[0].message
    assert not inv.gaps(Area.SECRETS)  # the hostile entry is refused, the rest of the archive is examined


def test_unreadable_path_is_one_input_error(tmp_path: Path) -> None:
    from cybersafe.errors import InputError

    with pytest.raises(InputError, match=r"missing\.img: firmware: file not found"):
        scan_image(tmp_path / "missing.img", TEST_BUDGET)


def test_1500_deep_nesting_is_walked_to_the_bottom(tmp_path: Path) -> None:
    # Given a SquashFS whose directories nest 1,500 deep (Python's recursion limit is 1,000) with a password
    # file at the bottom
    deep = hostile.deep_squashfs(tmp_path / "deep.sqfs", 1500)
    work = tmp_path / "work"
    work.mkdir()

    # When it is scanned
    inv = scan_image(deep, TEST_BUDGET, now=dt.datetime.now(dt.UTC), workdir_parent=work)

    # Then the bottom file was read like any other, and the work dir is gone
    sources = {a.source for a in inv.accounts}
    bottom = "/" + "d/" * 1500 + "passwd"
    assert {"/etc/passwd", bottom} <= sources
    assert not inv.gaps(Area.ACCOUNTS)
    assert list(work.iterdir()) == []


def test_malformed_elfs_never_crash_the_scan(tmp_path: Path) -> None:
    # Given truncated, inconsistent and mutated ELF executables and libraries
    inv = scan_image(hostile.malformed_elfs(tmp_path / "elfs.tar", mutants=20), TEST_BUDGET)

    # Then the scan completes; what lief could parse is reported, the rest is a recorded problem or no ELF
    assert inv.stats["files"] >= 60
    assert inv.elf, "the mildly broken executables still parse"
    assert all(p.kind != "analysis-failed" or p.path for p in inv.problems)


@pytest.mark.parametrize(
    "builder",
    [
        pytest.param(lambda tmp: hostile.gzip_bomb(tmp / "bomb.gz", 256 * MiB), id="gzip-bomb"),
        pytest.param(lambda tmp: hostile.special_files(tmp / "special.tar"), id="special-files"),
        pytest.param(lambda tmp: hostile.sparse_tar(tmp / "sparse.tar", 1 << 40), id="sparse-tar"),
    ],
)
def test_cli_reports_hostile_images_as_json_with_exit_0_or_1(tmp_path: Path, builder: Callable[[Path], Path]) -> None:
    import json

    from typer.testing import CliRunner

    from cybersafe.cli import app

    # When a hostile image is scanned from the command line
    result = CliRunner().invoke(app, ["firmware", "scan", str(builder(tmp_path)), "--format", "json"])

    # Then a JSON report comes out, with what happened recorded, and the exit code is a verdict (0/1), never 3
    assert result.exit_code in (0, 1), result.output
    report = json.loads(result.stdout)
    assert report["schema"] == "cybersafe/firmware-scan/v1"
    assert report["inventory"]["problems"] or report["inventory"]["not_examined"] or report["inventory"]["filesystems"]


def test_metadata_reader_crash_is_a_gap(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a metadata reader that raises on a hostile header
    from cybersafe.evidence.firmware import scan as scan_module

    def explode(handler: str, chunk_file: Path, extract_dir: Path) -> None:
        raise ValueError("bad inode table")

    monkeypatch.setattr(scan_module, "read_metadata", explode)
    # the direct route's own reading of the SquashFS tables (``reuse.read_layout``) fails alike
    monkeypatch.setattr(scan_module, "read_layout", lambda image, budget: None)

    # When the image is scanned
    inv = scan_image(image("clean-squashfs-xz"), TEST_BUDGET)

    # Then the failure is a problem, the modes are not examined, and nothing crashed
    assert any(p.kind == "analysis-failed" and "bad inode table" in p.message for p in inv.problems)
    assert inv.gaps(Area.PERMISSIONS)
    verdicts = {a.check_id: a.verdict for a in run_firmware_checks(inv)}
    assert verdicts["firmware.setuid-world-writable"] is Verdict.INCONCLUSIVE
