"""Checks on known vulnerabilities of the shipped components.

The catalogs map them to clauses (CRA Annex I Part I (2)(a) "made available on the market without known
exploitable vulnerabilities", Part II (2) "address and remediate vulnerabilities without delay", EN 303 645
5.2-3, EN 18031 GEC ...); the rules here know no scheme and no market:

- ``sbom.known-exploited-vulnerability``: fails when a shipped component has a vulnerability listed in CISA
  KEV that no VEX statement declares not affected or fixed. Inconclusive when the KEV catalog is missing,
  has no entry, or is older than ``kev_max_age_days`` on the assessment date: then "none is exploited" is
  not known.
- ``sbom.known-exploitable-vulnerability``: a known vulnerability of a shipped component is exploitable
  until the manufacturer's assessment says otherwise. Fails when it is known exploited (CISA KEV) or a VEX
  statement declares the product affected; inconclusive, whatever its severity, when no VEX statement
  assesses it (or the assessment is still under investigation); passes only when every match is declared
  not affected or fixed.
- ``sbom.known-vulnerability-with-fix``: fails when a fixed version exists and the severity is at or above
  ``fail_at_or_above`` (defaults in ``evidence/vulndb/policy.yaml``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from cybersafe.checks.interface import Check, Finding, Location
from cybersafe.evidence.interface import Evidence
from cybersafe.evidence.vulndb.model import VexStatus, VulnerabilityMatch, VulnerabilityReport
from cybersafe.evidence.vulndb.policy import FixPolicy, load_policy
from cybersafe.verdict import Severity

_SHOWN = 10
KEV_MAX_AGE_DAYS = 30  # CISA adds entries several times a week; a month-old copy misses some


def _where(m: VulnerabilityMatch) -> Location:
    return Location(component=m.purl or m.component)


def _facts(m: VulnerabilityMatch) -> dict[str, object]:
    return {
        "component": m.component,
        "vulnerability": m.vulnerability,
        "aliases": list(m.aliases),
        "sources": list(m.sources),
        "severity": m.severity,
        "fixed_versions": list(m.fixed_versions),
        "basis": m.basis,
        "confidence": str(m.confidence),
        "known_exploited": m.known_exploited,
        "vex_status": str(m.vex_status) if m.vex_status else None,
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


def _ids(m: VulnerabilityMatch) -> str:
    others = [a for a in m.aliases if a.startswith(("CVE-", "GHSA-"))][:3]
    return m.vulnerability + (f" ({', '.join(others)})" if others else "")


def kev_gap(report: VulnerabilityReport, as_of: dt.date, max_age_days: int) -> str | None:
    """Why the KEV catalog cannot say "not exploited" on ``as_of``, or None when it can."""
    if report.kev_imported_at is None:
        return (
            "the database holds no CISA KEV catalog, so known-exploited status is unknown; import one with "
            "`cybersafe vulndb import known_exploited_vulnerabilities.json`"
        )
    if report.kev_entries == 0:
        return "the CISA KEV catalog in the database has no entry (an empty or placeholder feed), so known-exploited status is unknown"
    released, basis = report.kev_released, "released"
    if not released:
        released, basis = report.kev_imported_at, "imported (its release date is unknown: a CSV import)"
    try:
        day = dt.date.fromisoformat(released[:10])
    except ValueError:
        return f"the CISA KEV catalog's date {released[:40]!r} cannot be read, so its age is unknown"
    age = (as_of - day).days
    if age > max_age_days:
        return (
            f"the CISA KEV catalog was {basis} on {day.isoformat()}, {age} days before {as_of.isoformat()} "
            f"(at most {max_age_days} days accepted), so vulnerabilities exploited since are not known"
        )
    return None


def _max_age(days: int) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        raise ValueError(f"kev_max_age_days must be a whole number of days, not {days!r}")
    return days


class KnownExploitedVulnerabilityCheck(Check):
    ID = "sbom.known-exploited-vulnerability"
    TITLE = "No component has a known exploited vulnerability (CISA KEV)"
    SEVERITY = Severity.CRITICAL
    REQUIRES = (VulnerabilityReport,)
    REMEDIATION = (
        "Update the component to a fixed version before placing the product on the market; for a product already "
        "on the market, the CRA Art. 14 reporting clock runs from awareness (24 h early warning, 72 h notification)."
    )

    def __init__(self, *, kev_max_age_days: int = KEV_MAX_AGE_DAYS) -> None:
        self.kev_max_age_days = _max_age(kev_max_age_days)

    def run(self, evidence: Evidence) -> Sequence[Finding]:
        report = evidence.require(VulnerabilityReport)
        exploited = [m for m in report.active if m.known_exploited]
        if exploited:
            return [self._exploited(m) for m in exploited]
        gap = kev_gap(report, evidence.as_of, self.kev_max_age_days)
        if gap is not None:
            return [self.inconclusive(f"{_coverage(report)}; {gap}", facts={"kev_entries": report.kev_entries})]
        if report.unmatched:
            return [self.inconclusive(f"{_coverage(report)}; none is in CISA KEV, but {_unmatched_note(report)}")]
        suppressed = sum(1 for m in report.matches if m.known_exploited and m.suppressed)
        vex = f"; {suppressed} known-exploited matches are declared not affected by VEX" if suppressed else ""
        return [
            self.passed(
                f"{_coverage(report)}: {len(report.active)} known vulnerabilities, none in CISA KEV "
                f"({report.kev_entries} entries, released {report.kev_released or 'on an unknown date'}){vex}",
                facts={"components": report.components_examined, "matches": len(report.active)},
            )
        ]

    def _exploited(self, m: VulnerabilityMatch) -> Finding:
        fix = f"; fixed in {', '.join(m.fixed_versions)}" if m.fixed_versions else "; no fixed version known"
        return self.failed(
            f"{m.component} has {_ids(m)}, in CISA KEV since {m.kev_date_added}; match basis: {m.basis} "
            f"({m.confidence} confidence){fix}",
            locations=[_where(m)],
            facts=_facts(m),
        )


class KnownExploitableVulnerabilityCheck(Check):
    ID = "sbom.known-exploitable-vulnerability"
    TITLE = "No component has a known vulnerability that is exploitable or not assessed (KEV, VEX)"
    SEVERITY = Severity.HIGH
    REQUIRES = (VulnerabilityReport,)
    REMEDIATION = (
        "Update the component to a fixed version, or assess the vulnerability for this product and publish the "
        "result as a VEX statement (not_affected with its justification, or fixed when a backported fix ships)."
    )

    def __init__(self, *, kev_max_age_days: int = KEV_MAX_AGE_DAYS) -> None:
        self.kev_max_age_days = _max_age(kev_max_age_days)

    def run(self, evidence: Evidence) -> Sequence[Finding]:
        report = evidence.require(VulnerabilityReport)
        exploitable = [m for m in report.active if m.known_exploited or m.vex_status is VexStatus.AFFECTED]
        unassessed = [
            m for m in report.active if m not in exploitable and m.vex_status in (None, VexStatus.UNDER_INVESTIGATION)
        ]
        if exploitable or unassessed:
            gap = kev_gap(report, evidence.as_of, self.kev_max_age_days)
            return [self._exploitable(m) for m in exploitable] + [self._unassessed(m, gap) for m in unassessed]
        if report.unmatched:
            return [self.inconclusive(f"{_coverage(report)}; {_unmatched_note(report)}")]
        assessed = [m for m in report.matches if m.suppressed]
        how = (
            f"{len(assessed)} known vulnerabilities, each declared not affected or fixed by VEX"
            if assessed
            else "no known vulnerability"
        )
        return [self.passed(f"{_coverage(report)}: {how}", facts={"assessed": [m.vulnerability for m in assessed]})]

    def _exploitable(self, m: VulnerabilityMatch) -> Finding:
        why = (
            f"known exploited (CISA KEV since {m.kev_date_added})"
            if m.known_exploited
            else f"declared affected by the manufacturer's VEX ({m.vex_source})"
        )
        return self.failed(
            f"{m.component} has {_ids(m)} ({m.severity}), {why}: a known exploitable vulnerability; "
            f"match basis: {m.basis} ({m.confidence} confidence)",
            locations=[_where(m)],
            facts=_facts(m),
        )

    def _unassessed(self, m: VulnerabilityMatch, kev: str | None) -> Finding:
        state = "is still under investigation in the VEX" if m.vex_status else "has no VEX statement"
        fix = f"; fixed in {', '.join(m.fixed_versions)}" if m.fixed_versions else "; no fixed version known"
        kev_note = f"; and {kev}" if kev else "; it is not in CISA KEV"
        return self.inconclusive(
            f"{m.component} is affected by {_ids(m)} ({m.severity} severity) according to {', '.join(m.sources)} "
            f"and {state}: whether it is exploitable in this product needs the manufacturer's assessment "
            f"(a VEX statement){fix}{kev_note}; match basis: {m.basis} ({m.confidence} confidence)",
            locations=[_where(m)],
            facts=_facts(m),
            remediation=self.REMEDIATION,
        )


_POLICY = load_policy()


class KnownVulnerabilityWithFixCheck(Check):
    ID = "sbom.known-vulnerability-with-fix"
    TITLE = "No component has a known vulnerability for which a fixed version exists"
    SEVERITY = Severity.HIGH
    REQUIRES = (VulnerabilityReport,)
    REMEDIATION = "Update the component to the fixed version, or document in a VEX statement why it is not affected."

    def __init__(
        self,
        *,
        fail_at_or_above: str = _POLICY.fail_at_or_above,
        unknown_severity_as: str = _POLICY.unknown_severity_as,
        report_only_confidence: str = _POLICY.report_only_confidence,
    ) -> None:
        given = {
            "fail_at_or_above": fail_at_or_above,
            "unknown_severity_as": unknown_severity_as,
            "report_only_confidence": report_only_confidence,
        }
        self.policy = _POLICY.with_params(given)  # a value out of range: ValueError naming the parameter

    def run(self, evidence: Evidence) -> Sequence[Finding]:
        report = evidence.require(VulnerabilityReport)
        policy = self.policy
        with_fix = [m for m in report.active if m.fix_available]
        failing = [m for m in with_fix if policy.fails(m.severity, str(m.confidence))]
        if failing:
            return [self._fixable(m, policy) for m in failing]
        tolerated = [m for m in with_fix if m not in failing]
        note = (
            f"; {len(tolerated)} below the threshold or of low match confidence are reported only "
            f"(fail at or above {policy.fail_at_or_above})"
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

    def _fixable(self, m: VulnerabilityMatch, policy: FixPolicy) -> Finding:
        return self.failed(
            f"{m.component} has {_ids(m)} ({m.severity}), fixed in {', '.join(m.fixed_versions)}; "
            f"match basis: {m.basis} ({m.confidence} confidence)",
            severity=Severity(policy.finding_severity.get(policy.effective(m.severity), "high")),
            locations=[_where(m)],
            facts=_facts(m),
        )


VULNERABILITY_CHECKS: tuple[type[Check], ...] = (
    KnownExploitedVulnerabilityCheck,
    KnownExploitableVulnerabilityCheck,
    KnownVulnerabilityWithFixCheck,
)
CHECKS = VULNERABILITY_CHECKS
