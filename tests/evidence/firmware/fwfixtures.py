"""Session-wide firmware test images and scan results, shared by the firmware, check, CLI and integration tests."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path

from tests.evidence.firmware.build_images import build_all, image_cache_dir

from cybersafe.evidence.firmware.budget import Budget, budget_for
from cybersafe.evidence.firmware.model import FirmwareInventory
from cybersafe.evidence.firmware.scan import scan_image

MiB = 1024 * 1024
# Small enough that every hostile case stops fast, big enough for the real test images.
TEST_BUDGET = Budget(
    "test",
    wall_s=30.0,
    bytes_written=48 * MiB,
    files=3000,
    depth=4,
    crack_s=5.0,
    scan_file_bytes=16 * MiB,
    analysis_s=30.0,
    ratio_floor=8 * MiB,  # well under the byte budget, so a bomb meets its decompression limit first
)


@cache
def images() -> Path:
    return build_all(image_cache_dir())


def image(name: str) -> Path:
    path = images() / f"{name}.img"
    assert path.is_file(), f"test image {name} was not built"
    return path


@cache
def inventory(name: str) -> FirmwareInventory:
    """Each image is scanned once per test session."""
    return scan_image(image(name), budget_for("standard"), now=dt.datetime.now(dt.UTC))


VULN = (
    "vuln-squashfs-xz",
    "vuln-squashfs-gzip",
    "vuln-ext4",
    "vuln-jffs2",
    "vuln-ubi",
    "vuln-cpio-gz",
    "vuln-vendor-header",
    "vuln-uimage",
)
CLEAN = ("clean-squashfs-xz", "clean-ext4")
