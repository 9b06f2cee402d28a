"""Checks on known vulnerabilities of the shipped components (CRA Annex I Part I (2)(a), Part II (2))."""

from __future__ import annotations

from collections.abc import Sequence

from cybersafe.checks.interface import Check, Finding, Location
from cybersafe.evidence.interface import Evidence
from cybersafe.evidence.vulndb.model import VulnerabilityMatch, VulnerabilityReport
from cybersafe.evidence.vulndb.policy import load_policy
from cybersafe.verdict import Severity

_SHOWN = 10


def _where(m: VulnerabilityMatch) -> Location:
    return Location(component=m.purl or m.component)


def _facts(m: VulnerabilityMatch) -> dict[str, object]:
    return {
        "component": m.component,
        "vulnerability": m.vulnerability,
        "aliases": list(m.aliases),
        "severity": m.severity,
        "fixed_versions": list(m.fixed_versions),
        "basis": m.basis,
        "confidence": str(m.confidence),
        "known_exploited": m.known_exploited,
    }


def _coverage(report: VulnerabilityReport) -> str:
    return (
        f"matched {report.components_examined} components of {report.source} against {report.database} "
        f"(OSV imported {report.osv_imported_at or 'never'}, KEV imported {report.kev_imported_at or 'never'})"
    )


def _unmatched_note(report: VulnerabilityReport) -> str:
    names = ", ".join(u.component for u in report.unmatched[:_SHOWN])
    more = f" and {len(report.unmatched) - _SHOWN} more" if len(report.unmatched) > _SHOWN else ""
    return f"{len(report.unmatched)} components could not be matched ({names}{more})"


class KnownExploitedVulnerabilityCheck(Check):
    ID = "sbom.known-exploited-vulnerability"
    TITLE = "No component has a known exploited vulnerability (CISA KEV)"
    SEVERITY = Severity.CRITICAL
    REQUIRES = (VulnerabilityReport,)
    REMEDIATION = (
        "Update the component to a fixed version before placing the product on the market; for a product already "
        "on the market, the CRA Art. 14 reporting clock runs from awareness (24 h early warning, 72 h notification)."
    )

    def run(self, evidence: Evidence) -> Sequence[Finding]:
        report = evidence.require(VulnerabilityReport)
        exploited = [m for m in report.active if m.known_exploited]
        if exploited:
            return [
                self.failed(
                    f"{m.component} has {m.vulnerability}"
                    f"{' (' + ', '.join(m.cve_ids) + ')' if m.cve_ids and m.cve_ids[0] != m.vulnerability else ''}, "
                    f"in CISA KEV since {m.kev_date_added}; match basis: {m.basis} ({m.confidence} confidence)"
                    + (f"; fixed in {', '.join(m.fixed_versions)}" if m.fixed_versions else "; no fixed version known"),
                    locations=[_where(m)],
                    facts=_facts(m),
                )
                for m in exploited
            ]
        if report.kev_imported_at is None:
            return [
                self.inconclusive(
                    f"{_coverage(report)}; the database holds no CISA KEV catalog, so known-exploited status is "
                    "unknown. Import one with `cybersafe vulndb import known_exploited_vulnerabilities.json`."
                )
            ]
        if report.unmatched:
            return [self.inconclusive(f"{_coverage(report)}; none is in CISA KEV, but {_unmatched_note(report)}")]
        suppressed = sum(1 for m in report.matches if m.known_exploited and m.suppressed)
        vex = f"; {suppressed} known-exploited matches are declared not affected by VEX" if suppressed else ""
        return [
            self.passed(
                f"{_coverage(report)}: {len(report.active)} known vulnerabilities, none in CISA KEV{vex}",
                facts={"components": report.components_examined, "matches": len(report.active)},
            )
        ]


class KnownVulnerabilityWithFixCheck(Check):
    ID = "sbom.known-vulnerability-with-fix"
    TITLE = "No component has a known vulnerability for which a fixed version exists"
    SEVERITY = Severity.HIGH
    REQUIRES = (VulnerabilityReport,)
    REMEDIATION = "Update the component to the fixed version, or document in a VEX statement why it is not affected."

    def run(self, evidence: Evidence) -> Sequence[Finding]:
        report = evidence.require(VulnerabilityReport)
        policy = load_policy()
        with_fix = [m for m in report.active if m.fix_available]
        failing = [m for m in with_fix if policy.fails(m.severity, str(m.confidence))]
        tolerated = [m for m in with_fix if m not in failing]
        findings: list[Finding] = []
        for m in failing:
            severity = Severity(policy.finding_severity.get(policy.effective(m.severity), "high"))
            findings.append(
                self.failed(
                    f"{m.component} has {m.vulnerability} ({m.severity}), fixed in {', '.join(m.fixed_versions)}; "
                    f"match basis: {m.basis} ({m.confidence} confidence)",
                    severity=severity,
                    locations=[_where(m)],
                    facts=_facts(m),
                )
            )
        if findings:
            return findings
        note = (
            f"; {len(tolerated)} below the policy threshold or of low match confidence are reported only "
            f"({policy.source}: fail at or above {policy.fail_at_or_above})"
            if tolerated
            else ""
        )
        if report.unmatched:
            return [
                self.inconclusive(
                    f"{_coverage(report)}; no fixable vulnerability at or above "
                    f"{policy.fail_at_or_above}{note}, but {_unmatched_note(report)}"
                )
            ]
        return [
            self.passed(
                f"{_coverage(report)}: no known vulnerability with a fixed version at or above "
                f"{policy.fail_at_or_above} severity{note}",
                facts={"components": report.components_examined, "tolerated": [m.vulnerability for m in tolerated]},
            )
        ]


VULNERABILITY_CHECKS: tuple[type[Check], ...] = (KnownExploitedVulnerabilityCheck, KnownVulnerabilityWithFixCheck)
CHECKS = VULNERABILITY_CHECKS
