from __future__ import annotations

from pathlib import Path

import pytest

from cybersafe.schemes.catalog import Catalog, load_catalog

TEST_DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def test_catalog() -> Catalog:
    return load_catalog(TEST_DATA)
