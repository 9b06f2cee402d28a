"""cybersafe diff over real assessment pairs: the example camera before and after a dossier change, a new
firmware release with a default password, an SBOM update; matching findings by identity, not position."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cybersafe.assess import assess
from cybersafe.cli import app
from cybersafe.diff import DIFF_SCHEMA, diff_assessments
from cybersafe.results import Assessment
from cybersafe.schemes.catalog import default_catalog
from cybersafe.to_wire import to_assessment
from tests.fleet.conftest import full
from tests.fleet.fleet_support import make_product


@pytest.fixture(scope="module")
def support_ended(cache_dir: Path, baseline_no_firmware: Assessment) -> Assessment:
    # make_product rewrites the shared product directory: the pair is made where the baseline was
    new = full(
        make_product(cache_dir / "nofw", cache_dir=cache_dir, firmware_changes=None, dossier_changes=("support-ended",))
    )
    make_product(cache_dir / "nofw", cache_dir=cache_dir, firmware_changes=None)
    return new


def test_identical_assessments_have_no_change(baseline_no_firmware: Assessment) -> None:
    result = diff_assessments(baseline_no_firmware, baseline_no_firmware)
    assert not result.changed
    assert result.verdicts_unchanged("eu-cra")
    assert result.old.digest == result.new.digest == baseline_no_firmware.digest()


def test_findings_are_matched_by_identity_not_position(baseline_no_firmware: Assessment) -> None:
    # Given the same assessment with every check's findings and the checks themselves in another order
    rnd = random.Random(3)
    checks = [
        c.model_copy(update={"findings": rnd.sample(c.findings, len(c.findings))}) for c in baseline_no_firmware.checks
    ]
    shuffled = baseline_no_firmware.model_copy(update={"checks": rnd.sample(checks, len(checks))})
    assert shuffled.digest() != baseline_no_firmware.digest()
    # Then nothing changed
    assert not diff_assessments(baseline_no_firmware, shuffled).changed


def test_an_ended_support_period_changes_a_requirement_with_its_cause(
    baseline_no_firmware: Assessment, support_ended: Assessment
) -> None:
    result = diff_assessments(baseline_no_firmware, support_ended)
    assert result.changed
    assert [a.kind for a in result.artefacts] == ["dossier"]  # the dossier changed, so did its digest
    # per requirement: the verdict change names the check and the finding that caused it
    change = next(r for r in result.requirements if r.scheme.startswith("eu-cra@") and r.requirement == "Art. 13(8)")
    assert (change.old_verdict, change.new_verdict) == ("pass", "fail")
    cause = next(c for c in change.causes if c.ref.startswith("declaration.support-period"))
    assert (cause.old_verdict, cause.new_verdict) == ("pass", "fail")
    assert any("ended on 2026-06-30" in f.message for f in cause.findings_added)
    assert cause.findings_removed  # the pass finding of the old end date
    assert not result.verdicts_unchanged("eu-cra")
    # The CRA's obligations apply from a later date: its status on the assessment date stays what it was, and
    # the scheme change says what it becomes from that date on (a law met today, failing later, is a change)
    (cra,) = [s for s in result.schemes if s.scheme.startswith("eu-cra@")]
    assert cra.old_status == cra.new_status
    assert [(st.kind, st.at, st.old_status, st.new_status) for st in cra.steps] == [
        ("later", "2027-12-11", "incomplete", "fails")
    ]


def test_a_universal_default_password_fails_schemes_and_markets(
    cache_dir: Path, baseline_no_firmware: Assessment
) -> None:
    new = full(
        make_product(
            cache_dir / "nofw", cache_dir=cache_dir, firmware_changes=None, dossier_changes=("universal-password",)
        )
    )
    make_product(cache_dir / "nofw", cache_dir=cache_dir, firmware_changes=None)
    result = diff_assessments(baseline_no_firmware, new)
    statuses = {s.scheme.split("@")[0]: (s.old_status, s.new_status) for s in result.schemes}
    assert statuses["uk-psti"] == ("incomplete", "fails")
    assert statuses["etsi-en-303-645"] == ("incomplete", "fails")
    assert {m.market: m.new_status for m in result.markets}["uk"] == "fails"
    # each level's status is part of the scheme change, and so is the CRA's status from 2027-12-11 on, though
    # its status today (only Art. 14 applies) is unchanged
    steps = {
        s.scheme.split("@")[0]: [(t.kind, t.at, t.old_status, t.new_status) for t in s.steps] for s in result.schemes
    }
    assert steps["sg-cls"] == [("level", level, "incomplete", "fails") for level in ("1", "2", "3", "4")]
    assert statuses["eu-cra"] == ("meets", "meets")
    assert steps["eu-cra"] == [("later", "2027-12-11", "incomplete", "fails")]
    psti = [r for r in result.requirements if r.scheme.startswith("uk-psti@")]
    assert psti and all(r.new_verdict == "fail" for r in psti)
    assert any(c.ref == "declaration.default-password-approach" for r in psti for c in r.causes)


def test_an_sbom_update_resolves_a_vulnerability(
    cache_dir: Path, baseline_no_firmware: Assessment, tmp_path: Path
) -> None:
    new = full(
        make_product(cache_dir / "nofw", cache_dir=cache_dir, firmware_changes=None, sbom_changes=("busybox-fixed",))
    )
    make_product(cache_dir / "nofw", cache_dir=cache_dir, firmware_changes=None)
    result = diff_assessments(baseline_no_firmware, new)
    assert [a.kind for a in result.artefacts] == ["sbom"]
    removed = [f for f in result.findings_removed if f.check == "sbom.known-vulnerability-with-fix"]
    assert any("x_NL-EXAMPLE-2026-0002" in json.dumps(f.facts) + f.message for f in removed)


@pytest.mark.slow
def test_a_firmware_release_with_a_default_password_fails_with_its_finding(
    cache_dir: Path, baseline_firmware: Assessment
) -> None:
    new = full(make_product(cache_dir / "fw", cache_dir=cache_dir, firmware_changes=("admin-password",)))
    make_product(cache_dir / "fw", cache_dir=cache_dir)
    result = diff_assessments(baseline_firmware, new)
    assert any(a.kind == "firmware" and a.old_sha256 != a.new_sha256 for a in result.artefacts)
    check = next(c for c in result.checks if c.check == "firmware.universal-default-password")
    assert (check.old_verdict, check.new_verdict) == ("pass", "fail")
    causes = [c for r in result.requirements for c in r.causes if c.ref == "firmware.universal-default-password"]
    assert causes, "no requirement verdict changed because of the default password"
    added = causes[0].findings_added
    assert any(loc.get("path") == "/etc/shadow" for f in added for loc in f.locations)
    assert any(f.facts.get("user") == "admin" or "admin" in f.message for f in added)


def test_the_digest_is_canonical_and_follows_the_content(
    baseline_no_firmware: Assessment, support_ended: Assessment
) -> None:
    one = diff_assessments(baseline_no_firmware, support_ended)
    again = diff_assessments(baseline_no_firmware, support_ended)
    assert one.digest() == again.digest()
    assert one.digest() != diff_assessments(support_ended, baseline_no_firmware).digest()


def test_cli_exit_codes_and_json(tmp_path: Path, baseline_no_firmware: Assessment, support_ended: Assessment) -> None:
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(baseline_no_firmware.to_json(), encoding="utf-8")
    new.write_text(support_ended.to_json(), encoding="utf-8")
    runner = CliRunner()
    same = runner.invoke(app, ["diff", str(old), str(old)])
    assert same.exit_code == 0, same.output
    assert "nothing changed" in same.output
    changed = runner.invoke(app, ["diff", str(old), str(new), "--format", "json"])
    assert changed.exit_code == 1
    data = json.loads(changed.stdout)
    assert data["schema"] == DIFF_SCHEMA
    assert any(r["requirement"] == "Art. 13(8)" for r in data["requirements"])
    table = runner.invoke(app, ["diff", str(old), str(new)])
    assert table.exit_code == 1 and "diff digest:" in table.output and "declaration.support-period" in table.output
    broken = tmp_path / "broken.json"
    broken.write_text('{"schema": "cybersafe/assessment/v1"', encoding="utf-8")
    bad = runner.invoke(app, ["diff", str(old), str(broken)])
    assert bad.exit_code == 2
    assert "broken.json" in bad.output and "Traceback" not in bad.output


def test_cli_writes_the_diff_to_a_file(
    tmp_path: Path, baseline_no_firmware: Assessment, support_ended: Assessment
) -> None:
    old, new, out = tmp_path / "old.json", tmp_path / "new.json", tmp_path / "diff.json"
    old.write_text(baseline_no_firmware.to_json(), encoding="utf-8")
    new.write_text(support_ended.to_json(), encoding="utf-8")
    result = CliRunner().invoke(app, ["diff", str(old), str(new), "-o", str(out), "--format", "json"])
    assert result.exit_code == 1, result.output
    said = json.loads(result.stdout)
    written = json.loads(out.read_text(encoding="utf-8"))
    assert said["output"] == str(out) and said["changed"] is True
    assert said["digest"] == diff_assessments(baseline_no_firmware, support_ended).digest()
    assert written["schema"] == DIFF_SCHEMA and written["requirements"]
    onto_dir = CliRunner().invoke(app, ["diff", str(old), str(new), "-o", str(tmp_path)])
    assert onto_dir.exit_code == 2 and "Traceback" not in onto_dir.output


def test_a_later_date_names_the_scheme_date_crossed_and_pairs_findings_by_their_facts() -> None:
    # Given the example camera assessed before and after the CRA's main obligations apply (2027-12-11)
    dossier = Path(__file__).resolve().parents[2] / "examples" / "smart-camera" / "dossier.yaml"
    catalog = default_catalog()
    before = to_assessment(assess(dossier, now=dt.datetime(2026, 12, 5, tzinfo=dt.UTC), catalog=catalog))
    after = to_assessment(assess(dossier, now=dt.datetime(2028, 1, 1, tzinfo=dt.UTC), catalog=catalog))
    result = diff_assessments(before, after)
    # Then the CRA's status change says why, though no requirement verdict had to change for it
    cra = next(s for s in result.schemes if s.scheme.startswith("eu-cra@"))
    assert cra.old_status != cra.new_status
    assert "judged as of 2028-01-01 (was 2026-12-05)" in cra.why
    assert "applies from 2027-12-11 lies between the two dates" in cra.why
    assert any(w.startswith("requirements counted: ") for w in cra.why)
    # and a finding that only states another date is one finding that changed, not one added and one removed
    support = [f for f in result.findings_changed if f.check.startswith("declaration.support-period")]
    assert support and support[0].facts_changed["as_of"] == ["2026-12-05", "2028-01-01"]
    assert not [f for f in result.findings_added + result.findings_removed if f.check == support[0].check]


def test_assessments_of_two_products_are_named_as_such(baseline_no_firmware: Assessment, tmp_path: Path) -> None:
    # Given the same assessment, but of another model from another manufacturer
    dossier = json.loads(json.dumps(baseline_no_firmware.dossier))
    dossier["product"]["model"] = "ACME-DB9"
    dossier["product"]["manufacturer"]["name"] = "Acme"
    other = baseline_no_firmware.model_copy(update={"dossier": dossier})
    result = diff_assessments(baseline_no_firmware, other)
    # Then the diff says which identity fields differ, and so does the command line
    assert result.other_product == [
        "manufacturer: Nordlicht Devices GmbH -> Acme",
        "model: NL-CAM2 -> ACME-DB9",
    ]
    assert diff_assessments(baseline_no_firmware, baseline_no_firmware).other_product == []
    (tmp_path / "a.json").write_text(baseline_no_firmware.to_json(), encoding="utf-8")
    (tmp_path / "b.json").write_text(other.to_json(), encoding="utf-8")
    shown = CliRunner().invoke(
        app, ["diff", str(tmp_path / "a.json"), str(tmp_path / "b.json")], env={"COLUMNS": "200"}
    )
    assert "note: two different products, not two releases of one (manufacturer: Nordlicht" in shown.stdout
