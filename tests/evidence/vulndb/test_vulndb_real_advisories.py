"""Real advisories as published: PyPA's OSV YAML and GitHub's OSV JSON for the same CVEs (data/advisories,
CC-BY-4.0, provenance in its PROVENANCE.json). One vulnerability per alias group, the highest stated severity,
CVSS v2/v3/v4 scored by the ``cvss`` library, and OpenVEX written once per group and valid against its schema."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from tests._sbom_builders import osv, validator
from tests.support import NOW_ISO

from cybersafe.errors import InputError
from cybersafe.evidence.sbom import SbomComponent
from cybersafe.evidence.vulndb import VulnDb, export_openvex, match_components
from cybersafe.evidence.vulndb.osv import parse_osv
from cybersafe.evidence.vulndb.vex import validate_openvex

DATA = Path(__file__).parent / "data" / "advisories"
NOW = NOW_ISO  # the import time the database records
COMPONENTS = [
    SbomComponent(ref="u", name="urllib3", version="1.26.16", purl="pkg:pypi/urllib3@1.26.16"),
    SbomComponent(ref="j", name="Jinja2", version="2.10", purl="pkg:pypi/jinja2@2.10"),
    SbomComponent(ref="r", name="requests", version="2.30.0", purl="pkg:pypi/requests@2.30.0"),
]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[VulnDb]:
    store = VulnDb(tmp_path / "db.sqlite")
    yield store
    store.close()


def test_every_record_has_its_provenance() -> None:
    provenance = json.loads((DATA.parent / "PROVENANCE.json").read_text())
    files = sorted(p.relative_to(DATA.parent).as_posix() for p in DATA.rglob("*") if p.is_file())
    assert sorted(provenance) == files
    assert {entry["licence"] for entry in provenance.values()} == {"CC-BY-4.0"}


@pytest.mark.parametrize("path", sorted((DATA / "pypa").glob("*.yaml")), ids=lambda p: p.name)
def test_pypa_yaml_records_are_valid_osv(path: Path) -> None:
    # The YAML as published, read without converting dates, is an OSV record by the OSV JSON Schema.
    record = yaml.load(path.read_text(), Loader=yaml.BaseLoader)
    validator("osv-schema.json").validate(record)


def test_pypa_yaml_directory_is_imported(db: VulnDb) -> None:
    (report,) = db.import_path(DATA / "pypa", now=NOW)
    assert (report.added, report.skipped) == (4, 0)
    (single,) = db.import_path(DATA / "pypa" / "PYSEC-2019-217.yaml", now=NOW)
    assert single.unchanged == 1


def test_one_vulnerability_per_alias_group_with_the_highest_stated_severity(db: VulnDb) -> None:
    # Given PyPA's and GitHub's records of the same CVEs (each naming the other, or only the CVE)
    db.import_path(DATA, now=NOW)
    report = match_components(db, COMPONENTS, source="test")
    by_id = {m.vulnerability: m for m in report.matches}
    # Then each CVE is one vulnerability, listing every source and id
    assert sorted(by_id) == ["CVE-2019-10906", "CVE-2023-32681", "CVE-2023-43804"]
    jinja = by_id["CVE-2019-10906"]
    assert jinja.sources == ("GHSA-462w-v97r-4m45", "PYSEC-2019-217")
    assert jinja.aliases == ("GHSA-462w-v97r-4m45", "PYSEC-2019-217")
    # PyPA states no severity; GitHub says HIGH and CVSS:3.0 8.6: the highest stated is used
    assert (jinja.severity, jinja.score) == ("high", 8.6)
    assert "GHSA-462w-v97r-4m45: CVSS:3.0 8.6; database rating HIGH" in jinja.severity_basis
    assert jinja.fixed_versions == ("2.10.1",)
    urllib3 = by_id["CVE-2023-43804"]
    assert (urllib3.severity, urllib3.score) == ("high", 8.1)  # PyPA states NVD's 8.1, GitHub 5.9
    assert urllib3.fixed_versions == ("1.26.17", "2.0.6")  # PyPA: one range, two fixed branches
    # A CVE only PyPA knows, without any stated severity, stays unknown (never guessed low)
    assert by_id["CVE-2023-32681"].severity == "unknown"
    assert by_id["CVE-2023-32681"].sources == ("PYSEC-2023-74",)


def test_openvex_is_written_once_per_group_and_is_valid(db: VulnDb) -> None:
    db.import_path(DATA, now=NOW)
    report = match_components(db, COMPONENTS, source="test")
    import datetime as dt

    doc = export_openvex(
        report, author="t", timestamp=dt.datetime(2026, 12, 5, tzinfo=dt.UTC), product="pkg:generic/acme/cam@1"
    )
    names = [st["vulnerability"]["name"] for st in doc["statements"]]
    assert sorted(names) == ["CVE-2019-10906", "CVE-2023-32681", "CVE-2023-43804"]
    validator("openvex-json-schema-0.2.0.json").validate(doc)


@pytest.mark.parametrize("product", ["my camera", "busybox", "pkg:bad", "https://x.example/a b"])
def test_a_product_that_is_no_iri_is_refused_in_one_line(db: VulnDb, product: str) -> None:
    import datetime as dt

    db.import_path(DATA, now=NOW)
    report = match_components(db, COMPONENTS, source="test")
    with pytest.raises(InputError) as err:
        export_openvex(report, author="t", timestamp=dt.datetime(2026, 12, 5, tzinfo=dt.UTC), product=product)
    text = str(err.value)
    assert text.startswith(f"product: {product!r} is not a purl or an IRI") and "\n" not in text


def test_an_invalid_document_names_the_element() -> None:
    doc = {"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://x/y", "author": "a",
           "timestamp": "2026-01-01T00:00:00Z", "version": 1,
           "statements": [{"vulnerability": {"name": "CVE-1"}, "products": [{"@id": "a camera"}], "status": "affected",
                           "action_statement": "x"}]}  # fmt: skip
    with pytest.raises(InputError, match=r"^statements\.0\.products\.0\.@id: the OpenVEX document would not be valid"):
        validate_openvex(doc)


@pytest.mark.parametrize(
    ("kind", "vector", "severity", "score"),
    [
        # FIRST's CVSS v4.0 examples: 9.3 critical; a v2 vector with NVD's v2 ratings: 7.5 high
        ("CVSS_V4", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "critical", 9.3),
        ("CVSS_V2", "AV:N/AC:L/Au:N/C:P/I:P/A:P", "high", 7.5),
        ("CVSS_V3", "CVSS:3.1/AV:N/AC:H/PR:H/UI:N/S:U/C:H/I:H/A:N", "medium", 5.9),
        ("CVSS_V4", "CVSS:4.0/AV:N/garbage", "unknown", None),
    ],
)
def test_cvss_v2_v3_v4_are_scored(kind: str, vector: str, severity: str, score: float | None) -> None:
    record = osv("GHSA-aaaa-bbbb-cccc", [])
    record["severity"] = [{"type": kind, "score": vector}]
    parsed = parse_osv(record)
    assert (parsed.severity, parsed.score) == (severity, score)


def test_the_highest_of_several_statements_wins() -> None:
    record = osv("GHSA-aaaa-bbbb-cccc", [], severity="LOW")
    record["severity"] = [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]
    parsed = parse_osv(record)
    assert (parsed.severity, parsed.score) == ("critical", 9.8)
    assert parsed.severity_basis == "CVSS:3.1 9.8; database rating LOW"


def test_broken_yaml_records_are_skipped_with_a_problem(db: VulnDb, tmp_path: Path) -> None:
    folder = tmp_path / "vulns"
    folder.mkdir()
    (folder / "bomb.yaml").write_text("a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n" for p, c in zip("abcdefg", "bcdefgh", strict=True)
    ))  # fmt: skip
    (folder / "broken.yaml").write_text("id: [unclosed\n")
    (folder / "ok.yaml").write_text((DATA / "pypa" / "PYSEC-2023-74.yaml").read_text())
    (report,) = db.import_path(folder, now=NOW)
    assert (report.added, report.skipped) == (1, 2)
    messages = sorted(p.message for p in report.problems)
    assert messages[0].startswith("skipped: malformed YAML") and "more than" in messages[1]
