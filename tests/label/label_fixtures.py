"""Helpers for label tests (a uniquely named module, so test files can import it without clashing)."""

from __future__ import annotations

import copy
import datetime as dt
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cybersafe.results import Assessment

DATA = Path(__file__).parent / "data"
NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
REGISTRY = "https://registry.example.test"
MET_SCHEMES = ("us-ctm", "sg-cls", "eu-cra", "etsi-en-303-645")


def counter_bytes() -> Callable[[int], bytes]:
    """Deterministic 'random' bytes so label ids are reproducible in tests."""
    counter = itertools.count(1)
    return lambda n: next(counter).to_bytes(n, "big")


def with_scheme(assessment: Assessment, scheme: str, **update: Any) -> Assessment:
    """A copy of the assessment where one scheme result has the given fields replaced."""
    schemes = [s.model_copy(update=update) if s.scheme == scheme else s for s in assessment.schemes]
    return assessment.model_copy(update={"schemes": schemes})


def with_dossier(assessment: Assessment, path: tuple[str, ...], value: Any) -> Assessment:
    """A copy of the assessment with one dossier value replaced (None deletes it)."""
    dossier = copy.deepcopy(assessment.dossier)
    node = dossier
    for part in path[:-1]:
        node = node[part]
    if value is None:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value
    return assessment.model_copy(update={"dossier": dossier})
