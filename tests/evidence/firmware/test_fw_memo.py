"""Per-file facts carried from one scan to the next (``memo.py``): a new release re-analyses only the files whose
path or bytes changed, gives the inventory a full scan gives, and never trusts a memo made under another budget,
day or version, or an entry that does not parse. The extraction child, when no extracted file is left for unblob,
does without unblob and fixes the tree up as unblob does."""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tests.evidence.firmware.fwfixtures import TEST_BUDGET
from tests.fleet.fleet_support import _md5crypt

from cybersafe.evidence.firmware import _unblob_child, scan
from cybersafe.evidence.firmware.budget import budget_for
from cybersafe.evidence.firmware.memo import FileFacts, FileMemo
from cybersafe.evidence.firmware.model import Confidence, Credential, ElfHardening, KeyMaterial, Secret
from cybersafe.evidence.firmware.scan import scan_image

NOW = dt.datetime(2026, 12, 5, 12, tzinfo=dt.UTC)
TRUE = Path("/usr/bin/true")
FALSE = Path("/usr/bin/false")


def _rootfs(root: Path) -> Path:
    """A small root file system: two real binaries, accounts with a default password, a configuration file
    with a credential, a hard-coded token, and a blob unblob searches but finds nothing in."""
    for sub in ("bin", "etc/app", "usr/share"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(TRUE, root / "bin/true")
    shutil.copyfile(FALSE, root / "bin/false")
    (root / "bin/true").chmod(0o755)
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    # "admin" is on the public default list
    (root / "etc/shadow").write_text(f"root:{_md5crypt('admin')}:19000:0:99999:7:::\n")
    (root / "etc/app/app.conf").write_text("user=svc\npassword=Sup3rS3cret!\n")
    (root / "etc/app/token.txt").write_text("aws_key=AKIAIOSFODNN7ABCDEFG\n")
    (root / "etc/os-release").write_text('ID=memo\nVERSION_ID="1"\n')
    (root / "usr/share/blob.bin").write_bytes(random.Random(5).randbytes(4096))
    return root


def _pack(root: Path, out: Path, compressor: str = "gzip") -> Path:
    for path in root.rglob("*"):
        if not path.is_symlink():
            os.utime(path, (1_700_000_000, 1_700_000_000))
    subprocess.run(
        ["mksquashfs", str(root), str(out), "-comp", compressor, "-all-root", "-noappend", "-quiet", "-no-progress"],
        check=True,
        capture_output=True,
    )
    return out


def _facts(inventory: Any) -> dict[str, Any]:
    """The inventory's facts, without what timing and the memo itself make differ between two runs."""
    data = inventory.as_dict()
    for volatile in ("duration_s", "extraction_s", "stats"):
        data.pop(volatile)
    return data


@pytest.fixture
def release(tmp_path: Path) -> tuple[Path, Path]:
    """(root file system, image) of release 1."""
    root = _rootfs(tmp_path / "rootfs")
    return root, _pack(root, tmp_path / "r1.img")


def _scanned(image: Path) -> tuple[Any, FileMemo]:
    """The image's inventory, and its memo as a delta run reads it back from the assessment."""
    inventory = scan_image(image, TEST_BUDGET, now=NOW)
    assert inventory.file_facts is not None and inventory.file_facts.files
    memo = FileMemo.from_wire(inventory.file_facts.to_wire(), {f.path: f.sha256 for f in inventory.files})
    assert memo is not None
    return inventory, memo


def _count_analysed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    analyse = scan._Analyser.analyse

    def counting(self: scan._Analyser, path: Path) -> None:
        seen.append(path.name)
        analyse(self, path)

    monkeypatch.setattr(scan._Analyser, "analyse", counting)
    return seen


def test_a_new_release_reanalyses_only_its_changed_files_and_gives_the_full_inventory(
    release: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, first = release
    _, memo = _scanned(first)
    # Given release 2: the configuration's password changed and one binary was rebuilt
    (root / "etc/app/app.conf").write_text("user=svc\npassword=An0therS3cret!\n")
    shutil.copyfile(FALSE, root / "bin/true")
    second = _pack(root, tmp_path / "r2.img")
    full = scan_image(second, TEST_BUDGET, now=NOW)
    # When it is scanned with release 1's memo, as a delta run does
    seen = _count_analysed(monkeypatch)
    again = scan_image(second, TEST_BUDGET, now=NOW, memo=memo)
    # Then only the two changed files are analysed again ...
    assert sorted(seen) == ["app.conf", "true"]
    assert again.stats["reused_files"] == len(again.files) - 2 and full.stats["reused_files"] == 0
    # ... and the inventory is the full scan's, fact for fact
    assert _facts(again) == _facts(full)
    assert [c.preview for c in again.credentials if c.path == "/etc/app/app.conf"] == [
        c.preview for c in full.credentials if c.path == "/etc/app/app.conf"
    ]
    assert any(a.name == "root" and a.matched_password == "admin" for a in again.accounts)
    assert any(s.path == "/etc/app/token.txt" for s in again.secrets)
    # and the memo it leaves for release 3 is the full scan's
    assert again.file_facts is not None and full.file_facts is not None
    assert again.file_facts.to_wire() == full.file_facts.to_wire()


def test_a_memo_made_under_another_budget_or_day_is_not_used(
    release: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, image = release
    old, memo = _scanned(image)
    seen = _count_analysed(monkeypatch)
    # a day later certificate expiry is judged on another day: every file is analysed
    scan_image(image, TEST_BUDGET, now=NOW + dt.timedelta(days=1), memo=memo)
    assert len(seen) == len(old.files)
    seen.clear()
    scan_image(image, budget_for("quick"), now=NOW, memo=memo)
    assert len(seen) == len(old.files)


def test_a_memo_entry_for_other_bytes_or_that_does_not_parse_is_analysed_again(
    release: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, image = release
    old, _ = _scanned(image)
    wire = old.file_facts.to_wire()
    digests = {f.path: f.sha256 for f in old.files}
    # a memo that claims /etc/app/token.txt holds nothing, for other bytes; and a damaged ELF entry
    wire["files"]["/etc/app/token.txt"] = {}
    digests["/etc/app/token.txt"] = "0" * 64
    wire["files"]["/bin/true"] = {"e": {"arch": "x86-64"}}
    memo = FileMemo.from_wire(wire, digests)
    assert memo is not None and "/bin/true" not in memo.files
    seen = _count_analysed(monkeypatch)
    again = scan_image(image, TEST_BUDGET, now=NOW, memo=memo)
    assert sorted(seen) == ["token.txt", "true"]
    assert _facts(again) == _facts(old)
    # nothing usable at all: no memo
    assert FileMemo.from_wire({"files": {}}, digests) is None
    assert FileMemo.from_wire(None, digests) is None


def test_a_file_unblob_found_nothing_in_is_not_searched_again_until_it_changes(
    release: tuple[Path, Path], tmp_path: Path
) -> None:
    root, image = release
    old, memo = _scanned(image)
    # the random blob needs unblob's search (it is binary), which finds nothing in it
    assert old.file_facts.known_plain() == {"usr/share/blob.bin": old.file_facts.files["/usr/share/blob.bin"][0]}
    # unchanged: the child skips it, and unblob is not even started
    work = tmp_path / "work-same"
    work.mkdir()
    from cybersafe.evidence.firmware.unpack import Extraction

    same = Extraction(image, work, TEST_BUDGET, known=memo.known_plain()).wait()
    assert same.direct and same.known_skipped == ("usr/share/blob.bin",) and same.searched == ()
    assert not (work / "unblob.log").exists()
    # changed: searched again
    (root / "usr/share/blob.bin").write_bytes(random.Random(6).randbytes(4096))
    changed = _pack(root, tmp_path / "r2.img")
    work = tmp_path / "work-changed"
    work.mkdir()
    again = Extraction(changed, work, TEST_BUDGET, known=memo.known_plain()).wait()
    assert again.searched == ("usr/share/blob.bin",) and again.known_skipped == ()
    # the scan with the memo carries the mark on: the next release skips it again
    rescanned = scan_image(image, TEST_BUDGET, now=NOW, memo=memo)
    assert rescanned.file_facts is not None and rescanned.file_facts.known_plain() == old.file_facts.known_plain()


def test_file_facts_survive_the_wire() -> None:
    facts = FileFacts(
        secrets=(Secret("/x", 12, "aws-access-key", "AK…(20)", True, Confidence.HIGH, None),),
        keys=(KeyMaterial("/x", 0, "private-key", "RSA", 1024, weak_reasons=("RSA key of 1024 bits",)),),
        banners=(("busybox", "1.36.1"), ("dropbear", None)),
        elf=ElfHardening("/x", "X86_64", "pie-executable", False, True, True, True, "full", True, None, None, None),
        credentials=(Credential("/x", 2, "password", "Su…(12)", "password", False),),
        unblob_found_nothing=True,
    )
    assert FileFacts.from_wire(facts.to_wire(), "/x") == facts
    assert FileFacts.from_wire({}, "/y") == FileFacts()
    # paths are not stored: they are the key
    assert "/x" not in str(facts.to_wire())


def test_the_child_knows_unblobs_directory_handlers() -> None:
    from unblob.handlers import BUILTIN_DIR_HANDLERS

    patterns = sorted(p for h in BUILTIN_DIR_HANDLERS for p in h.PATTERN._patterns)
    assert sorted(_unblob_child.DIR_HANDLER_GLOBS) == patterns


def _hostile_tree(root: Path) -> Path:
    (root / "etc").mkdir(parents=True)
    (root / "etc/passwd").write_text("root:x:0:0::/:/bin/sh\n")
    (root / "etc/locked").write_text("x")
    (root / "etc/locked").chmod(0o000)
    (root / "sealed").mkdir()
    (root / "sealed/f").write_text("y")
    (root / "sealed").chmod(0o100)
    (root / "abs-inside").symlink_to("/etc/passwd")
    (root / "rel-inside").symlink_to("etc/passwd")
    (root / "etc/up-inside").symlink_to("../etc/passwd")
    (root / "escape").symlink_to("../../../../etc/shadow")
    (root / "loop-a").symlink_to("loop-b")
    (root / "loop-b").symlink_to("loop-a")
    (root / "dangling").symlink_to("nowhere")
    return root


def _state(root: Path) -> dict[str, object]:
    out: dict[str, object] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        out[rel] = ("link", os.readlink(path)) if path.is_symlink() else ("mode", oct(path.lstat().st_mode))
    return out


def test_the_fix_up_without_unblob_does_what_unblob_does(tmp_path: Path) -> None:
    from unblob.extractor import fix_extracted_directory
    from unblob.models import Task, TaskResult

    ours = _hostile_tree(tmp_path / "ours" / "x_extract")
    theirs = _hostile_tree(tmp_path / "theirs" / "x_extract")
    removed = _unblob_child.fix_extracted(ours)
    result = TaskResult(task=Task(path=tmp_path / "x", depth=0, blob_id=""))
    fix_extracted_directory(theirs, result)
    assert _state(ours) == _state(theirs)
    reported = [(r.link, r.target) for r in result.reports]
    assert sorted((link.replace("/ours/", "/"), t) for link, t, _ in removed) == sorted(
        (link.replace("/theirs/", "/"), t) for link, t in reported
    )
    assert any(link.endswith("/escape") for link, _, _ in removed)
