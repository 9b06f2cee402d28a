"""CLI: sbom check|vulns|vex|compare, vulndb import|info, watch add|list|run — exit codes, JSON, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests._sbom_builders import kev_catalog, openvex_doc, osv_corpus, validator, write_cyclonedx, write_osv_zip
from typer.testing import CliRunner

from cybersafe.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli-sbom")
    out = {
        "zip": write_osv_zip(root / "all.zip", osv_corpus(), {"broken.json": b"{"}),
        "bom": write_cyclonedx(root / "bom.json", "1.6", "json"),
        "bom_xml": write_cyclonedx(root / "bom.xml", "1.5", "xml"),
        "kev": root / "kev.json",
        "vex": root / "vex.json",
        "db": root / "db.sqlite",
        "store": root / "products.sqlite",
    }
    out["kev"].write_text(json.dumps(kev_catalog([("CVE-2022-48174", "2025-06-01")])))
    out["vex"].write_text(
        json.dumps(
            openvex_doc(
                [
                    {
                        "vulnerability": {"name": "CVE-2024-22195"},
                        "products": [{"@id": "pkg:pypi/jinja2"}],
                        "status": "not_affected",
                        "justification": "vulnerable_code_not_in_execute_path",
                    }
                ]
            )
        )
    )
    result = runner.invoke(
        app, ["vulndb", "import", str(out["zip"]), str(out["kev"]), "--db", str(out["db"]), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [i["kind"] for i in data["imports"]] == ["osv", "kev"]
    assert data["imports"][0]["skipped"] == 1 and "broken.json" in data["imports"][0]["problems"][0]["path"]
    return out


def test_vulndb_info(files):
    result = runner.invoke(app, ["vulndb", "info", "--db", str(files["db"]), "--format", "json"])
    assert result.exit_code == 0
    info = json.loads(result.stdout)
    assert info["advisories"] == len(osv_corpus()) and info["kev_entries"] == 1
    table = runner.invoke(app, ["vulndb", "info", "--db", str(files["db"])])
    assert "CISA KEV entries: 1" in table.stdout


def test_vulndb_import_table_names_skipped_records(files, tmp_path):
    result = runner.invoke(app, ["vulndb", "import", str(files["zip"]), "--db", str(tmp_path / "d.sqlite")])
    assert result.exit_code == 0
    assert "1 skipped" in result.stdout and "broken.json" in result.stdout


def test_vulndb_from_environment(files, monkeypatch):
    monkeypatch.setenv("CYBERSAFE_VULNDB", str(files["db"]))
    result = runner.invoke(app, ["vulndb", "info", "--format", "json"])
    assert json.loads(result.stdout)["path"] == str(files["db"])


def test_sbom_vulns_json_and_exit_code(files):
    result = runner.invoke(
        app,
        ["sbom", "vulns", str(files["bom"]), "--db", str(files["db"]), "--vex", str(files["vex"]), "--format", "json"],
    )
    assert result.exit_code == 1  # findings
    report = json.loads(result.stdout)
    first = report["matches"][0]
    assert (
        first["sources"] == ["OSV-2026-1"] and first["vulnerability"] == "CVE-2022-48174" and first["known_exploited"]
    )
    assert {"component", "aliases", "severity", "fixed_versions", "basis", "confidence"} <= set(first)
    jinja = next(m for m in report["matches"] if m["sources"] == ["GHSA-h5c8-rqwp-cp95"])
    assert jinja["vex"]["status"] == "not_affected"


def test_sbom_vulns_table(files):
    result = runner.invoke(app, ["sbom", "vulns", str(files["bom_xml"]), "--db", str(files["db"])])
    assert result.exit_code == 1
    assert "OSV-2026-1" in result.stdout and "not matched: mystery-blob" in result.stdout


def test_sbom_vulns_clean_exits_zero(files, tmp_path):
    bom = tmp_path / "clean.json"
    doc = json.loads(files["bom"].read_text())
    doc["components"] = [c for c in doc["components"] if c["name"] == "mystery-blob"]
    doc["dependencies"] = []
    bom.write_text(json.dumps(doc))
    assert runner.invoke(app, ["sbom", "vulns", str(bom), "--db", str(files["db"])]).exit_code == 0


def test_sbom_check(files, tmp_path):
    result = runner.invoke(app, ["sbom", "check", str(files["bom"]), "--format", "json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert [r["baseline"] for r in data["ratings"]] == ["ntia-2021", "bsi-tr-03183-2", "cra-annex-i-part-ii-1"]
    table = runner.invoke(app, ["sbom", "check", str(files["bom"]), "--bsi"])
    assert "mystery-blob" in table.stdout and table.exit_code == 1


def test_sbom_vex_export_validates(files, tmp_path):
    out = tmp_path / "our.vex.json"
    result = runner.invoke(
        app,
        [
            "sbom",
            "vex",
            str(files["bom"]),
            "--db",
            str(files["db"]),
            "--vex",
            str(files["vex"]),
            "--author",
            "ACME PSIRT",
            "--timestamp",
            "2026-03-01T00:00:00Z",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    validator("openvex-json-schema-0.2.0.json").validate(doc)
    stdout = runner.invoke(
        app, ["sbom", "vex", str(files["bom"]), "--db", str(files["db"]), "--timestamp", "2026-03-01T00:00:00Z"]
    )
    assert json.loads(stdout.stdout)["timestamp"] == "2026-03-01T00:00:00Z"


def test_sbom_vex_refuses_a_product_that_is_no_iri(files, tmp_path):
    # Given --product 'my camera' (OpenVEX products are IRIs); Then exit 2, one line, nothing written
    out = tmp_path / "vex.json"
    args = ["sbom", "vex", str(files["bom"]), "--db", str(files["db"]), "--product", "my camera", "-o", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.endswith(
        "product: 'my camera' is not a purl or an IRI (OpenVEX names products by IRI); give one such as pkg:generic/my-camera@<version>"
    )
    assert not out.exists()
    # With a purl the same command writes a document valid against the OpenVEX schema
    args[args.index("my camera")] = "pkg:generic/my-camera@1.0"
    assert runner.invoke(app, args).exit_code == 0
    validator("openvex-json-schema-0.2.0.json").validate(json.loads(out.read_text()))


def test_sbom_compare(files, tmp_path):
    observed = tmp_path / "observed.json"
    doc = json.loads(files["bom"].read_text())
    doc["components"].append(
        {
            "type": "application",
            "bom-ref": "db",
            "name": "dropbear",
            "version": "2022.83",
            "purl": "pkg:generic/dropbear@2022.83",
        }
    )
    observed.write_text(json.dumps(doc))
    result = runner.invoke(app, ["sbom", "compare", str(files["bom"]), str(observed), "--format", "json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["undeclared"] == ["pkg:generic/dropbear@2022.83"]
    assert runner.invoke(app, ["sbom", "compare", str(files["bom"]), str(files["bom"])]).exit_code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["sbom", "check", "{nope}"], "nope", id="missing-sbom"),
        pytest.param(
            ["vulndb", "info", "--db", "{tmp}/none.sqlite"], "run `cybersafe vulndb import` first", id="no-db"
        ),
        pytest.param(["sbom", "vulns", "{bad}", "--db", "{db}"], "bad.json:1: not valid JSON", id="bad-sbom"),
        pytest.param(
            ["sbom", "vulns", "{bom}", "--db", "{db}", "--vex", "{bad}"], "bad.json:1: not valid JSON", id="bad-vex"
        ),
        pytest.param(
            ["vulndb", "import", "{bad}", "--db", "{tmp}/x.sqlite"], "bad.json:1: not valid JSON", id="bad-import"
        ),
    ],
)
def test_bad_input_is_one_line_exit_2(files, tmp_path, args, message):
    (tmp_path / "bad.json").write_text("{")
    subst = {
        "tmp": str(tmp_path),
        "bad": str(tmp_path / "bad.json"),
        "db": str(files["db"]),
        "bom": str(files["bom"]),
        "nope": str(tmp_path / "nope.json"),
    }
    result = runner.invoke(app, [a.format(**subst) for a in args])
    assert result.exit_code == 2
    assert message.format(**subst) in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2  # one line, maybe soft-wrapped


def test_watch_cycle(files, tmp_path):
    store = str(tmp_path / "p.sqlite")
    added = runner.invoke(app, ["watch", "add", str(files["bom"]), "--product", "Acme Cam 2", "--store", store])
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["watch", "list", "--store", store, "--format", "json"])
    assert json.loads(listed.stdout)[0]["name"] == "Acme Cam 2"
    run = runner.invoke(
        app,
        [
            "watch",
            "run",
            "--db",
            str(files["db"]),
            "--store",
            store,
            "--aware-at",
            "2026-12-02T09:30:00Z",
            "--format",
            "json",
        ],
    )
    assert run.exit_code == 1
    data = json.loads(run.stdout)
    kev = next(c for c in data["changes"] if c["kind"] == "newly-known-exploited")
    assert kev["cra_art14_deadlines"]["early_warning_due"] == "2026-12-03T09:30:00+00:00"
    assert kev["cra_art14_deadlines"]["notification_due"] == "2026-12-05T09:30:00+00:00"
    assert "notification_draft" in kev
    again = runner.invoke(app, ["watch", "run", "--db", str(files["db"]), "--store", store])
    assert again.exit_code == 0 and "1 products re-matched" in again.stdout


def test_watch_before_art14_applies_starts_no_clock(files, tmp_path):
    # Given a known-exploited vulnerability the manufacturer became aware of before 11 Sep 2026
    store = str(tmp_path / "p.sqlite")
    runner.invoke(app, ["watch", "add", str(files["bom"]), "--product", "cam", "--store", store])
    args = ["watch", "run", "--db", str(files["db"]), "--store", store, "--aware-at", "2026-06-01T09:00:00Z"]
    run = runner.invoke(app, [*args, "--dry-run", "--format", "json"])
    table = runner.invoke(app, args)
    # Then it is reported, but with no Art. 14 deadlines: the obligations did not apply yet, and it says so
    assert run.exit_code == 1
    kev = next(c for c in json.loads(run.stdout)["changes"] if c["kind"] == "newly-known-exploited")
    assert "cra_art14_deadlines" not in kev and "notification_draft" not in kev
    assert kev["cra_art14_not_applicable"] == (
        "CRA Art. 14 reporting applies from 2026-09-11 (Art. 71(2)); awareness on 2026-06-01 starts no reporting clock"
    )
    assert "early warning by" not in table.stdout and "applies from 2026-09-11" in table.stdout


@pytest.mark.parametrize("command", ["run", "list"])
def test_watch_refuses_a_missing_or_foreign_store(files, tmp_path, command):
    # Given a mistyped store path, and the vulnerability database given as the store
    extra = ["--db", str(files["db"])] if command == "run" else []
    typo = tmp_path / "typo.sqlite"
    before = files["db"].read_bytes()
    missing = runner.invoke(app, ["watch", command, "--store", str(typo), *extra])
    foreign = runner.invoke(app, ["watch", command, "--store", str(files["db"]), *extra])
    # Then each is bad input, exit 2, in one line; nothing is created and the database is not written to
    assert missing.exit_code == 2 and "no product store here" in missing.stderr
    assert not typo.exists()
    assert foreign.exit_code == 2 and "not a cybersafe product store (another SQLite database" in foreign.stderr
    assert files["db"].read_bytes() == before
    added = runner.invoke(app, ["watch", "add", str(files["bom"]), "--product", "cam", "--store", str(files["db"])])
    assert added.exit_code == 2 and files["db"].read_bytes() == before


def test_sbom_check_lists_what_was_left_out(tmp_path):
    doc = json.loads(write_cyclonedx(tmp_path / "bom.json", "1.6", "json").read_text())
    doc["components"][0]["purl"] = "a-purl-1"
    (tmp_path / "bom.json").write_text(json.dumps(doc))
    result = runner.invoke(app, ["sbom", "check", str(tmp_path / "bom.json"), "--format", "json"])
    assert json.loads(result.stdout)["problems"] == ["components[0].purl: not a valid purl 'a-purl-1'; ignored"]
