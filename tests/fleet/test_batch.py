"""cybersafe batch on a Dask LocalCluster started by the test (small inputs): one assessment per product, the
summary files, a failing product recorded with its one-line error, a resumed run that skips what did not change
and assesses what did as a delta, the --scheduler path and the default local cluster."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cybersafe.cli import app
from cybersafe.errors import ClusterUnavailable, ManifestError
from cybersafe.fleet.batch import BatchOptions, Product, ProductResult, read_manifest, run_batch
from cybersafe.fleet.cluster import ClusterSpec
from tests.fleet.fleet_support import NOW, make_product


@pytest.fixture(scope="module")
def products(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> list[Product]:
    root = tmp_path_factory.mktemp("products")
    good = make_product(root / "cam-a", cache_dir=cache_dir, firmware_changes=None)
    weak = make_product(
        root / "cam-b", cache_dir=cache_dir, firmware_changes=None, dossier_changes=("universal-password",)
    )
    with_fw = make_product(root / "cam-fw", cache_dir=cache_dir)
    broken = root / "broken" / "dossier.yaml"
    broken.parent.mkdir()
    broken.write_text("schema: cybersafe/dossier/v1\nproduct: {name: no manufacturer}\n", encoding="utf-8")
    return [Product("cam-a", good), Product("cam-b", weak), Product("cam-fw", with_fw), Product("broken", broken)]


def run(
    products: list[Product], out: Path, scheduler: str, **options: object
) -> tuple[dict[str, ProductResult], list[int]]:
    seen: list[int] = []
    summary = run_batch(
        products,
        BatchOptions(now=NOW, **options),  # type: ignore[arg-type]
        out,
        ClusterSpec(scheduler=scheduler),
        on_result=lambda _r, done, _total: seen.append(done),
    )
    return {r.product: r for r in summary.results}, seen


@pytest.mark.slow
def test_batch_assesses_each_product_and_records_the_failure(
    products: list[Product], scheduler: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    results, seen = run(products, out, scheduler, reports=("html",))
    # progress: one call per product, done counting up to the total
    assert seen == [1, 2, 3, 4]
    assert {p: r.outcome for p, r in results.items()} == {
        "cam-a": "assessed",
        "cam-b": "assessed",
        "cam-fw": "assessed",
        "broken": "failed",
    }
    # the bad product: one line naming its file and field, and nothing written for it
    error = results["broken"].error or ""
    assert "broken/dossier.yaml" in error and "product.manufacturer" in error and "\n" not in error
    assert not (out / "broken").exists()
    for name in ("cam-a", "cam-b", "cam-fw"):
        for file in ("assessment.json", "report.html", "inputs.json", "result.json"):
            assert (out / name / file).is_file(), f"{name}/{file}"
    # each firmware scan ran in a worker and named the image
    fw = json.loads((out / "cam-fw" / "assessment.json").read_text(encoding="utf-8"))
    assert any(a["kind"] == "firmware" for a in fw["artefacts"])
    # the weak product fails the schemes a universal default password breaks
    psti = next(s for s in results["cam-b"].schemes if s.scheme == "uk-psti")
    assert psti.status == "fails" and results["cam-b"].meets is False
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["schema"] == "cybersafe/batch-summary/v1"
    assert (summary["products"], summary["assessed"], summary["failed"]) == (4, 3, 1)
    rows = list(csv.DictReader((out / "summary.csv").read_text(encoding="utf-8").splitlines()))
    header = (out / "summary.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    assert len(header) == len(set(header)), "a column name twice: a CSV reader keeps only one of them"
    assert {"product", "scheme", "status", "level", "pass", "fail", "error", "duration_s", "product_error"} <= set(
        rows[0]
    )
    assert any(r["product"] == "broken" and r["status"] == "failed" and r["product_error"] for r in rows)
    assert any(r["product"] == "cam-b" and r["scheme"] == "uk-psti" and r["status"] == "fails" for r in rows)
    # and a law met today only because most of it applies later says so, in the rows and in words
    cra = next(s for s in results["cam-b"].schemes if s.scheme == "eu-cra")
    assert cra.status == "meets" and cra.later == [{"date": "2027-12-11", "status": "fails"}]
    assert cra.status_in_words == "meets (from 2027-12-11: fails)"
    cra_row = next(r for r in rows if r["product"] == "cam-b" and r["scheme"] == "eu-cra")
    assert (cra_row["status"], cra_row["later"]) == ("meets", "2027-12-11 fails")


@pytest.mark.slow
def test_a_resumed_run_skips_unchanged_products_and_reassesses_changed_ones(
    products: list[Product], scheduler: str, tmp_path: Path, cache_dir: Path
) -> None:
    out = tmp_path / "out"
    run(products, out, scheduler)
    # When the batch runs again with nothing changed: every good product is skipped, the bad one tried again
    again, _ = run(products, out, scheduler)
    assert {p: r.outcome for p, r in again.items()} == {
        "cam-a": "reused",
        "cam-b": "reused",
        "cam-fw": "reused",
        "broken": "failed",
    }
    assert [s.status for s in again["cam-b"].schemes] == [s.status for s in again["cam-b"].schemes]  # rows kept
    assert again["cam-b"].schemes, "a skipped product keeps its summary rows"
    # When one product's dossier changes: only it is assessed, as a delta against its last assessment
    make_product(
        products[0].dossier.parent, cache_dir=cache_dir, firmware_changes=None, dossier_changes=("updates-manual",)
    )
    third, _ = run(products, out, scheduler)
    assert third["cam-a"].outcome == "assessed"
    assert "dossier" in third["cam-a"].changed_inputs
    assert third["cam-a"].delta is not None and third["cam-a"].delta["reused"] > third["cam-a"].delta["rerun"] > 0
    assert {third["cam-b"].outcome, third["cam-fw"].outcome} == {"reused"}
    # and --force assesses everything again
    forced, _ = run(products[:1], out, scheduler, force=True)
    assert forced["cam-a"].outcome == "assessed"


@pytest.mark.slow
def test_the_default_local_cluster_runs_the_same_code(products: list[Product], tmp_path: Path) -> None:
    summary = run_batch(products[:1], BatchOptions(now=NOW), tmp_path / "out", ClusterSpec(workers=1))
    assert summary.cluster == "local, 1 worker"
    assert summary.results[0].outcome == "assessed"


@pytest.mark.slow
def test_cli_batch_with_a_manifest_on_a_scheduler(products: list[Product], scheduler: str, tmp_path: Path) -> None:
    manifest = tmp_path / "products.yaml"
    lines = ["products:"] + [f"  - {{dossier: {p.dossier}, id: {p.id}}}" for p in products[:2]]
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    args = ["batch", "--manifest", str(manifest), "--out", str(out), "--scheduler", scheduler]
    result = CliRunner().invoke(app, [*args, "--now", NOW.isoformat(), "--format", "json"])
    # cam-b does not meet its judged schemes: exit 1
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert [r["product"] for r in data["results"]] == ["cam-a", "cam-b"]
    assert (out / "summary.csv").is_file()
    # and the table a person reads says when a law met today stops being met
    shown = CliRunner().invoke(app, [*args, "--now", NOW.isoformat(), "--force"], env={"COLUMNS": "250"})
    assert "eu-cra: meets (from 2027-12-11: fails)" in shown.stdout, shown.stdout


def test_manifest_errors_are_one_line(tmp_path: Path) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text("products:\n  - {dossier: a/dossier.yaml, id: same}\n  - {dossier: b/dossier.yaml, id: same}\n")
    with pytest.raises(ManifestError, match="used twice"):
        read_manifest(manifest)
    manifest.write_text("products:\n  - {dossier: a.yaml, colour: blue}\n")
    with pytest.raises(ManifestError, match=r"m.yaml:2: products\[0\]"):
        read_manifest(manifest)
    manifest.write_text("products: [a/dossier.yaml, b/dossier.yaml, b/other.yaml]\n")
    assert [p.id for p in read_manifest(manifest)] == ["a", "b", "other"]
    result = CliRunner().invoke(app, ["batch", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "--manifest" in result.output


def test_an_unreachable_scheduler_is_one_line(tmp_path: Path, products: list[Product]) -> None:
    with pytest.raises(ClusterUnavailable, match=r"no Dask scheduler answers at tcp://127\.0\.0\.1:9"):
        run_batch(products[:1], BatchOptions(now=NOW), tmp_path / "o", ClusterSpec(scheduler="tcp://127.0.0.1:9"))


def test_a_worker_that_died_fails_its_product_only() -> None:
    from cybersafe.fleet.batch import _result_of

    class KilledWorker(Exception):
        pass

    class Future:
        def result(self) -> ProductResult:
            raise KilledWorker("attempted to run task on 2 different workers, all died")

    result = _result_of(Future(), Product("cam", Path("/x/dossier.yaml")))
    assert result.outcome == "failed"
    assert result.error is not None and "worker died" in result.error


def test_copying_a_product_keeps_its_own_id(tmp_path: Path) -> None:
    from cybersafe.fleet.batch import products_from_paths

    for name in ("x", "y"):
        (tmp_path / name / "cam").mkdir(parents=True)
        shutil.copyfile(__file__, tmp_path / name / "cam" / "dossier.yaml")
    ids = [p.id for p in products_from_paths([tmp_path / "x/cam/dossier.yaml", tmp_path / "y/cam/dossier.yaml"])]
    assert ids == ["cam", "y-cam"]


@pytest.mark.slow
def test_a_damaged_previous_run_is_assessed_again_never_reused_or_failed(
    products: list[Product], scheduler: str, tmp_path: Path
) -> None:
    # Given three products assessed once
    out = tmp_path / "out"
    first, _ = run(products[:2], out, scheduler)
    assert {r.outcome for r in first.values()} == {"assessed"}
    # When cam-a's assessment is damaged and cam-b's summary row carries a field this code never wrote
    (out / "cam-a" / "assessment.json").write_text("{garbage", encoding="utf-8")
    row = json.loads((out / "cam-b" / "result.json").read_text(encoding="utf-8"))
    row["schemes"][0]["extra"] = 1
    (out / "cam-b" / "result.json").write_text(json.dumps(row), encoding="utf-8")
    again, _ = run(products[:2], out, scheduler)
    # Then neither is reused as it stands, neither fails: cam-a is assessed in full (the damaged file cannot be a
    # baseline, and the summary says why), cam-b is assessed again against its intact assessment
    assert {p: r.outcome for p, r in again.items()} == {"cam-a": "assessed", "cam-b": "assessed"}
    assert again["cam-a"].delta is None
    assert again["cam-a"].notes == [
        f"previous assessment not usable as the baseline, assessed in full: {out / 'cam-a' / 'assessment.json'}:1: "
        "malformed JSON: Expecting property name enclosed in double quotes"
    ]
    assert again["cam-b"].delta is not None and again["cam-b"].delta["rerun"] == 0
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["products"] == 2
    # and a third run, with the files as this code wrote them, reuses both
    third, _ = run(products[:2], out, scheduler)
    assert {r.outcome for r in third.values()} == {"reused"}


def test_manifest_ids_are_directory_names_of_their_own(tmp_path: Path) -> None:
    # Given manifests naming a product '..', '.', '.hidden' or after the summary's own files
    manifest = tmp_path / "m.yaml"
    for ident, why in [
        ("..", "must not start with '.'"),
        (".", "must not start with '.'"),
        (".hidden", "must not start with '.'"),
        ("summary.json", "'summary.json' is the batch summary's own file name"),
        ("summary.csv", "'summary.csv' is the batch summary's own file name"),
        ("a/b", "letters, digits"),
    ]:
        manifest.write_text(f'products:\n  - {{dossier: a/dossier.yaml, id: "{ident}"}}\n', encoding="utf-8")
        # Then each is refused in one line naming the manifest, the line and the field
        with pytest.raises(ManifestError, match=rf"m\.yaml:2: products\[0\]\.id: id: {why}"):
            read_manifest(manifest)
    # and an id derived from a path never collides with them
    manifest.write_text("products: [summary.json.yaml]\n", encoding="utf-8")
    assert [p.id for p in read_manifest(manifest)] == ["summary.json-product"]


def test_a_symlink_loop_is_bad_input_not_a_crash(tmp_path: Path) -> None:
    # Given a dossier path, a manifest entry and a catalog directory that are links in a loop
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    manifest = tmp_path / "m.yaml"
    manifest.write_text("products:\n  - {dossier: loop1}\n", encoding="utf-8")
    out = str(tmp_path / "out")
    runs = [
        ["batch", str(tmp_path / "loop1"), "--out", out],
        ["batch", "--manifest", str(manifest), "--out", out],
        ["batch", str(manifest), "--catalog", str(tmp_path / "loop1"), "--out", out],
    ]
    for args in runs:
        result = CliRunner().invoke(app, args)
        # Then each is exit 2 with one line naming the path, never an internal error
        assert result.exit_code == 2, result.output
        assert "cannot resolve the path" in result.stderr and "loop1" in result.stderr
        assert "internal error" not in result.output + result.stderr
    manifest_run = CliRunner().invoke(app, runs[1])
    assert "m.yaml:2: products[0]" in manifest_run.stderr


def test_a_later_day_changes_the_key_of_a_product_with_firmware_only(products: list[Product]) -> None:
    import datetime as dt

    from cybersafe.fleet.batch import input_key

    # Given the same --now, run on two wall-clock days
    day = dt.date(2026, 12, 5)
    options = BatchOptions(now=NOW, scheme_refs=("uk-psti", "eu-cra"))
    keys = {p.id: (input_key(p, options, day), input_key(p, options, day + dt.timedelta(days=1))) for p in products[:3]}
    # Then only the product with firmware has a changed input (its scan judges certificate expiry on the day)
    changed = {pid: sorted(k for k in a if a[k] != b[k]) for pid, (a, b) in keys.items()}
    assert changed == {"cam-a": [], "cam-b": [], "cam-fw": ["firmware:date"]}
    # and the order the schemes are given in is no change
    again = input_key(products[0], BatchOptions(now=NOW, scheme_refs=("eu-cra", "uk-psti")), day)
    assert again == keys["cam-a"][0]


def test_a_product_s_files_are_read_once_for_its_key_and_its_assessment(
    products: list[Product], monkeypatch: pytest.MonkeyPatch
) -> None:
    import cybersafe.assess
    import cybersafe.dossier.loader as loader
    import cybersafe.inputs as inputs
    from cybersafe.fleet.batch import assess_product, input_key

    # Given the product with firmware, and counters on the dossier reader and the input digests
    product = next(p for p in products if p.id == "cam-fw")
    options = BatchOptions(now=NOW, scheme_refs=("uk-psti", "eu-cra"))
    digested: list[Path] = []
    dossiers: list[Path] = []
    real_digest, real_load = inputs.sha256_path, loader.load_dossier
    monkeypatch.setattr(inputs, "sha256_path", lambda path: digested.append(path) or real_digest(path))
    counted = lambda path, *a, **k: dossiers.append(path) or real_load(path, *a, **k)  # noqa: E731
    monkeypatch.setattr(loader, "load_dossier", counted)
    monkeypatch.setattr(cybersafe.assess, "load_dossier", counted)
    # When batch assesses it
    result = assess_product(product, options, None, None)
    # Then the dossier was read once, and the firmware image hashed once for the key (the scan reads it on its own)
    assert result.outcome == "assessed", result.error
    assert dossiers == [product.dossier]
    firmware = [p for p in digested if p.suffix == ".img"]
    assert len(firmware) == 1, digested
    # and the assessment records the digests the key compared
    recorded = json.loads(result.files["assessment.json"])["inputs"]["digests"]
    key = input_key(product, options)
    assert {name: recorded[name] for name in ("firmware", "sbom", "vex", "vulndb", "device")} == {
        name: key[name] for name in ("firmware", "sbom", "vex", "vulndb", "device")
    }


def test_a_baseline_batch_wrote_is_not_digested_again_unless_its_bytes_changed(
    products: list[Product], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cybersafe import jsonio
    from cybersafe.fleet.batch import assess_product, input_key
    from cybersafe.results import Assessment, load_assessment

    # Given a product's assessment as batch wrote it, with the digest and file sha256 it recorded
    options = BatchOptions(now=NOW, scheme_refs=("uk-psti", "eu-cra"))
    product = next(p for p in products if p.id == "cam-b")
    first = assess_product(product, options, None, None)
    baseline = tmp_path / "assessment.json"
    baseline.write_bytes(first.files["assessment.json"])
    assert first.assessment_sha256 is not None and first.digest is not None
    recorded = (first.assessment_sha256, first.digest)
    digested: list[str] = []
    real = Assessment.digest

    def counted(self: Assessment, written: jsonio.Json | None = None) -> str:
        digested.append("baseline" if written is None else "new")
        return real(self, written)

    monkeypatch.setattr(Assessment, "digest", counted)
    # When the next run takes it as its baseline: the recorded digest is used, not computed again
    key = input_key(product, options)
    second = assess_product(product, options, {**key, "dossier": "edited"}, str(baseline), recorded)
    assert digested == ["new"]
    assert json.loads(second.files["assessment.json"])["delta"]["baseline"] == first.digest
    # When the file's bytes are no longer the recorded ones (the same assessment, written differently): computed
    digested.clear()
    baseline.write_text(json.dumps(json.loads(baseline.read_text()), indent=1), encoding="utf-8")
    third = assess_product(product, options, {**key, "dossier": "edited"}, str(baseline), recorded)
    assert digested == ["baseline", "new"]
    assert json.loads(third.files["assessment.json"])["delta"]["baseline"] == load_assessment(baseline).digest()
    # When the last run was made by another cybersafe (whose model may read the same bytes otherwise): computed
    digested.clear()
    baseline.write_bytes(first.files["assessment.json"])
    older = {"tool": "cybersafe 0.0.1"}
    assert assess_product(product, options, older, str(baseline), recorded).outcome == "assessed"
    assert digested == ["baseline", "new"]
