"""Lifecycle: re-match stored SBOMs, report what changed, CRA Art. 14 deadlines and notification drafts."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from tests._sbom_builders import kev_catalog, osv_corpus, write_osv_zip

from cybersafe.evidence.vulndb import VulnDb
from cybersafe.evidence.vulndb.watch import ProductStore, art14_deadlines

AWARE = dt.datetime(2026, 12, 2, 9, 30, tzinfo=dt.UTC)  # CRA Art. 14 applies (from 2026-09-11)


def test_art14_deadlines():
    d = art14_deadlines(AWARE, AWARE - dt.timedelta(days=3))
    assert d.early_warning_due == dt.datetime(2026, 12, 3, 9, 30, tzinfo=dt.UTC)
    assert d.notification_due == dt.datetime(2026, 12, 5, 9, 30, tzinfo=dt.UTC)
    # a fix that predates awareness: the 14 days run from awareness, never from before it
    assert d.final_report_due == dt.datetime(2026, 12, 16, 9, 30, tzinfo=dt.UTC)
    later_fix = art14_deadlines(AWARE, AWARE + dt.timedelta(days=10))
    assert later_fix.final_report_due == AWARE + dt.timedelta(days=24)
    assert art14_deadlines(AWARE, None).final_report_due is None
    with pytest.raises(ValueError, match="timezone"):
        art14_deadlines(AWARE.replace(tzinfo=None), None)


def test_watch_reports_new_and_newly_exploited(tmp_path, fixture_dir):
    # Given a product watched while the database had no KEV entry and no jinja2 advisory
    corpus = osv_corpus()
    with VulnDb(tmp_path / "db.sqlite") as db, ProductStore(tmp_path / "products.sqlite", create=True) as store:
        db.import_path(write_osv_zip(tmp_path / "old.zip", corpus[1:]))
        store.add("Acme Cam 2", fixture_dir / "bom.json", AWARE)
        first = store.run(db, AWARE - dt.timedelta(days=30))
        # When the database gains the jinja2 advisory and a KEV entry for busybox's CVE
        db.import_path(write_osv_zip(tmp_path / "new.zip", corpus[:1]))
        (tmp_path / "kev.json").write_text(json.dumps(kev_catalog([("CVE-2022-48174", "2026-03-01")])))
        db.import_path(tmp_path / "kev.json")
        second = store.run(db, AWARE)
        third = store.run(db, AWARE + dt.timedelta(hours=1))
        listed = store.list()
    # Then the first run reports everything as new, the second only what changed
    assert {c.kind for c in first.changes} == {"new"}
    kinds = {(c.kind, c.match["sources"][0]) for c in second.changes}
    assert kinds == {("new", "GHSA-h5c8-rqwp-cp95"), ("newly-known-exploited", "OSV-2026-1")}
    exploited = next(c for c in second.changes if c.kind == "newly-known-exploited")
    assert exploited.deadlines is not None
    assert exploited.deadlines.early_warning_due == AWARE + dt.timedelta(hours=24)
    assert exploited.deadlines.notification_due == AWARE + dt.timedelta(hours=72)
    assert exploited.deadlines.final_report_due is None  # no fixed version known for that record
    draft = exploited.draft
    assert draft["early_warning"]["cve"] == ["CVE-2022-48174"]
    assert draft["early_warning"]["actively_exploited_evidence"] == "listed in CISA KEV since 2026-03-01"
    assert draft["notification"]["general_product_information"].startswith("Acme Cam 2 1.4.0 contains busybox@1.36.1")
    assert third.changes == ()
    assert listed[0]["name"] == "Acme Cam 2" and listed[0]["known_matches"] == 6


def test_watch_reports_resolved(tmp_path, fixture_dir):
    with VulnDb(tmp_path / "db.sqlite") as db, ProductStore(tmp_path / "p.sqlite", create=True) as store:
        db.import_path(write_osv_zip(tmp_path / "a.zip", osv_corpus()))
        store.add("cam", fixture_dir / "bom.json", AWARE)
        store.run(db, AWARE)
        # a newer record narrows the jinja2 range so 3.1.2 is no longer affected
        newer = dict(osv_corpus()[0], modified="2027-01-01T00:00:00Z")
        newer["affected"] = [
            {
                "package": {"ecosystem": "PyPI", "name": "jinja2"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "3.1.3"}]}],
            }
        ]
        db.import_path(write_osv_zip(tmp_path / "b.zip", [newer]))
        result = store.run(db, AWARE)
    assert [(c.kind, c.match["sources"][0]) for c in result.changes] == [("resolved", "GHSA-h5c8-rqwp-cp95")]


def test_a_vulnerability_whose_id_changes_is_neither_new_nor_resolved(tmp_path, fixture_dir):
    # Given a watched product matched while the jinja2 advisory named no CVE (so its id was the GHSA id)
    first = dict(osv_corpus()[0], aliases=[])
    with VulnDb(tmp_path / "db.sqlite") as db, ProductStore(tmp_path / "p.sqlite", create=True) as store:
        db.import_path(write_osv_zip(tmp_path / "a.zip", [first, *osv_corpus()[1:]]))
        store.add("cam", fixture_dir / "bom.json", AWARE)
        before = store.run(db, AWARE)
        # When the record is updated with its CVE alias, and PyPA's record of the same CVE arrives
        named = dict(osv_corpus()[0], modified="2027-01-01T00:00:00Z")
        pysec = dict(named, id="PYSEC-2024-1", aliases=[osv_corpus()[0]["id"], *osv_corpus()[0]["aliases"]])
        db.import_path(write_osv_zip(tmp_path / "b.zip", [named, pysec]))
        after = store.run(db, AWARE + dt.timedelta(days=1))
    ids = {c.match["vulnerability"] for c in before.changes}
    assert "GHSA-h5c8-rqwp-cp95" in ids
    # Then the group (now called by its CVE, with both sources) is the same vulnerability: no change reported
    assert after.changes == ()


def test_a_damaged_stored_baseline_is_that_products_error(tmp_path, fixture_dir):
    # Given two watched products, one of whose stored baselines was damaged
    with VulnDb(tmp_path / "db.sqlite") as db, ProductStore(tmp_path / "p.sqlite", create=True) as store:
        db.import_path(write_osv_zip(tmp_path / "a.zip", osv_corpus()))
        store.add("cam", fixture_dir / "bom.json", AWARE)
        store.add("plug", fixture_dir / "bom.json", AWARE)
        store.run(db, AWARE)
        with store.conn:
            store.conn.execute("UPDATE products SET baseline='{not json' WHERE name='cam'")
        result = store.run(db, AWARE + dt.timedelta(days=1))
        listed = {row["name"]: row for row in store.list()}
        kept = store.conn.execute("SELECT baseline FROM products WHERE name='cam'").fetchone()[0]
    # Then that product is an error naming it, the other is matched as usual, and the damaged row is left as found
    assert result.products == 2
    assert result.errors == (
        "cam: the stored baseline cannot be read (Expecting property name enclosed in double quotes: line 1 column 2 "
        "(char 1)); re-add it with `cybersafe watch add`",
    )
    assert result.changes == ()
    assert kept == "{not json"
    assert listed["cam"]["known_matches"] is None and listed["plug"]["known_matches"] == 6


def test_the_fix_date_is_when_a_fixed_version_was_first_known(tmp_path, fixture_dir):
    # Given OpenSSL's vulnerability matched on 1 Dec with no fixed version known
    openssl = next(r for r in osv_corpus() if r["id"] == "CVE-2023-0464")
    unfixed = json.loads(json.dumps(openssl))
    for affected in unfixed["affected"]:
        for rng in affected.get("ranges", []):
            rng["events"] = [e for e in rng["events"] if "fixed" not in e]
    fixed = dict(openssl, modified="2027-01-01T00:00:00Z")
    day = dt.timedelta(days=1)
    with VulnDb(tmp_path / "db.sqlite") as db, ProductStore(tmp_path / "p.sqlite", create=True) as store:
        db.import_path(write_osv_zip(tmp_path / "a.zip", [unfixed]))
        store.add("cam", fixture_dir / "bom.json", AWARE)
        store.run(db, AWARE - day)
        # When the fixed version becomes known on 2 Dec, and CISA lists it as exploited on 3 Dec
        db.import_path(write_osv_zip(tmp_path / "b.zip", [fixed]))
        store.run(db, AWARE)
        (tmp_path / "kev.json").write_text(json.dumps(kev_catalog([("CVE-2023-0464", "2026-12-03")])))
        db.import_path(tmp_path / "kev.json")
        result = store.run(db, AWARE + day)
    # Then the fix counts from 2 Dec (not from 1 Dec, when the match was first seen) and the final report is due
    # 14 days after awareness, which came later
    (change,) = [c for c in result.changes if c.kind == "newly-known-exploited"]
    assert change.deadlines is not None
    assert change.deadlines.fix_available_at == AWARE
    assert change.deadlines.final_report_due == AWARE + day + dt.timedelta(days=14)


def test_art14_applies_from_the_cra_catalogs_date():
    from cybersafe.evidence.vulndb.watch import art14_applies_from, art14_not_applicable
    from cybersafe.schemes.catalog import default_catalog

    start = art14_applies_from()
    assert start.date().isoformat() == default_catalog().scheme("eu-cra").dates.reporting_from == "2026-09-11"
    assert art14_not_applicable(start) is None
    assert "applies from 2026-09-11" in (art14_not_applicable(start - dt.timedelta(seconds=1)) or "")
