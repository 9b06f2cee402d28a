"""SBOM in: CycloneDX 1.0-1.7 (JSON, XML) and SPDX 2.1-2.3 (JSON, tag-value), minimum elements, declared vs observed."""

from __future__ import annotations

from cybersafe.evidence.sbom.collector import SbomCollector
from cybersafe.evidence.sbom.compare import SbomComparison, compare_declared_observed
from cybersafe.evidence.sbom.minimum import MinimumElementsRating, rate_minimum_elements
from cybersafe.evidence.sbom.model import ComponentHash, SbomComponent, SbomDocument
from cybersafe.evidence.sbom.parse import load_sbom

__all__ = [
    "ComponentHash",
    "MinimumElementsRating",
    "SbomCollector",
    "SbomComparison",
    "SbomComponent",
    "SbomDocument",
    "compare_declared_observed",
    "load_sbom",
    "rate_minimum_elements",
]
