"""Checks on the SBOM itself: minimum elements, versions, and declared versus observed components."""

from __future__ import annotations

from collections.abc import Sequence

from cybersafe.checks.interface import Check, Finding, Location
from cybersafe.evidence.firmware.model import Area, FirmwareInventory
from cybersafe.evidence.interface import Evidence
from cybersafe.evidence.sbom.compare import compare_declared_observed
from cybersafe.evidence.sbom.minimum import BASELINES, BSI, CRA, NTIA, rate_minimum_elements
from cybersafe.evidence.sbom.model import SbomDocument
from cybersafe.verdict import Severity

_NAMES = {NTIA: "NTIA minimum elements", BSI: "BSI TR-03183-2", CRA: "CRA Annex I Part II (1)"}
_SHOWN = 10


class SbomMinimumElementsCheck(Check):
    """The SBOM has the minimum elements of the baselines the requirement names (``baselines`` parameter).

    Which baseline binds is the scheme's business: the CRA asks for its own Annex I Part II (1), the Cyber
    Trust Mark for NTIA's minimum elements; BSI TR-03183-2 only where a requirement names it.
    """

    ID = "sbom.minimum-elements"
    TITLE = "The SBOM has the minimum elements of the baselines asked (NTIA, CRA Annex I Part II (1), BSI TR-03183-2)"
    SEVERITY = Severity.MEDIUM
    REQUIRES = (SbomDocument,)
    REMEDIATION = (
        "Regenerate the SBOM with supplier, version, purl or CPE, hashes and the dependency graph from the "
        "product (metadata.component / SPDX DESCRIBES) to its direct dependencies."
    )

    def __init__(self, *, baselines: Sequence[str] = (NTIA, CRA)) -> None:
        unknown = sorted(set(baselines) - set(BASELINES))
        if unknown or not baselines:
            raise ValueError(f"baselines must name some of {', '.join(BASELINES)} (got {', '.join(unknown) or 'none'})")
        self.baselines = tuple(baselines)

    def run(self, evidence: Evidence) -> Sequence[Finding]:
        doc = evidence.require(SbomDocument)
        rating = rate_minimum_elements(doc)
        findings: list[Finding] = []
        for baseline in rating.ratings:
            if baseline.baseline not in self.baselines:
                continue
            name = _NAMES[baseline.baseline]
            where = [Location(path=doc.path)]
            if baseline.met:
                findings.append(
                    self.passed(
                        f"{doc.path} ({doc.label}, {rating.component_count} components) has every element of "
                        f"{name}: {', '.join(baseline.checked)}",
                        locations=where,
                    )
                )
                continue
            missing = "; ".join(m.message for m in baseline.missing)
            facts = {"baseline": baseline.baseline, "missing": [m.element for m in baseline.missing]}
            findings.append(self.failed(f"{doc.path} does not meet {name}: {missing}", locations=where, facts=facts))
        return findings


class ComponentWithoutVersionCheck(Check):
    ID = "sbom.component-without-version"
    TITLE = "Every SBOM component states its version"
    SEVERITY = Severity.MEDIUM
    REQUIRES = (SbomDocument,)
    REMEDIATION = (
        "Record the exact version of each component (a component without one cannot be checked for vulnerabilities)."
    )

    def run(self, evidence: Evidence) -> Sequence[Finding]:
        doc = evidence.require(SbomDocument)
        missing = [c for c in doc.components if not c.version]
        if not doc.components:
            return [self.inconclusive(f"{doc.path} lists no component, so there is nothing to examine")]
        if not missing:
            return [self.passed(f"all {len(doc.components)} components of {doc.path} state a version")]
        return [
            self.failed(
                f"{c.name} (ref {c.ref}) in {doc.path} has no version",
                locations=[Location(path=doc.path, component=c.purl or c.name)],
                facts={"component": c.name, "ref": c.ref},
            )
            for c in missing
        ]


class UndeclaredComponentsCheck(Check):
    ID = "sbom.undeclared-components"
    TITLE = "The SBOM declares every component found in the firmware, with the same version"
    SEVERITY = Severity.MEDIUM
    REQUIRES = (SbomDocument, FirmwareInventory)
    REMEDIATION = "Add the missing components to the SBOM (or fix their versions) so that it describes what ships."

    def run(self, evidence: Evidence) -> Sequence[Finding]:
        doc = evidence.require(SbomDocument)
        inventory = evidence.require(FirmwareInventory)
        observed = [c.purl for c in inventory.components]
        result = compare_declared_observed([c.purl for c in doc.all_components() if c.purl], observed)
        how = {c.purl: c for c in inventory.components}
        findings: list[Finding] = []
        for purl in result.undeclared:
            comp = how.get(purl)
            found = f" (found by {comp.how_found} in {comp.path}, {comp.confidence} confidence)" if comp else ""
            findings.append(
                self.failed(
                    f"{purl} is in the firmware{found} but not in {doc.path}",
                    locations=[Location(path=comp.path if comp else None, component=purl)],
                    facts={"purl": purl},
                )
            )
        for mismatch in result.version_mismatches:
            findings.append(
                self.failed(
                    f"{mismatch.package}: the SBOM declares {', '.join(mismatch.declared)}, the firmware has "
                    f"{', '.join(mismatch.observed)}",
                    locations=[Location(component=mismatch.package)],
                    facts=mismatch.as_dict(),
                )
            )
        if findings:
            return findings
        gaps = inventory.gaps(Area.COMPONENTS)
        if gaps:
            reasons = "; ".join(g.reason for g in gaps[:3])
            return [
                self.inconclusive(
                    f"the {len(observed)} components found agree with {doc.path}, but the firmware was not fully "
                    f"examined for components: {reasons}"
                )
            ]
        if not observed:
            return [
                self.inconclusive(
                    f"the firmware inventory identified no component (no package database or version banner), "
                    f"so {doc.path} cannot be compared with what ships"
                )
            ]
        return [
            self.passed(
                f"all {len(observed)} components identified in the firmware are declared in {doc.path} with the "
                f"same version ({result.matched} packages compared)"
            )
        ]


SOFTWARE_CHECKS: tuple[type[Check], ...] = (
    SbomMinimumElementsCheck,
    ComponentWithoutVersionCheck,
    UndeclaredComponentsCheck,
)
CHECKS = SOFTWARE_CHECKS
