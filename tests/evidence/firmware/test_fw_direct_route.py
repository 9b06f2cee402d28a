"""The two shortcuts of the extraction child give what unblob as shipped gives (``reference=True``): the direct
route for a whole-SquashFS image, which falls back to the full run whenever it could differ (padding, an
unsquashfs failure, a decompression limit, a multi-volume archive), and the extracted files unblob is not made
to search because no chunk can be found in them (plain text, plain ELF files, media it skips)."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import pytest
from tests.evidence.firmware.fwfixtures import CLEAN, TEST_BUDGET, VULN, image

from cybersafe.evidence.firmware._native import needs_unblob, whole_squashfs
from cybersafe.evidence.firmware.budget import Budget
from cybersafe.evidence.firmware.scan import scan_image
from cybersafe.evidence.firmware.unpack import Extraction, UnpackResult, unpack

MiB = 1024 * 1024
NOW = dt.datetime(2026, 12, 5, tzinfo=dt.UTC)
TRUE = Path("/usr/bin/true")  # a real executable from Debian's coreutils


def _mksquashfs(root: Path, out: Path, *extra: str) -> Path:
    subprocess.run(
        [
            "mksquashfs",
            str(root),
            str(out),
            "-comp",
            "gzip",
            "-all-root",
            "-noappend",
            "-quiet",
            "-no-progress",
            *extra,
        ],
        check=True,
        capture_output=True,
    )
    return out


def _both_routes(img: Path, tmp: Path, budget: Budget = TEST_BUDGET) -> tuple[UnpackResult, UnpackResult]:
    direct = unpack(img, tmp / "direct", budget)
    full = unpack(img, tmp / "full", budget, reference=True)
    return direct, full


def _tree(result: UnpackResult) -> dict[str, int]:
    root = str(result.extract_root)
    return {path.removeprefix(root): meta[0] for path, meta in result.tree.items()}


def _chunks(result: UnpackResult) -> set[tuple[str, str, int, int]]:
    """Chunks that produced something (unblob also lists every whole ELF file, which it leaves alone)."""
    root = str(result.extract_root)
    return {
        (c.handler, str(c.task).removeprefix(root), c.start, c.end)
        for c in result.chunks
        if c.extract_dir.exists() and any(c.extract_dir.iterdir())
    }


def _problems(result: UnpackResult) -> list[tuple[str, str | None]]:
    return sorted((p.kind, p.path) for p in result.problems)


@pytest.mark.parametrize("name", [*VULN, *CLEAN])
def test_shortcuts_unpack_what_unblob_unpacks(name: str, tmp_path: Path) -> None:
    direct, full = _both_routes(image(name), tmp_path)
    assert direct.direct == ("squashfs" in name)
    assert not full.direct
    assert _tree(direct) == _tree(full)
    assert _chunks(direct) == _chunks(full)
    assert _problems(direct) == _problems(full)
    assert (direct.files, direct.bytes_written) == (full.files, full.bytes_written)


def _comparable(inventory: Any) -> dict[str, Any]:
    data = dict(inventory.as_dict())
    for volatile in ("duration_s", "extraction_s", "stats"):
        data.pop(volatile)
    return data


@pytest.mark.parametrize("name", ["vuln-squashfs-gzip", "vuln-ext4"])
def test_shortcuts_give_the_same_inventory(name: str, tmp_path: Path) -> None:
    img = image(name)
    direct = scan_image(img, TEST_BUDGET, now=NOW)
    workdir = tmp_path / "full"
    workdir.mkdir()
    full = scan_image(img, TEST_BUDGET, now=NOW, extraction=Extraction(img, workdir, TEST_BUDGET, reference=True))
    assert _comparable(direct) == _comparable(full)
    assert direct.credentials and direct.elf and direct.components  # the image is not an empty one


def test_nested_archive_inside_a_direct_image_is_still_unpacked(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "www").mkdir(parents=True)
    (root / "bin").mkdir()
    shutil.copy2(TRUE, root / "bin/true")
    js = b"const DEFAULT_PASSWORD = 'hunter2-nested';\n"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("app/config.js")
        info.size = len(js)
        tar.addfile(info, io.BytesIO(js))
    (root / "www/app.tar.gz").write_bytes(gzip.compress(buf.getvalue(), mtime=0))
    img = _mksquashfs(root, tmp_path / "nested.sqfs")
    direct, full = _both_routes(img, tmp_path)
    assert direct.direct
    nested = [path for path in _tree(direct) if path.endswith("app/config.js")]
    assert nested, sorted(_tree(direct))
    assert _tree(direct) == _tree(full)


def test_padding_that_is_not_zeros_goes_the_full_way(tmp_path: Path) -> None:
    data = image("clean-squashfs-xz").read_bytes()
    assert whole_squashfs(image("clean-squashfs-xz")) is not None
    tampered = tmp_path / "tail.sqfs"
    tampered.write_bytes(data[:-16] + b"\x01" * 16)
    assert whole_squashfs(tampered) is None
    longer = tmp_path / "longer.sqfs"
    longer.write_bytes(data + b"\0" * 8192)  # more than padding: unblob reads the rest as another chunk
    assert whole_squashfs(longer) is None


def test_unpadded_and_truncated_superblocks(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "a.txt").write_text("x\n")
    unpadded = _mksquashfs(root, tmp_path / "nopad.sqfs", "-nopad")
    assert whole_squashfs(unpadded) is not None
    truncated = tmp_path / "trunc.sqfs"
    truncated.write_bytes(unpadded.read_bytes()[:-100])
    assert whole_squashfs(truncated) is None
    (tmp_path / "short").write_bytes(b"hsqs")
    assert whole_squashfs(tmp_path / "short") is None
    assert whole_squashfs(tmp_path / "missing") is None


def test_an_unsquashfs_failure_falls_back_to_the_full_run(tmp_path: Path) -> None:
    data = bytearray(image("vuln-squashfs-gzip").read_bytes())
    data[96:4096] = os.urandom(4000)  # superblock intact, the inode and directory data behind it garbage
    broken = tmp_path / "broken.sqfs"
    broken.write_bytes(bytes(data))
    assert whole_squashfs(broken) is not None
    direct, full = _both_routes(broken, tmp_path)
    assert not direct.direct
    # unsquashfs stops at the first damaged block its threads meet, so how much is written varies from run to
    # run; what unblob reports does not
    assert {p.kind for p in direct.problems} == {p.kind for p in full.problems} == {"ExtractCommandFailedReport"}


def test_a_bomb_in_the_file_system_meets_the_same_limit(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    with (root / "zeros.bin").open("wb") as fh:
        fh.truncate(40 * MiB)  # a few KiB compressed: far past 10x its input and the 1 MiB floor
    img = _mksquashfs(root, tmp_path / "bomb.sqfs")
    budget = Budget("tiny", 30.0, 48 * MiB, 3000, 4, 5.0, 16 * MiB, 30.0, max_ratio=10.0, ratio_floor=1 * MiB)
    direct, full = _both_routes(img, tmp_path, budget)
    assert not direct.direct
    # unsquashfs is stopped at the file-size limit (SIGXFSZ) on either route, and the gap is recorded alike
    assert _problems(direct) == _problems(full) == [("ExtractCommandFailedReport", "bomb.sqfs")]
    assert "exit_code=-25" in direct.problems[0].message
    assert [g.reason for g in direct.gaps] == [g.reason for g in full.gaps] != []
    assert _tree(direct) == _tree(full)


def test_a_multi_volume_archive_goes_the_full_way(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "backup.7z.001").write_bytes(b"7z\xbc\xaf\x27\x1c" + os.urandom(64))
    img = _mksquashfs(root, tmp_path / "multi.sqfs")
    direct, full = _both_routes(img, tmp_path)
    assert not direct.direct
    assert _tree(direct) == _tree(full)


# --- which extracted files unblob is given -------------------------------------------------------------------


def _gcc(tmp: Path, source: str, *flags: str) -> bytes:
    src, out = tmp / "prog.c", tmp / "prog"
    src.write_text(source)
    subprocess.run(["gcc", "-O1", "-o", str(out), str(src), *flags], check=True, capture_output=True)
    return out.read_bytes()


def test_plain_text_and_plain_elf_need_no_unblob() -> None:
    assert not needs_unblob(b"")
    assert not needs_unblob(b"#!/bin/sh\n# caf\xc3\xa9\n\tstart-stop-daemon --start\r\n\x1b[0m\n")
    assert not needs_unblob(TRUE.read_bytes())
    assert not needs_unblob(b"\x89PNG\r\n\x1a\n" + os.urandom(256))  # unblob skips PNG by its magic


def test_files_unblob_could_find_something_in() -> None:
    elf = TRUE.read_bytes()
    assert needs_unblob(os.urandom(4096))
    assert needs_unblob(gzip.compress(b"x" * 100))
    assert needs_unblob(b"#!/bin/sh\nexit 0\n" + gzip.compress(b"payload"))  # a self-extracting script
    assert needs_unblob(b"!<arch>\nREADME/         0           0     0     644     6         `\nhello\n")
    assert needs_unblob(elf + b"\x00" * 512 + gzip.compress(b"appended"))  # data after the ELF's end
    assert needs_unblob(elf[:-64])  # headers point past the end: unblob would not take it whole
    assert needs_unblob(elf.replace(b"GNU", b"UPX!", 1))  # packed executables are unpacked by unblob


def test_an_executable_with_an_initramfs_section_goes_to_unblob(tmp_path: Path) -> None:
    kernel_like = _gcc(
        tmp_path,
        '__attribute__((section(".init.data"))) const char blob[] = "initramfs";\nint main(void) { return blob[0]; }\n',
        "-no-pie",
    )
    assert needs_unblob(kernel_like)
    plain = _gcc(tmp_path, "int main(void) { return 0; }\n", "-no-pie")
    assert not needs_unblob(plain)


def test_large_files_are_left_to_unblob_unread(tmp_path: Path) -> None:
    from cybersafe.evidence.firmware import _unblob_child
    from cybersafe.evidence.firmware._native import CLASSIFY_MAX

    big = tmp_path / "big.txt"
    with big.open("wb") as fh:
        fh.truncate(CLASSIFY_MAX + 1)
    assert _unblob_child._needs_unblob(big)
    small = tmp_path / "small.txt"
    small.write_text("text\n")
    assert not _unblob_child._needs_unblob(small)
    assert _unblob_child._needs_unblob(tmp_path / "gone")


def test_the_lief_stand_in_loads_lief_on_first_use() -> None:
    code = (
        "import sys\n"
        "from cybersafe.evidence.firmware import _unblob_child as c\n"
        "c._defer_lief()\n"
        "import lief\n"
        "lief.logging.disable()\n"
        "assert type(lief).__name__ == '_LazyLief', type(lief)\n"
        "import unblob.handlers\n"
        "assert c._LOADED == {}, 'unblob imported lief at start-up'\n"
        "assert lief.ELF.Header.FILE_TYPE.EXEC is not None\n"
        "assert c._LOADED['lief'] is sys.modules['lief']\n"
    )
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    with tempfile.TemporaryDirectory() as cwd:
        done = subprocess.run(
            [sys.executable, "-c", code], check=False, capture_output=True, text=True, env=env, cwd=cwd
        )
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_direct_unsquashfs_is_confined_like_unblobs_extractors(tmp_path: Path) -> None:
    from cybersafe.evidence.firmware import _unblob_child

    root = tmp_path / "out"
    root.mkdir()
    outside = tmp_path / "outside"
    script = f"echo x > {outside}; echo y > {root}/inside"
    with open(os.devnull, "r+b") as null:  # the confined thread may not open it
        proc = _unblob_child._confined(root, lambda: subprocess.Popen(["sh", "-c", script], stderr=null))
    proc.wait()
    assert (root / "inside").exists()
    if outside.exists():
        pytest.skip("this kernel has no Landlock: unblob's own extractors run unconfined here too")


def test_a_direct_route_that_cannot_start_leaves_the_full_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cybersafe.evidence.firmware import _unblob_child

    plan = whole_squashfs(image("clean-squashfs-xz"))
    assert plan is not None
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "rm").symlink_to(shutil.which("rm") or "/bin/rm")
    monkeypatch.setenv("PATH", str(bin_dir))  # no unsquashfs to run
    root = tmp_path / "out"
    root.mkdir()
    limits = _unblob_child.Limits(48 * MiB, 100.0, 8 * MiB)
    assert _unblob_child._start_direct(plan, root, limits) is None
    assert list(root.iterdir()) == []
