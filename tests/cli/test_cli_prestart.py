"""The early start of a firmware extraction: adopted by the same command, discarded by any other."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.evidence.firmware.fwfixtures import image

from cybersafe.cli import _prestart
from cybersafe.evidence.firmware.budget import budget_for
from cybersafe.evidence.firmware.scan import scan_image


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(["fw.bin"], ("fw.bin", "standard"), id="image-only"),
        pytest.param(["fw.bin", "--budget", "quick"], ("fw.bin", "quick"), id="budget"),
        pytest.param(["-b", "deep", "fw.bin", "-f", "json"], ("fw.bin", "deep"), id="options-first"),
        pytest.param(["fw.bin", "--budget=quick", "-o", "out.json"], ("fw.bin", "quick"), id="equals-and-output"),
        pytest.param(["fw.bin", "--fail-on", "high", "-b", "quick"], ("fw.bin", "quick"), id="fail-on"),
        pytest.param(["fw.bin", "--help"], None, id="help"),
        pytest.param(["fw.bin", "other.bin"], None, id="two-images"),
        pytest.param(["--budget"], None, id="dangling-option"),
        pytest.param([], None, id="nothing"),
    ],
)
def test_arguments_are_read_conservatively(args: list[str], expected: tuple[str, str] | None) -> None:
    parsed = _prestart._image_and_budget(args)
    assert (None if parsed is None else (str(parsed[0]), parsed[1])) == expected


@pytest.mark.parametrize(
    ("args", "rest"),
    [
        pytest.param(["firmware", "scan"], ["firmware", "scan"], id="none"),
        pytest.param(["-q", "-vv", "firmware", "scan"], ["firmware", "scan"], id="flags"),
        pytest.param(["--config", "c.toml", "--verbose", "sbom"], ["sbom"], id="config"),
        pytest.param(["--config=c.toml", "sbom"], ["sbom"], id="config-equals"),
        pytest.param(["--version"], [], id="unknown"),
    ],
)
def test_root_options_are_skipped(args: list[str], rest: list[str]) -> None:
    assert _prestart._skip_root_options(args) == rest


def test_only_the_cybersafe_command_starts_early(tmp_path: Path) -> None:
    img = tmp_path / "fw.bin"
    img.write_bytes(b"x" * 100)
    _prestart.start_from_argv(["/usr/bin/pytest", "firmware", "scan", str(img)])
    _prestart.start_from_argv(["cybersafe", "report", "x.json", "y"])
    assert _prestart.take(img, "standard") is None


@pytest.mark.slow
def test_early_extraction_is_adopted_or_stopped(tmp_path: Path) -> None:
    # Given an extraction started from the raw arguments
    img = image("vuln-squashfs-xz")
    _prestart.start_from_argv(["/venv/bin/cybersafe", "firmware", "scan", str(img), "--budget", "quick"])

    # When the command asks for another budget, the early child is stopped and its work dir removed
    early = _prestart.take(img, "standard")
    assert early is None

    # When it asks for the same image and budget, it gets the running extraction and the scan uses it
    _prestart.start_from_argv(["/venv/bin/cybersafe", "firmware", "scan", str(img), "--budget", "quick"])
    early = _prestart.take(img, "quick")
    assert early is not None and early.started
    workdir = early.workdir
    inv = scan_image(img, budget_for("quick"), extraction=early)

    # Then the scan is the usual one and the work dir is gone
    assert [f.root for f in inv.filesystems] == ["/", "/opt/webui.tar.gz!"]  # the rootfs and a nested archive
    assert not workdir.exists()
