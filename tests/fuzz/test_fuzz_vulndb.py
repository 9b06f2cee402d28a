"""Fuzz the vulnerability-data readers: OSV records and imports, CISA KEV (JSON, CSV), EPSS CSV, VEX documents.

Properties:
- ``parse_osv`` returns a record or raises ``OsvRecordError`` (the importer's "skip this record" signal);
- ``VulnDb.import_path`` never crashes on broken records: each one is reported and skipped, every record
  is accounted for (added + updated + unchanged + skipped), and only a file it cannot read at all raises
  ``VulnDbError``;
- ``load_vex`` returns statements or raises ``SbomError`` with a one-line message.
"""

from __future__ import annotations

import functools
import gzip
import itertools
import json
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fuzz_support import (
    assert_one_line,
    clean_call,
    fuzz,
    json_objects,
    json_values,
    known_bug,
    mutated,
    mutated_bytes,
    mutated_text,
    scratch_file,
)
from hypothesis import given
from hypothesis import strategies as st
from tests._sbom_builders import csaf_vex, kev_catalog, openvex_doc, osv_corpus, write_cyclonedx, write_kev_csv
from tests.support import NOW_ISO

from cybersafe.errors import SbomError, VulnDbError
from cybersafe.evidence.sbom.parse import load_sbom
from cybersafe.evidence.vulndb.match import match_components
from cybersafe.evidence.vulndb.osv import OsvRecordError, cvss_base_score, parse_osv
from cybersafe.evidence.vulndb.store import ImportReport, VulnDb
from cybersafe.evidence.vulndb.vex import load_vex

NOW = NOW_ISO  # the import time the database records
_ids = itertools.count(1)
CORPUS = osv_corpus()
KEV = kev_catalog([("CVE-2022-48174", "2025-06-01"), ("CVE-2023-4911", "2025-07-01")])
EPSS = "#model_version:v2025.03.14,score_date:2026-01-01T00:00:00+0000\ncve,epss,percentile\nCVE-2023-4911,0.5,0.9\n"
OPENVEX = openvex_doc(
    [
        {
            "vulnerability": {"name": "CVE-2022-48174", "aliases": ["GHSA-x"]},
            "products": [{"@id": "pkg:generic/busybox@1.36.1", "subcomponents": [{"@id": "pkg:generic/x"}]}],
            "status": "not_affected",
            "justification": "vulnerable_code_not_present",
        },
        {"vulnerability": {"name": "CVE-2023-4911"}, "products": [{"@id": "libc"}], "status": "affected"},
    ]
)
CDX_VEX: dict[str, Any] = {
    "bomFormat": "CycloneDX",
    "specVersion": "1.6",
    "components": [{"bom-ref": "busybox", "purl": "pkg:generic/busybox@1.36.1", "name": "busybox"}],
    "vulnerabilities": [
        {
            "id": "CVE-2022-48174",
            "references": [{"id": "GHSA-x"}],
            "analysis": {"state": "not_affected", "justification": "code_not_reachable", "detail": "not built"},
            "affects": [{"ref": "busybox"}],
        }
    ],
}
CSAF = csaf_vex("CVE-2022-48174", "pkg:generic/busybox@1.36.1")


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VulnDb]:
    """One database for every example of the module: opening a fresh SQLite file per example is too slow."""
    with VulnDb(tmp_path_factory.mktemp("vulndb") / "db.sqlite") as store:
        yield store


def _import(db: VulnDb, name: str, data: bytes | str) -> list[ImportReport] | None:
    with scratch_file(name, data) as path:
        return clean_call(lambda: db.import_path(path, now=NOW), (VulnDbError,), one_line=False)


def _accounted(report: ImportReport) -> int:
    return report.added + report.updated + report.unchanged + report.skipped


# --- OSV -------------------------------------------------------------------------------------------------


def test_corpus_imports(tmp_path: Path) -> None:
    with VulnDb(tmp_path / "db.sqlite") as fresh:
        reports = _import(fresh, "osv.json", json.dumps(CORPUS))
    assert reports is not None
    assert reports[0].added == len(CORPUS)


@fuzz(300)
@given(st.sampled_from(CORPUS).flatmap(lambda record: mutated(record, max_mutations=3)))
def test_parse_osv_mutated(record: Any) -> None:
    try:
        parse_osv(record)
    except OsvRecordError:
        pass
    except Exception as exc:
        if known_bug(exc) is None:
            raise


@fuzz(120)
@given(mutated_text(yaml.safe_dump(CORPUS[0], sort_keys=False)))
def test_import_mutated_osv_yaml(db: VulnDb, text: str) -> None:
    # Given an OSV record in YAML (as the PyPA database publishes it), mutated; Then one record, accounted for
    reports = _import(db, "PYSEC-2026-1.yaml", text)
    assert reports is not None and _accounted(reports[0]) == 1


@fuzz(150)
@given(json_values)
def test_parse_osv_any_json(value: Any) -> None:
    try:
        parse_osv(value)
    except OsvRecordError:
        pass
    except Exception as exc:
        if known_bug(exc) is None:
            raise


@fuzz(200)
@given(st.text(max_size=60))
def test_cvss_vector_text(vector: str) -> None:
    for version in ("2", "3", "4"):
        scored = cvss_base_score(version, vector)
        assert scored is None or 0.0 <= scored[0] <= 10.0


@fuzz(120)
@given(st.lists(st.sampled_from(CORPUS).flatmap(lambda r: mutated(r, max_mutations=2)), min_size=1, max_size=6))
def test_import_json_list_of_mutated_records(db: VulnDb, records: list[Any]) -> None:
    # Given a JSON file of records, some broken
    reports = _import(db, "osv.json", json.dumps(records))
    # Then every record is accounted for: imported, or reported and skipped
    if reports is not None:
        (report,) = reports
        assert _accounted(report) == len(records)
        assert len(report.problems) == report.skipped


@fuzz(60)
@given(
    st.lists(st.sampled_from(CORPUS).flatmap(lambda r: mutated(r, max_mutations=2)), max_size=4),
    st.lists(st.binary(max_size=200), max_size=3),
)
def test_import_zip_with_broken_members(db: VulnDb, records: list[Any], junk: list[bytes]) -> None:
    with tempfile.TemporaryDirectory(prefix="cybersafe-fuzz-") as tmp:
        path = Path(tmp) / "osv.zip"
        with zipfile.ZipFile(path, "w") as archive:
            for i, record in enumerate(records):
                archive.writestr(f"r{i}.json", json.dumps(record))
            for i, raw in enumerate(junk):
                archive.writestr(f"junk{i}.json", raw)
        reports = clean_call(lambda: db.import_path(path, now=NOW), (VulnDbError,), one_line=False)
    if reports is not None:
        (report,) = reports
        # a member holding a JSON list counts each element
        assert _accounted(report) >= len(records)


@fuzz(150)
@given(st.binary(max_size=300))
def test_import_random_bytes(db: VulnDb, data: bytes) -> None:
    _import(db, "data.json", data)


@fuzz(100)
@given(st.sampled_from([b"{", b"[", b"cveID,vendorProject\n", b"cve,epss\n"]), st.binary(max_size=200))
def test_import_random_bytes_after_a_format_marker(db: VulnDb, head: bytes, tail: bytes) -> None:
    _import(db, "data.json", head + tail)


@fuzz(100)
@given(mutated_bytes(gzip.compress(EPSS.encode()), max_mutations=3))
def test_import_mutated_gzip(db: VulnDb, data: bytes) -> None:
    _import(db, "epss.csv.gz", data)


_VERSIONS = st.one_of(
    st.sampled_from(["0", "1.0", "3.1.3", "2.0.0rc1", "1:2.36-9", "1.2.13-r1", "v1.2.3", "*", "", "1.0.0-alpha+b"]),
    st.text(max_size=12),
)
_EVENTS = st.lists(
    st.tuples(st.sampled_from(["introduced", "fixed", "last_affected", "limit"]), _VERSIONS).map(
        lambda e: {e[0]: e[1]}
    ),
    min_size=1,
    max_size=4,
)
_TARGETS = [
    ("PyPI", "jinja2"),
    ("npm", "lodash"),
    ("Debian:12", "libc6"),
    ("Alpine:v3.18", "zlib"),
    ("OSS-Fuzz", "busybox"),
]


@functools.cache
def _sbom_components() -> tuple[Any, ...]:
    with tempfile.TemporaryDirectory() as tmp:
        return load_sbom(write_cyclonedx(Path(tmp) / "bom.json", "1.6", "json")).components


@fuzz(100)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(_TARGETS),
            st.lists(st.tuples(st.sampled_from(["SEMVER", "ECOSYSTEM"]), _EVENTS), min_size=1, max_size=2),
            st.lists(_VERSIONS, max_size=3),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_match_against_hostile_version_ranges(db: VulnDb, entries: list[Any]) -> None:
    # Given advisories whose ranges and version lists hold any version text, for packages the SBOM has
    records = [
        {
            "id": f"FUZZ-{next(_ids)}",
            "modified": "2026-01-01T00:00:00Z",
            "affected": [
                {
                    "package": {"ecosystem": eco, "name": name},
                    "ranges": [{"type": kind, "events": events} for kind, events in ranges],
                    "versions": versions,
                }
            ],
        }
        for (eco, name), ranges, versions in entries
    ]
    _import(db, "osv.json", json.dumps(records))
    # Then matching the SBOM against them never raises
    clean_call(lambda: match_components(db, _sbom_components(), source="bom.json"), ())


# --- KEV and EPSS ----------------------------------------------------------------------------------------


@fuzz(150)
@given(mutated(KEV, max_mutations=3))
def test_import_mutated_kev_json(db: VulnDb, doc: Any) -> None:
    reports = _import(db, "kev.json", json.dumps(doc))
    if reports is not None and isinstance(doc, dict) and isinstance(doc.get("vulnerabilities"), list):
        (report,) = reports
        if report.kind == "kev":
            assert _accounted(report) == len(doc["vulnerabilities"])


def _kev_csv_text() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        return write_kev_csv(Path(tmp) / "kev.csv", [("CVE-2022-48174", "2025-06-01")]).read_text()


@fuzz(150)
@given(mutated_text(_kev_csv_text(), max_mutations=4))
def test_import_mutated_kev_csv(db: VulnDb, text: str) -> None:
    _import(db, "kev.csv", text)


@fuzz(150)
@given(mutated_text(EPSS, max_mutations=4))
def test_import_mutated_epss_csv(db: VulnDb, text: str) -> None:
    _import(db, "epss.csv", text)


@fuzz(100)
@given(st.lists(st.tuples(st.text(max_size=20), st.text(max_size=20), st.text(max_size=20)), max_size=5))
def test_import_epss_rows_of_any_text(db: VulnDb, rows: list[tuple[str, str, str]]) -> None:
    body = "\n".join(",".join(json.dumps(cell) for cell in row) for row in rows)
    _import(db, "epss.csv", "cve,epss,percentile\n" + body)


# --- VEX -------------------------------------------------------------------------------------------------


def _vex(data: bytes | str) -> None:
    with scratch_file("vex.json", data) as path:
        clean_call(lambda: load_vex(path), (SbomError,))


@pytest.mark.parametrize(
    "doc", [pytest.param(OPENVEX, id="openvex"), pytest.param(CDX_VEX, id="cyclonedx"), pytest.param(CSAF, id="csaf")]
)
def test_vex_seeds_load(doc: dict[str, Any]) -> None:
    with scratch_file("vex.json", json.dumps(doc)) as path:
        assert load_vex(path)


@fuzz(200)
@given(st.sampled_from([OPENVEX, CDX_VEX, CSAF]).flatmap(lambda doc: mutated(doc, max_mutations=3)))
def test_vex_mutated(doc: Any) -> None:
    _vex(json.dumps(doc))


@fuzz(100)
@given(st.sampled_from([OPENVEX, CDX_VEX, CSAF]).flatmap(lambda doc: mutated_bytes(json.dumps(doc).encode())))
def test_vex_mutated_bytes(data: bytes) -> None:
    _vex(data)


@fuzz(100)
@given(st.one_of(json_objects, st.binary(max_size=200).map(lambda b: b"{" + b)))
def test_vex_random(value: Any) -> None:
    _vex(value if isinstance(value, bytes) else json.dumps(value))


# --- regression tests of bugs found by fuzzing (fixed; they run as plain tests) -----------------------------


def _expect_skipped(tmp_path: Path, name: str, data: str | bytes) -> None:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    with VulnDb(tmp_path / "db.sqlite") as db:
        try:
            (report,) = db.import_path(path, now=NOW)
        except VulnDbError as exc:
            assert_one_line(exc)
            return
    assert report.skipped >= 1


def test_bug_vulndb_unhashable_id(tmp_path: Path) -> None:
    _expect_skipped(tmp_path, "osv.json", '{"id": ["a"], "modified": "x"}')


def test_bug_osv_severity_type(tmp_path: Path) -> None:
    _expect_skipped(tmp_path, "osv.json", '{"id": "X-1", "modified": "2026-01-01T00:00:00Z", "severity": 5}')


def test_bug_vulndb_surrogate(tmp_path: Path) -> None:
    _expect_skipped(tmp_path, "osv.json", '{"id": "\\ud800", "modified": "x"}')


def test_bug_vulndb_surrogate_kev(tmp_path: Path) -> None:
    doc = {"catalogVersion": "1", "vulnerabilities": [{"cveID": "CVE-\ud800", "dateAdded": "2025-01-01"}]}
    _expect_skipped(tmp_path, "kev.json", json.dumps(doc))


def test_bug_vulndb_not_utf8(tmp_path: Path) -> None:
    _expect_skipped(tmp_path, "osv.json", b'{"id": "\xff"}')


def test_bug_vulndb_json_deep(tmp_path: Path) -> None:
    _expect_skipped(tmp_path, "osv.json", "[" * 100_000)


def test_bug_vulndb_csv_field_limit(tmp_path: Path) -> None:
    _expect_skipped(tmp_path, "epss.csv", 'cve,epss,percentile\nCVE-1,"' + "1" * 200_000 + '",0\n')


def test_bug_vulndb_csv_field_limit_kev(tmp_path: Path) -> None:
    _expect_skipped(tmp_path, "kev.csv", 'cveID,vendorProject\n"' + "x" * 200_000 + '",a\n')


_VEX_NOT_A_LIST = [
    pytest.param({**OPENVEX, "statements": [{**OPENVEX["statements"][1], "vulnerability": {"name": "C", "aliases": 1}}]}, id="openvex-aliases"),
    pytest.param({**OPENVEX, "statements": [{**OPENVEX["statements"][1], "products": [{"@id": "x", "subcomponents": 1}]}]}, id="openvex-subcomponents"),
    pytest.param({**CDX_VEX, "components": 1}, id="cyclonedx-components"),
    pytest.param({**CDX_VEX, "vulnerabilities": [{**CDX_VEX["vulnerabilities"][0], "references": 1}]}, id="cyclonedx-references"),
    pytest.param({**CSAF, "product_tree": {"branches": 1}}, id="csaf-branches"),
    pytest.param({**CSAF, "vulnerabilities": [{**CSAF["vulnerabilities"][0], "flags": 1}]}, id="csaf-flags"),
]  # fmt: skip


@pytest.mark.parametrize("doc", _VEX_NOT_A_LIST)
def test_bug_vex_not_a_list(tmp_path: Path, doc: dict[str, Any]) -> None:
    path = tmp_path / "vex.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(SbomError) as info:
        load_vex(path)
    assert_one_line(info.value)


def test_bug_vex_json_deep(tmp_path: Path) -> None:
    path = tmp_path / "vex.json"
    path.write_text("[" * 100_000, encoding="utf-8")
    with pytest.raises(SbomError):
        load_vex(path)


def test_bug_vulndb_gzip_corrupt(tmp_path: Path) -> None:
    good = gzip.compress(b"cve,epss\n")
    _expect_skipped(tmp_path, "epss.csv.gz", good[:10] + b"\xff\xff\xff" + good[13:])


@pytest.mark.parametrize(
    "events",
    [
        pytest.param([{"introduced": "*"}], id="introduced-star"),
        pytest.param([{"introduced": "0"}, {"limit": ""}], id="empty-limit"),
    ],
)
def test_bug_version_mixed_compare(tmp_path: Path, events: list[dict[str, str]]) -> None:
    record = {
        "id": "FUZZ-1",
        "modified": "2026-01-01T00:00:00Z",
        "affected": [
            {"package": {"ecosystem": "PyPI", "name": "jinja2"}, "ranges": [{"type": "SEMVER", "events": events}]}
        ],
    }
    path = tmp_path / "osv.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    with VulnDb(tmp_path / "db.sqlite") as db:
        db.import_path(path, now=NOW)
        report = match_components(db, _sbom_components(), source="bom.json")  # jinja2 3.1.2
    # Then the range is not evaluated (no match guessed from it) and a note names the advisory
    assert not [m for m in report.matches if m.vulnerability == "FUZZ-1"]
    assert any(note.startswith("advisory FUZZ-1: a version range is not evaluable") for note in report.notes)
