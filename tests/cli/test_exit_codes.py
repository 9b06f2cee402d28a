"""Every ordinary mistake on every command exits 2 with one line naming the input; the --fail-on gate.

The table drives each command with the bad inputs a new user or a CI job makes: dates that are no dates,
``--out`` naming a file, ``-o`` into a directory that does not exist, missing, unreadable and malformed
inputs (dossier, assessment, SBOM, VEX, vulnerability database, product store, config file, keys), unknown
schemes, markets and kinds, bad option values. Each must give exit code 2 and one line on stderr naming the
input: never a traceback, never "a bug in cybersafe" (exit 3).

Commands owned by other work (firmware scan, registry, verify, batch, diff, watch run) are not in the table.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from tests._sbom_builders import osv_corpus, write_cyclonedx, write_osv_zip
from tests.conftest import EXAMPLE_DOSSIER
from typer.testing import CliRunner

from cybersafe.cli import app

runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]
ASSESSMENT = REPO / "tests" / "label" / "data" / "assessment.json"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Good and bad inputs, by name; the table refers to them as {name}."""
    root = tmp_path_factory.mktemp("exit-codes")
    files = {
        "bad_yaml": "product: [unclosed\n",
        "list_yaml": "- just\n- a list\n",
        "bad_json": '{"schema": ',
        "not_sbom": '{"hello": "world"}\n',
        "not_sqlite": "this is not a database\n",
        "bad_toml": "[assess\n",
        "a_file": "I am a file\n",
        "not_a_key": "-----BEGIN NOTHING-----\n",
    }
    paths = {name: root / name for name in files}
    for name, text in files.items():
        paths[name].write_text(text, encoding="utf-8")
    (root / "garbage").write_bytes(b"\xff\xfe\x00\x01binary\x80garbage")
    (root / "a_dir").mkdir()
    example = shutil.copytree(EXAMPLE_DOSSIER.parent, root / "example")
    (example / "market.yaml").write_text(
        EXAMPLE_DOSSIER.read_text(encoding="utf-8").replace("markets: [us, eu, uk, sg]", "markets: [us, xx]"),
        encoding="utf-8",
    )
    from cybersafe.attest.keys import generate_keypair

    key, _ = generate_keypair(root, "issuer")
    sbom = write_cyclonedx(root / "bom.json", "1.6", "json")
    db = root / "db.sqlite"
    zipped = write_osv_zip(root / "all.zip", osv_corpus(), {})
    assert runner.invoke(app, ["vulndb", "import", str(zipped), "--db", str(db), "--format", "json"]).exit_code == 0
    named = {name: str(path) for name, path in paths.items()}
    return {
        **named,
        "garbage": str(root / "garbage"),
        "a_dir": str(root / "a_dir"),
        "market": str(example / "market.yaml"),
        "missing": str(root / "missing.yaml"),
        "missing_dir_file": str(root / "no-such-dir" / "out.json"),
        "dossier": str(EXAMPLE_DOSSIER),
        "assessment": str(ASSESSMENT),
        "sbom": str(sbom),
        "db": str(db),
        "key": str(key),
    }


def _case(id_: str, needle: str, *args: str) -> object:
    return pytest.param(args, needle, id=id_)


BAD_INPUTS = [
    # dates
    _case("assess-now", "--now", "assess", "{dossier}", "--now", "yesterday"),
    _case("recognize-now", "--now", "recognize", "--have", "sg-cls:2", "--want", "fi-traficom", "--now", "soon"),
    _case("demo-now", "--now", "demo", "--now", "2026-13-45"),
    _case("vex-timestamp", "--timestamp", "sbom", "vex", "{sbom}", "--db", "{db}", "--timestamp", "noon"),
    _case("watch-run-aware-at", "--aware-at", "watch", "run", "--db", "{db}", "--aware-at", "later"),
    _case("label-issue-now", "--now", "label", "issue", "{assessment}", "-s", "sg-cls", "-k", "{key}",
          "--now", "tomorrow", "--out", "{a_dir}"),
    # --out naming a file, -o into a missing directory
    _case("assess-out-file", "{a_file}", "assess", "{dossier}", "--out", "{a_file}"),
    _case("demo-out-file", "{a_file}", "demo", "--out", "{a_file}"),
    _case("paperwork-out-file", "{a_file}", "paperwork", "{assessment}", "--out", "{a_file}"),
    _case("label-issue-out-file", "{a_file}", "label", "issue", "{assessment}", "-s", "sg-cls", "-k", "{a_file}",
          "--out", "{a_file}"),
    _case("keys-out-file", "{a_file}", "keys", "generate", "--out", "{a_file}"),
    _case("report-o-missing-dir", "no-such-dir", "report", "{assessment}", "-o", "{missing_dir_file}"),
    _case("vex-o-missing-dir", "no-such-dir", "sbom", "vex", "{sbom}", "--db", "{db}", "-o", "{missing_dir_file}"),
    _case("vex-o-dir", "{a_dir}", "sbom", "vex", "{sbom}", "--db", "{db}", "-o", "{a_dir}"),
    _case("generate-o-missing-dir", "no-such-dir", "sbom", "generate", "{a_file}", "-o", "{missing_dir_file}"),
    _case("label-render-o-missing-dir", "no-such-dir", "label", "render", "{a_file}", "-o", "{missing_dir_file}"),
    # missing, unreadable and malformed dossiers
    _case("assess-missing", "{missing}", "assess", "{missing}"),
    _case("assess-dir", "{a_dir}", "assess", "{a_dir}"),
    _case("assess-bad-yaml", "{bad_yaml}", "assess", "{bad_yaml}"),
    _case("assess-list-yaml", "{list_yaml}", "assess", "{list_yaml}"),
    _case("assess-garbage", "{garbage}", "assess", "{garbage}"),
    _case("recognize-dossier-missing", "{missing}", "recognize", "--have", "sg-cls:2", "--want", "fi-traficom",
          "-d", "{missing}"),
    _case("recognize-dossier-bad", "{bad_yaml}", "recognize", "--have", "sg-cls:2", "--want", "fi-traficom",
          "-d", "{bad_yaml}"),
    _case("probe-dossier-bad", "{bad_yaml}", "probe", "127.0.0.1", "--dossier", "{bad_yaml}"),
    # assessments
    _case("report-missing", "{missing}", "report", "{missing}"),
    _case("report-bad-json", "{bad_json}", "report", "{bad_json}"),
    _case("report-not-assessment", "{not_sbom}", "report", "{not_sbom}"),
    _case("report-garbage", "{garbage}", "report", "{garbage}"),
    _case("report-dir", "{a_dir}", "report", "{a_dir}"),
    _case("paperwork-bad-json", "{bad_json}", "paperwork", "{bad_json}", "--out", "{a_dir}"),
    _case("label-issue-bad-json", "{bad_json}", "label", "issue", "{bad_json}", "-s", "sg-cls", "-k", "{a_file}",
          "--out", "{a_dir}"),
    _case("label-issue-bad-key", "{not_a_key}", "label", "issue", "{assessment}", "-s", "sg-cls",
          "-k", "{not_a_key}", "--out", "{a_dir}"),
    _case("label-render-bad-label", "{bad_json}", "label", "render", "{bad_json}", "-o", "{a_dir}/x.svg"),
    _case("label-render-missing", "{missing}", "label", "render", "{missing}"),
    # SBOMs, VEX, databases, stores
    _case("check-missing", "{missing}", "sbom", "check", "{missing}"),
    _case("check-bad-json", "{bad_json}", "sbom", "check", "{bad_json}"),
    _case("check-not-sbom", "{not_sbom}", "sbom", "check", "{not_sbom}"),
    _case("check-garbage", "{garbage}", "sbom", "check", "{garbage}"),
    _case("check-dir", "{a_dir}", "sbom", "check", "{a_dir}"),
    _case("vulns-bad-sbom", "{not_sbom}", "sbom", "vulns", "{not_sbom}", "--db", "{db}"),
    _case("vulns-missing-db", "{missing}", "sbom", "vulns", "{sbom}", "--db", "{missing}"),
    _case("vulns-not-sqlite", "{not_sqlite}", "sbom", "vulns", "{sbom}", "--db", "{not_sqlite}"),
    _case("vulns-bad-vex", "{bad_json}", "sbom", "vulns", "{sbom}", "--db", "{db}", "--vex", "{bad_json}"),
    _case("vulns-missing-vex", "{missing}", "sbom", "vulns", "{sbom}", "--db", "{db}", "--vex", "{missing}"),
    _case("vex-bad-product", "my camera", "sbom", "vex", "{sbom}", "--db", "{db}", "--product", "my camera"),
    _case("compare-bad-declared", "{bad_json}", "sbom", "compare", "{bad_json}", "{sbom}"),
    _case("compare-missing-observed", "{missing}", "sbom", "compare", "{sbom}", "{missing}"),
    _case("import-missing", "{missing}", "vulndb", "import", "{missing}", "--db", "{a_dir}/new.sqlite"),
    _case("import-not-sqlite", "{not_sqlite}", "vulndb", "import", "{sbom}", "--db", "{not_sqlite}"),
    _case("info-not-sqlite", "{not_sqlite}", "vulndb", "info", "--db", "{not_sqlite}"),
    _case("info-missing", "{missing}", "vulndb", "info", "--db", "{missing}"),
    _case("watch-add-bad-sbom", "{not_sbom}", "watch", "add", "{not_sbom}", "-p", "Cam", "--store",
          "{a_dir}/store.sqlite"),
    _case("watch-add-not-sqlite", "{not_sqlite}", "watch", "add", "{sbom}", "-p", "Cam", "--store", "{not_sqlite}"),
    _case("watch-list-not-sqlite", "{not_sqlite}", "watch", "list", "--store", "{not_sqlite}"),
    _case("generate-missing-image", "{missing}", "sbom", "generate", "{missing}"),
    # config files
    _case("config-bad-toml", "{bad_toml}", "--config", "{bad_toml}", "schemes"),
    _case("config-missing", "{missing}", "--config", "{missing}", "schemes"),
    _case("config-garbage", "{garbage}", "--config", "{garbage}", "schemes"),
    # unknown schemes, markets, kinds, levels
    _case("assess-unknown-scheme", "no-such-scheme", "assess", "{dossier}", "--scheme", "no-such-scheme"),
    _case("assess-unknown-market", "market.yaml: markets: no scheme in the catalog decides market 'xx'", "assess", "{market}"),
    _case("scheme-show-unknown", "no-such-scheme", "scheme", "show", "no-such-scheme"),
    _case("scheme-show-bad-level", "9", "scheme", "show", "sg-cls", "--level", "9"),
    _case("crosswalk-unknown", "no-such-scheme", "crosswalk", "no-such-scheme", "sg-cls"),
    _case("recognize-unknown", "no-such-scheme", "recognize", "--have", "no-such-scheme", "--want", "sg-cls"),
    _case("label-issue-unknown-scheme", "no-such-scheme", "label", "issue", "{assessment}", "-s", "no-such-scheme",
          "-k", "{key}", "--out", "{a_dir}"),
    _case("paperwork-unknown-kind", "no-such-kind", "paperwork", "{assessment}", "--kind", "no-such-kind",
          "--out", "{a_dir}"),
    _case("schemes-catalog-missing", "{missing}", "schemes", "--catalog", "{missing}"),
    # bad option values
    _case("assess-fail-on", "--fail-on", "assess", "{dossier}", "--fail-on", "severe"),
    _case("vulns-fail-on", "--fail-on", "sbom", "vulns", "{sbom}", "--db", "{db}", "--fail-on", "severe"),
    _case("probe-fail-on", "--fail-on", "probe", "127.0.0.1", "--fail-on", "severe"),
    _case("probe-bad-port", "99999", "probe", "127.0.0.1", "--ports", "99999"),
    _case("report-format", "--format", "report", "{assessment}", "--format", "docx"),
    _case("label-render-format", "--format", "label", "render", "{a_file}", "--format", "gif"),
    _case("assess-format", "--format", "assess", "{dossier}", "--format", "yaml"),
    _case("unknown-option", "--bogus", "schemes", "--bogus"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "needle"), BAD_INPUTS)
def test_an_ordinary_mistake_exits_2_with_one_line_naming_the_input(
    inputs: dict[str, str], args: tuple[str, ...], needle: str
) -> None:
    # Given a command with one bad input
    argv = [a.format(**inputs) for a in args]
    # When it runs
    result = runner.invoke(app, argv, env={"COLUMNS": "300"})
    # Then exit code 2, one line on stderr naming the input, nothing that reads as a crash
    err = result.stderr
    assert result.exit_code == 2, f"exit {result.exit_code}: {err or result.stdout}"
    assert needle.format(**inputs) in err, err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in result.output and "bug in cybersafe" not in err


def test_vex_with_a_plain_product_name_writes_nothing(inputs: dict[str, str], tmp_path: Path) -> None:
    # Given a product named as people name it, not by IRI
    out = tmp_path / "vex.json"
    result = runner.invoke(app, ["sbom", "vex", inputs["sbom"], "--db", inputs["db"], "--product", "my camera",
                                 "-o", str(out)])  # fmt: skip
    # Then it is refused in one line with a suggestion, and no document is written
    assert result.exit_code == 2 and "pkg:generic/" in result.stderr
    assert not out.exists()


def test_every_command_states_the_exit_codes_in_its_help() -> None:
    import typer.main

    from cybersafe.cli.conventions import EXIT_CODES_EPILOG, walk

    commands = [path for path, c in walk(typer.main.get_command(app)) if path and not hasattr(c, "commands")]
    assert len(commands) > 20
    for path in commands:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "400"})
        assert result.exit_code == 0
        assert " ".join(EXIT_CODES_EPILOG.split()) in " ".join(result.stdout.split()), path


# --- the gate -------------------------------------------------------------------------------------------


def _vulns(inputs: dict[str, str], *extra: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, ["sbom", "vulns", inputs["sbom"], "--db", inputs["db"], "--format", "json", *extra])
    return result.exit_code, json.loads(result.stdout) if result.stdout else {}


def test_sbom_vulns_fail_on(inputs: dict[str, str]) -> None:
    # Given the SBOM's matches and their severities (unknown weighed as high by the severity policy)
    code, report = _vulns(inputs)
    matches = [m for m in report["matches"] if not m.get("suppressed")]
    assert code == 1 and matches
    order = ["low", "medium", "high", "critical"]
    weighed = [{"unknown": "high"}.get(m["severity"], m["severity"]) for m in matches]
    top = max((s for s in weighed if s in order), key=order.index)
    # Then a gate at the highest severity trips (exit 1), one above it does not (exit 0), none never does
    assert _vulns(inputs, "--fail-on", top)[0] == 1
    if top != "critical":
        assert _vulns(inputs, "--fail-on", order[order.index(top) + 1])[0] == 0
    assert _vulns(inputs, "--fail-on", "none")[0] == 0


def test_sbom_vulns_fail_on_below_every_match(inputs: dict[str, str], tmp_path: Path) -> None:
    # Given an SBOM whose only match is of low severity: a medium gate passes, a low gate trips
    from tests._sbom_builders import osv, pkg, rng

    db = tmp_path / "low.sqlite"
    record = osv("GHSA-low-only", [pkg("PyPI", "Jinja2", [rng("ECOSYSTEM", ("introduced", "0"))])], severity="LOW")
    zipped = write_osv_zip(tmp_path / "low.zip", [record], {})
    assert runner.invoke(app, ["vulndb", "import", str(zipped), "--db", str(db)]).exit_code == 0
    base = ["sbom", "vulns", inputs["sbom"], "--db", str(db), "--format", "json"]
    result = runner.invoke(app, base)
    assert result.exit_code == 1 and {m["severity"] for m in json.loads(result.stdout)["matches"]} == {"low"}
    assert runner.invoke(app, [*base, "--fail-on", "medium"]).exit_code == 0
    assert runner.invoke(app, [*base, "--fail-on", "low"]).exit_code == 1


@pytest.fixture(scope="module")
def medium_failure(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example product with no factory reset declared: one failing finding, of medium severity
    (declaration.data-deletion), that feeds the schemes of its markets."""
    example = shutil.copytree(EXAMPLE_DOSSIER.parent, tmp_path_factory.mktemp("gate") / "example")
    dossier = example / "dossier.yaml"
    text = dossier.read_text(encoding="utf-8")
    assert text.count("factory_reset: true") == 1
    dossier.write_text(text.replace("factory_reset: true", "factory_reset: false"), encoding="utf-8")
    return dossier


@pytest.mark.parametrize(
    ("fail_on", "expected"),
    [
        pytest.param("low", 1, id="below-the-finding-trips"),
        pytest.param("medium", 1, id="at-the-finding-trips"),
        pytest.param("high", 0, id="above-the-finding-passes"),
        pytest.param("none", 0, id="none-never-trips"),
    ],
)
def test_assess_fail_on(medium_failure: Path, fail_on: str, expected: int) -> None:
    # Given a product whose only failing finding is medium
    result = runner.invoke(
        app, ["assess", str(medium_failure), "--now", "2026-12-01", "--format", "json", "--fail-on", fail_on]
    )
    assert result.exit_code == expected, result.stderr
    failing = [
        (c["check_id"], f["severity"])
        for c in json.loads(result.stdout)["checks"]
        for f in c["findings"]
        if f["verdict"] == "fail"
    ]
    assert failing == [("declaration.data-deletion", "medium")]


@pytest.mark.parametrize("command", ["report", "paperwork"])
def test_a_bad_source_date_epoch_is_exit_2_naming_it(command: str, tmp_path: Path) -> None:
    # SOURCE_DATE_EPOCH (reproducible builds) that is no number of seconds is bad input, not a bug
    args = [command, str(ASSESSMENT), *(["--out", str(tmp_path)] if command == "paperwork" else [])]
    result = runner.invoke(app, args, env={"SOURCE_DATE_EPOCH": "last tuesday"})
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: SOURCE_DATE_EPOCH: ") and len(result.stderr.strip().splitlines()) == 1
