"""The assessment of the example product: golden JSON, determinism, round trip, run-once."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cybersafe.assess import assess
from cybersafe.results import Assessment, assessment_json_schema, load_assessment
from cybersafe.to_wire import to_assessment
from tests.support import NOW, REPO, check_golden

GOLDEN = Path(__file__).parent / "golden" / "example-assessment.json"


@pytest.fixture(scope="module")
def example_json() -> str:
    # Relative paths keep file names in messages independent of the checkout's location.
    cwd = Path.cwd()
    os.chdir(REPO)
    try:
        run = assess(Path("examples/smart-camera/dossier.yaml"), now=NOW)
    finally:
        os.chdir(cwd)
    return to_assessment(run).to_json() + "\n"


def test_example_assessment_matches_golden(example_json: str) -> None:
    check_golden(GOLDEN, example_json)


def test_assessment_is_deterministic_apart_from_injected_time(example_json: str) -> None:
    cwd = Path.cwd()
    os.chdir(REPO)
    try:
        again = to_assessment(assess(Path("examples/smart-camera/dossier.yaml"), now=NOW)).to_json() + "\n"
    finally:
        os.chdir(cwd)
    assert again == example_json


def test_round_trip_through_the_published_loader(example_json: str, tmp_path: Path) -> None:
    path = tmp_path / "assessment.json"
    path.write_text(example_json, encoding="utf-8")
    loaded = load_assessment(path)
    assert loaded.to_json() + "\n" == example_json
    assert loaded.digest() == Assessment.model_validate(json.loads(example_json)).digest()


def test_every_check_runs_once_and_feeds_several_schemes(example_json: str) -> None:
    data = json.loads(example_json)
    # Once per check, or once per distinct parameter set a requirement asks for
    runs = [(c["check_id"], json.dumps(c.get("parameters"), sort_keys=True)) for c in data["checks"]]
    assert len(runs) == len(set(runs))
    fed_schemes = {c["check_id"]: {key.split("@", 1)[0] for key in c["feeds"]} for c in data["checks"] if c["findings"]}
    assert fed_schemes["declaration.default-password-approach"] >= {"etsi-en-303-645", "uk-psti", "eu-cra", "us-ctm"}
    reuse = data["reuse"]
    assert reuse["schemes_served"] >= 6
    assert reuse["requirement_verdicts"] > reuse["checks_run"]


def test_published_assessment_schema_is_current() -> None:
    published = REPO / "src" / "cybersafe" / "schemas" / "assessment-v1.schema.json"
    assert json.loads(published.read_text(encoding="utf-8")) == assessment_json_schema(), (
        "run: python -m cybersafe.dossier.schema"
    )


def test_missing_firmware_is_inconclusive_never_pass(example_json: str) -> None:
    data = json.loads(example_json)
    firmware = [c for c in data["checks"] if c["check_id"].startswith("firmware.")]
    assert firmware and all(c["status"] == "not_run" and c["verdict"] == "inconclusive" for c in firmware)
