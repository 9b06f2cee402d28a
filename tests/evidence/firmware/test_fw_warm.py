"""A warm start (a zygote that imported unblob and lief once forks each extraction child, evidence/firmware/_warm.py)
gives what a cold start gives, under the same budgets and group kill, and falls back to a cold start when the
zygote is gone."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.evidence.firmware import hostile_images as hostile
from tests.evidence.firmware.fwfixtures import TEST_BUDGET, image

from cybersafe.evidence.firmware import _warm
from cybersafe.evidence.firmware.scan import scan_image
from cybersafe.evidence.firmware.unpack import Extraction, remove_tree

MiB = 1024 * 1024
NOW = dt.datetime(2026, 12, 5, tzinfo=dt.UTC)
_TIMINGS = ("duration_s", "extraction_s", "stats")


@pytest.fixture
def warm() -> Iterator[None]:
    _warm.enable()
    assert _warm.zygote() is not None  # started here, so no test's time budget pays for its imports
    try:
        yield
    finally:
        _warm.disable()


def _facts(inventory: Any) -> dict[str, Any]:
    return {k: v for k, v in dataclasses.asdict(inventory).items() if k not in _TIMINGS}


def _gone(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _busy_warm_child(tmp_path: Path, wall_s: float) -> tuple[Extraction, _warm.WarmChild]:
    """A warm child started on a 2 GiB gzip bomb it may write in full, within ``wall_s``."""
    bomb = hostile.gzip_bomb(tmp_path / "bomb.gz", 2048 * MiB)
    budget = dataclasses.replace(
        TEST_BUDGET, wall_s=wall_s, bytes_written=4096 * MiB, ratio_floor=4096 * MiB, max_ratio=10_000.0
    )
    extraction = Extraction(bomb, tmp_path / "work", budget)
    extraction.start()
    child = extraction._proc
    assert isinstance(child, _warm.WarmChild)
    return extraction, child


@pytest.mark.parametrize("name", ["vuln-squashfs-gzip", "vuln-ubi", "vuln-cpio-gz", "clean-ext4"])
def test_a_warm_start_gives_what_a_cold_start_gives(name: str, warm: None) -> None:
    # Given an image scanned once with a cold start (warm starts are enabled only by the fixture, after it)
    _warm._ENABLED.clear()
    cold = scan_image(image(name), TEST_BUDGET, now=NOW)
    _warm.enable()
    # When it is scanned again by a child forked from the warm zygote, twice (the zygote keeps nothing of a run)
    first = scan_image(image(name), TEST_BUDGET, now=NOW)
    second = scan_image(image(name), TEST_BUDGET, now=NOW)
    # Then the inventory is the same, fact for fact
    assert _warm._ZYGOTE and _warm._ZYGOTE[0].alive
    assert _facts(first) == _facts(cold)
    assert _facts(second) == _facts(cold)


def test_a_warm_child_is_bounded_and_killed_with_its_group(warm: None, tmp_path: Path) -> None:
    # Given a 512 MiB gzip bomb and a budget that allows 48 MiB
    bomb = hostile.gzip_bomb(tmp_path / "bomb.gz", 512 * MiB)
    extraction = Extraction(bomb, tmp_path / "work", TEST_BUDGET)
    # When a warm child extracts it
    extraction.start()
    child = extraction._proc
    assert isinstance(child, _warm.WarmChild)
    result = extraction.wait()
    # Then the limit stopped it, as in a cold child, and nothing of its process group is left
    assert any(p.kind in ("decompression-limit", "budget-exceeded") for p in result.problems), result.problems
    assert result.bytes_written <= TEST_BUDGET.bytes_written
    assert child.returncode is not None and _gone(child.pid)


def test_a_child_over_the_wall_time_budget_is_killed(warm: None, tmp_path: Path) -> None:
    # Given a 2 GiB gzip bomb, bytes enough for all of it, and half a second
    extraction, child = _busy_warm_child(tmp_path, wall_s=0.5)
    # When it is supervised, then it is stopped with the reason, and its group is gone
    result = extraction.wait()
    assert any("wall-time budget" in p.message for p in result.problems), result.problems
    assert child.returncode == -signal.SIGKILL and _gone(child.pid)
    remove_tree(tmp_path / "work")  # the part of the bomb it wrote


def test_without_its_zygote_an_extraction_starts_cold_or_on_a_new_one(warm: None, tmp_path: Path) -> None:
    # Given a warm zygote that is then killed
    zygote = _warm.zygote()
    assert zygote is not None
    os.killpg(zygote._proc.pid, signal.SIGKILL)
    zygote._proc.wait()
    # When the next image is scanned, then it is scanned in full, by a new zygote
    inventory = scan_image(image("vuln-squashfs-gzip"), TEST_BUDGET, now=NOW)
    assert inventory.files_examined > 0 and not inventory.problems
    assert _warm._ZYGOTE and _warm._ZYGOTE[0] is not zygote and _warm._ZYGOTE[0].alive
    # And a handle whose zygote died under it cannot fork: the caller starts cold (unpack.Extraction.start)
    os.killpg(_warm._ZYGOTE[0]._proc.pid, signal.SIGKILL)
    _warm._ZYGOTE[0]._proc.wait()
    with pytest.raises(OSError, match="zygote"):
        _warm._ZYGOTE[0].spawn("{}", tmp_path, {}, tmp_path / "stderr")


def test_the_zygote_ends_with_its_parent_and_takes_its_children(warm: None, tmp_path: Path) -> None:
    # Given a warm child busy on a 2 GiB bomb it may write in full
    _, child = _busy_warm_child(tmp_path, wall_s=120.0)
    zygote = _warm._ZYGOTE[0]
    assert not _gone(child.pid)
    # When the parent lets go of the zygote (its end of the request pipe closes, as when the parent dies)
    assert zygote._proc.stdin is not None
    zygote._proc.stdin.close()
    # Then the zygote ends, and the child with it
    zygote._proc.wait(timeout=10)
    deadline = time.monotonic() + 10
    while not _gone(child.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(child.pid)
    remove_tree(tmp_path / "work")


def test_a_zygote_that_does_not_answer_is_ended_before_a_cold_start(
    warm: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a zygote that stopped answering (stopped, as a machine out of breath may leave it)
    monkeypatch.setattr(_warm, "_REPLY_TIMEOUT_S", 0.5)
    zygote = _warm._ZYGOTE[0]
    os.kill(zygote._proc.pid, signal.SIGSTOP)
    # When an extraction asks it for a child, then the request fails, and the zygote is ended (with anything it
    # may still fork), so that nothing extracts beside the cold start that replaces it
    with pytest.raises(OSError, match="did not fork"):
        zygote.spawn("{}", tmp_path, {}, tmp_path / "stderr")
    assert not zygote.alive
    # And the next scan is made in full
    inventory = scan_image(image("vuln-squashfs-gzip"), TEST_BUDGET, now=NOW)
    assert inventory.files_examined > 0 and not inventory.problems
