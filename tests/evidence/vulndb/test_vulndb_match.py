"""Matching: purl first with ecosystem versions, CPE only as a LOW-confidence fallback; basis on every match."""

from __future__ import annotations

from tests._sbom_builders import osv, pkg, rng, write_osv_zip

from cybersafe.evidence.sbom import SbomComponent
from cybersafe.evidence.vulndb import Confidence, VulnDb, match_components


def by_vuln(report):
    return {source: m for m in report.matches for source in m.sources}


def test_matches_carry_basis_confidence_fix_and_kev(db, sbom):
    # Given the fixture SBOM and database; When matched
    report = match_components(db, sbom.components, source="bom.json")
    got = by_vuln(report)
    # Then every expected advisory matched, with the right fix and confidence
    assert set(got) == {
        "GHSA-h5c8-rqwp-cp95",
        "GHSA-35jh-r3h4-6jhm",
        "DSA-5514-1",
        "ALPINE-CVE-2023-45853",
        "OSV-2026-1",
        "CVE-2023-0464",
    }
    assert "PYSEC-2019-217" not in got  # jinja2 3.1.2 is past that fix
    jinja = got["GHSA-h5c8-rqwp-cp95"]
    assert (jinja.fixed_versions, jinja.confidence, jinja.severity) == (("3.1.3",), Confidence.HIGH, "medium")
    assert jinja.basis == "purl pypi//jinja2 + ECOSYSTEM range (PyPI)"
    assert got["GHSA-35jh-r3h4-6jhm"].fixed_versions == ()  # last_affected: no fix known
    assert got["DSA-5514-1"].fixed_versions == ("2.36-9+deb12u3",)
    assert got["DSA-5514-1"].confidence is Confidence.HIGH  # purl names distro=debian-12
    assert got["ALPINE-CVE-2023-45853"].confidence is Confidence.MEDIUM  # no distro in the purl
    busybox = got["OSV-2026-1"]
    assert busybox.known_exploited and busybox.kev_date_added == "2025-06-01"
    assert "explicit version list" in busybox.basis
    openssl = got["CVE-2023-0464"]
    assert openssl.confidence is Confidence.LOW and openssl.basis.startswith("CPE fallback")
    assert report.matches[0].known_exploited  # known-exploited first
    assert [u.component for u in report.unmatched] == ["mystery-blob"]
    assert report.osv_imported_at == "2026-01-02T00:00:00+00:00"


def test_distro_release_mismatch_is_not_a_match(tmp_path):
    record = osv("DSA-1-1", [pkg("Debian:11", "zlib", [rng("ECOSYSTEM", ("introduced", "0"), ("fixed", "1:1.3-1"))])])
    with VulnDb(tmp_path / "db.sqlite") as db:
        db.import_path(write_osv_zip(tmp_path / "a.zip", [record]))
        comps = [
            SbomComponent("a", "zlib", "1:1.2-1", "pkg:deb/debian/zlib@1:1.2-1?distro=debian-12"),
            SbomComponent("b", "zlib", "1:1.2-1", "pkg:deb/debian/zlib@1:1.2-1?distro=bullseye-11"),
        ]
        report = match_components(db, comps, source="x")
    assert [m.component_ref for m in report.matches] == ["b"]


def test_cpe_is_not_used_when_the_purl_is_known(tmp_path):
    # Given advisories for both the purl and the CPE of a component
    records = [
        osv("GHSA-aaaa-bbbb-cccc", [pkg("PyPI", "foo", [rng("ECOSYSTEM", ("introduced", "2.0"))])]),
        osv(
            "CVE-2026-0001",
            [
                {
                    "database_specific": {"cpe": "cpe:2.3:a:foo:foo:*:*:*:*:*:*:*:*"},
                    "ranges": [rng("ECOSYSTEM", ("introduced", "0"))],
                }
            ],
        ),
    ]
    comp = SbomComponent("a", "foo", "1.0", "pkg:pypi/foo@1.0", cpe="cpe:2.3:a:foo:foo:1.0:*:*:*:*:*:*:*")
    with VulnDb(tmp_path / "db.sqlite") as db:
        db.import_path(write_osv_zip(tmp_path / "a.zip", records))
        report = match_components(db, [comp], source="x")
    # Then the purl decides (1.0 is before 2.0: not affected) and the CPE is never consulted
    assert report.matches == ()


def test_wildcard_vendor_cpe_is_never_matched(tmp_path):
    records = [
        osv(
            "CVE-2026-0002",
            [
                {
                    "database_specific": {"cpe": "cpe:2.3:a:*:chainsaw:*:*:*:*:*:*:*:*"},
                    "ranges": [rng("ECOSYSTEM", ("introduced", "0"))],
                }
            ],
        )
    ]
    comp = SbomComponent("a", "chainsaw", "1.0", cpe="cpe:2.3:a:*:chainsaw:1.0:*:*:*:*:*:*:*")
    with VulnDb(tmp_path / "db.sqlite") as db:
        db.import_path(write_osv_zip(tmp_path / "a.zip", records))
        report = match_components(db, [comp], source="x")
    assert report.matches == ()
    assert "wildcard" in report.unmatched[0].reason


def test_withdrawn_advisory_is_ignored(tmp_path):
    record = osv("GHSA-aaaa-bbbb-cccc", [pkg("PyPI", "foo", [rng("ECOSYSTEM", ("introduced", "0"))])])
    record["withdrawn"] = "2026-01-01T00:00:00Z"
    with VulnDb(tmp_path / "db.sqlite") as db:
        db.import_path(write_osv_zip(tmp_path / "a.zip", [record]))
        report = match_components(db, [SbomComponent("a", "foo", "1.0", "pkg:pypi/foo@1.0")], source="x")
    assert report.matches == ()


def test_version_from_purl_when_component_has_none(tmp_path):
    record = osv(
        "GHSA-aaaa-bbbb-cccc", [pkg("npm", "@scope/pkg", [rng("SEMVER", ("introduced", "0"), ("fixed", "2.0.0"))])]
    )
    with VulnDb(tmp_path / "db.sqlite") as db:
        db.import_path(write_osv_zip(tmp_path / "a.zip", [record]))
        report = match_components(db, [SbomComponent("a", "pkg", None, "pkg:npm/%40scope/pkg@1.2.3")], source="x")
    assert report.matches[0].version == "1.2.3"


def test_no_kev_catalog_is_noted(tmp_path, fixture_dir, sbom):
    with VulnDb(tmp_path / "db.sqlite") as db:
        db.import_path(fixture_dir / "all.zip")
        report = match_components(db, sbom.components, source="x")
    assert report.kev_imported_at is None
    assert "no CISA KEV catalog" in report.notes[0]
