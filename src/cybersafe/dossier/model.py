"""The product dossier: what a manufacturer declares once, for every scheme.

Declarations follow the ETSI TS 103 701 IXIT forms (1-AuthMech, 2-UserInfo, 7-UpdMech, ...); the ICS
records per-provision support and justification; artefacts point at the firmware, SBOM and test device;
manual results carry what a lab tested by hand. Wire model: strict, unknown fields are errors.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

DOSSIER_SCHEMA = "cybersafe/dossier/v1"

NonEmpty = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CraProductClass(StrEnum):
    DEFAULT = "default"
    IMPORTANT_CLASS_I = "important-class-i"
    IMPORTANT_CLASS_II = "important-class-ii"
    CRITICAL = "critical"


# A market code: ISO 3166-1 alpha-2 in lower case, or "eu". Which schemes decide a market is catalog data
# (a scheme's ``markets``); the engine refuses a market no scheme decides.
MarketCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]


class Contact(_Strict):
    name: NonEmpty | None = None
    email: NonEmpty | None = None
    url: NonEmpty | None = None
    phone: NonEmpty | None = None
    address: NonEmpty | None = None


class Manufacturer(_Strict):
    name: NonEmpty
    trade_name: NonEmpty | None = None
    address: NonEmpty | None = None
    email: NonEmpty | None = None
    website: NonEmpty | None = None
    us_agent: NonEmpty | None = None  # 47 CFR 8.208: agent for service of process


class Product(_Strict):
    manufacturer: Manufacturer
    name: NonEmpty
    model: NonEmpty
    hardware_version: NonEmpty | None = None
    firmware_version: NonEmpty | None = None
    identifiers: list[NonEmpty] = Field(default_factory=list)  # GTIN, FCC ID, serial scheme ...
    description: NonEmpty | None = None
    intended_purpose: NonEmpty | None = None
    foreseeable_misuse: NonEmpty | None = None  # CRA Annex II 5
    # What the product is, in the catalogs' product-type words (e.g. security-camera, router): a law's
    # classification aid matches them with its categories (the CRA's Annex III/IV).
    types: list[Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+$")]] = Field(default_factory=list)
    cra_product_class: CraProductClass | None = None  # the manufacturer's own classification, if declared
    cra_category: NonEmpty | None = None  # e.g. "annex-iii-class-i-17" (smart-home products with security functions)
    components: list[NonEmpty] = Field(default_factory=list)  # device, companion app, cloud backend (IR 8425 scope)
    wireless: bool | None = None  # FCC program scope: intentional radiators only
    constrained_device: bool | None = None  # EN 303 645 condition 4/5


class DefaultPasswordApproach(StrEnum):
    NONE = "none"  # the product uses no passwords
    UNIQUE_PER_DEVICE = "unique-per-device"
    USER_DEFINED = "user-defined"  # set by the user before first use
    UNIVERSAL = "universal"  # a shared default: forbidden by every scheme


class AuthenticationDeclaration(_Strict):
    """IXIT 1-AuthMech."""

    uses_passwords: bool
    default_password_approach: DefaultPasswordApproach
    password_generation: NonEmpty | None = None  # how unique passwords are generated (5.1-2)
    mechanisms: list[NonEmpty] = Field(default_factory=list)
    machine_to_machine_passwords: bool | None = None  # 5.1-2A
    user_can_change_credentials: bool | None = None  # 5.1-4
    change_password_instructions: NonEmpty | None = None  # 47 CFR 8.222(b)(6)
    brute_force_protection: NonEmpty | None = None  # 5.1-5: rate limit / lockout description
    user_authentication: bool | None = None  # EN 303 645 condition 8
    password_optional: bool | None = None  # the user may choose not to set or use a password (EN 18031 AUM-5)


class VulnerabilityDisclosure(_Strict):
    """IXIT 2-UserInfo / 3-VulnTypes / 5-VulnMon: EN 303 645 5.2, PSTI Sch.1 para 2, CRA Annex I Part II."""

    policy_url: NonEmpty | None = None
    contact: Contact | None = None
    acknowledgement_days: int | None = Field(default=None, ge=0)
    status_update_days: int | None = Field(default=None, ge=0)
    remediation_target_days: int | None = Field(default=None, ge=0)
    monitors_vulnerabilities: bool | None = None  # 5.2-3, CRA Part II (3)
    publishes_advisories: bool | None = None  # CRA Part II (4)
    coordinated_disclosure_policy: bool | None = None  # CRA Part II (5)
    bug_bounty_url: NonEmpty | None = None
    cra_reporting_contact: NonEmpty | None = None  # CRA Art. 14 single reporting platform account/contact
    # CRA Art. 14(2), 14(4): the documented procedure (24 h early warning, 72 h notification, final report)
    cra_reporting_procedure: NonEmpty | None = None


class SupportPeriod(_Strict):
    """EN 303 645 5.3-13, PSTI Sch.1 para 3, CRA Art. 13(8) and 13(19), 47 CFR 8.222(b)(9)."""

    end: dt.date
    start: dt.date | None = None  # placing on the market; CRA counts the 5 years from here
    published_at: NonEmpty | None = None  # where the period is published
    shown_at_purchase: bool | None = None  # CRA 13(19), PSTI para 3 equal prominence
    on_product: bool | None = None  # CRA 13(19) "where possible on the product"
    expected_use_years: float | None = Field(default=None, gt=0)
    shorter_period_reason: NonEmpty | None = None  # CRA 13(8): the basis when under 5 years
    type_of_support: NonEmpty | None = None  # CRA Annex II 7

    @field_validator("start")
    @classmethod
    def _start_not_after_end(cls, start: dt.date | None, info: ValidationInfo) -> dt.date | None:
        end = info.data.get("end")  # validated first: declared before start
        if start is not None and isinstance(end, dt.date) and start > end:
            raise ValueError(f"the support period starts ({start.isoformat()}) after it ends ({end.isoformat()})")
        return start


class UpdateDeclaration(_Strict):
    """IXIT 7-UpdMech and 8-UpdProc: EN 303 645 5.3, CRA Annex I (2)(c), Part II (7)-(8)."""

    updatable: bool
    mechanism: NonEmpty | None = None
    delivery: Literal["network", "local", "both"] | None = None
    automatic: bool | None = None
    automatic_by_default: bool | None = None
    user_can_disable_automatic: bool | None = None
    user_can_postpone: bool | None = None
    notifications: bool | None = None
    signed: bool | None = None  # authenticity and integrity verified on the device
    signature_algorithm: NonEmpty | None = None
    security_separate_from_features: bool | None = None  # CRA Part II (2)
    free_of_charge: bool | None = None  # CRA Part II (8)
    timeliness_days: int | None = Field(default=None, ge=0)  # 5.3-8
    instructions_url: NonEmpty | None = None  # 47 CFR 8.222(b)(8), CRA Annex II 8(c)
    disable_automatic_instructions: NonEmpty | None = None  # CRA Annex II 8(e)
    non_updatable_rationale: NonEmpty | None = None  # 5.3-14
    hardware_replacement_support: NonEmpty | None = None  # 5.3-14


class SecurityParameter(_Strict):
    """IXIT 10-SecParam."""

    name: NonEmpty
    kind: Literal["password", "key", "certificate", "token", "seed", "identity", "other"] = "other"
    critical: bool = True
    storage: NonEmpty | None = None  # where and how it is stored (5.4-1)
    per_device_unique: bool | None = None  # 5.4-4
    hard_coded: bool | None = None  # 5.4-3; None: not declared (unknown, never taken as false)
    provisioning: NonEmpty | None = None


class CommunicationChannel(_Strict):
    """IXIT 11-SecComMech."""

    name: NonEmpty
    peer: NonEmpty | None = None  # cloud, app, hub
    protocol: NonEmpty
    encrypted: bool
    authenticated: bool | None = None
    carries_personal_data: bool | None = None
    carries_sensitive_personal_data: bool | None = None


class PortDeclaration(_Strict):
    port: int = Field(ge=1, le=65535)
    protocol: Literal["tcp", "udp"] = "tcp"
    service: NonEmpty
    purpose: NonEmpty | None = None
    authenticated: bool | None = None


class InterfacesDeclaration(_Strict):
    """IXIT 15-PhyIntf, 28-LogIntf, 13-SoftServ."""

    network_ports: list[PortDeclaration] = Field(default_factory=list)
    physical: list[NonEmpty] = Field(default_factory=list)  # USB, UART, JTAG, buttons
    debug_interface: Literal["none", "disabled", "authenticated", "open"] | None = None
    debug_interface_physically_accessible: bool | None = None  # condition 13
    unused_interfaces_disabled: bool | None = None


class PersonalDataDeclaration(_Strict):
    """IXIT 21-PersData, 24-TelData (EN 303 645 clause 6, CRA (2)(e)(g))."""

    processes_personal_data: bool
    categories: list[NonEmpty] = Field(default_factory=list)
    privacy_notice_url: NonEmpty | None = None  # 6-1
    consent_based: bool | None = None  # condition 7
    consent_withdrawal: NonEmpty | None = None  # 6-3A
    consent_records: bool | None = None  # 6-3B
    telemetry_collected: bool | None = None  # condition 6
    telemetry_description: NonEmpty | None = None  # 6-5
    data_minimisation: NonEmpty | None = None  # 6-6, CRA (2)(g)
    retention: NonEmpty | None = None


class SensorsDeclaration(_Strict):
    """IXIT 22-ExtSens: EN 303 645 5.8-3."""

    capabilities: list[NonEmpty] = Field(default_factory=list)  # camera, microphone, GPS ...
    documented_at: NonEmpty | None = None


class DeletionDeclaration(_Strict):
    """IXIT 25-DelFunc: EN 303 645 5.11, CRA (2)(m), Annex II 8(d)."""

    factory_reset: bool
    method: NonEmpty | None = None
    deletes_cloud_data: bool | None = None  # 5.11-2
    instructions_url: NonEmpty | None = None  # 5.11-3
    confirmation: bool | None = None  # 5.11-4


class UserInformationDeclaration(_Strict):
    """IXIT 2-UserInfo, 26-UserDec, 27-UserIntf: guidance for the user (CRA Annex II, 47 CFR 8.222(b))."""

    secure_configuration_url: NonEmpty | None = None  # 8.222(b)(7), 5.12-2, CRA Annex II 8(a)
    secure_setup_check: NonEmpty | None = None  # 5.12-3
    decommissioning_instructions: NonEmpty | None = None  # CRA Annex II 8(d)
    security_properties: NonEmpty | None = None  # CRA Annex II 4
    model_designation_visible: bool | None = None  # 5.3-16
    declaration_of_conformity_url: NonEmpty | None = None  # CRA Annex II 6
    sbom_url: NonEmpty | None = None  # CRA Annex II 9
    integrator_information: NonEmpty | None = None  # CRA Annex II 8(f)
    data_security_change_effects: NonEmpty | None = None  # CRA Annex II 8(b)
    languages: list[NonEmpty] = Field(default_factory=list)


class SbomDeclaration(_Strict):
    available: bool
    format: NonEmpty | None = None
    covers_top_level_dependencies: bool | None = None
    hbom_available: bool | None = None  # 8.222(b)(10)


class ResilienceDeclaration(_Strict):
    """IXIT 23-ResMech, 20-SecBoot, logging: EN 303 645 5.7, 5.9, CRA (2)(f)(h)(i)(l)."""

    secure_boot: bool | None = None
    tamper_alert: bool | None = None
    local_operation_without_network: bool | None = None
    recovers_after_power_loss: bool | None = None
    dos_protection: NonEmpty | None = None
    security_logging: bool | None = None
    logging_opt_out: bool | None = None
    input_validation: NonEmpty | None = None  # 5.13-1A/B


class ProcessDeclaration(_Strict):
    """Development and lifecycle processes (IR 8425 outcomes 7-10; CRA Art. 13, Part II (3))."""

    risk_assessment: NonEmpty | None = None  # CRA Art. 13(2)-(3) document reference
    threat_model: NonEmpty | None = None
    secure_development: NonEmpty | None = None  # 5.6-9, CLS L3 security by design
    security_testing: NonEmpty | None = None  # CRA Part II (3)
    penetration_test: NonEmpty | None = None  # CLS L4
    component_due_diligence: NonEmpty | None = None  # CRA Art. 13(5)
    documentation: NonEmpty | None = None  # IR 8425 Documentation 1
    customer_queries_contact: NonEmpty | None = None  # IR 8425 Information and Query Reception 1b
    breach_notification: NonEmpty | None = None  # IR 8425 Information Dissemination 1e
    ecosystem_notification: NonEmpty | None = None  # IR 8425 Information Dissemination 2
    education_url: NonEmpty | None = None  # IR 8425 Product Education and Awareness
    asset_inventory: NonEmpty | None = None  # IR 8425 Asset Identification 2
    configuration_management: NonEmpty | None = None  # IR 8425 Product Configuration
    state_awareness: NonEmpty | None = None  # IR 8425 Cybersecurity State Awareness


class Declarations(_Strict):
    authentication: AuthenticationDeclaration | None = None
    vulnerability_disclosure: VulnerabilityDisclosure | None = None
    support_period: SupportPeriod | None = None
    update: UpdateDeclaration | None = None
    security_parameters: list[SecurityParameter] | None = None
    communication: list[CommunicationChannel] | None = None
    interfaces: InterfacesDeclaration | None = None
    personal_data: PersonalDataDeclaration | None = None
    sensors: SensorsDeclaration | None = None
    deletion: DeletionDeclaration | None = None
    user_information: UserInformationDeclaration | None = None
    sbom: SbomDeclaration | None = None
    resilience: ResilienceDeclaration | None = None
    process: ProcessDeclaration | None = None
    labels_held: list[NonEmpty] = Field(default_factory=list)  # e.g. "sg-cls:2" (used by recognize)


class IcsSupport(StrEnum):
    YES = "yes"
    NO = "no"
    NOT_APPLICABLE = "n/a"


class IcsEntry(_Strict):
    """One row of the EN 303 645 Annex B Implementation Conformance Statement."""

    support: IcsSupport
    justification: NonEmpty | None = None
    detail: NonEmpty | None = None


class DeviceArtefact(_Strict):
    host: NonEmpty
    ports: list[Annotated[int, Field(ge=1, le=65535)]] = Field(default_factory=list)
    allow_multiple_addresses: bool = False
    credentials_budget: int | None = Field(default=None, ge=0)  # None: the whole default-credential list
    credentials_time_s: float | None = Field(default=None, gt=0)  # per login service (default 60 s)


class Artefacts(_Strict):
    firmware: NonEmpty | None = None  # path relative to the dossier
    sbom: NonEmpty | None = None
    vex: list[NonEmpty] = Field(default_factory=list)
    vulndb: NonEmpty | None = None
    device: DeviceArtefact | None = None


class ManualVerdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"
    INCONCLUSIVE = "inconclusive"


class ManualResult(_Strict):
    """A test performed by hand. ``id`` is a manual test id, a check id or ``<scheme>:<requirement>``."""

    id: NonEmpty
    verdict: ManualVerdict
    by: NonEmpty
    at: dt.date
    summary: NonEmpty | None = None
    evidence: list[NonEmpty] = Field(default_factory=list)  # files relative to the dossier


class DecisionAnswer(_Strict):
    """An answer to one node of a requirement's decision tree (EN 18031: ``DT.ACM-1.DN-2``), with its
    justification (the standard's [E.Just.DT.*] information). ``node`` may carry a scheme prefix
    (``eu-red-en-18031-2:DT.ACM-1.DN-2``) to answer for that scheme only; ``subject`` names the asset,
    interface or mechanism answered for (absent: the equipment as a whole). Evidence that answers the node
    takes precedence over this answer."""

    node: Annotated[str, StringConstraints(pattern=r"^([a-z0-9-]+(@[^:@\s]+)?:)?DT\.[A-Za-z0-9.-]+\.DN-[0-9]+$")]
    answer: Literal["yes", "no"]
    justification: NonEmpty
    subject: NonEmpty | None = None
    by: NonEmpty | None = None
    at: dt.date | None = None

    @field_validator("answer", mode="before")
    @classmethod
    def _yaml_boolean(cls, value: Any) -> Any:
        """YAML 1.1 reads an unquoted ``yes``/``no`` as a boolean: take it as the answer it spells."""
        if isinstance(value, bool):
            return "yes" if value else "no"
        return value


class AssessmentInfo(_Strict):
    lab: NonEmpty | None = None  # 47 CFR 8.222(b)(5)
    assessor: NonEmpty | None = None
    reference: NonEmpty | None = None


class RiskCover(_Strict):
    """Which failing findings a risk decision covers: a check, and optionally the locations (paths) it names."""

    check: NonEmpty
    paths: list[NonEmpty] = Field(default_factory=list)  # empty: every failing finding of the check


class RiskDecision(_Strict):
    """A documented risk decision on a risk-based requirement (the CRA's Annex I Part I (2) applies "on the
    basis of the cybersecurity risk assessment"): what the risk is, the measure taken, who decided, when.
    It turns the failing findings it covers into ``justified``, never into a silent pass."""

    id: NonEmpty
    requirement: NonEmpty  # "<scheme>[@<version>]:<requirement id>"
    covers: list[RiskCover] = Field(min_length=1)
    risk: NonEmpty
    measure: NonEmpty
    decided_by: NonEmpty
    decided_at: dt.date


class Grant(_Strict):
    """A step only a scheme body can take, recorded once it is taken: an authorisation to use a label, a
    certificate. Requirements that need it read ``pending`` until the dossier records it."""

    id: NonEmpty  # what was granted, as the catalog names it: "us-ctm" (CLA authorisation) ...
    by: NonEmpty
    at: dt.date
    reference: NonEmpty | None = None


class Dossier(_Strict):
    schema_: Literal["cybersafe/dossier/v1"] = Field(alias="schema")
    product: Product
    markets: list[MarketCode] = Field(default_factory=list)
    facts: dict[str, bool] = Field(default_factory=dict)  # explicit condition facts, override derived ones
    declarations: Declarations = Field(default_factory=Declarations)
    ics: dict[str, IcsEntry] = Field(default_factory=dict)  # key: requirement id in the schemes with ``ics: true``
    artefacts: Artefacts = Field(default_factory=Artefacts)
    manual_results: list[ManualResult] = Field(default_factory=list)
    risk_decisions: list[RiskDecision] = Field(default_factory=list)
    grants: list[Grant] = Field(default_factory=list)
    decisions: list[DecisionAnswer] = Field(default_factory=list)  # answers to decision-tree nodes
    assessment: AssessmentInfo = Field(default_factory=AssessmentInfo)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def anonymous_dossier(name: str, *, firmware: str | None = None, device: str | None = None) -> Dossier:
    """A product known only by an artefact (``firmware scan IMAGE``, ``probe HOST``): no declarations, no
    markets, so every declaration-backed verdict stays inconclusive and nothing is judged on a market.
    ``firmware`` is the image's path relative to the base directory the assessment is given."""
    artefacts: dict[str, Any] = {}
    if firmware is not None:
        artefacts["firmware"] = firmware
    if device is not None:
        artefacts["device"] = {"host": device}
    return Dossier.model_validate(
        {
            "schema": "cybersafe/dossier/v1",
            "product": {"manufacturer": {"name": "unknown"}, "name": name, "model": "unknown"},
            "artefacts": artefacts,
        }
    )
