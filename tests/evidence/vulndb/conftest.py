from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests._sbom_builders import kev_catalog, osv_corpus, write_cyclonedx, write_osv_zip

from cybersafe.evidence.sbom import SbomDocument, load_sbom
from cybersafe.evidence.vulndb import VulnDb

KEV = [("CVE-2022-48174", "2025-06-01")]


@pytest.fixture(scope="session")
def fixture_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("vulndb-fixtures")
    write_osv_zip(root / "all.zip", osv_corpus())
    (root / "kev.json").write_text(json.dumps(kev_catalog(KEV)))
    write_cyclonedx(root / "bom.json", "1.6", "json")
    return root


@pytest.fixture(scope="session")
def sbom(fixture_dir: Path) -> SbomDocument:
    return load_sbom(fixture_dir / "bom.json")


@pytest.fixture
def db(tmp_path: Path, fixture_dir: Path) -> VulnDb:
    store = VulnDb(tmp_path / "db.sqlite")
    store.import_path(fixture_dir / "all.zip", now="2026-01-02T00:00:00+00:00")
    store.import_path(fixture_dir / "kev.json", now="2026-01-02T00:00:00+00:00")
    yield store
    store.close()
