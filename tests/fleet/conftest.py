"""Fixtures of the fleet tests: a cache of built firmware and databases, baseline assessments, and a cluster."""

from __future__ import annotations

import logging
from collections.abc import Iterator
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


@pytest.fixture(scope="session")
def baseline_bare_firmware(cache_dir: Path) -> Assessment:
    """The same product with its image as one whole SquashFS, which a delta run reads in place."""
    return full(make_product(cache_dir / "bare", cache_dir=cache_dir, bare=True))


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A running cluster of two worker processes on loopback, as `dask scheduler` + `dask worker` would be."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0",
        silence_logs=logging.ERROR,
    ) as cluster:  # fmt: skip
        yield cluster.scheduler_address
