"""Helpers for the render tests: the sample assessment, golden files, official schemas and their validators."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import regex
from jsonschema import Draft7Validator, ValidationError, validators

HERE = Path(__file__).parent
REPO = HERE.parent.parent
SAMPLE = HERE / "data" / "assessment.json"
GOLDEN = HERE / "golden"
REPORT_NOW = dt.datetime(2026, 11, 3, 12, 0, tzinfo=dt.UTC)
SCHEMA_SHA256 = {
    "oscal_assessment-results_schema-v1.1.2.json": "d033da70154cf6625ae46a746199e88e58f2928b1387dfac051d381b92f41b0d",
    "oscal_assessment-results_schema-v1.2.2.json": "d4e1e7e17c6662814882810ad64075266964ee1a575759ce3955302fd74edcd9",
    "sarif-schema-2.1.0.json": "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e",
}


def schema_path(name: str) -> Path:
    """../shared/schemas when present (the source of truth), else the byte-identical copy beside the tests."""
    shared = REPO.parent / "shared" / "schemas" / name
    return shared if shared.is_file() else HERE / "schemas" / name


def load_schema(name: str) -> dict[str, Any]:
    raw = schema_path(name).read_bytes()
    assert hashlib.sha256(raw).hexdigest() == SCHEMA_SHA256[name], f"{name} is not the vendored official schema"
    schema: dict[str, Any] = json.loads(raw)
    return schema


def _unicode_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    # OSCAL patterns use \p{L}; Python's re cannot compile them (../shared/schemas/README.md section 2).
    if validator.is_type(instance, "string") and not regex.search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


OscalValidator = validators.extend(Draft7Validator, {"pattern": _unicode_pattern})
