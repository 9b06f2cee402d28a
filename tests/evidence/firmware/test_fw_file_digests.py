"""The firmware inventory lists every file examined with its sha256: what delta re-assessment and diff compare."""

from __future__ import annotations

import hashlib
import subprocess

import pytest
from tests.evidence.firmware.fwfixtures import image, inventory

pytestmark = pytest.mark.slow


def test_every_examined_file_has_its_digest() -> None:
    inv = inventory("vuln-squashfs-xz")
    by_path = {f.path: f for f in inv.files}
    assert [f.path for f in inv.files] == sorted(by_path)  # sorted by path, one entry each
    assert "/etc/shadow" in by_path and "/etc/passwd" in by_path
    # the digest is the file's content, as squashfs-tools reads it out of the image
    passwd = subprocess.run(
        ["unsquashfs", "-cat", str(image("vuln-squashfs-xz")), "etc/passwd"], capture_output=True, check=True
    ).stdout
    assert by_path["/etc/passwd"].sha256 == hashlib.sha256(passwd).hexdigest()
    assert by_path["/etc/passwd"].size == len(passwd)
    assert all(len(f.sha256) == 64 and f.size >= 0 for f in inv.files)
    assert "files" in inv.as_dict()
