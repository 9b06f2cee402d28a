"""Declaration checks: what the dossier (IXIT, ICS) shows on its own.

A declaration is evidence of intent, not of behaviour; where a device or firmware test can show the same
property, the catalogs combine both. A missing declaration is ``inconclusive`` (evidence missing), a
declaration that contradicts the requirement is ``fail``.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from abc import abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from cybersafe.checks.interface import Check, Finding, Location
from cybersafe.dossier.model import DefaultPasswordApproach, Dossier, IcsSupport, SupportPeriod
from cybersafe.evidence.interface import Evidence
from cybersafe.verdict import Severity


@functools.cache
def _where(field: str) -> tuple[Location, ...]:
    return (Location(path=f"dossier:{field}"),)  # immutable, so one per field is shared


class _DeclarationCheck(Check):
    REQUIRES: ClassVar[tuple[type, ...]] = (Dossier,)

    def run(self, evidence: Evidence) -> Sequence[Finding]:
        return self.evaluate(evidence.require(Dossier), evidence.as_of)

    @abstractmethod
    def evaluate(self, dossier: Dossier, today: dt.date) -> Sequence[Finding]:
        """The findings of this declaration check for ``dossier`` as of ``today``."""

    def missing(self, field: str, what: str) -> Finding:
        return self.inconclusive(f"the dossier does not declare {what} ({field})", locations=_where(field))


def _add_years(day: dt.date, years: float) -> dt.date:
    whole = int(years)
    try:
        shifted = day.replace(year=day.year + whole)
    except ValueError:  # 29 February
        shifted = day.replace(year=day.year + whole, day=28)
    return shifted + dt.timedelta(days=round((years - whole) * 365.25))


class SupportPeriodCheck(_DeclarationCheck):
    """The support period is declared and not over; with ``min_years``, it is at least that long from its start.

    ``min_years`` and ``shorter_for_shorter_use`` are set by the requirement that asks for them (the CRA's
    Art. 13(8): at least five years, shorter only when the product is expected to be in use for less and
    the reason is stated); the check itself knows no market.
    """

    ID = "declaration.support-period"
    TITLE = "Support period declared, in the future, and as long as the requirement asks"
    SEVERITY = Severity.HIGH
    REMEDIATION = (
        "Declare the support period end date (declarations.support_period.end); where a minimum length applies, "
        "cover at least that many years from placing on the market, or declare a shorter expected use with its reason."
    )

    def __init__(self, *, min_years: float | None = None, shorter_for_shorter_use: bool = False) -> None:
        if min_years is not None and not 0 < min_years <= 50:
            raise ValueError(f"min_years must be between 0 and 50, not {min_years}")
        self.min_years = min_years
        self.shorter_for_shorter_use = shorter_for_shorter_use

    def evaluate(self, dossier: Dossier, today: dt.date) -> Sequence[Finding]:
        period = dossier.declarations.support_period
        if period is None:
            return [self.missing("declarations.support_period", "a support period")]
        where = _where("declarations.support_period.end")
        facts = {"support_end": period.end.isoformat(), "as_of": today.isoformat()}
        if period.end <= today:
            return [self.failed(f"the support period ended on {period.end.isoformat()}", locations=where, facts=facts)]
        if self.min_years is None:
            return [
                self.passed(f"support period declared until {period.end.isoformat()}", locations=where, facts=facts)
            ]
        return [self._long_enough(period, today, self.min_years, facts)]

    def _long_enough(self, period: SupportPeriod, today: dt.date, minimum: float, facts: dict[str, Any]) -> Finding:
        where = _where("declarations.support_period.end")
        start = period.start or today
        years = (period.end - start).days / 365.25
        facts = {**facts, "start": start.isoformat(), "years": round(years, 2), "min_years": minimum}
        if period.end >= _add_years(start, minimum):
            return self.passed(
                f"{years:.1f} years of support from {start.isoformat()}, at least the {minimum:g} years asked",
                locations=where,
                facts=facts,
            )
        expected = period.expected_use_years
        if (
            self.shorter_for_shorter_use
            and expected is not None
            and expected < minimum
            and period.shorter_period_reason
            and period.end >= _add_years(start, expected)
        ):
            return self.passed(
                f"{years:.1f} years of support, shorter than {minimum:g} years but covering the declared expected "
                f"use of {expected:g} years with a stated reason",
                locations=where,
                facts={**facts, "expected_use_years": expected},
            )
        exception = " and no shorter expected use with a reason is declared" if self.shorter_for_shorter_use else ""
        return self.failed(
            f"{years:.1f} years of support from {start.isoformat()} is under the {minimum:g} years asked{exception}",
            locations=where,
            facts=facts,
        )


class SupportPeriodPublishedCheck(_DeclarationCheck):
    ID = "declaration.support-period-published"
    TITLE = "Support period published clearly, and shown at the time of purchase"
    SEVERITY = Severity.MEDIUM
    REMEDIATION = (
        "Publish the support period end where buyers see it before purchase, with equal prominence to the "
        "offer (PSTI Sch. 1 para 3, CRA Art. 13(19): at least month and year)."
    )

    def evaluate(self, dossier: Dossier, today: dt.date) -> Sequence[Finding]:
        period = dossier.declarations.support_period
        if period is None:
            return [self.missing("declarations.support_period", "a support period")]
        if not period.published_at:
            return [self.missing("declarations.support_period.published_at", "where the support period is published")]
        where = _where("declarations.support_period.published_at")
        if period.shown_at_purchase is False:
            return [self.failed("the support period is not shown at the time of purchase", locations=where)]
        if period.shown_at_purchase is None:
            return [
                self.inconclusive(
                    f"published at {period.published_at}; whether it is shown at purchase is not declared",
                    locations=where,
                )
            ]
        return [self.passed(f"published at {period.published_at} and shown at purchase", locations=where)]


class VulnerabilityDisclosurePolicyCheck(_DeclarationCheck):
    ID = "declaration.vulnerability-disclosure-policy"
    TITLE = "Vulnerability disclosure policy with a contact and timelines"
    SEVERITY = Severity.HIGH
    REMEDIATION = (
        "Publish a vulnerability disclosure policy naming a contact point, when reporters get an "
        "acknowledgement and status updates until resolution (EN 303 645 5.2-1, PSTI Sch. 1 para 2)."
    )

    def evaluate(self, dossier: Dossier, today: dt.date) -> Sequence[Finding]:
        vdp = dossier.declarations.vulnerability_disclosure
        if vdp is None:
            return [self.missing("declarations.vulnerability_disclosure", "a vulnerability disclosure policy")]
        absent = []
        if not vdp.policy_url:
            absent.append("policy_url")
        if vdp.contact is None or not (vdp.contact.email or vdp.contact.url):
            absent.append("contact (email or url)")
        if vdp.acknowledgement_days is None:
            absent.append("acknowledgement_days")
        if vdp.status_update_days is None:
            absent.append("status_update_days")
        where = _where("declarations.vulnerability_disclosure")
        if absent:
            return [
                self.failed(
                    "the vulnerability disclosure policy lacks " + ", ".join(absent),
                    locations=where,
                    facts={"missing": absent},
                )
            ]
        return [
            self.passed(
                f"policy at {vdp.policy_url}; acknowledgement within {vdp.acknowledgement_days} days, status "
                f"updates every {vdp.status_update_days} days",
                locations=where,
            )
        ]


class UpdateMechanismCheck(_DeclarationCheck):
    ID = "declaration.update-mechanism"
    TITLE = "Secure software update mechanism declared"
    SEVERITY = Severity.HIGH
    REMEDIATION = (
        "Provide a software update mechanism that verifies the authenticity and integrity of each update "
        "before applying it (EN 303 645 5.3-2/5.3-10, CRA Annex I Part I (2)(c), Part II (7))."
    )

    def evaluate(self, dossier: Dossier, today: dt.date) -> Sequence[Finding]:
        update = dossier.declarations.update
        if update is None:
            return [self.missing("declarations.update", "the update mechanism")]
        where = _where("declarations.update")
        if not update.updatable:
            return [self.failed("the product software cannot be updated", locations=where)]
        if not update.mechanism:
            return [self.missing("declarations.update.mechanism", "how updates are delivered")]
        if update.signed is False:
            return [self.failed("updates are not verified for authenticity and integrity", locations=where)]
        if update.signed is None:
            return [self.missing("declarations.update.signed", "whether updates are signed and verified")]
        algorithm = f" ({update.signature_algorithm})" if update.signature_algorithm else ""
        return [self.passed(f"updates via {update.mechanism}, verified on the device{algorithm}", locations=where)]


class AutomaticUpdatesCheck(_DeclarationCheck):
    ID = "declaration.automatic-updates"
    TITLE = "Automatic security updates on by default, with opt-out and postponement"
    SEVERITY = Severity.MEDIUM
    REMEDIATION = (
        "Turn automatic security updates on by default with a clear, easy opt-out, notify users of "
        "available updates and let them postpone (CRA Annex I Part I (2)(c), EN 303 645 5.3-4A/6A)."
    )

    def evaluate(self, dossier: Dossier, today: dt.date) -> Sequence[Finding]:
        update = dossier.declarations.update
        if update is None:
            return [self.missing("declarations.update", "the update mechanism")]
        where = _where("declarations.update")
        if not update.updatable:
            return [self.not_applicable("the product is declared not updatable", locations=where)]
        values = {
            "automatic": update.automatic,
            "automatic_by_default": update.automatic_by_default,
            "user_can_disable_automatic": update.user_can_disable_automatic,
            "user_can_postpone": update.user_can_postpone,
        }
        refused = [k for k, v in values.items() if v is False]
        unknown = [k for k, v in values.items() if v is None]
        if refused:
            return [self.failed("declared as not supported: " + ", ".join(refused), locations=where, facts=values)]
        if unknown:
            return [self.inconclusive("not declared: " + ", ".join(unknown), locations=where, facts=values)]
        return [self.passed("automatic updates on by default, can be disabled and postponed", locations=where)]


class UpdateTimelinessCheck(_DeclarationCheck):
    ID = "declaration.update-timeliness"
    TITLE = "Security updates are timely and shipped separately, free of charge"
    SEVERITY = Severity.MEDIUM
    REMEDIATION = (
        "Commit to a remediation time for security updates (around 90 days is conventional), ship them "
        "separately from feature updates where feasible and free of charge (EN 303 645 5.3-8, CRA Part II)."
    )
    MAXIMUM_DAYS: ClassVar[int] = 90  # EN 303 645 5.2-2 rationale: 90 days is the convention

    def evaluate(self, dossier: Dossier, today: dt.date) -> Sequence[Finding]:
        update = dossier.declarations.update
        if update is None:
            return [self.missing("declarations.update", "the update process")]
        where = _where("declarations.update.timeliness_days")
        if not update.updatable:
            return [self.not_applicable("the product is declared not updatable", locations=where)]
        if update.timeliness_days is None:
            return [self.missing("declarations.update.timeliness_days", "a security update time target")]
        if update.free_of_charge is False:
            return [self.failed("security updates are not free of charge (CRA Part II (8))", locations=where)]
        if update.timeliness_days > self.MAXIMUM_DAYS:
            return [
                self.failed(
                    f"security updates within {update.timeliness_days} days exceeds {self.MAXIMUM_DAYS} days",
                    locations=where,
                )
            ]
        return [self.passed(f"security updates within {update.timeliness_days} days", locations=where)]


class SbomAvailableCheck(_DeclarationCheck):
    ID = "declaration.sbom-available"
    TITLE = "An SBOM is maintained, covering at least top-level dependencies"
    SEVERITY = Severity.MEDIUM
    REMEDIATION = (
        "Keep a machine-readable SBOM (CycloneDX or SPDX) covering at least the top-level dependencies "
        "(CRA Annex I Part II (1)); the FCC registry discloses whether one is kept (47 CFR 8.222(b))."
    )

    def evaluate(self, dossier: Dossier, today: dt.date) -> Sequence[Finding]:
        sbom = dossier.declarations.sbom
        where = _where("declarations.sbom")
        if sbom is None:
            if dossier.artefacts.sbom:
                return [self.passed(f"an SBOM is supplied ({dossier.artefacts.sbom})", locations=where)]
            return [self.missing("declarations.sbom", "whether an SBOM is kept")]
        if not sbom.available:
            return [self.failed("no SBOM is kept", locations=where)]
        if sbom.covers_top_level_dependencies is False:
            return [self.failed("the SBOM does not cover the top-level dependencies", locations=where)]
        fmt = f" in {sbom.format}" if sbom.format else ""
        return [self.passed(f"an SBOM is kept{fmt}", locations=where)]


class DefaultPasswordApproachCheck(_DeclarationCheck):
    ID = "declaration.default-password-approach"
    TITLE = "No universal default password: unique per device or set by the user"
    SEVERITY = Severity.CRITICAL
    REMEDIATION = (
        "Ship either a unique per-device password generated to resist automated attacks, or require the "
        "user to set one before use (EN 303 645 5.1-1/5.1-2, PSTI Sch. 1 para 1, CRA (2)(d))."
    )

    def evaluate(self, dossier: Dossier, today: dt.date) -> Sequence[Finding]:
        auth = dossier.declarations.authentication
        if auth is None:
            return [self.missing("declarations.authentication", "the authentication mechanisms")]
        where = _where("declarations.authentication.default_password_approach")
        approach = auth.default_password_approach
        if not auth.uses_passwords or approach is DefaultPasswordApproach.NONE:
            return [self.not_applicable("the product declares it uses no passwords", locations=where)]
        if approach is DefaultPasswordApproach.UNIVERSAL:
            return [self.failed("a universal default password is declared", locations=where)]
        if approach is DefaultPasswordApproach.UNIQUE_PER_DEVICE and not auth.password_generation:
            return [
                self.inconclusive(
                    "unique per-device passwords declared without how they are generated (5.1-2)",
                    locations=where,
                )
            ]
        return [self.passed(f"default password approach: {approach}", locations=where)]


class PasswordChangeCheck(_DeclarationCheck):
    ID = "declaration.password-change"
    TITLE = "Users can change the authentication value simply"
    SEVERITY = Severity.MEDIUM
    REMEDIATION = "Let users change the password simply, and document how (EN 303 645 5.1-4, 47 CFR 8.222(b)(6))."

    def evaluate(self, dossier: Dossier, today: dt.date) -> Sequence[Finding]:
        auth = dossier.declarations.authentication
        if auth is None:
            return [self.missing("declarations.authentication", "the authentication mechanisms")]
        where = _where("declarations.authentication.user_can_change_credentials")
        if not auth.uses_passwords:
            return [self.not_applicable("the product declares it uses no passwords", locations=where)]
        if auth.user_can_change_credentials is False:
            return [self.failed("users cannot change the password", locations=where)]
        if auth.user_can_change_credentials is None:
            return [self.missing("declarations.authentication.user_can_change_credentials", "password change")]
        if not auth.change_password_instructions:
            return [
                self.missing("declarations.authentication.change_password_instructions", "password change instructions")
            ]
        return [self.passed("users can change the password; instructions are published", locations=where)]


class BruteForceProtectionCheck(_DeclarationCheck):
    ID = "declaration.brute-force-protection"
    TITLE = "Brute-force protection of network authentication declared"
    SEVERITY = Severity.MEDIUM
    REMEDIATION = "Rate-limit, delay or lock out repeated failed logins over network interfaces (EN 303 645 5.1-5)."

    def evaluate(self, dossier: Dossier, today: dt.date) -> Sequence[Finding]:
        auth = dossier.declarations.authentication
        if auth is None:
            return [self.missing("declarations.authentication", "the authentication mechanisms")]
        where = _where("declarations.authentication.brute_force_protection")
        if not auth.uses_passwords:
            return [self.not_applicable("the product declares it uses no passwords", locations=where)]
        if not auth.brute_force_protection:
            return [self.missing("declarations.authentication.brute_force_protection", "brute-force protection")]
        return [self.passed(f"declared: {auth.brute_force_protection}", locations=where)]


class HardCodedParametersCheck(_DeclarationCheck):
    ID = "declaration.hard-coded-parameters"
    TITLE = "No hard-coded critical security parameters declared"
    SEVERITY = Severity.HIGH
    REMEDIATION = "Remove hard-coded critical security parameters from the software (EN 303 645 5.4-3)."

    def evaluate(self, dossier: Dossier, today: dt.date) -> Sequence[Finding]:
        params = dossier.declarations.security_parameters
        if params is None:
            return [self.missing("declarations.security_parameters", "the security parameters")]
        critical = [p for p in params if p.critical and p.kind != "identity"]
        hard = [p.name for p in critical if p.hard_coded]
        unknown = [p.name for p in critical if p.hard_coded is None]
        where = _where("declarations.security_parameters")
        if hard:
            return [self.failed("hard-coded critical parameters: " + ", ".join(hard), locations=where)]
        if unknown:
            return [
                self.inconclusive(
                    "whether these critical parameters are hard-coded is not declared (hard_coded): "
                    + ", ".join(unknown),
                    locations=where,
                )
            ]
        return [self.passed(f"{len(params)} security parameters declared, none hard-coded", locations=where)]


class UniqueSecurityParametersCheck(_DeclarationCheck):
    ID = "declaration.unique-security-parameters"
    TITLE = "Critical security parameters unique per device; stored securely"
    SEVERITY = Severity.HIGH
    REMEDIATION = (
        "Make critical security parameters used for updates and for talking to associated services unique "
        "per device, and store them in protected storage (EN 303 645 5.4-1, 5.4-4)."
    )

    def evaluate(self, dossier: Dossier, today: dt.date) -> Sequence[Finding]:
        params = dossier.declarations.security_parameters
        if params is None:
            return [self.missing("declarations.security_parameters", "the security parameters")]
        where = _where("declarations.security_parameters")
        critical = [p for p in params if p.critical]
        shared = [p.name for p in critical if p.per_device_unique is False]
        unknown = [p.name for p in critical if p.per_device_unique is None or not p.storage]
        if shared:
            return [self.failed("shared across devices: " + ", ".join(shared), locations=where)]
        if unknown:
            return [self.inconclusive("uniqueness or storage not declared for: " + ", ".join(unknown), locations=where)]
        if not critical:
            return [self.not_applicable("no critical security parameters declared", locations=where)]
        return [self.passed(f"{len(critical)} critical parameters unique per device and stored", locations=where)]


class SecureCommunicationCheck(_DeclarationCheck):
    ID = "declaration.secure-communication"
    TITLE = "Communication channels encrypted; personal data protected in transit"
    SEVERITY = Severity.HIGH
    REMEDIATION = (
        "Encrypt and authenticate every channel with best-practice cryptography, at least those that carry "
        "personal or security data (EN 303 645 5.5-1, 5.8-1/2, CRA (2)(e))."
    )

    def evaluate(self, dossier: Dossier, today: dt.date) -> Sequence[Finding]:
        channels = dossier.declarations.communication
        if channels is None:
            return [self.missing("declarations.communication", "the communication channels")]
        where = _where("declarations.communication")
        if not channels:
            return [self.not_applicable("the product declares no communication channels", locations=where)]
        plain = [c.name for c in channels if not c.encrypted]
        if plain:
            return [
                self.failed(f"unencrypted channels: {', '.join(plain)}", locations=where, facts={"channels": plain})
            ]
        return [self.passed(f"{len(channels)} channels, all encrypted", locations=where)]


class DebugInterfaceCheck(_DeclarationCheck):
    ID = "declaration.debug-interface"
    TITLE = "Debug interfaces disabled or protected"
    SEVERITY = Severity.HIGH
    REMEDIATION = "Disable debug interfaces in production, or protect them with access control (EN 303 645 5.6-4A)."

    def evaluate(self, dossier: Dossier, today: dt.date) -> Sequence[Finding]:
        interfaces = dossier.declarations.interfaces
        if interfaces is None or interfaces.debug_interface is None:
            return [self.missing("declarations.interfaces.debug_interface", "the state of debug interfaces")]
        where = _where("declarations.interfaces.debug_interface")
        if interfaces.debug_interface == "open":
            return [self.failed("a debug interface is open without access control", locations=where)]
        return [self.passed(f"debug interface: {interfaces.debug_interface}", locations=where)]


class SensingCapabilitiesCheck(_DeclarationCheck):
    ID = "declaration.sensing-capabilities-documented"
    TITLE = "External sensing capabilities documented for users"
    SEVERITY = Severity.MEDIUM
    REMEDIATION = (
        "Document every camera, microphone, location or other sensor in user documentation (EN 303 645 5.8-3)."
    )

    def evaluate(self, dossier: Dossier, today: dt.date) -> Sequence[Finding]:
        sensors = dossier.declarations.sensors
        if sensors is None:
            return [self.missing("declarations.sensors", "the sensing capabilities")]
        where = _where("declarations.sensors")
        if not sensors.capabilities:
            return [self.not_applicable("the product declares no external sensors", locations=where)]
        if not sensors.documented_at:
            return [self.failed("sensors " + ", ".join(sensors.capabilities) + " are not documented", locations=where)]
        return [
            self.passed(
                f"{', '.join(sensors.capabilities)} documented at {sensors.documented_at}",
                locations=where,
            )
        ]


class DataDeletionCheck(_DeclarationCheck):
    ID = "declaration.data-deletion"
    TITLE = "Users can erase their data simply and securely"
    SEVERITY = Severity.MEDIUM
    REMEDIATION = (
        "Provide a simple factory reset that erases all user data and settings, with instructions and a "
        "confirmation (EN 303 645 5.11, CRA Annex I Part I (2)(m))."
    )

    def evaluate(self, dossier: Dossier, today: dt.date) -> Sequence[Finding]:
        deletion = dossier.declarations.deletion
        if deletion is None:
            return [self.missing("declarations.deletion", "a data deletion function")]
        where = _where("declarations.deletion")
        if not deletion.factory_reset:
            return [self.failed("no function to erase user data", locations=where)]
        if not deletion.instructions_url:
            return [self.inconclusive("erase function declared without user instructions", locations=where)]
        return [self.passed(f"factory reset; instructions at {deletion.instructions_url}", locations=where)]


class SecureConfigurationGuidanceCheck(_DeclarationCheck):
    ID = "declaration.secure-configuration-guidance"
    TITLE = "Guidance on secure setup and on checking it"
    SEVERITY = Severity.LOW
    REMEDIATION = (
        "Publish guidance on setting the product up securely (EN 303 645 5.12-2, 47 CFR 8.222(b)(7), CRA "
        "Annex II 8(a))."
    )

    def evaluate(self, dossier: Dossier, today: dt.date) -> Sequence[Finding]:
        info = dossier.declarations.user_information
        if info is None or not info.secure_configuration_url:
            return [self.missing("declarations.user_information.secure_configuration_url", "secure setup guidance")]
        return [
            self.passed(
                f"secure configuration guidance at {info.secure_configuration_url}",
                locations=_where("declarations.user_information.secure_configuration_url"),
            )
        ]


class PrivacyNoticeCheck(_DeclarationCheck):
    ID = "declaration.privacy-notice"
    TITLE = "Users told what personal data is processed, by whom and why"
    SEVERITY = Severity.MEDIUM
    REMEDIATION = (
        "Publish clear information on the personal data processed, by whom, why and for how long (EN 303 645 6-1)."
    )

    def evaluate(self, dossier: Dossier, today: dt.date) -> Sequence[Finding]:
        pd = dossier.declarations.personal_data
        if pd is None:
            return [self.missing("declarations.personal_data", "the personal data processing")]
        where = _where("declarations.personal_data.privacy_notice_url")
        if not pd.processes_personal_data:
            return [self.not_applicable("the product declares it processes no personal data", locations=where)]
        if not pd.privacy_notice_url:
            return [self.failed("personal data is processed but no privacy information is published", locations=where)]
        return [self.passed(f"privacy information at {pd.privacy_notice_url}", locations=where)]


class ConsentCheck(_DeclarationCheck):
    ID = "declaration.consent"
    TITLE = "Consent obtained validly, can be withdrawn and is recorded"
    SEVERITY = Severity.MEDIUM
    REMEDIATION = (
        "Obtain explicit consent, let users withdraw it at any time and record it (EN 303 645 6-2, 6-3A, 6-3B)."
    )

    def evaluate(self, dossier: Dossier, today: dt.date) -> Sequence[Finding]:
        pd = dossier.declarations.personal_data
        if pd is None:
            return [self.missing("declarations.personal_data", "the personal data processing")]
        where = _where("declarations.personal_data")
        if not pd.processes_personal_data or pd.consent_based is False:
            return [self.not_applicable("no consent-based processing declared", locations=where)]
        if pd.consent_based is None:
            return [self.missing("declarations.personal_data.consent_based", "whether processing is consent-based")]
        gaps = [name for name, ok in (("withdrawal", pd.consent_withdrawal), ("records", pd.consent_records)) if not ok]
        if gaps:
            return [self.failed("consent-based processing without consent " + " and ".join(gaps), locations=where)]
        return [self.passed("consent can be withdrawn and is recorded", locations=where)]


class TelemetryDisclosureCheck(_DeclarationCheck):
    ID = "declaration.telemetry-disclosure"
    TITLE = "Telemetry collection disclosed"
    SEVERITY = Severity.LOW
    REMEDIATION = "Tell users what telemetry is collected, how it is used, by whom and why (EN 303 645 6-5)."

    def evaluate(self, dossier: Dossier, today: dt.date) -> Sequence[Finding]:
        pd = dossier.declarations.personal_data
        if pd is None or pd.telemetry_collected is None:
            return [self.missing("declarations.personal_data.telemetry_collected", "whether telemetry is collected")]
        where = _where("declarations.personal_data.telemetry_description")
        if not pd.telemetry_collected:
            return [self.not_applicable("no telemetry is collected", locations=where)]
        if not pd.telemetry_description:
            return [self.failed("telemetry is collected but not described to users", locations=where)]
        return [self.passed("telemetry described to users", locations=where)]


class IcsJustificationsCheck(_DeclarationCheck):
    ID = "declaration.ics-justifications"
    TITLE = "Every recommendation not implemented has a recorded justification"
    SEVERITY = Severity.MEDIUM
    REMEDIATION = (
        "Record in the ICS a justification for every provision answered 'no' or 'n/a' (EN 303 645 5.0-1, formerly 4-1)."
    )

    def evaluate(self, dossier: Dossier, today: dt.date) -> Sequence[Finding]:
        where = _where("ics")
        if not dossier.ics:
            return [self.missing("ics", "an implementation conformance statement")]
        bare = sorted(
            pid for pid, entry in dossier.ics.items() if entry.support is not IcsSupport.YES and not entry.justification
        )
        if bare:
            return [
                self.failed("no justification for: " + ", ".join(bare), locations=where, facts={"provisions": bare})
            ]
        declined = sum(1 for e in dossier.ics.values() if e.support is not IcsSupport.YES)
        return [
            self.passed(f"{len(dossier.ics)} ICS rows; {declined} not implemented, each justified", locations=where)
        ]


class ManufacturerContactCheck(_DeclarationCheck):
    ID = "declaration.manufacturer-contact"
    TITLE = "Manufacturer identity and contact published"
    SEVERITY = Severity.LOW
    REMEDIATION = "Give the manufacturer's name, postal address and an email or web contact (CRA Annex II 1)."

    def evaluate(self, dossier: Dossier, today: dt.date) -> Sequence[Finding]:
        maker = dossier.product.manufacturer
        absent = [name for name in ("address", "email") if getattr(maker, name) is None]
        where = _where("product.manufacturer")
        if absent:
            return [self.failed("manufacturer lacks " + ", ".join(absent), locations=where)]
        return [self.passed(f"{maker.name}, {maker.address}, {maker.email}", locations=where)]


class ModelDesignationCheck(_DeclarationCheck):
    ID = "declaration.model-designation"
    TITLE = "Model designation clearly recognisable"
    SEVERITY = Severity.LOW
    REMEDIATION = (
        "Show the model designation on a label or through the user interface (EN 303 645 5.3-16, CRA Art. 13(15))."
    )

    def evaluate(self, dossier: Dossier, today: dt.date) -> Sequence[Finding]:
        info = dossier.declarations.user_information
        where = _where("declarations.user_information.model_designation_visible")
        if info is None or info.model_designation_visible is None:
            return [self.missing("declarations.user_information.model_designation_visible", "the model label")]
        if not info.model_designation_visible:
            return [self.failed("the model designation is not visible to users", locations=where)]
        return [self.passed(f"model {dossier.product.model} is visible to users", locations=where)]


class SecurityLoggingCheck(_DeclarationCheck):
    ID = "declaration.security-logging"
    TITLE = "Security-relevant activity recorded and monitored, with opt-out"
    SEVERITY = Severity.LOW
    REMEDIATION = "Record access to and changes of data, services and functions, with a user opt-out (CRA (2)(l))."

    def evaluate(self, dossier: Dossier, today: dt.date) -> Sequence[Finding]:
        res = dossier.declarations.resilience
        where = _where("declarations.resilience.security_logging")
        if res is None or res.security_logging is None:
            return [self.missing("declarations.resilience.security_logging", "security logging")]
        if not res.security_logging:
            return [self.failed("no security logging", locations=where)]
        if res.logging_opt_out is False:
            return [self.failed("security logging has no user opt-out", locations=where)]
        return [self.passed("security events are logged", locations=where)]


class SecureBootCheck(_DeclarationCheck):
    ID = "declaration.secure-boot"
    TITLE = "Software verified at boot; unauthorised changes alerted"
    SEVERITY = Severity.LOW
    REMEDIATION = (
        "Verify software with secure boot and alert on unauthorised change (EN 303 645 5.7-1/5.7-2, CRA (2)(f))."
    )

    def evaluate(self, dossier: Dossier, today: dt.date) -> Sequence[Finding]:
        res = dossier.declarations.resilience
        where = _where("declarations.resilience.secure_boot")
        if res is None or res.secure_boot is None:
            return [self.missing("declarations.resilience.secure_boot", "secure boot")]
        if not res.secure_boot:
            return [self.failed("no secure boot", locations=where)]
        return [self.passed("secure boot verifies software at start", locations=where)]


class RiskAssessmentCheck(_DeclarationCheck):
    ID = "declaration.risk-assessment"
    TITLE = "Cybersecurity risk assessment documented"
    SEVERITY = Severity.MEDIUM
    REMEDIATION = (
        "Document a cybersecurity risk assessment and keep it in the technical documentation (CRA Art. 13(2)-(4))."
    )

    def evaluate(self, dossier: Dossier, today: dt.date) -> Sequence[Finding]:
        proc = dossier.declarations.process
        where = _where("declarations.process.risk_assessment")
        if proc is None or not proc.risk_assessment:
            return [self.missing("declarations.process.risk_assessment", "a risk assessment")]
        return [self.passed(f"risk assessment: {proc.risk_assessment}", locations=where)]


# A contact someone can reach: an e-mail address or a web address (a reporting-platform account comes with one).
_EMAIL = re.compile(r"[^@\s<>()]+@[^@\s<>()]+\.[a-z]{2,}", re.IGNORECASE)
_URL = re.compile(r"https?://[^\s/]+\.[^\s]+", re.IGNORECASE)


# an international telephone number (E.164 written with spaces, dots, dashes or brackets)
_PHONE = re.compile(r"\+\d[\d ().-]{6,18}\d")
# the Art. 14 timelines a documented procedure states: (what, pattern)
_TIMELINES = (
    ("the 24-hour early warning", re.compile(r"(?i)\b24[\s-]*(h|hrs?|hours?)\b")),
    ("the 72-hour notification", re.compile(r"(?i)\b72[\s-]*(h|hrs?|hours?)\b")),
    ("the final report", re.compile(r"(?i)final[\s-]+report")),
)


def reachable_contact(text: str) -> str | None:
    """The e-mail address, URL or telephone number in ``text``; None when it names none (``n/a``, ``tbd``, a
    team name)."""
    found = _EMAIL.search(text) or _URL.search(text) or _PHONE.search(text)
    return found.group(0) if found else None


def missing_timelines(procedure: str) -> list[str]:
    """The Art. 14 timelines a reporting procedure's text does not state; none when it points at the document
    that holds them (a URL)."""
    if _URL.search(procedure):
        return []
    return [what for what, pattern in _TIMELINES if not pattern.search(procedure)]


class IncidentReportingReadinessCheck(_DeclarationCheck):
    """CRA Art. 14 readiness, one part per obligation (before an event, readiness is all that can be shown):

    - ``notify`` (14(1), 14(3)): a CRA reporting contact someone can reach (an e-mail address, a URL or a
      telephone number);
    - ``timelines`` (14(2), 14(4)): that contact and a documented reporting procedure that states the timelines
      (``cra_reporting_procedure``: 24 h early warning, 72 h notification, final report) or gives the URL of the
      document that does;
    - ``users`` (14(8)): users are informed, through published advisories (``publishes_advisories``).
    """

    ID = "declaration.incident-reporting-readiness"
    TITLE = "Ready to report exploited vulnerabilities and severe incidents within 24 hours"
    SEVERITY = Severity.MEDIUM
    REMEDIATION = (
        "Name the contact that files CRA Art. 14 reports on the single reporting platform (an e-mail address or "
        "URL), document the reporting procedure (24 h early warning, 72 h notification, final report 14 days after "
        "a fix or one month after an incident notification), and inform users through advisories (Art. 14(8))."
    )
    PARTS = ("notify", "timelines", "users")

    def __init__(self, *, part: str = "notify") -> None:
        if part not in self.PARTS:
            raise ValueError(f"part must be one of {', '.join(self.PARTS)}, not {part!r}")
        self.part = part

    def evaluate(self, dossier: Dossier, today: dt.date) -> Sequence[Finding]:
        vdp = dossier.declarations.vulnerability_disclosure
        if self.part == "users":
            where = _where("declarations.vulnerability_disclosure.publishes_advisories")
            if vdp is None or vdp.publishes_advisories is None:
                return [self.missing("declarations.vulnerability_disclosure.publishes_advisories",
                                     "how users are informed of exploited vulnerabilities and incidents")]  # fmt: skip
            if not vdp.publishes_advisories:
                return [self.failed("users are not informed through advisories", locations=where)]
            return [self.passed("users are informed through published security advisories", locations=where)]
        field = "declarations.vulnerability_disclosure.cra_reporting_contact"
        if vdp is None or not vdp.cra_reporting_contact:
            return [self.missing(field, "a CRA reporting contact")]
        contact = reachable_contact(vdp.cra_reporting_contact)
        if contact is None:
            return [
                self.inconclusive(
                    f"the CRA reporting contact {vdp.cra_reporting_contact!r} names no e-mail address, URL or "
                    "telephone number to reach it by",
                    locations=_where(field),
                )
            ]
        if self.part == "notify":
            return [self.passed(f"CRA reporting contact: {vdp.cra_reporting_contact}", locations=_where(field),
                                facts={"contact": contact})]  # fmt: skip
        procedure = "declarations.vulnerability_disclosure.cra_reporting_procedure"
        if not vdp.cra_reporting_procedure:
            return [
                self.missing(procedure, "a reporting procedure with the Art. 14 timelines (24 h, 72 h, final report)")
            ]
        missing = missing_timelines(vdp.cra_reporting_procedure)
        if missing:
            return [
                self.inconclusive(
                    f"the reporting procedure {vdp.cra_reporting_procedure!r} states neither "
                    f"{', '.join(missing)} nor where the procedure is documented (a URL)",
                    locations=_where(procedure),
                    facts={"missing": missing},
                )
            ]
        return [
            self.passed(
                f"reporting procedure: {vdp.cra_reporting_procedure}; contact: {contact}",
                locations=_where(procedure),
                facts={"contact": contact},
            )
        ]


class RegistryDisclosuresCheck(_DeclarationCheck):
    ID = "declaration.registry-disclosures"
    TITLE = "Every item the FCC IoT registry discloses is provided"
    SEVERITY = Severity.MEDIUM
    REMEDIATION = "Provide every 47 CFR 8.222(b) registry item: lab, password guidance, secure configuration, updates, support end, SBOM/HBOM."
    # The registry items the dossier can give (8.222(b)(3) and (4) are set by the label administrator at grant).
    ITEMS: ClassVar[tuple[int, ...]] = (1, 2, 5, 6, 7, 8, 9, 10)

    def __init__(self, *, items: Sequence[int] = ITEMS) -> None:
        """``items`` narrows the check to the registry items a requirement asks for (8.222(b)(1) asks for (1)), so
        an item missing elsewhere never makes another item's requirement inconclusive."""
        unknown = sorted(set(items) - set(self.ITEMS))
        if unknown or not items:
            raise ValueError(f"items must be a non-empty list of {', '.join(map(str, self.ITEMS))}, not {list(items)}")
        self.items = tuple(i for i in self.ITEMS if i in items)

    def evaluate(self, dossier: Dossier, today: dt.date) -> Sequence[Finding]:
        d = dossier.declarations
        given = {
            1: ("(1) product name", dossier.product.name),
            2: ("(2) manufacturer name", dossier.product.manufacturer.name),
            5: ("(5) testing lab", dossier.assessment.lab),
            6: (
                "(6) default password instructions",
                d.authentication
                and (d.authentication.change_password_instructions or not d.authentication.uses_passwords),
            ),
            7: ("(7) secure configuration", d.user_information and d.user_information.secure_configuration_url),
            8: ("(8) update method", d.update and (d.update.automatic is not None) and d.update.instructions_url),
            9: ("(9) support period end", d.support_period and d.support_period.end),
            10: ("(10) SBOM/HBOM kept", d.sbom and d.sbom.hbom_available is not None),
        }
        asked = [given[i] for i in self.items]
        absent = [name for name, value in asked if not value]
        where = _where("declarations")
        if absent:
            return [self.inconclusive("missing registry items: " + "; ".join(absent), locations=where)]
        if self.items == self.ITEMS:
            return [self.passed("all 47 CFR 8.222(b) items the dossier can give are present", locations=where)]
        names = "; ".join(name for name, _ in asked)
        return [self.passed(f"47 CFR 8.222(b) registry item given: {names}", locations=where)]


class UserInformationCompleteCheck(_DeclarationCheck):
    ID = "declaration.user-information-complete"
    TITLE = "CRA Annex II user information complete"
    SEVERITY = Severity.MEDIUM
    REMEDIATION = "Provide every Annex II item: contact, CVD policy, product identity, purpose, risks, DoC, support end, instructions."

    def evaluate(self, dossier: Dossier, today: dt.date) -> Sequence[Finding]:
        d = dossier.declarations
        info = d.user_information
        vdp = d.vulnerability_disclosure
        items = {
            "1 manufacturer contact": dossier.product.manufacturer.email or dossier.product.manufacturer.website,
            "2 vulnerability contact and CVD policy": vdp and vdp.policy_url and vdp.contact,
            "3 product identification": dossier.product.model,
            "4 intended purpose and security properties": dossier.product.intended_purpose
            and info
            and info.security_properties,
            "5 foreseeable misuse": dossier.product.foreseeable_misuse,
            "7 support end and type of support": d.support_period and d.support_period.type_of_support,
            "8(a) secure use": info and info.secure_configuration_url,
            "8(b) effect of changes on data security": info and info.data_security_change_effects,
            "8(c) installing updates": d.update and d.update.instructions_url,
            "8(d) decommissioning": info and info.decommissioning_instructions,
            "8(e) turning off automatic updates": d.update and d.update.disable_automatic_instructions,
        }
        absent = [name for name, value in items.items() if not value]
        where = _where("declarations.user_information")
        if absent:
            return [
                self.failed("Annex II items missing: " + "; ".join(absent), locations=where, facts={"missing": absent})
            ]
        return [self.passed("every Annex II item the dossier can give is present", locations=where)]


DECLARATION_CHECKS: tuple[type[Check], ...] = (
    SupportPeriodCheck,
    SupportPeriodPublishedCheck,
    VulnerabilityDisclosurePolicyCheck,
    UpdateMechanismCheck,
    AutomaticUpdatesCheck,
    UpdateTimelinessCheck,
    SbomAvailableCheck,
    DefaultPasswordApproachCheck,
    PasswordChangeCheck,
    BruteForceProtectionCheck,
    HardCodedParametersCheck,
    UniqueSecurityParametersCheck,
    SecureCommunicationCheck,
    DebugInterfaceCheck,
    SensingCapabilitiesCheck,
    DataDeletionCheck,
    SecureConfigurationGuidanceCheck,
    PrivacyNoticeCheck,
    ConsentCheck,
    TelemetryDisclosureCheck,
    IcsJustificationsCheck,
    ManufacturerContactCheck,
    ModelDesignationCheck,
    SecurityLoggingCheck,
    SecureBootCheck,
    RiskAssessmentCheck,
    IncidentReportingReadinessCheck,
    RegistryDisclosuresCheck,
    UserInformationCompleteCheck,
)
