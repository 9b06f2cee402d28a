"""Import: OSV zip / directory / JSON, KEV JSON and CSV, EPSS CSV; idempotent, incremental, robust."""

from __future__ import annotations

import gzip
import json

import pytest
from tests._sbom_builders import kev_catalog, osv, osv_corpus, pkg, rng, validator, write_kev_csv, write_osv_zip

from cybersafe.errors import VulnDbError
from cybersafe.evidence.vulndb import VulnDb
from cybersafe.evidence.vulndb.osv import cvss_base_score, parse_osv


def test_fixtures_are_valid_osv():
    # The corpus covers SEMVER, ECOSYSTEM and GIT ranges with introduced/fixed/last_affected/limit and versions.
    check = validator("osv-schema.json")
    kinds, events = set(), set()
    for record in osv_corpus():
        check.validate(record)
        for aff in record["affected"]:
            for r in aff.get("ranges", []):
                kinds.add(r["type"])
                events.update(k for e in r["events"] for k in e)
    assert kinds == {"SEMVER", "ECOSYSTEM", "GIT"}
    assert events == {"introduced", "fixed", "last_affected", "limit"}


def test_zip_import_is_idempotent_and_incremental(tmp_path):
    # Given an all.zip dump
    zip_path = write_osv_zip(tmp_path / "all.zip", osv_corpus())
    with VulnDb(tmp_path / "db.sqlite") as db:
        first = db.import_path(zip_path, now="2026-01-01T00:00:00+00:00")[0]
        # When it is imported again, nothing changes
        again = db.import_path(zip_path, now="2026-01-02T00:00:00+00:00")[0]
        # When one record is modified later, only that one is updated
        newer = osv(
            "GHSA-h5c8-rqwp-cp95",
            [pkg("PyPI", "jinja2", [rng("ECOSYSTEM", ("introduced", "0"), ("fixed", "3.1.4"))])],
            modified="2026-02-01T00:00:00Z",
            severity="HIGH",
        )
        update = db.import_path(write_osv_zip(tmp_path / "upd.zip", [newer]), now="2026-02-02T00:00:00+00:00")[0]
        info = db.info()
        rows = db.affected_for(["pypi//jinja2"])["pypi//jinja2"]
    assert (first.added, first.skipped) == (len(osv_corpus()), 0)
    assert (again.added, again.updated, again.unchanged) == (0, 0, len(osv_corpus()))
    assert (update.added, update.updated) == (0, 1)
    assert info.advisories == len(osv_corpus())
    assert [i["imported_at"] for i in info.imports] == [
        "2026-01-01T00:00:00+00:00",
        "2026-01-02T00:00:00+00:00",
        "2026-02-02T00:00:00+00:00",
    ]
    # the old affected rows were replaced, not duplicated
    assert sum("3.1.4" in r[3] for r in rows) == 1 and not any("3.1.3" in r[3] for r in rows)


def test_broken_records_are_reported_and_skipped(tmp_path):
    # Given a dump with a record that is not JSON and one with a bad range type among good ones
    bad = {
        "id": "x_1",
        "modified": "2026-01-01T00:00:00Z",
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "x"},
                "ranges": [{"type": "BOGUS", "events": [{"introduced": "0"}]}],
            }
        ],
    }
    no_id = {"modified": "2026-01-01T00:00:00Z"}
    zip_path = write_osv_zip(
        tmp_path / "all.zip",
        osv_corpus(),
        {"broken.json": b"{nope", "bad.json": json.dumps(bad).encode(), "noid.json": json.dumps(no_id).encode()},
    )
    with VulnDb(tmp_path / "db.sqlite") as db:
        report = db.import_path(zip_path)[0]
    # Then the good records are imported and each broken one is named with the element
    assert report.added == len(osv_corpus())
    assert report.skipped == 3
    messages = {p.path.rsplit("!", 1)[1]: p.message for p in report.problems}
    assert "not valid JSON" in messages["broken.json"]
    assert "x_1.affected[0].ranges[0].type: must be SEMVER, ECOSYSTEM or GIT" in messages["bad.json"]
    assert "id: missing" in messages["noid.json"]


def test_directory_and_single_json_import(tmp_path):
    src = tmp_path / "osv"
    src.mkdir()
    for record in osv_corpus()[:3]:
        (src / f"{record['id']}.json").write_text(json.dumps(record))
    (tmp_path / "list.json").write_text(json.dumps(osv_corpus()[3:]))
    with VulnDb(tmp_path / "db.sqlite") as db:
        assert db.import_path(src)[0].added == 3
        assert db.import_path(tmp_path / "list.json")[0].added == len(osv_corpus()) - 3


def test_kev_json_and_csv(tmp_path):
    (tmp_path / "kev.json").write_text(
        json.dumps(kev_catalog([("CVE-2022-48174", "2025-06-01"), ("CVE-2023-4911", "2023-11-21")]))
    )
    csv_path = write_kev_csv(tmp_path / "kev.csv", [("CVE-2023-4911", "2023-11-21"), ("CVE-2024-0001", "2024-01-05")])
    broken = kev_catalog([("CVE-2024-9", "not-a-date")])
    broken["vulnerabilities"].append({"cveID": 12})
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    with VulnDb(tmp_path / "db.sqlite") as db:
        first = db.import_path(tmp_path / "kev.json")[0]
        second = db.import_path(csv_path)[0]
        third = db.import_path(tmp_path / "broken.json")[0]
        kev = db.kev()
    assert (first.kind, first.added) == ("kev", 2)
    assert (second.added, second.unchanged) == (1, 1)
    assert third.skipped == 2 and "dateAdded 'not-a-date' is not a date" in third.problems[0].message
    assert set(kev) == {"CVE-2022-48174", "CVE-2023-4911", "CVE-2024-0001"}


def test_epss_csv_gz(tmp_path):
    text = (
        "#model_version:v2025.03.14,score_date:2026-01-02T00:00:00+0000\ncve,epss,percentile\n"
        "CVE-2023-4911,0.91234,0.99\nCVE-2022-48174,0.5,0.9\nnot-a-cve,7,1\n"
    )
    (tmp_path / "epss.csv.gz").write_bytes(gzip.compress(text.encode()))
    with VulnDb(tmp_path / "db.sqlite") as db:
        report = db.import_path(tmp_path / "epss.csv.gz")[0]
        assert db.epss(["CVE-2023-4911"]) == {"CVE-2023-4911": 0.91234}
    assert (report.kind, report.added, report.skipped) == ("epss", 2, 1)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        pytest.param("x.json", "{oops", "x.json:1: not valid JSON", id="bad-json"),
        pytest.param("x.csv", "a,b\n1,2\n", "not an OSV record/zip/directory, a KEV catalog", id="unknown-csv"),
        pytest.param("x.zip", "not a zip", "not a readable zip archive", id="bad-zip"),
        pytest.param("missing.json", None, "no such file", id="missing"),
    ],
)
def test_unreadable_import_source_is_one_line(tmp_path, name, content, message):
    if content is not None:
        (tmp_path / name).write_text(content)
    with VulnDb(tmp_path / "db.sqlite") as db, pytest.raises(VulnDbError) as err:
        db.import_path(tmp_path / name)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_missing_database_is_refused(tmp_path):
    with pytest.raises(VulnDbError, match="run `cybersafe vulndb import` first"):
        VulnDb(tmp_path / "none.sqlite", create=False)


def test_default_path_from_environment(tmp_path, monkeypatch):
    from cybersafe.evidence.vulndb import default_db_path

    monkeypatch.setenv("CYBERSAFE_VULNDB", str(tmp_path / "env.sqlite"))
    assert default_db_path() == tmp_path / "env.sqlite"


def test_severity_from_cvss_and_database_specific():
    assert cvss_base_score("3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H") == (9.8, "critical")
    assert cvss_base_score("3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N") == (6.1, "medium")
    assert cvss_base_score("3", "garbage") is None
    record = parse_osv(osv("GHSA-aaaa-bbbb-cccc", [], severity="MODERATE"))
    assert record.severity == "medium"
    assert parse_osv(osv("GHSA-aaaa-bbbb-cccd", [])).severity == "unknown"
