"""Fixtures of the fleet tests: a cache of built firmware and databases, and baseline assessments."""

from __future__ import annotations

from pathlib import Path

import pytest

from cybersafe.assess import assess
from cybersafe.results import Assessment
from cybersafe.to_wire import to_assessment
from tests.fleet.fleet_support import NOW, TODAY, make_product


def full(dossier: Path) -> Assessment:
    return to_assessment(assess(dossier, now=NOW, today=TODAY))


def delta(dossier: Path, baseline: Assessment) -> Assessment:
    return to_assessment(assess(dossier, now=NOW, today=TODAY, baseline=baseline))


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fleet-cache")


# Findings name the files they come from: a delta run compares a product with its own earlier assessment in the
# same place. Each test writes its variant of the product where the baseline was made.
@pytest.fixture(scope="session")
def baseline_no_firmware(cache_dir: Path) -> Assessment:
    return full(make_product(cache_dir / "nofw", cache_dir=cache_dir, firmware_changes=None))


@pytest.fixture(scope="session")
def baseline_firmware(cache_dir: Path) -> Assessment:
    return full(make_product(cache_dir / "fw", cache_dir=cache_dir))
