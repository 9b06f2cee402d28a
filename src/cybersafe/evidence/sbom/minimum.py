"""Minimum elements of an SBOM, rated against three baselines, naming exactly what is missing.

- NTIA, "The Minimum Elements For a Software Bill of Materials" (2021): supplier name, component name,
  version, other unique identifiers, dependency relationship, author of SBOM data, timestamp.
- BSI TR-03183-2 (v2.0, 2024) section 5: SBOM creator (e-mail or URL) and timestamp; per component:
  creator, name, version, filename, dependencies, distribution licence, SHA-512 hash of the deployable.
- CRA Annex I Part II (1): an SBOM in a commonly used, machine-readable format "covering at the very
  least the top-level dependencies of the products": a primary component and its direct dependencies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cybersafe.evidence.sbom.model import SbomComponent, SbomDocument

NTIA = "ntia-2021"
BSI = "bsi-tr-03183-2"
CRA = "cra-annex-i-part-ii-1"
BASELINES = (NTIA, BSI, CRA)
_SHOWN = 5
# components named per missing element: an SBOM of a million components lacking a supplier would otherwise
# put a million names, per element, in the JSON (1.7 GiB to write); ``count`` says how many in all
LISTED = 1000


@dataclass(frozen=True, slots=True)
class MissingElement:
    element: str  # e.g. "supplier name"
    message: str  # "3 of 12 components have no supplier: busybox@1.36.1, ..."
    components: tuple[str, ...] = ()  # displays of the components concerned, the first LISTED of them
    count: int = 0  # how many components lack it (0: the element is the document's, not a component's)

    def as_dict(self) -> dict[str, Any]:
        return {
            "element": self.element,
            "message": self.message,
            "count": self.count,
            "components": list(self.components),
        }


@dataclass(frozen=True, slots=True)
class BaselineRating:
    baseline: str
    met: bool
    checked: tuple[str, ...]  # the elements examined
    missing: tuple[MissingElement, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline,
            "met": self.met,
            "checked": list(self.checked),
            "missing": [m.as_dict() for m in self.missing],
        }


@dataclass(frozen=True, slots=True)
class MinimumElementsRating:
    ratings: tuple[BaselineRating, ...]
    component_count: int

    def get(self, baseline: str) -> BaselineRating:
        for rating in self.ratings:
            if rating.baseline == baseline:
                return rating
        raise KeyError(baseline)

    @property
    def met(self) -> bool:
        return all(r.met for r in self.ratings)

    def as_dict(self) -> dict[str, Any]:
        return {"component_count": self.component_count, "ratings": [r.as_dict() for r in self.ratings]}


def _lacking(element: str, comps: tuple[SbomComponent, ...], bad: list[SbomComponent], what: str) -> MissingElement:
    names = tuple(c.display for c in bad[:LISTED])
    shown = ", ".join(names[:_SHOWN]) + (f" and {len(bad) - _SHOWN} more" if len(bad) > _SHOWN else "")
    return MissingElement(element, f"{len(bad)} of {len(comps)} components {what}: {shown}", names, len(bad))


def _per_component(comps: tuple[SbomComponent, ...], checks: list[tuple[str, str, Any]]) -> list[MissingElement]:
    out = []
    for element, what, ok in checks:
        bad = [c for c in comps if not ok(c)]
        if bad:
            out.append(_lacking(element, comps, bad, what))
    return out


def _in_dependency_graph(doc: SbomDocument) -> set[str]:
    refs = set(doc.dependencies)
    for targets in doc.dependencies.values():
        refs.update(targets)
    return refs


def rate_minimum_elements(doc: SbomDocument) -> MinimumElementsRating:
    comps = doc.all_components()
    graph = _in_dependency_graph(doc)
    return MinimumElementsRating((_ntia(doc, comps, graph), _bsi(doc, comps, graph), _cra(doc)), len(comps))


def _ntia(doc: SbomDocument, comps: tuple[SbomComponent, ...], graph: set[str]) -> BaselineRating:
    checks: list[tuple[str, str, Any]] = [
        ("supplier name", "have no supplier", lambda c: bool(c.supplier)),
        ("component name", "have no name", lambda c: bool(c.name)),
        ("version of the component", "have no version", lambda c: bool(c.version)),
        ("other unique identifiers", "have neither purl nor CPE", lambda c: bool(c.purl or c.cpe)),
        ("dependency relationship", "appear in no dependency relationship", lambda c: c.ref in graph),
    ]
    missing = _per_component(comps, checks)
    if not doc.authors and not doc.tools:
        missing.append(MissingElement("author of SBOM data", "the document names no author or creator"))
    if doc.timestamp is None:
        missing.append(MissingElement("timestamp", "the document has no creation timestamp"))
    if not comps:
        missing.append(MissingElement("component name", "the document lists no component"))
    elements = [c[0] for c in checks] + ["author of SBOM data", "timestamp"]
    return BaselineRating(NTIA, not missing, tuple(elements), tuple(missing))


def _bsi(doc: SbomDocument, comps: tuple[SbomComponent, ...], graph: set[str]) -> BaselineRating:
    checks: list[tuple[str, str, Any]] = [
        ("component creator", "name no creator (author or supplier)", lambda c: bool(c.author or c.supplier)),
        ("component name", "have no name", lambda c: bool(c.name)),
        ("component version", "have no version", lambda c: bool(c.version)),
        ("filename of the component", "have no filename", lambda c: bool(c.filename)),
        ("dependencies on other components", "appear in no dependency relationship", lambda c: c.ref in graph),
        ("distribution licences", "have no licence", lambda c: bool(c.licenses)),
        ("hash value of the executable (SHA-512)", "have no SHA-512 hash", lambda c: _has(c, "SHA-512")),
    ]
    missing = _per_component(comps, checks)
    if not doc.author_contacts:
        missing.append(
            MissingElement("creator of the SBOM", "the document gives no e-mail address or URL of its creator")
        )
    if doc.timestamp is None:
        missing.append(MissingElement("timestamp", "the document has no creation timestamp"))
    elements = ["creator of the SBOM", "timestamp"] + [c[0] for c in checks]
    return BaselineRating(BSI, not missing, tuple(elements), tuple(missing))


def _cra(doc: SbomDocument) -> BaselineRating:
    missing: list[MissingElement] = []
    elements = ("machine-readable format", "primary component", "top-level dependencies")
    if doc.primary is None:
        missing.append(
            MissingElement(
                "primary component",
                "the document does not say which product it describes "
                "(CycloneDX metadata.component / SPDX DESCRIBES relationship)",
            )
        )
    else:
        direct = doc.dependencies.get(doc.primary.ref)
        if not direct and doc.components:
            missing.append(
                MissingElement(
                    "top-level dependencies",
                    f"no dependency relationship from the primary component {doc.primary.display!r} "
                    "to its direct dependencies",
                )
            )
        elif direct:
            known = doc.by_ref()
            dangling = [ref for ref in direct if ref not in known]
            if dangling:
                missing.append(
                    MissingElement(
                        "top-level dependencies",
                        f"{len(dangling)} top-level dependencies are referenced but not described: "
                        + ", ".join(dangling[:_SHOWN]),
                        tuple(dangling[:LISTED]),
                        len(dangling),
                    )
                )
    return BaselineRating(CRA, not missing, elements, tuple(missing))


def _has(comp: SbomComponent, alg: str) -> bool:
    return any(h.alg == alg for h in comp.hashes)
