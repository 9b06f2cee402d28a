"""Fixtures for the render tests: the hand-built sample assessment and a fixed report time."""

from __future__ import annotations

import datetime as dt

import pytest

from cybersafe.results import Assessment, load_assessment
from tests.render.helpers import REPORT_NOW, SAMPLE
from tests.render.make_sample import build
from tests.support import updating_golden


@pytest.fixture(scope="session")
def sample() -> Assessment:
    # While golden files are rewritten, render from the sample as make_sample.py builds it now (its file is
    # rewritten in the same run), so one run of the updater brings every render golden in step.
    return build() if updating_golden() else load_assessment(SAMPLE)


@pytest.fixture
def report_now() -> dt.datetime:
    return REPORT_NOW
