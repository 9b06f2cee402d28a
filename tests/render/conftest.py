"""Fixtures for the render tests: the hand-built sample assessment and a fixed report time."""

from __future__ import annotations

import datetime as dt

import pytest

from cybersafe.results import Assessment, load_assessment
from tests.render.helpers import REPORT_NOW, SAMPLE


@pytest.fixture(scope="session")
def sample() -> Assessment:
    return load_assessment(SAMPLE)


@pytest.fixture
def report_now() -> dt.datetime:
    return REPORT_NOW
