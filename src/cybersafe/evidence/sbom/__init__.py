"""SBOM in: CycloneDX 1.0-1.7 (JSON, XML) and SPDX 2.1-2.3 (JSON, tag-value), minimum elements, declared vs observed.

The names below import their module on first use: a check reading ``model`` does not load every parser.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cybersafe._lazy import lazy_exports

if TYPE_CHECKING:
    from cybersafe.evidence.sbom.collector import SbomCollector as SbomCollector
    from cybersafe.evidence.sbom.compare import SbomComparison as SbomComparison
    from cybersafe.evidence.sbom.compare import compare_declared_observed as compare_declared_observed
    from cybersafe.evidence.sbom.minimum import MinimumElementsRating as MinimumElementsRating
    from cybersafe.evidence.sbom.minimum import rate_minimum_elements as rate_minimum_elements
    from cybersafe.evidence.sbom.model import ComponentHash as ComponentHash
    from cybersafe.evidence.sbom.model import SbomComponent as SbomComponent
    from cybersafe.evidence.sbom.model import SbomDocument as SbomDocument
    from cybersafe.evidence.sbom.parse import load_sbom as load_sbom

_EXPORTS = {
    "ComponentHash": "model",
    "MinimumElementsRating": "minimum",
    "SbomCollector": "collector",
    "SbomComparison": "compare",
    "SbomComponent": "model",
    "SbomDocument": "model",
    "compare_declared_observed": "compare",
    "load_sbom": "parse",
    "rate_minimum_elements": "minimum",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)
