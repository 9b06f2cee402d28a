"""Delta re-assessment (assess --baseline): inputs recorded per attempt, only what changed runs again, and the
verdicts are those of a full run, as a property over generated changes of the dossier, SBOM, VEX, vulnerability
database and firmware."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cybersafe.checks.interface import Check, Finding
from cybersafe.evidence.interface import Evidence
from cybersafe.results import Assessment
from cybersafe.verdict import AttemptStatus, Severity, Verdict
from tests.fleet.conftest import delta, full
from tests.fleet.fleet_support import (
    DOSSIER_CHANGES,
    FIRMWARE_CHANGES,
    NOW,
    SBOM_CHANGES,
    make_product,
    verdicts,
)


def attempts(assessment: Assessment) -> dict[str, object]:
    """Every attempt as written, without its recorded input names."""
    return {c.key: c.model_dump(exclude={"inputs"}) for c in assessment.checks}


def test_declaration_checks_record_the_dossier_sections_they_read(baseline_no_firmware: Assessment) -> None:
    by_key = {c.key: c for c in baseline_no_firmware.checks}
    support = next(k for k in by_key if k.startswith("declaration.support-period["))
    assert {"as_of", "dossier:declarations.support_period"} <= set(by_key[support].inputs or [])
    assert "dossier:declarations.update" not in (by_key[support].inputs or [])
    # a firmware check reads the firmware's inputs, and no firmware is named: they read "absent"
    binaries = by_key["firmware.binary-hardening"]
    assert {"firmware", "firmware:budget", "firmware:date"} <= set(binaries.inputs or [])
    assert baseline_no_firmware.inputs is not None
    assert baseline_no_firmware.inputs.digests["firmware"] == "absent"
    assert baseline_no_firmware.inputs.digests["as_of"] == NOW.date().isoformat()


def test_recording_reads_changes_no_finding(tmp_path: Path, cache_dir: Path) -> None:
    from cybersafe.assess import builtin_collectors, needed_checks, run_checks
    from cybersafe.checks import BUILTIN_CHECKS
    from cybersafe.dossier.loader import load_dossier
    from cybersafe.schemes.catalog import default_catalog

    # Given the example dossier collected once
    path = make_product(cache_dir / "nofw", cache_dir=cache_dir, firmware_changes=None)
    dossier = load_dossier(path)
    catalog = default_catalog()
    evidence = Evidence(dossier=dossier, base_dir=path.parent, as_of=NOW.date())
    from cybersafe.assess import collect
    from cybersafe.evidence.interface import NullProgressReporter

    collect(evidence, builtin_collectors(), NullProgressReporter())
    wanted = needed_checks(catalog, catalog.current_schemes())
    # When every check runs with and without its reads recorded
    plain = run_checks(BUILTIN_CHECKS, evidence, wanted)
    reads: dict[str, set[str]] = {}
    recorded = run_checks(BUILTIN_CHECKS, evidence, wanted, reads)
    # Then the attempts are the same, and every attempt has its reads
    assert {k: (a.status, a.findings) for k, a in plain.items()} == {
        k: (a.status, a.findings) for k, a in recorded.items()
    }
    assert set(reads) == set(recorded)


def test_unchanged_product_reuses_every_check_and_collects_nothing(
    cache_dir: Path, baseline_no_firmware: Assessment
) -> None:
    again = delta(make_product(cache_dir / "nofw", cache_dir=cache_dir, firmware_changes=None), baseline_no_firmware)
    assert again.delta is not None
    assert again.delta.baseline == baseline_no_firmware.digest()
    assert again.delta.changed_inputs == []
    rerun = {r.check: r.why for r in again.delta.rerun}
    assert all("error" in why for why in rerun.values()), rerun  # only errored attempts are tried again
    assert {"sbom", "vulnerabilities"} <= set(again.delta.collectors_skipped)
    assert verdicts(again) == verdicts(baseline_no_firmware)
    # the skipped collectors' artefacts and problems are carried over, so labels still name the SBOM
    assert [a.model_dump() for a in again.artefacts if a.kind == "sbom"] == [
        a.model_dump() for a in baseline_no_firmware.artefacts if a.kind == "sbom"
    ]


def test_a_dossier_section_change_reruns_only_the_checks_that_read_it(
    cache_dir: Path, baseline_no_firmware: Assessment
) -> None:
    path = make_product(
        cache_dir / "nofw", cache_dir=cache_dir, firmware_changes=None, dossier_changes=("updates-manual",)
    )
    new = delta(path, baseline_no_firmware)
    assert new.delta is not None
    assert new.delta.changed_inputs == ["dossier:declarations.update"]
    readers = {c.key for c in baseline_no_firmware.checks if "dossier:declarations.update" in (c.inputs or [])}
    rerun = {r.check for r in new.delta.rerun if "changed" in r.why}
    assert rerun == readers
    assert "declaration.automatic-updates" in rerun
    assert all(r.why == "changed: dossier:declarations.update" for r in new.delta.rerun if r.check in readers)
    assert verdicts(new) == verdicts(full(path))


def test_a_new_cybersafe_version_reuses_nothing(
    cache_dir: Path, baseline_no_firmware: Assessment, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cybersafe.inputs

    monkeypatch.setattr(cybersafe.inputs, "tool_fingerprint", lambda: "cybersafe 99.0")
    new = delta(make_product(cache_dir / "nofw", cache_dir=cache_dir, firmware_changes=None), baseline_no_firmware)
    assert new.delta is not None and not new.delta.reused
    assert all("cybersafe or a library" in r.why for r in new.delta.rerun)


def test_a_baseline_without_inputs_gives_a_full_run(cache_dir: Path, baseline_no_firmware: Assessment) -> None:
    old = baseline_no_firmware.model_copy(update={"inputs": None})
    new = delta(make_product(cache_dir / "nofw", cache_dir=cache_dir, firmware_changes=None), old)
    assert new.delta is not None and not new.delta.reused and not new.delta.collectors_skipped
    assert all("records no inputs" in r.why for r in new.delta.rerun)


def test_an_errored_attempt_is_tried_again(cache_dir: Path, baseline_no_firmware: Assessment) -> None:
    # Given a baseline in which the SBOM check ended in an error (its collector failed then)
    checks = [
        c.model_copy(
            update={"status": AttemptStatus.ERROR, "reason": "bad_input", "verdict": Verdict.ERROR, "findings": []}
        )
        if c.check_id == "sbom.minimum-elements"
        else c
        for c in baseline_no_firmware.checks
    ]
    old = baseline_no_firmware.model_copy(update={"checks": checks})
    new = delta(make_product(cache_dir / "nofw", cache_dir=cache_dir, firmware_changes=None), old)
    assert new.delta is not None
    rerun = {r.check: r.why for r in new.delta.rerun}
    key = next(k for k in rerun if k.startswith("sbom.minimum-elements"))
    assert "ended in an error" in rerun[key]
    assert "sbom" not in new.delta.collectors_skipped  # its evidence is needed again
    assert verdicts(new)["checks"][key] == verdicts(baseline_no_firmware)["checks"][key]


class _ReadsProblems(Check):
    ID = "test.reads-problems"
    TITLE = "reads the problem list"
    SEVERITY = Severity.INFO
    REQUIRES = ()
    REMEDIATION = "none"

    def run(self, evidence: Evidence) -> list[Finding]:
        return [self.passed(f"{len(evidence.problems)} problems")]


def test_a_check_reading_evidence_outside_the_inputs_is_never_reused() -> None:
    from cybersafe.assess import run_checks
    from cybersafe.delta import _why_not
    from cybersafe.dossier.model import anonymous_dossier
    from cybersafe.schemes.interface import Leaf, LeafKind

    evidence = Evidence(dossier=anonymous_dossier("x"), as_of=NOW.date())
    reads: dict[str, set[str]] = {}
    run_checks([_ReadsProblems], evidence, [Leaf(LeafKind.CHECK, _ReadsProblems.ID)], reads)
    assert "evidence:problems" in reads[_ReadsProblems.ID]
    from cybersafe.inputs import reusable_name

    assert not reusable_name("evidence:problems")
    assert _why_not is not None


@pytest.mark.slow
def test_unchanged_firmware_is_not_unpacked_again(
    cache_dir: Path, baseline_firmware: Assessment, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cybersafe.evidence.firmware.collector import FirmwareCollector

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the firmware was unpacked again")

    # Given the same image and a changed dossier section
    path = make_product(cache_dir / "fw", cache_dir=cache_dir, dossier_changes=("support-ended",))
    monkeypatch.setattr(FirmwareCollector, "collect", refuse)
    new = delta(path, baseline_firmware)
    # Then nothing was unpacked, the firmware checks were reused and the image is still named for labels
    assert new.delta is not None and "firmware" in new.delta.collectors_skipped
    assert not any(r.check.startswith("firmware.") for r in new.delta.rerun)
    old_fw = [a.model_dump() for a in baseline_firmware.artefacts if a.kind == "firmware"]
    assert [a.model_dump() for a in new.artefacts if a.kind == "firmware"] == old_fw
    assert new.inputs is not None and baseline_firmware.inputs is not None
    assert new.inputs.firmware_files == baseline_firmware.inputs.firmware_files
    # and the baseline's per-file facts are carried on for the next release
    assert new.inputs.firmware_memo is not None
    assert new.inputs.firmware_memo == baseline_firmware.inputs.firmware_memo
    monkeypatch.undo()
    assert verdicts(new) == verdicts(full(path))


@pytest.mark.slow
def test_a_firmware_release_is_scanned_and_its_changed_files_listed(
    cache_dir: Path, baseline_firmware: Assessment
) -> None:
    path = make_product(cache_dir / "fw", cache_dir=cache_dir, firmware_changes=("telnetd",))
    new = delta(path, baseline_firmware)
    assert new.delta is not None and "firmware" not in new.delta.collectors_skipped
    assert new.delta.firmware_files is not None
    # the root file system changed in one file; the U-Boot header (carved as an unknown chunk) holds the new CRC
    changed = new.delta.firmware_files.changed
    assert "/etc/inittab" in changed
    assert all(p == "/etc/inittab" or p.endswith(".unknown") for p in changed), changed
    assert not new.delta.firmware_files.added and not new.delta.firmware_files.removed
    assert {r.check for r in new.delta.rerun} >= {"firmware.cleartext-remote-login-enabled"}
    assert not any(r.check.startswith("declaration.") for r in new.delta.rerun)
    assert verdicts(new)["checks"]["firmware.cleartext-remote-login-enabled"] == ("completed", "fail")
    expected = full(path)
    assert verdicts(new) == verdicts(expected)
    # the unchanged files took the baseline's facts, and the memo left for the next release is a full run's
    assert new.inputs is not None and expected.inputs is not None
    assert new.delta.firmware_facts_reused == len(new.inputs.firmware_files) - len(changed)
    assert new.inputs.firmware_memo == expected.inputs.firmware_memo
    # behind a header, the image was unpacked: every file was written out to be read
    assert new.delta.firmware_files_written == len(new.inputs.firmware_files)


@pytest.mark.slow
def test_a_release_that_is_one_squashfs_is_read_in_place(cache_dir: Path, baseline_bare_firmware: Assessment) -> None:
    path = make_product(cache_dir / "bare", cache_dir=cache_dir, firmware_changes=("telnetd",), bare=True)
    new = delta(path, baseline_bare_firmware)
    assert new.delta is not None and new.delta.firmware_files is not None and new.inputs is not None
    # only the root file system's changed file changed (no header, no carved chunk)
    assert new.delta.firmware_files.changed == ["/etc/inittab"]
    files = len(new.inputs.firmware_files)
    assert new.delta.firmware_facts_reused == files - 1
    # and the image was read in place: only the changed file and those the text collectors read were written out
    assert new.delta.firmware_files_written is not None and new.delta.firmware_files_written < files // 2
    expected = full(path)
    assert verdicts(new) == verdicts(expected)
    assert verdicts(new)["checks"]["firmware.cleartext-remote-login-enabled"] == ("completed", "fail")
    assert new.inputs.firmware_memo == expected.inputs.firmware_memo


def _image_reads(monkeypatch: pytest.MonkeyPatch, image: Path) -> list[Path]:
    """Every read of ``image`` for a digest, by the scan's hashing (streamed or mapped) or the input digests'."""
    from cybersafe import inputs, safeio

    reads: list[Path] = []
    sha256_file, map_regular, sha256_path = safeio.sha256_file, safeio.map_regular, inputs.sha256_path

    def counted_file(path: Path, *args: Any, **kwargs: Any) -> tuple[str, int]:
        reads.extend([Path(path)] if Path(path) == image else [])
        return sha256_file(path, *args, **kwargs)

    def counted_map(path: Path, *args: Any, **kwargs: Any) -> Any:  # mapped to be hashed in a thread
        reads.extend([Path(path)] if Path(path) == image else [])
        return map_regular(path, *args, **kwargs)

    def counted_path(path: Path) -> str:
        reads.extend([path] if path == image else [])
        return sha256_path(path)

    monkeypatch.setattr(safeio, "sha256_file", counted_file)
    monkeypatch.setattr(safeio, "map_regular", counted_map)
    monkeypatch.setattr(inputs, "sha256_path", counted_path)
    return reads


@pytest.mark.slow
@pytest.mark.parametrize("resized", [False, True], ids=["same-size", "other-size"])
def test_the_image_is_read_once_for_its_digest_in_a_full_and_a_delta_run(
    cache_dir: Path, baseline_bare_firmware: Assessment, monkeypatch: pytest.MonkeyPatch, resized: bool
) -> None:
    import hashlib
    import threading

    from cybersafe import inputs

    path = make_product(cache_dir / "bare", cache_dir=cache_dir, firmware_changes=("telnetd",), bare=True)
    image = path.parent / "firmware.img"
    if resized:  # another size than the baseline's image: changed, said without its digest
        with image.open("ab") as handle:
            handle.write(bytes(4096))
    # the input digest as it was always computed: the image's path with the sha256 of its bytes
    sha256 = hashlib.sha256(image.read_bytes()).hexdigest()
    want = inputs.sha256_json([str(image), sha256])
    reads = _image_reads(monkeypatch, image)
    # Given a full run and a delta run of the release: the plan needs to know whether the image changed, the scan
    # records its digest, and the image's input digest is made from it
    got = {}
    for name, run in (("full", lambda: full(path)), ("delta", lambda: delta(path, baseline_bare_firmware))):
        reads.clear()
        got[name] = run()
        # Then each read the image once for all three, and recorded the digest it always did
        assert reads == [image], name
        inputs_ = got[name].inputs
        assert inputs_ is not None and inputs_.digests["firmware"] == want
        assert [(a.sha256, a.size) for a in got[name].artefacts if a.kind == "firmware"] == [
            (sha256, image.stat().st_size)
        ]
    new = got["delta"]
    assert new.delta is not None and "firmware" in new.delta.changed_inputs
    assert verdicts(new) == verdicts(got["full"])
    # and no hashing thread outlives the run
    assert not [t.name for t in threading.enumerate() if t.name.startswith("background-sha256")]


@pytest.mark.slow
def test_a_batch_rerun_does_not_read_an_unchanged_image_again(
    cache_dir: Path, baseline_bare_firmware: Assessment, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cybersafe.assess import assess, read_dossier
    from cybersafe.fleet.batch import CONTENT_INPUTS, BatchOptions, Product, input_key
    from cybersafe.schemes.catalog import default_catalog
    from tests.fleet.fleet_support import TODAY

    # Given the baseline's own image and a changed dossier section, re-run as batch runs it: the re-run key
    # (which hashed the image) gives the run its input digests
    path = make_product(cache_dir / "bare", cache_dir=cache_dir, dossier_changes=("support-ended",), bare=True)
    key = input_key(Product("p", path), BatchOptions(now=NOW), dossier=read_dossier(path, default_catalog()))
    reads = _image_reads(monkeypatch, path.parent / "firmware.img")
    run = assess(
        path,
        now=NOW,
        today=TODAY,
        baseline=baseline_bare_firmware,
        known_digests={name: key[name] for name in CONTENT_INPUTS},
    )
    # Then the image is not read again: it did not change, nothing scans it
    assert run.delta is not None and "firmware" in run.delta.collectors_skipped
    assert reads == []


@pytest.mark.slow
def test_a_new_image_no_selected_scheme_checks_is_still_the_image_the_delta_names(
    cache_dir: Path, baseline_bare_firmware: Assessment
) -> None:
    from cybersafe.assess import assess
    from cybersafe.to_wire import to_assessment
    from tests.fleet.fleet_support import TODAY

    # Given a new image, and only a scheme without firmware checks asked for
    path = make_product(cache_dir / "bare", cache_dir=cache_dir, firmware_changes=("telnetd",), bare=True)
    with (path.parent / "firmware.img").open("ab") as handle:
        handle.write(bytes(4096))  # another size too: no digest is needed to tell it changed
    only = ["de-bsi"]
    got = to_assessment(assess(path, now=NOW, today=TODAY, baseline=baseline_bare_firmware, scheme_refs=only))
    want = to_assessment(assess(path, now=NOW, today=TODAY, scheme_refs=only))
    # Then the delta scans it as the full run does: the image it names, and its problems, are the new image's
    assert got.delta is not None and "firmware" not in got.delta.collectors_skipped
    assert [a for a in got.artefacts if a.kind == "firmware"] == [a for a in want.artefacts if a.kind == "firmware"]
    assert [p for p in got.problems if p.source.startswith("firmware")] == [
        p for p in want.problems if p.source.startswith("firmware")
    ]
    assert verdicts(got) == verdicts(want)


def test_an_input_digest_takes_a_digest_made_elsewhere_and_reads_the_file_when_that_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import concurrent.futures
    import datetime as dt
    import hashlib

    from cybersafe import inputs
    from cybersafe.errors import InputError
    from tests.support import dossier

    image = tmp_path / "fw.img"
    image.write_bytes(b"firmware")
    sha256 = hashlib.sha256(b"firmware").hexdigest()
    product = dossier(patch={"artefacts": {"firmware": "fw.img"}})

    def digester(known: concurrent.futures.Future[tuple[str, int]] | tuple[str, int]) -> inputs.InputDigester:
        made = inputs.InputDigester(product, tmp_path, (), dt.date(2026, 12, 6), dt.date(2026, 12, 6))
        made.hashed[image] = known
        return made

    # Given the image's digest made elsewhere in the run, it is taken, not read again
    done: concurrent.futures.Future[tuple[str, int]] = concurrent.futures.Future()
    done.set_result((sha256, 8))
    monkeypatch.setattr(inputs, "sha256_path", lambda p: pytest.fail(f"{p} was read again"))
    assert digester(done).digest("firmware") == inputs.sha256_json([str(image), sha256])
    # and when that digest failed, the file is read as it always was, its error (or digest) recorded as before
    failed: concurrent.futures.Future[tuple[str, int]] = concurrent.futures.Future()
    failed.set_exception(InputError("could not be read", file=image))
    monkeypatch.undo()
    assert digester(failed).digest("firmware") == inputs.sha256_json([str(image), sha256])
    image.unlink()
    assert digester(failed).digest("firmware") == "missing: fw.img"


def test_the_plan_hashes_the_image_only_when_that_tells_it_something(
    tmp_path: Path, baseline_no_firmware: Assessment
) -> None:
    import datetime as dt
    import hashlib

    from cybersafe import inputs
    from cybersafe.assess import _image_for_plan
    from cybersafe.results import ArtefactOut
    from tests.support import dossier

    image = tmp_path / "fw.img"
    image.write_bytes(b"release 2")
    product = dossier(patch={"artefacts": {"firmware": "fw.img"}})
    want = (hashlib.sha256(b"release 2").hexdigest(), 9)

    def plan(size: int | None, known: dict[str, str] | None = None) -> tuple[dict[Path, Any], inputs.InputDigester]:
        recorded = [ArtefactOut(kind="firmware", name="fw.img", sha256="0" * 64, size=size)] if size else []
        baseline = baseline_no_firmware.model_copy(update={"artefacts": recorded})
        digester = inputs.InputDigester(product, tmp_path, (), dt.date(2026, 12, 6), dt.date(2026, 12, 6))
        digester.cache.update(known or {})
        return _image_for_plan(image, baseline, digester), digester

    # Given the baseline's image of the same size, or none recorded: hashed now (it may or may not have changed),
    # for the plan and for the scan
    for size in (9, None):
        hashed, digester = plan(size)
        assert hashed[image].result() == want and not digester.changed
        assert digester.digest("firmware") == inputs.sha256_json([str(image), want[0]])
    # Given one of another size: changed, said without reading the image (its digest is taken if the scan runs)
    hashed, digester = plan(8)
    assert hashed == {} and digester.differs("firmware", "any digest recorded")
    assert digester.digest("firmware") == inputs.sha256_json([str(image), want[0]])  # read when asked, as always
    # Given its input digest known already (batch's re-run key): not read for the plan
    hashed, digester = plan(9, {"firmware": "known"})
    assert hashed == {} and not digester.differs("firmware", "known")


@pytest.mark.slow
def test_the_command_line_says_how_many_files_took_the_baselines_facts(
    cache_dir: Path, baseline_firmware: Assessment, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from cybersafe.cli import app

    path = make_product(cache_dir / "fw", cache_dir=cache_dir, firmware_changes=("hostname",))
    old = tmp_path / "old.json"
    old.write_text(baseline_firmware.to_json(), encoding="utf-8")
    result = CliRunner().invoke(
        app, ["assess", str(path), "--now", NOW.isoformat(), "--baseline", str(old), "--out", str(tmp_path / "new")]
    )
    assert result.exit_code in (0, 1), result.output
    assert baseline_firmware.inputs is not None
    # /etc/hostname and the U-Boot header (the image's new CRC) changed; every other file's facts were reused
    files = len(baseline_firmware.inputs.firmware_files)
    assert "firmware files: 2 changed, 0 added, 0 removed" in result.output
    assert f"{files - 2} files' facts taken from the baseline, the rest analysed again" in result.output
    assert "read in place" not in result.output  # behind a U-Boot header: unpacked


@pytest.mark.slow
def test_the_command_line_says_when_the_image_was_read_in_place(
    cache_dir: Path, baseline_bare_firmware: Assessment, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from cybersafe.cli import app

    path = make_product(cache_dir / "bare", cache_dir=cache_dir, firmware_changes=("hostname",), bare=True)
    old = tmp_path / "old.json"
    old.write_text(baseline_bare_firmware.to_json(), encoding="utf-8")
    result = CliRunner().invoke(
        app, ["assess", str(path), "--now", NOW.isoformat(), "--baseline", str(old), "--out", str(tmp_path / "new")]
    )
    assert result.exit_code in (0, 1), result.output
    assert "firmware files: 1 changed, 0 added, 0 removed" in result.output
    assert "the image was read in place, " in result.output and " files written out" in result.output


# --- the property: a delta run gives the verdicts of a full run -------------------------------------------

CHANGES = st.fixed_dictionaries(
    {
        "dossier": st.sets(st.sampled_from(sorted(DOSSIER_CHANGES)), max_size=3),
        "sbom": st.sets(st.sampled_from(sorted(SBOM_CHANGES)), max_size=2),
        "vex": st.booleans(),
        "extra_advisory": st.booleans(),
    }
)


@given(changes=CHANGES)
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_delta_gives_the_verdicts_of_a_full_run(
    changes: dict[str, object], cache_dir: Path, baseline_no_firmware: Assessment
) -> None:
    path = make_product(
        cache_dir / "nofw",
        cache_dir=cache_dir,
        firmware_changes=None,
        dossier_changes=tuple(sorted(changes["dossier"])),  # type: ignore[call-overload]
        sbom_changes=tuple(sorted(changes["sbom"])),  # type: ignore[call-overload]
        vex=bool(changes["vex"]),
        extra_advisory=bool(changes["extra_advisory"]),
    )
    expected, got = full(path), delta(path, baseline_no_firmware)
    assert verdicts(got) == verdicts(expected)
    # without firmware every check is deterministic: the attempts themselves are the same, finding by finding
    assert attempts(got) == attempts(expected)
    assert got.delta is not None
    read = {c.key: set(c.inputs or []) for c in got.checks}
    for entry in got.delta.reused:  # a reused attempt read only inputs that did not change
        assert not set(got.delta.changed_inputs) & read[entry.check]


@pytest.mark.slow
@given(
    firmware=st.sets(st.sampled_from(sorted(FIRMWARE_CHANGES)), max_size=2),
    dossier=st.sets(st.sampled_from(["support-ended", "telnet-declared", "universal-password"]), max_size=1),
    bare=st.booleans(),
)
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_delta_with_firmware_changes_gives_the_verdicts_of_a_full_run(
    firmware: set[str],
    dossier: set[str],
    bare: bool,
    cache_dir: Path,
    baseline_firmware: Assessment,
    baseline_bare_firmware: Assessment,
) -> None:
    # behind its U-Boot header the image is unpacked; as one whole SquashFS it is read in place
    path = make_product(
        cache_dir / ("bare" if bare else "fw"),
        cache_dir=cache_dir,
        firmware_changes=tuple(sorted(firmware)),
        dossier_changes=tuple(sorted(dossier)),
        bare=bare,
    )
    expected, got = full(path), delta(path, baseline_bare_firmware if bare else baseline_firmware)
    # The scan's facts may differ run to run (files counted while unblob still writes); verdicts may not.
    assert verdicts(got) == verdicts(expected)
    if bare:  # read in place, nothing is timing-dependent: the memo for the next release is the full run's too
        assert got.inputs is not None and expected.inputs is not None
        assert got.inputs.firmware_memo == expected.inputs.firmware_memo
