"""The bounded safe reader: regular files only, never more than the stated size, one line per refusal."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from cybersafe import safeio
from cybersafe.errors import InputError, SbomError


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.json"
    os.mkfifo(path)
    return path


@pytest.fixture
def dev_zero_link(tmp_path: Path) -> Path:
    path = tmp_path / "zero.json"
    path.symlink_to("/dev/zero")
    return path


def _one_line(exc: pytest.ExceptionInfo[InputError]) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


def test_fifo_is_refused_without_blocking(fifo: Path) -> None:
    # Given a FIFO nobody writes to; When it is read; Then one line names it and says what it is
    with pytest.raises(InputError) as exc:
        safeio.read_bytes(fifo, 1024, what="an SBOM")
    assert _one_line(exc) == f"{fifo}: is a FIFO (named pipe), not a regular file; refusing to read it"


def test_device_behind_a_symlink_is_refused(dev_zero_link: Path) -> None:
    with pytest.raises(InputError) as exc:
        safeio.read_text(dev_zero_link, 1024)
    text = _one_line(exc)
    assert text.startswith(f"{dev_zero_link}: is a character device (a link to /dev/zero)")


def test_oversized_file_names_file_and_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_bytes(b"x" * 3000)
    with pytest.raises(SbomError) as exc:
        safeio.read_bytes(path, 2 * 1024, what="an SBOM", error=SbomError)
    assert _one_line(exc) == f"{path}: larger than the 2 KiB limit for an SBOM (it has 2.9 KiB); refusing to read it"


def test_a_file_that_reports_no_size_is_still_bounded() -> None:
    # /proc files say st_size 0 and then produce data: the limit holds on what is read
    with pytest.raises(InputError, match="larger than the 16 bytes limit"):
        safeio.read_bytes("/proc/self/status", 16)
    assert safeio.read_bytes("/proc/self/status", 1 << 20).startswith(b"Name:")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("missing.yaml", "file not found", id="missing"),
        pytest.param(".", "is a directory, not a regular file; refusing to read it", id="directory"),
    ],
)
def test_missing_and_directory(tmp_path: Path, name: str, expected: str) -> None:
    with pytest.raises(InputError) as exc:
        safeio.read_bytes(tmp_path / name, 10, field="dossier")
    assert _one_line(exc).endswith(f"dossier: {expected}")


def test_text_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(InputError, match=r"not UTF-8 text \(byte 9\)"):
        safeio.read_text(path, 100)


def test_regular_file_reads_and_hashes(tmp_path: Path) -> None:
    path = tmp_path / "ok.bin"
    path.write_bytes(b"abc" * 1000)
    link = tmp_path / "link.bin"
    link.symlink_to(path)

    assert safeio.read_bytes(link, 3000) == b"abc" * 1000
    assert safeio.sha256_file(path) == (hashlib.sha256(b"abc" * 1000).hexdigest(), 3000)
    with pytest.raises(InputError, match="limit"):
        safeio.sha256_file(path, 100)


@pytest.mark.parametrize("size", [0, 1, safeio.HASH_BLOCK - 1, safeio.HASH_BLOCK, 3 * safeio.HASH_BLOCK + 7])
def test_a_file_is_hashed_whole_across_the_buffer_it_is_read_into(tmp_path: Path, size: int) -> None:
    # Given a file of a size around the one buffer its blocks are read into
    data = os.urandom(size)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    # Then every byte is hashed once, in order, and counted
    assert safeio.sha256_file(path) == (hashlib.sha256(data).hexdigest(), size)
    with path.open("rb") as handle:
        assert b"".join(bytes(block) for block in safeio.blocks(handle)) == data


def test_refuse_special_lets_absent_and_regular_through(tmp_path: Path, fifo: Path) -> None:
    safeio.refuse_special(tmp_path / "new.sqlite")
    (tmp_path / "db.sqlite").write_bytes(b"")
    safeio.refuse_special(tmp_path / "db.sqlite")
    with pytest.raises(InputError, match="is a FIFO"):
        safeio.refuse_special(fifo)


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 bytes"),
        (1023, "1023 bytes"),
        (1024, "1 KiB"),
        (1536, "1.5 KiB"),
        (256 << 20, "256 MiB"),
        (3 << 30, "3 GiB"),
    ],
)
def test_size_text(size: int, text: str) -> None:
    assert safeio.size_text(size) == text


def test_a_regular_file_is_mapped_and_a_special_or_oversized_one_refused(tmp_path: Path, fifo: Path) -> None:
    data = os.urandom(70_000)
    (tmp_path / "image.bin").write_bytes(data)
    mapped, size = safeio.map_regular(tmp_path / "image.bin", 1_000_000)
    assert mapped is not None and size == len(data) and mapped[:] == data
    mapped.close()
    (tmp_path / "empty.bin").write_bytes(b"")
    assert safeio.map_regular(tmp_path / "empty.bin") == (None, 0)  # an empty file cannot be mapped
    with pytest.raises(InputError, match="not a regular file"):
        safeio.map_regular(fifo)
    with pytest.raises(InputError, match="limit") as too_big:
        safeio.map_regular(tmp_path / "image.bin", 1_000, what="a firmware image", field="firmware")
    assert too_big.value.field == "firmware"
