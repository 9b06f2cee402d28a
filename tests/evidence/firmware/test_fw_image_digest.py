"""The firmware image's digest taken in a thread of its own (evidence/firmware/digest.py): the same digest and
size as read block by block, and the same one-line error, whatever route it takes."""

from __future__ import annotations

import hashlib
import mmap
import os
from pathlib import Path

import pytest

from cybersafe.errors import InputError
from cybersafe.evidence.firmware import digest


@pytest.mark.parametrize("size", [0, 1, 4096, 3 * 1024 * 1024 + 17])
def test_the_background_digest_is_the_image_digest(tmp_path: Path, size: int) -> None:
    image = tmp_path / "firmware.img"
    image.write_bytes(os.urandom(size))
    expected = (hashlib.sha256(image.read_bytes()).hexdigest(), size)
    assert digest.image_digest(image, meanwhile=True).result(timeout=30) == expected
    assert digest.image_digest(image).result() == expected
    assert digest.sha256_image(image) == expected


def test_where_the_image_cannot_be_mapped_it_is_read_block_by_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = tmp_path / "firmware.img"
    image.write_bytes(b"squashfs" * 10_000)

    def refuse(*args: object, **kwargs: object) -> mmap.mmap:
        raise OSError(19, "No such device")  # what mmap says on a file system that maps nothing

    monkeypatch.setattr(mmap, "mmap", refuse)  # safeio maps with it
    assert digest.image_digest(image, meanwhile=True).result(timeout=30) == digest.sha256_image(image)


def test_an_image_that_cannot_be_read_is_the_same_error_when_its_digest_is_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = digest.image_digest(tmp_path / "absent.img", meanwhile=True)
    with pytest.raises(InputError) as raised:
        missing.result(timeout=30)
    assert "absent.img" in str(raised.value)
    (tmp_path / "dir.img").mkdir()
    with pytest.raises(InputError, match="is a directory, not a regular file"):
        digest.image_digest(tmp_path / "dir.img", meanwhile=True).result(timeout=30)
    big = tmp_path / "big.img"
    big.write_bytes(b"x" * 2048)
    monkeypatch.setattr(digest, "MAX_IMAGE_BYTES", 1024)
    with pytest.raises(InputError) as too_big:
        digest.image_digest(big, meanwhile=True).result(timeout=30)
    message = str(too_big.value)
    assert "big.img" in message and "limit" in message and "\n" not in message
