"""`cybersafe demo`: the main job, end to end, on the bundled example product (``run_demo``).

Builds the example firmware, imports the example vulnerability data, probes a simulated device on
loopback, assesses the product against every scheme, writes the reports and the scheme paperwork, issues
a signed label for every scheme met, publishes the labels to an embedded SQLite registry with its
transparency log, and verifies each label against that log. Everything lands under one directory.

The demo's issuer is nobody's label administrator, so every label is drawn as a conformity-attestation card:
no consumer-label artwork is written for any scheme, and none could be for UK PSTI, EN 303 645, the CRA or
EN 18031, which have no consumer label.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cybersafe.errors import CybersafeError
from cybersafe.evidence.interface import ProgressReporter

REGISTRY_URL = "http://127.0.0.1:8000"  # where `cybersafe registry serve --db <out>/registry.sqlite` listens
ISSUER = "cybersafe demo issuer"  # administers no scheme: its labels are conformity-attestation cards


@dataclass
class DemoResult:
    out: Path
    assessment: Path
    as_of: str = ""  # the date every status holds for
    statuses: dict[str, str] = field(default_factory=dict)  # scheme key -> status (with level)
    reports: list[Path] = field(default_factory=list)
    paperwork: list[Path] = field(default_factory=list)
    labels: list[Path] = field(default_factory=list)
    registry: Path | None = None
    verified: list[str] = field(default_factory=list)  # one line per label verification
    notes: list[str] = field(default_factory=list)


def example_dir() -> Path:
    """examples/smart-camera of the source tree (the demo runs from a checkout)."""
    candidates = [
        Path.cwd() / "examples" / "smart-camera",
        Path(__file__).resolve().parents[3] / "examples" / "smart-camera",
    ]
    for candidate in candidates:
        if (candidate / "dossier.yaml").is_file():
            return candidate
    raise CybersafeError("examples/smart-camera not found: run `cybersafe demo` from the cybersafe checkout")


def run_demo(
    out: Path,
    *,
    now: dt.datetime,
    progress: ProgressReporter,
    step: Callable[[str], None] = lambda _: None,
    with_device: bool = True,
) -> DemoResult:
    from cybersafe.assess import assess
    from cybersafe.demo.product import prepare_example
    from cybersafe.evidence.vulndb.store import VulnDb
    from cybersafe.to_wire import to_assessment

    out.mkdir(parents=True, exist_ok=True)
    example = example_dir()
    with _simulated_device(with_device) as device:
        step("building the example firmware and laying out its artefacts")
        product = prepare_example(example, out / "product", device=device)
        step("importing the example vulnerability data (OSV records, CISA KEV catalog)")
        vulndb = product.dossier.parent / "vulndb.sqlite"
        vulndb.unlink(missing_ok=True)
        with VulnDb(vulndb) as db:
            db.import_path(product.vulndb_source, now=now.isoformat())
            db.import_path(example / "kev.json", now=now.isoformat())
        step("assessing against every scheme (each check runs once)")
        run = assess(product.dossier, now=now, progress=progress)
    assessment = to_assessment(run)
    assessment_path = out / "assessment.json"
    from cybersafe.outputs import assessment_json

    assessment_path.write_text(assessment_json(assessment), encoding="utf-8")
    result = DemoResult(out=out, assessment=assessment_path, as_of=now.date().isoformat())
    from cybersafe.render._summary import later_text, status_text

    for scheme in assessment.schemes:
        level = f" (level {scheme.highest_level})" if scheme.highest_level else ""
        later = later_text(scheme.later)
        key = f"{scheme.scheme}@{scheme.version}"
        result.statuses[key] = status_text(scheme) + level + (f"; {later}" if later else "")

    step("writing reports: HTML, PDF, JSON, OSCAL, SARIF")
    from cybersafe.render.interface import OutputFormat, render

    for fmt in OutputFormat:
        path = out / f"report{fmt.suffix}"
        path.write_bytes(render(assessment, fmt, now=now))
        result.reports.append(path)

    step("writing scheme paperwork: one document per kind (render/data/paperwork)")
    from cybersafe.render.paperwork import document_kinds, paperwork_files

    paperwork_dir = out / "paperwork"
    paperwork_dir.mkdir(exist_ok=True)
    for kind in document_kinds().values():
        for name, data in paperwork_files(kind, assessment, now=now).files.items():
            (paperwork_dir / name).write_bytes(data)
            result.paperwork.append(paperwork_dir / name)

    step("issuing a signed label for every scheme met, each drawn as a conformity-attestation card")
    from cybersafe.attest.keys import generate_keypair, load_private_key
    from cybersafe.label.batch import issue_and_render_all

    keys = out / "keys"
    if not (keys / "demo-issuer.key").exists():
        generate_keypair(keys, "demo-issuer")
    private_key = load_private_key(keys / "demo-issuer.key")
    labels_dir = out / "labels"
    labels_dir.mkdir(exist_ok=True)
    for stale in labels_dir.glob("*"):
        stale.unlink()
    result.labels = issue_and_render_all(assessment, labels_dir, private_key, ISSUER, REGISTRY_URL, now)
    if not any(p.name.endswith(".label.json") for p in result.labels):
        result.notes.append("the example meets no scheme, so no label was issued")

    step("publishing the labels to the embedded SQLite registry and verifying them against its log")
    _publish_and_verify(result, keys / "demo-issuer.pub")
    (out / "summary.json").write_text(json.dumps(_summary(result), indent=2) + "\n", encoding="utf-8")
    return result


def _summary(result: DemoResult) -> dict[str, object]:
    return {
        "assessment": str(result.assessment),
        "schemes": result.statuses,
        "reports": [str(p) for p in result.reports],
        "paperwork": [str(p) for p in result.paperwork],
        "labels": [str(p) for p in result.labels],
        "registry": str(result.registry) if result.registry else None,
        "verified": result.verified,
        "notes": result.notes,
    }


@contextlib.contextmanager
def _simulated_device(enabled: bool) -> Iterator[dict[str, object] | None]:
    """The example camera's network side, simulated on 127.0.0.1 for the network probe."""
    if not enabled:
        yield None
        return
    from cybersafe.demo.device import SimulatedCamera

    with SimulatedCamera() as camera:
        yield camera.device_artefact()


def _publish_and_verify(result: DemoResult, issuer_public_key: Path) -> None:
    from cybersafe.demo.registry import publish_and_verify_locally

    envelopes = [p for p in result.labels if p.name.endswith(".label.json")]
    registry = result.out / "registry.sqlite"
    registry.unlink(missing_ok=True)
    result.registry = registry
    result.verified = publish_and_verify_locally(registry, envelopes, issuer_public_key, ISSUER, REGISTRY_URL)
