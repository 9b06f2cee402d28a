"""Output formats: one renderer class each behind an exhaustive enum (pip-audit's ``OutputFormatChoice``).

Every renderer turns an ``Assessment`` (the ``cybersafe/assessment/v1`` wire model) into bytes. Volatile
values (the report time) are injected through ``now``; no renderer reads the clock, so the same assessment
and the same ``now`` always give the same bytes (golden files rely on it).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, assert_never

from cybersafe.errors import RenderError

if TYPE_CHECKING:
    from cybersafe.outputs import Document
    from cybersafe.results import Assessment

__all__ = ["OutputFormat", "RenderError", "Renderer", "render", "renderer_for"]


class OutputFormat(StrEnum):
    JSON = "json"
    HTML = "html"
    PDF = "pdf"
    OSCAL = "oscal"
    SARIF = "sarif"

    @property
    def suffix(self) -> str:
        """File-name suffix of this format, used for default output names."""
        match self:
            case OutputFormat.JSON:
                return ".json"
            case OutputFormat.HTML:
                return ".html"
            case OutputFormat.PDF:
                return ".pdf"
            case OutputFormat.OSCAL:
                return ".oscal.json"
            case OutputFormat.SARIF:
                return ".sarif"
            case _:
                assert_never(self)


class Renderer(Protocol):
    """Turns an assessment into the bytes of one output format."""

    def render(self, assessment: Assessment, *, now: dt.datetime) -> bytes: ...


def renderer_for(fmt: OutputFormat) -> Renderer:
    """The renderer of ``fmt``; adding a format without a renderer fails mypy (``assert_never``)."""
    # Imports are lazy: WeasyPrint takes a second to import and only the PDF renderer needs it.
    match fmt:
        case OutputFormat.JSON:
            from cybersafe.render.json import JsonRenderer

            return JsonRenderer()
        case OutputFormat.HTML:
            from cybersafe.render.html import HtmlRenderer

            return HtmlRenderer()
        case OutputFormat.PDF:
            from cybersafe.render.pdf import PdfRenderer

            return PdfRenderer()
        case OutputFormat.OSCAL:
            from cybersafe.render.oscal import OscalRenderer

            return OscalRenderer()
        case OutputFormat.SARIF:
            from cybersafe.render.sarif import SarifRenderer

            return SarifRenderer()
        case _:
            assert_never(fmt)


def render(assessment: Assessment, fmt: OutputFormat, *, now: dt.datetime) -> bytes:
    """The bytes of ``fmt``; a format with a published schema is checked against it first (``InvalidOutput``
    names the element at fault, so nothing invalid is ever written)."""
    if now.tzinfo is None:
        raise RenderError("the report time must be timezone-aware")
    data = renderer_for(fmt).render(assessment, now=now)
    schema = _SCHEMA_OF.get(fmt)
    if schema is not None:
        from cybersafe.outputs import check_document

        check_document(schema, data)
    return data


def _schemas() -> dict[OutputFormat, Document]:
    from cybersafe.outputs import Document

    return {
        OutputFormat.JSON: Document.ASSESSMENT,
        OutputFormat.OSCAL: Document.OSCAL_ASSESSMENT_RESULTS,
        OutputFormat.SARIF: Document.SARIF,
    }


_SCHEMA_OF = _schemas()
