"""Our own documents, checked against their published schemas before anything is written.

A document cybersafe writes (OSCAL assessment results, SARIF, a CycloneDX SBOM, OpenVEX, the assessment JSON)
that would not validate is a bug on our side that the reader would pay for: it raises ``InvalidOutput``
naming the first element at fault, and the caller writes nothing (the CLI exits 2 with that one line).

Schemas: OSCAL 1.1.2 assessment results and SARIF 2.1.0 (Errata 01), official files copied unchanged into
``render/data/schemas`` (provenance in ``render/data/schemas/PROVENANCE.md``); CycloneDX from
cyclonedx-python-lib's bundled schemas; OpenVEX from ``evidence/vulndb``; the assessment from
``schemas/assessment-v1.schema.json``.
"""

from __future__ import annotations

import functools
import json
from enum import StrEnum
from importlib import resources
from typing import TYPE_CHECKING, Any, assert_never

from cybersafe.errors import InvalidOutput

if TYPE_CHECKING:
    from cybersafe.results import Assessment

__all__ = ["Document", "assessment_json", "check_document"]


class Document(StrEnum):
    """The kinds of document we write that have a published schema."""

    OSCAL_ASSESSMENT_RESULTS = "OSCAL assessment results"
    SARIF = "SARIF"
    CYCLONEDX_1_6 = "CycloneDX 1.6 SBOM"
    OPENVEX = "OpenVEX"
    ASSESSMENT = "cybersafe assessment"


def check_document(kind: Document, data: str | bytes | dict[str, Any]) -> None:
    """Raise ``InvalidOutput`` naming the first element of ``data`` that makes it invalid ``kind``."""
    doc = json.loads(data) if isinstance(data, str | bytes) else data
    if kind is Document.CYCLONEDX_1_6:
        _check_cyclonedx(doc)
        return
    if kind is Document.ASSESSMENT and _fast_assessment_validator().is_valid(doc):
        return  # the usual case, at Rust speed; a failure is explained by the reference validator below
    error = next(iter(sorted(_validator(kind).iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])), None)
    if error is not None:
        _raise(kind, error)


def assessment_json(assessment: Assessment) -> str:
    """The assessment as the JSON file ``assess --out`` and the demo write, checked against its schema."""
    text = assessment.to_json() + "\n"
    check_document(Document.ASSESSMENT, text)
    return text


def _raise(kind: Document, error: Any) -> None:
    where = ".".join(str(p) for p in error.absolute_path) or "document"
    raise InvalidOutput(f"our {kind} would not be valid against its schema: {error.message[:200]}", field=where)


def _check_cyclonedx(doc: dict[str, Any]) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(doc))
    if error is not None:
        _raise(Document.CYCLONEDX_1_6, getattr(error, "data", error))


@functools.cache
def _fast_assessment_validator() -> Any:
    """jsonschema-rs on the assessment schema: a 0.5 MB assessment in 0.3 ms where the reference validator takes
    0.1 s, paid by every ``assess --out`` and every batch product. Only "valid" is taken from it; for anything
    else, the reference validator (``jsonschema``) decides and names the element (a test holds the two alike)."""
    import jsonschema_rs

    return jsonschema_rs.validator_for(_schema("cybersafe", "schemas", "assessment-v1.schema.json"))


@functools.cache
def _validator(kind: Document) -> Any:
    from jsonschema import Draft4Validator, Draft202012Validator

    match kind:
        case Document.OSCAL_ASSESSMENT_RESULTS:
            return _oscal_validator_class()(_schema("cybersafe.render", "data/schemas", _OSCAL))
        case Document.SARIF:
            return Draft4Validator(_schema("cybersafe.render", "data/schemas", _SARIF))
        case Document.OPENVEX:
            from cybersafe.evidence.vulndb.vex import _openvex_validator

            return _openvex_validator()
        case Document.ASSESSMENT:
            return Draft202012Validator(_schema("cybersafe", "schemas", "assessment-v1.schema.json"))
        case Document.CYCLONEDX_1_6:
            raise AssertionError("CycloneDX is checked by cyclonedx-python-lib")
        case _:
            assert_never(kind)


_OSCAL = "oscal_assessment-results_schema-v1.1.2.json"
_SARIF = "sarif-schema-2.1.0.json"


def _schema(package: str, folder: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(resources.files(package).joinpath(folder, name).read_text(encoding="utf-8"))
    return data


def _oscal_validator_class() -> Any:
    """Draft 7 with ``pattern`` matched by the ``regex`` module: OSCAL's patterns use ``\\p{L}``, which
    Python's ``re`` cannot compile."""
    import regex
    from jsonschema import Draft7Validator, ValidationError, validators

    def unicode_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
        if validator.is_type(instance, "string") and not regex.search(pattern, instance):
            yield ValidationError(f"{instance!r} does not match {pattern!r}")

    return validators.extend(Draft7Validator, {"pattern": unicode_pattern})
