"""Assess many products on a Dask cluster: ``cybersafe batch DOSSIER... | --manifest FILE --out DIR``.

One task per product, each in a worker process of the cluster (cluster.py). A task reads the dossier and its
artefacts where the dossier says (so a remote cluster needs the same paths: a shared file system), assesses
the product and returns the assessment, the reports asked for and its summary rows; the client writes them:

    DIR/<product>/assessment.json   the assessment (cybersafe/assessment/v1)
    DIR/<product>/report.<fmt>      each --report format
    DIR/<product>/inputs.json       the digests that decide whether a re-run may skip it
    DIR/<product>/result.json       its summary row
    DIR/summary.json, summary.csv   every product: per scheme its status, level and counts; duration; errors

A product that cannot be assessed is recorded as failed with its one-line error; the others go on. A re-run
skips a product whose inputs are all unchanged (dossier, firmware, SBOM, VEX, vulnerability database version,
device, cybersafe and catalog versions, schemes, reports and the assessment date), by digest; one whose inputs
changed is assessed as a delta against its previous assessment (cybersafe/delta.py) unless ``full`` is set.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cybersafe.errors import CybersafeError, FleetError, ManifestError
from cybersafe.fleet.cluster import ClusterSpec, describe, open_client

if TYPE_CHECKING:
    from cybersafe.dossier.model import Dossier

SUMMARY_SCHEMA = "cybersafe/batch-summary/v1"
_ID = re.compile(r"[^A-Za-z0-9._-]+")
_CSV_COUNTS = ("pass", "fail", "inconclusive", "not_applicable", "error", "justified", "pending")
# "product_error", not "error": that is already the column counting requirements whose verdict is error
_CSV_HEADER = ("product", "outcome", "scheme", "version", "status", "level", *_CSV_COUNTS, "judged", "later",
               "duration_s", "product_error")  # fmt: skip


@dataclass(frozen=True)
class Product:
    id: str  # directory name under DIR; unique
    dossier: Path  # absolute


@dataclass(frozen=True)
class BatchOptions:
    now: dt.datetime
    scheme_refs: tuple[str, ...] = ()
    catalog_dirs: tuple[Path, ...] = ()
    reports: tuple[str, ...] = ()  # render.interface.OutputFormat values
    budget: str = "standard"
    full: bool = False  # never a delta against the previous assessment
    force: bool = False  # never skip, even with unchanged inputs


@dataclass
class SchemeRow:
    scheme: str
    version: str
    status: str
    level: str | None
    counts: dict[str, int]
    judged: bool
    # the status from each later date on which more of the scheme applies ({"date", "status"}): a law that is met
    # today because most of it applies only later must not read as met for good
    later: list[dict[str, str]] = field(default_factory=list)

    @property
    def status_in_words(self) -> str:
        from cybersafe.render._summary import later_step

        level = f" {self.level}" if self.level else ""
        upcoming = "; ".join(later_step(step["date"], step["status"]) for step in self.later)
        return f"{self.status}{level}" + (f" ({upcoming})" if upcoming else "")


@dataclass
class ProductResult:
    product: str
    dossier: str
    outcome: str  # assessed / reused / failed
    duration_s: float = 0.0
    error: str | None = None
    meets: bool | None = None  # every judged scheme met (or pending, later, out of scope)
    failing: list[str] = field(default_factory=list)  # severities of failing findings that feed judged schemes
    digest: str | None = None
    delta: dict[str, Any] | None = None  # reused / rerun counts and skipped collectors of a delta run
    changed_inputs: list[str] = field(default_factory=list)  # why it was not skipped
    notes: list[str] = field(default_factory=list)  # what the run did otherwise than asked, and why
    assessment_sha256: str | None = None  # of DIR/<product>/assessment.json as written: a reuse checks it
    schemes: list[SchemeRow] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict, repr=False)  # name -> content, written by the client

    def row(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("files")
        return out


# --- products -----------------------------------------------------------------------------------------


# names DIR holds besides the product directories: no product may be called so
_RESERVED_IDS = frozenset({"summary.json", "summary.csv"})


def product_id(path: Path) -> str:
    """``cams/nl-cam2/dossier.yaml`` -> ``nl-cam2``; ``acme-hub.yaml`` -> ``acme-hub``."""
    stem = path.parent.name if path.stem in ("dossier", "product") and path.parent.name else path.stem
    ident = _ID.sub("-", stem).strip("-.") or "product"
    return f"{ident}-product" if ident in _RESERVED_IDS else ident


def id_problem(ident: str) -> str | None:
    """Why ``ident`` cannot name a product's directory under DIR, or None."""
    if not ident or _ID.sub("-", ident) != ident:
        return "letters, digits, '.', '_' and '-' only"
    if ident.startswith("."):
        return "must not start with '.' ('.' and '..' are not directories of their own)"
    if ident in _RESERVED_IDS:
        return f"{ident!r} is the batch summary's own file name"
    return None


def resolve_path(path: Path, error: type[CybersafeError] = FleetError, **where: Any) -> Path:
    """``path`` made absolute with its links followed; a link loop is bad input, not a crash."""
    try:
        return path.resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop before Python 3.13
        raise error(f"{path}: cannot resolve the path ({exc})", **where) from None


def products_from_paths(paths: Iterable[Path]) -> list[Product]:
    """Products named on the command line; ids made unique with the parent directory, then a number."""
    out: list[Product] = []
    seen: set[str] = set()
    for path in paths:
        resolved = resolve_path(path)
        candidate = product_id(resolved)
        if candidate in seen:
            candidate = _ID.sub("-", f"{resolved.parent.parent.name}-{candidate}").strip("-.")
        base, n = candidate, 2
        while candidate in seen:
            candidate, n = f"{base}-{n}", n + 1
        seen.add(candidate)
        out.append(Product(candidate, resolved))
    return out


def read_manifest(path: Path) -> list[Product]:
    """A YAML (or JSON) manifest: ``products: [{dossier: PATH, id: NAME}, ...]``, or a list of dossier paths.

    Paths are relative to the manifest; ``id`` is optional (default: from the path) and must be unique."""
    from cybersafe.yamlio import load_yaml

    doc = load_yaml(path, ManifestError)
    data = doc.data.get("products") if isinstance(doc.data, dict) else doc.data
    if not isinstance(data, list) or not data:
        raise ManifestError("expected a non-empty list under 'products'", file=path, field="products")
    entries: list[tuple[Path, str | None]] = []
    for i, item in enumerate(data):
        where = f"products[{i}]"
        line = doc.line_of(("products", i) if isinstance(doc.data, dict) else (i,))
        if isinstance(item, str):
            entries.append((resolve_path(path.parent / item, ManifestError, file=path, line=line, field=where), None))
        elif isinstance(item, dict) and isinstance(item.get("dossier"), str) and set(item) <= {"dossier", "id"}:
            ident = item.get("id")
            problem = id_problem(ident) if isinstance(ident, str) else "a name" if ident is not None else None
            if problem is not None:
                raise ManifestError(f"id: {problem}", file=path, line=line, field=f"{where}.id")
            dossier = resolve_path(path.parent / item["dossier"], ManifestError, file=path, line=line, field=where)
            entries.append((dossier, ident))
        else:
            raise ManifestError(
                "expected a dossier path or {dossier: PATH, id: NAME}", file=path, line=line, field=where
            )
    products = products_from_paths(p for p, _ in entries)
    out = [Product(ident or p.id, p.dossier) for p, (_, ident) in zip(products, entries, strict=True)]
    ids = [p.id for p in out]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ManifestError(f"product id {duplicates[0]!r} is used twice", file=path, field="products")
    return out


# --- the task, on a worker ----------------------------------------------------------------------------

_CATALOGS: dict[tuple[Path, ...], Any] = {}  # per worker process: loading a catalog takes seconds
_MEMOS: dict[tuple[Path, ...], Any] = {}  # per worker process: scheme summaries seen (schemes/memo.py)


def _catalog(dirs: tuple[Path, ...]) -> Any:
    from cybersafe.cli._common import catalog_for

    if dirs not in _CATALOGS:
        _CATALOGS[dirs] = catalog_for(list(dirs) or None)
    return _CATALOGS[dirs]


def _memo(dirs: tuple[Path, ...]) -> Any:
    """The worker's summary memo for a catalog: products of one line share verdict patterns, and the memo is held
    to the plain evaluator's answers by its own property test."""
    from cybersafe.schemes.memo import SummaryMemo

    if dirs not in _MEMOS:
        _MEMOS[dirs] = SummaryMemo(_catalog(dirs))
    return _MEMOS[dirs]


# the inputs of the key that are the contents of files the dossier names (or the database's version): the
# assessment takes their digests from the key instead of reading the files again (a firmware image is hashed once)
CONTENT_INPUTS = ("firmware", "sbom", "vex", "vulndb", "device")


def input_key(
    product: Product, options: BatchOptions, today: dt.date | None = None, dossier: Dossier | None = None
) -> dict[str, str]:
    """Every input a re-run compares, by digest: the files the dossier names, versions, schemes, dates.

    ``today``: the wall-clock date (injected in tests); ``dossier``: the file as already read."""
    from cybersafe.assess import builtin_collectors
    from cybersafe.dossier.loader import load_dossier
    from cybersafe.inputs import InputDigester, library_versions, sha256_path, tool_fingerprint

    dossier = dossier or load_dossier(product.dossier)
    # the day on the wall clock, as assess records it: a scan judges certificate expiry and a probe observes the
    # device on the day it runs, whatever --now says, so a later day is a changed input for those
    today = today or dt.datetime.now(dt.UTC).date()
    digester = InputDigester(dossier, product.dossier.parent, builtin_collectors(), options.now.date(), today)
    catalog = _catalog(options.catalog_dirs)
    key = {
        "dossier": sha256_path(product.dossier),
        "tool": tool_fingerprint(),
        "libraries": library_versions(("unblob", "lief", "pyperscan", "univers", "sslyze", "ssh-audit")),
        "catalog": _catalog_digest(catalog),
        "schemes": ",".join(sorted(set(options.scheme_refs))) or "dossier markets",
        "as_of": options.now.date().isoformat(),
        "budget": options.budget,
        "reports": ",".join(options.reports),
    }
    for name in (*CONTENT_INPUTS, "firmware:date", "device:date"):
        key[name] = digester.digest(name)
    return key


def _catalog_digest(catalog: Any) -> str:
    from cybersafe.inputs import sha256_json

    return sha256_json(sorted((s.key, s.catalog_sha256) for s in catalog.schemes.values()))


def assess_product(
    product: Product,
    options: BatchOptions,
    previous: dict[str, str] | None,
    baseline: str | None,
    recorded: tuple[str, str] | None = None,
) -> ProductResult:
    """One product, start to end, on a worker; never raises: a failure is a result with its one-line error.

    ``recorded``: the sha256 of the baseline file's bytes and the digest of the assessment they hold, as the last
    run wrote them; when the file still has those bytes, its digest is not computed again."""
    started = time.perf_counter()
    result = ProductResult(product.id, str(product.dossier), "assessed")
    try:
        from cybersafe.assess import read_dossier

        dossier = read_dossier(product.dossier, _catalog(options.catalog_dirs))  # read once: the key and the run
        key = input_key(product, options, dossier=dossier)
        if previous is not None and not options.force:
            result.changed_inputs = sorted(k for k in key.keys() | previous.keys() if key.get(k) != previous.get(k))
            if not result.changed_inputs:
                result.outcome = "reused"
                return result
        # the recorded digest is of the assessment as the last run's model read it: the same cybersafe must read it
        # now (a newer one may fill in fields that file lacks, and so digest other JSON)
        same_tool = previous is not None and previous.get("tool") == key["tool"]
        _assess(product, options, key, result, dossier, baseline, recorded if same_tool else None)
    except CybersafeError as exc:
        result.outcome, result.error = "failed", _one_line(str(exc))
    except Exception as exc:  # noqa: BLE001 - one product's crash is its own result, never the batch's
        result.outcome, result.error = "failed", _one_line(f"internal error: {type(exc).__name__}: {exc}")
    finally:
        result.duration_s = round(time.perf_counter() - started, 3)
    return result


def _assess(
    product: Product,
    options: BatchOptions,
    key: dict[str, str],
    result: ProductResult,
    dossier: Dossier,
    baseline: str | None,
    recorded: tuple[str, str] | None,
) -> None:
    from cybersafe.assess import assess, builtin_collectors
    from cybersafe.evidence.firmware.budget import budget_for
    from cybersafe.evidence.firmware.collector import FirmwareCollector
    from cybersafe.results import read_assessment
    from cybersafe.to_wire import to_assessment

    previous, previous_digest = None, None
    if baseline is not None and not options.full and Path(baseline).is_file():
        try:
            previous, file_sha256 = read_assessment(Path(baseline))
            if recorded is not None and recorded[0] == file_sha256:
                previous_digest = recorded[1]
        except CybersafeError as exc:  # the product's own inputs are fine: a full run, and the reason recorded
            result.notes.append(
                f"previous assessment not usable as the baseline, assessed in full: {_one_line(str(exc))}"
            )
    collectors = [
        FirmwareCollector(budget_for(options.budget)) if c.NAME == "firmware" else c for c in builtin_collectors()
    ]
    run = assess(
        product.dossier,
        now=options.now,
        scheme_refs=list(options.scheme_refs) or None,
        catalog=_catalog(options.catalog_dirs),
        collectors=collectors,
        baseline=previous,
        memo=_memo(options.catalog_dirs),
        dossier=dossier,
        known_digests={name: key[name] for name in CONTENT_INPUTS},
        baseline_digest=previous_digest,
    )
    assessment = to_assessment(run)
    written = assessment.written()  # made and checked once, for the digest and the file
    result.digest = assessment.digest(written)
    result.meets = run.meets_requested
    result.schemes = [
        SchemeRow(
            s.scheme,
            s.version,
            str(s.status),
            s.highest_level,
            dict(s.counts),
            f"{s.scheme}@{s.version}" in run.requested,
            [{"date": step.date, "status": str(step.status)} for step in s.later],
        )
        for s in assessment.schemes
    ]
    judged = set(run.requested)
    result.failing = sorted(
        {
            str(f.severity)
            for c in assessment.checks
            if any(k.split(":", 1)[0] in judged for k in c.feeds)
            for f in c.findings
            if f.verdict == "fail"
        }
    )
    if assessment.delta is not None:
        d = assessment.delta
        result.delta = {"reused": len(d.reused), "rerun": len(d.rerun), "collectors_skipped": d.collectors_skipped}
    result.files["assessment.json"] = text = (assessment.to_json(written) + "\n").encode()
    result.assessment_sha256 = hashlib.sha256(text).hexdigest()
    result.files["inputs.json"] = (json.dumps(key, indent=2, sort_keys=True) + "\n").encode()
    _reports(assessment, options, result)


def _reports(assessment: Any, options: BatchOptions, result: ProductResult) -> None:
    from cybersafe.render.interface import OutputFormat, render

    for name in options.reports:
        fmt = OutputFormat(name)
        result.files[f"report{fmt.suffix}"] = render(assessment, fmt, now=options.now)


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 500 else line[:497] + "..."


# --- the client ---------------------------------------------------------------------------------------


@dataclass
class BatchSummary:
    cluster: str
    as_of: dt.date
    results: list[ProductResult]
    wall_s: float

    @property
    def failed(self) -> list[ProductResult]:
        return [r for r in self.results if r.outcome == "failed"]

    def as_dict(self) -> dict[str, Any]:
        counts = {o: sum(1 for r in self.results if r.outcome == o) for o in ("assessed", "reused", "failed")}
        return {
            "schema": SUMMARY_SCHEMA,
            "as_of": self.as_of.isoformat(),
            "cluster": self.cluster,
            "wall_s": round(self.wall_s, 3),
            "products": len(self.results),
            **counts,
            "not_met": sum(1 for r in self.results if r.meets is False),
            "results": [r.row() for r in self.results],
        }


ProgressCallback = Callable[[ProductResult, int, int], None]  # (result, done, total)


def run_batch(
    products: Sequence[Product],
    options: BatchOptions,
    out: Path,
    spec: ClusterSpec,
    on_result: ProgressCallback | None = None,
) -> BatchSummary:
    """Assess every product on the cluster; write each product's files, then summary.json and summary.csv."""
    from distributed import as_completed

    if not products:
        raise FleetError("no products to assess")
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results: list[ProductResult] = []
    with open_client(spec) as client:
        where = describe(client, spec)
        futures = {}
        stored: dict[str, StoredRun] = {}
        for product in products:
            last = _previous(out / product.id)
            if last.result is not None:
                stored[product.id] = last
            future = client.submit(
                assess_product, product, options, last.inputs, last.baseline, last.recorded, pure=False
            )
            futures[future] = product
        for future in as_completed(list(futures)):  # type: ignore[no-untyped-call]
            product = futures[future]
            result = _result_of(future, product)
            future.release()  # its files are written now: the cluster may forget them
            _write(out / product.id, result, stored.get(product.id))
            results.append(result)
            if on_result is not None:
                on_result(result, len(results), len(products))
    results.sort(key=lambda r: r.product)
    summary = BatchSummary(where, options.now.date(), results, time.perf_counter() - started)
    _write_summary(out, summary)
    return summary


@dataclass(frozen=True)
class StoredRun:
    """What DIR holds of a product's last successful run. ``inputs`` is None (so the product is assessed again)
    unless its summary row and its assessment are as that run wrote them: files edited or damaged since are
    never reused as they are."""

    inputs: dict[str, str] | None = None
    baseline: str | None = None  # its assessment.json: the delta's baseline, if it loads
    result: ProductResult | None = None

    @property
    def recorded(self) -> tuple[str, str] | None:
        """The baseline file's sha256 and its assessment's digest as that run wrote them (``result.json``); the
        worker uses the digest only for those exact bytes. Trusted as the reuse of a summary row is."""
        if self.result is None or self.result.assessment_sha256 is None or self.result.digest is None:
            return None
        return self.result.assessment_sha256, self.result.digest


def _previous(directory: Path) -> StoredRun:
    assessment = directory / "assessment.json"
    if not assessment.is_file():
        return StoredRun()
    baseline = str(assessment.resolve())
    try:
        inputs = json.loads((directory / "inputs.json").read_text(encoding="utf-8"))
        row = json.loads((directory / "result.json").read_text(encoding="utf-8"))
        result = _stored_result(row)
        digest = hashlib.sha256(assessment.read_bytes()).hexdigest()
    except (OSError, ValueError, TypeError, KeyError):
        return StoredRun(baseline=baseline)
    valid = isinstance(inputs, dict) and all(isinstance(v, str) for v in inputs.values())
    if not valid or result.assessment_sha256 != digest:
        return StoredRun(baseline=baseline)
    return StoredRun(inputs, baseline, result)


def _stored_result(row: Any) -> ProductResult:
    """A ``result.json`` row read back; ValueError, TypeError or KeyError when it is not one this code wrote."""
    if not isinstance(row, dict):
        raise ValueError("not an object")
    schemes = row.get("schemes")
    if not isinstance(schemes, list) or not all(isinstance(s, dict) for s in schemes):
        raise ValueError("schemes: not a list of objects")
    failing = row.get("failing", [])
    if not isinstance(failing, list) or not isinstance(row.get("assessment_sha256"), str):
        raise ValueError("failing or assessment_sha256")
    return ProductResult(
        str(row["product"]),
        str(row["dossier"]),
        "reused",
        meets=row.get("meets") if isinstance(row.get("meets"), bool) else None,
        failing=[str(f) for f in failing],
        digest=row.get("digest") if isinstance(row.get("digest"), str) else None,
        assessment_sha256=row["assessment_sha256"],
        schemes=[SchemeRow(**s) for s in schemes],
    )


def _result_of(future: Any, product: Product) -> ProductResult:
    try:
        result: ProductResult = future.result()
    except Exception as exc:  # noqa: BLE001 - a killed worker or a lost task fails this product only
        reason = "its worker died (out of memory, or a crash)" if type(exc).__name__ == "KilledWorker" else str(exc)
        return ProductResult(
            product.id, str(product.dossier), "failed", error=_one_line(f"{type(exc).__name__}: {reason}")
        )
    return result


def _write(directory: Path, result: ProductResult, stored: StoredRun | None) -> None:
    if result.outcome == "reused":
        if stored is None or stored.result is None:  # pragma: no cover - a worker reuses only what the client read
            raise FleetError(f"{directory}: reused without a stored result")
        last = stored.result
        result.schemes, result.meets, result.failing, result.digest = (
            last.schemes,
            last.meets,
            last.failing,
            last.digest,
        )
        result.assessment_sha256 = last.assessment_sha256
        return
    if result.outcome == "failed":
        return  # the previous good run's files (if any) stay: a failure replaces nothing
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in result.files.items():
        (directory / name).write_bytes(data)
    (directory / "result.json").write_text(json.dumps(result.row(), indent=2) + "\n", encoding="utf-8")


def _write_summary(out: Path, summary: BatchSummary) -> None:
    (out / "summary.json").write_text(json.dumps(summary.as_dict(), indent=2) + "\n", encoding="utf-8")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(_CSV_HEADER)
    for r in summary.results:
        if not r.schemes:
            writer.writerow(
                [
                    r.product,
                    r.outcome,
                    "",
                    "",
                    "failed" if r.outcome == "failed" else "",
                    "",
                    *([""] * len(_CSV_COUNTS)),
                    "",
                    "",
                    r.duration_s,
                    r.error or "",
                ]
            )
        for s in r.schemes:
            counts = [s.counts.get(c, 0) for c in _CSV_COUNTS]
            writer.writerow(
                [
                    r.product,
                    r.outcome,
                    s.scheme,
                    s.version,
                    s.status,
                    s.level or "",
                    *counts,
                    "yes" if s.judged else "",
                    "; ".join(f"{step['date']} {step['status']}" for step in s.later),
                    r.duration_s,
                    r.error or "",
                ]
            )
    (out / "summary.csv").write_text(buffer.getvalue(), encoding="utf-8")
