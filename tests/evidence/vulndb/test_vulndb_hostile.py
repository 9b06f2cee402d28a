"""Hostile vulnerability data (found by tests/fuzz): a broken record is reported and skipped, a broken file is
one VulnDbError line naming it, a bad range never stops the matching, a malformed VEX or policy is one line."""

from __future__ import annotations

import gzip
import json
import zipfile

import pytest
from tests._sbom_builders import csaf_vex, openvex_doc, osv, pkg, rng
from tests.support import NOW_ISO

from cybersafe.errors import InputError, SbomError, VulnDbError
from cybersafe.evidence.sbom import SbomComponent
from cybersafe.evidence.vulndb import VulnDb, load_vex, match_components
from cybersafe.evidence.vulndb import store as store_module
from cybersafe.evidence.vulndb.policy import load_policy

NOW = NOW_ISO  # the import time the database records


def _good(ident: str) -> dict:
    return osv(ident, [pkg("PyPI", "jinja2", [rng("ECOSYSTEM", ("introduced", "0"), ("fixed", "3.1.3"))])])


def _import_one(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass"))
    with VulnDb(tmp_path / "db.sqlite") as db:
        (report,) = db.import_path(path, now=NOW)
        ids = {row[0] for row in db.conn.execute("SELECT id FROM advisories")}
    return report, ids


# --- broken records are skipped, the rest of the file (and of its batch) is imported -----------------------


@pytest.mark.parametrize(
    ("broken", "element"),
    [
        pytest.param({"id": ["a"], "modified": "x"}, "id: missing or not a string", id="id-a-list"),
        pytest.param({"id": {"a": 1}, "modified": "x"}, "id: missing or not a string", id="id-an-object"),
        pytest.param(
            {"id": "X-1", "modified": "2026-01-01T00:00:00Z", "severity": 5}, "X-1.severity: must be a list", id="sev"
        ),
        pytest.param(
            {"id": "X-2", "modified": "2026-01-01T00:00:00Z", "aliases": ["CVE-\ud800"]},
            "X-2.aliases[0]: not valid Unicode text",
            id="surrogate-alias",
        ),
        pytest.param({"id": "\ud800", "modified": "x"}, "\\ud800.id: not valid Unicode text", id="surrogate-id"),
        pytest.param(
            {"id": "X-3", "modified": "2026-01-01T00:00:00Z", "summary": "a\udfffb"},
            "X-3.summary: not valid Unicode text",
            id="surrogate-summary",
        ),
    ],
)
def test_broken_record_is_skipped_and_its_batch_imported(tmp_path, broken, element):
    # Given one broken record between two good ones (in the same batch)
    text = json.dumps([_good("GOOD-1"), broken, _good("GOOD-2")])
    # When imported
    report, ids = _import_one(tmp_path, "osv.json", text)
    # Then the good ones are in, the broken one is named in one line
    assert ids == {"GOOD-1", "GOOD-2"}
    assert (report.added, report.skipped) == (2, 1)
    message = report.problems[0].message
    assert element in message and "\n" not in message


def test_kev_entry_with_lone_surrogate_is_skipped(tmp_path):
    doc = {
        "catalogVersion": "1",
        "vulnerabilities": [
            {"cveID": "CVE-\ud800", "dateAdded": "2025-01-01"},
            {"cveID": "CVE-2025-1", "dateAdded": "2025-01-01", "product": "x\udc00"},
            {"cveID": "CVE-2025-2", "dateAdded": "2025-01-01"},
        ],
    }
    path = tmp_path / "kev.json"
    path.write_text(json.dumps(doc))
    with VulnDb(tmp_path / "db.sqlite") as db:
        (report,) = db.import_path(path, now=NOW)
        assert set(db.kev()) == {"CVE-2025-2"}
    assert (report.added, report.skipped) == (1, 2)
    assert "product is not valid Unicode text" in report.problems[1].message


def test_epss_row_with_oversized_field_is_skipped_and_the_next_rows_read(tmp_path):
    # Given an EPSS CSV whose second data row holds a field over the csv module's 128 KiB limit
    text = (
        "#model_version:v1,score_date:2026-01-01T00:00:00+0000\ncve,epss,percentile\n"
        'CVE-2025-1,0.1,0.5\nCVE-2025-2,"'
        + "1" * 200_000
        + '",0\nCVE-2025-3,0.3,0.7\nCVE-2025-4,"'
        + "2" * 200_000
        + '",0\n'
    )
    report, _ = _import_one(tmp_path, "epss.csv", text)
    # Then that row is reported with its line, the others imported
    assert (report.added, report.skipped) == (2, 2)
    assert [p.path.rsplit(":", 1)[1] for p in report.problems] == ["4", "6"]
    assert "field larger than field limit" in report.problems[0].message


def test_kev_csv_row_with_oversized_field_is_skipped(tmp_path):
    text = (
        "cveID,vendorProject,product,vulnerabilityName,dateAdded\n"
        '"' + "x" * 200_000 + '",a,b,c,2025-01-01\nCVE-2025-9,a,b,c,2025-01-01\n'
    )
    report, _ = _import_one(tmp_path, "kev.csv", text)
    assert (report.kind, report.added, report.skipped) == ("kev", 1, 1)


def test_zip_member_nested_too_deeply_is_skipped(tmp_path):
    path = tmp_path / "all.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("deep.json", "[" * 100_000)
        archive.writestr("good.json", json.dumps(_good("GOOD-1")))
    with VulnDb(tmp_path / "db.sqlite") as db:
        (report,) = db.import_path(path, now=NOW)
    assert (report.added, report.skipped) == (1, 1)
    assert "nested too deeply" in report.problems[0].message


# --- a broken file is one VulnDbError line naming it ---------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        pytest.param("osv.json", b'{"id": "\xff"}', "osv.json: not valid JSON: not UTF-8 text", id="not-utf8"),
        pytest.param("osv.json", b"[" * 100_000, "osv.json: not readable JSON: nested too deeply", id="deep"),
        pytest.param(
            "epss.csv.gz",
            gzip.compress(b"cve,epss\n")[:10] + b"\xff\xff\xff" + gzip.compress(b"cve,epss\n")[13:],
            "epss.csv.gz: not a readable gzip file",
            id="corrupt-deflate",
        ),
        pytest.param("epss.csv.gz", b"\x1f\x8b\x08\x00 truncated", "not a readable gzip file", id="truncated-gzip"),
        pytest.param("epss.csv.gz", b"plain text", "not a readable gzip file", id="not-gzip"),
        pytest.param(
            "epss.csv", 'cve,epss,"' + "e" * 200_000 + '"\n', "the header row is not readable CSV", id="csv-header"
        ),
    ],
)
def test_unreadable_file_is_one_line_naming_it(tmp_path, name, data, message):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    with VulnDb(tmp_path / "db.sqlite") as db, pytest.raises(VulnDbError) as err:
        db.import_path(path, now=NOW)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert str(err.value).startswith(str(path))


def test_gzip_bomb_is_refused_beyond_the_cap(tmp_path, monkeypatch):
    # Given a .gz that decompresses to more than the cap (lowered here: 1 MiB of zeros compresses to ~1 KiB)
    monkeypatch.setattr(store_module, "MAX_GZIP_BYTES", 256 * 1024)
    path = tmp_path / "epss.csv.gz"
    path.write_bytes(gzip.compress(b"cve,epss,percentile\n" + b"0" * (1024 * 1024)))
    # When imported; Then it is refused with one line, without decompressing it all
    with VulnDb(tmp_path / "db.sqlite") as db, pytest.raises(VulnDbError, match="decompresses to more than 262144"):
        db.import_path(path, now=NOW)


def test_gzip_within_the_cap_is_read_across_chunks(tmp_path):
    rows = "".join(f"CVE-2025-{i},0.{i % 10},0.5\n" for i in range(1, 60_000))
    path = tmp_path / "epss.csv.gz"
    path.write_bytes(gzip.compress(("cve,epss,percentile\n" + rows).encode()))
    assert len(gzip.decompress(path.read_bytes())) > store_module._GZIP_CHUNK  # several chunks
    with VulnDb(tmp_path / "db.sqlite") as db:
        (report,) = db.import_path(path, now=NOW)
    assert (report.added, report.skipped) == (59_999, 0)


# --- matching: an unparseable range is not evaluated, the others are ---------------------------------------


@pytest.mark.parametrize(
    "events",
    [
        pytest.param([("introduced", "*")], id="introduced-star"),
        pytest.param([("introduced", "0"), ("limit", "")], id="empty-limit"),
        pytest.param([("introduced", ""), ("fixed", "9")], id="empty-introduced"),
        pytest.param([("introduced", "0"), ("fixed", "-")], id="fixed-dash"),
    ],
)
@pytest.mark.parametrize("kind", ["SEMVER", "ECOSYSTEM"])
def test_unparseable_range_is_noted_and_other_matches_kept(tmp_path, events, kind):
    # Given a good advisory and one whose range has a bound that is no version, for the same package
    records = [_good("GOOD-1"), osv("BAD-1", [pkg("PyPI", "jinja2", [rng(kind, *events)])])]
    path = tmp_path / "osv.json"
    path.write_text(json.dumps(records))
    comps = [SbomComponent("j", "jinja2", "3.1.2", "pkg:pypi/jinja2@3.1.2")]
    with VulnDb(tmp_path / "db.sqlite") as db:
        db.import_path(path, now=NOW)
        # When matching
        report = match_components(db, comps, source="bom.json")
    # Then the good advisory still matches, the bad range guesses nothing and is named in a note
    assert [m.vulnerability for m in report.matches] == ["GOOD-1"]
    (note,) = [n for n in report.notes if "BAD-1" in n]
    assert note.startswith("advisory BAD-1: a version range is not evaluable (")
    assert "jinja2@3.1.2" in note and "\n" not in note


def test_generic_range_with_a_star_bound_is_not_evaluated(tmp_path):
    ranges = [rng("ECOSYSTEM", ("introduced", "*"), ("fixed", "1.37"))]
    record = osv("OSV-X", [pkg("OSS-Fuzz", "busybox", ranges, purl="pkg:generic/busybox")])
    path = tmp_path / "osv.json"
    path.write_text(json.dumps([record]))
    comps = [SbomComponent("b", "busybox", "1.36.1", "pkg:generic/busybox@1.36.1")]
    with VulnDb(tmp_path / "db.sqlite") as db:
        db.import_path(path, now=NOW)
        report = match_components(db, comps, source="bom.json")
    assert report.matches == ()
    assert any(n.startswith("advisory OSV-X: a version range is not evaluable (introduced '*'") for n in report.notes)


# --- VEX and policy ------------------------------------------------------------------------------------------

_OPENVEX = openvex_doc([{"vulnerability": {"name": "CVE-1"}, "products": [{"@id": "x"}], "status": "affected"}])
_CDX = {
    "bomFormat": "CycloneDX",
    "specVersion": "1.6",
    "vulnerabilities": [{"id": "CVE-1", "analysis": {"state": "exploitable"}, "affects": [{"ref": "x"}]}],
}
_CSAF = csaf_vex("CVE-1", "pkg:generic/busybox@1.36.1")


def _with(doc: dict, *path_and_value) -> dict:
    doc = json.loads(json.dumps(doc))
    *keys, last, value = path_and_value
    target = doc
    for key in keys:
        target = target[key]
    target[last] = value
    return doc


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        pytest.param(
            _with(_OPENVEX, "statements", 0, "vulnerability", "aliases", 1),
            "statements[0].vulnerability.aliases",
            id="openvex-aliases",
        ),
        pytest.param(
            _with(_OPENVEX, "statements", 0, "products", 0, "subcomponents", "x"),
            "statements[0].products[0].subcomponents",
            id="openvex-subcomponents",
        ),
        pytest.param(_with(_CDX, "components", 1), "components", id="cyclonedx-components"),
        pytest.param(
            _with(_CDX, "vulnerabilities", 0, "references", {}), "vulnerabilities[0].references", id="cdx-references"
        ),
        pytest.param(_with(_CSAF, "product_tree", "branches", 1), "product_tree.branches", id="csaf-branches"),
        pytest.param(
            _with(_CSAF, "product_tree", "branches", 0, "branches", True),
            "product_tree.branches[0].branches",
            id="csaf-nested-branches",
        ),
        pytest.param(_with(_CSAF, "vulnerabilities", 0, "flags", 1), "vulnerabilities[0].flags", id="csaf-flags"),
    ],
)
def test_vex_scalar_where_a_list_belongs_names_the_element(tmp_path, doc, field):
    path = tmp_path / "vex.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(SbomError) as err:
        load_vex(path)
    assert str(err.value) == f"{path}: {field}: must be a list"


def test_vex_nested_too_deeply_is_one_line(tmp_path):
    path = tmp_path / "vex.json"
    path.write_text("[" * 100_000)
    with pytest.raises(SbomError, match="nested too deeply"):
        load_vex(path)


def test_csaf_deep_branches_are_walked_without_recursion(tmp_path):
    # Given a CSAF product tree 300 branches deep with the product at the bottom
    doc = json.loads(json.dumps(_CSAF))
    leaf = doc["product_tree"]["branches"]
    for _ in range(300):
        leaf = [{"category": "vendor", "name": "v", "branches": leaf}]
    doc["product_tree"]["branches"] = leaf
    path = tmp_path / "csaf.json"
    path.write_text(json.dumps(doc))
    # Then the product is still found
    (statement,) = load_vex(path)
    assert "pkg:generic/busybox@1.36.1" in statement.products


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("fail_at_or_above: [", ":1: malformed YAML: expected the node content", id="unclosed-flow"),
        pytest.param("a: 'x", "malformed YAML: found unexpected end of stream", id="unterminated-quote"),
        pytest.param("[" * 5000, "malformed YAML: nested too deeply", id="deep"),
        pytest.param("fail_at_or_above: loud\n", ":1: fail_at_or_above: must be one of", id="bad-value"),
    ],
)
def test_policy_file_errors_are_one_line(tmp_path, text, expected):
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        load_policy(path)
    assert str(err.value).startswith(str(path)) and expected in str(err.value) and "\n" not in str(err.value)


def test_packaged_policy_still_loads():
    policy = load_policy()
    assert policy.fail_at_or_above == "medium" and policy.source == "cybersafe/evidence/vulndb/policy.yaml"
