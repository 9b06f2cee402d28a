"""What a label is issued with unless told otherwise, and the artwork formats: values only, so the command line
can build its options without loading the signing and drawing code."""

from __future__ import annotations

from enum import StrEnum

DEFAULT_REGISTRY_URL = "https://registry.cybersafe.dev"
DEFAULT_VALID_DAYS = 3 * 365


class LabelFormat(StrEnum):
    SVG = "svg"
    PNG = "png"
    PDF = "pdf"
