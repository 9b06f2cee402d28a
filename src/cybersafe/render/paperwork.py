"""Scheme paperwork drafted from the dossier and the assessment, each listing what input is still missing.

Kinds and who uses them (the formats follow the reader):

- ``psti-statement``: UK PSTI statement of compliance (SI 2023/1007 Schedule 3 content; ships with the
  product). Manufacturer. HTML to print and sign, Markdown to edit.
- ``cra-user-info``: EU CRA Annex II information and instructions to the user, points 1-9 and 8(a)-(f).
  Manufacturer (publishes it online, Art. 13(18)). HTML to publish, Markdown to edit.
- ``eu-doc``: draft EU declaration of conformity with the Annex V content. Manufacturer, notified body.
  HTML to print and sign, Markdown to edit.
- ``ctm-registry``: US Cyber Trust Mark registry record with the 47 CFR 8.222(b) fields. Label
  administrator (CLA) and the registry API. JSON for the registry, Markdown for review.

Every document separates three kinds of gaps: input the dossier lacks (``missing``: fix the dossier and
re-run), items only a person can supply at signing or grant time (``by_hand``: signatory, batch, notified
body, CLA), and blocking verdicts (``blocking``: the scheme is not met in this assessment, so the
document must not be issued as is). Nothing is invented: an absent declaration is shown as missing.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, assert_never

import jinja2
from pydantic import ValidationError

from cybersafe.dossier.model import CraProductClass, DefaultPasswordApproach, Dossier
from cybersafe.errors import RenderError
from cybersafe.render.html import TEMPLATES
from cybersafe.results import Assessment, SchemeResultOut


class PaperworkKind(StrEnum):
    PSTI_STATEMENT = "psti-statement"
    CRA_USER_INFO = "cra-user-info"
    EU_DOC = "eu-doc"
    CTM_REGISTRY = "ctm-registry"


class Gap(StrEnum):
    NONE = "none"
    MISSING = "missing"  # the dossier should say it
    BY_HAND = "by-hand"  # supplied by a person at signing / grant time, never by the dossier
    NOT_APPLICABLE = "not-applicable"


@dataclass(frozen=True, slots=True)
class Item:
    key: str  # stable machine key (the CTM JSON uses it)
    clause: str  # where the item is required, e.g. "Annex II 8(c)"
    label: str
    value: str | None
    source: str  # dossier path it came from, or who supplies it
    gap: Gap = Gap.NONE
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    items: tuple[Item, ...]
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Paperwork:
    kind: PaperworkKind
    title: str
    basis: str  # legal basis
    audience: str
    intro: str
    sections: tuple[Section, ...]
    blocking: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    generated: str = ""
    assessment_digest: str = ""
    product: str = ""

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(i for s in self.sections for i in s.items)

    @property
    def missing(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.gap is Gap.MISSING)

    @property
    def by_hand(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.gap is Gap.BY_HAND)

    @property
    def ready(self) -> bool:
        """Ready to sign or publish once the by-hand items are filled in."""
        return not self.missing and not self.blocking


# ---------------------------------------------------------------- helpers


def _dossier(assessment: Assessment) -> Dossier:
    try:
        return Dossier.model_validate(assessment.dossier)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise RenderError(f"dossier.{where}: {first['msg']}") from None


def _item(key: str, clause: str, label: str, value: Any, source: str, note: str | None = None) -> Item:
    """An item from the dossier: missing when the value is absent or empty."""
    if value is None or value in ("", []):
        return Item(key, clause, label, None, source, Gap.MISSING, note)
    if isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, list):
        text = ", ".join(str(v) for v in value)
    else:
        text = str(value)
    return Item(key, clause, label, text, source, Gap.NONE, note)


def _by_hand(key: str, clause: str, label: str, who: str, note: str | None = None) -> Item:
    return Item(key, clause, label, None, who, Gap.BY_HAND, note)


def _na(key: str, clause: str, label: str, why: str) -> Item:
    return Item(key, clause, label, f"not applicable: {why}", "dossier", Gap.NOT_APPLICABLE)


def _join(*parts: str | None, sep: str = ", ") -> str | None:
    present = [p for p in parts if p]
    return sep.join(present) if present else None


def _blocking(result: SchemeResultOut | None, scheme_id: str) -> tuple[str, ...]:
    if result is None:
        return (f"the assessment has no result for {scheme_id}; run `cybersafe assess` with that scheme",)
    if result.status == "meets":
        return ()
    out = [f"{result.short_title} status in this assessment is '{result.status}', not 'meets'"]
    for req in result.requirements:
        if req.required and req.verdict not in ("pass", "not_applicable"):
            out.append(f"{result.scheme}@{result.version}:{req.id} {req.title}: {req.verdict} ({req.reason})")
    return tuple(out)


def _verdict_item(result: SchemeResultOut | None, req_id: str, key: str, clause: str, label: str) -> Item:
    if result is None:
        return Item(key, clause, label, None, "assessment", Gap.MISSING, "scheme not in the assessment")
    for req in result.requirements:
        if req.id == req_id:
            value = f"{req.verdict} ({req.reason})"
            gap = Gap.NONE if req.verdict in ("pass", "not_applicable") else Gap.MISSING
            return Item(key, clause, label, value, f"assessment {result.scheme}@{result.version}:{req.id}", gap)
    return Item(key, clause, label, None, f"assessment {result.scheme}", Gap.MISSING, f"requirement {req_id} not found")


def _product_line(d: Dossier) -> str:
    p = d.product
    return " ".join(x for x in (p.manufacturer.name, p.name, p.model) if x)


# ---------------------------------------------------------------- UK PSTI statement of compliance


def _psti(a: Assessment, d: Dossier) -> Paperwork:
    p, m = d.product, d.product.manufacturer
    decl = d.declarations
    result = a.scheme("uk-psti")
    sp = decl.support_period
    identity = [
        _item("product_type", "Sch. 3 para 1", "Product type", _join(p.name, p.model, p.hardware_version), "product"),
        _by_hand(
            "batch",
            "Sch. 3 para 1",
            "Batch the statement relates to",
            "manufacturer",
            "batch, serial range or firmware build covered; the dossier does not model batches",
        ),
        _item("manufacturer_name", "Sch. 3 para 2", "Manufacturer name", m.name, "product.manufacturer.name"),
        _item(
            "manufacturer_address", "Sch. 3 para 2", "Manufacturer address", m.address, "product.manufacturer.address"
        ),
    ]
    declarations = [
        Item(
            "prepared_by",
            "Sch. 3 para 3",
            "Statement prepared by or on behalf of the manufacturer",
            f"This statement of compliance has been prepared by or on behalf of {m.name}.",
            "fixed text",
        ),
        Item(
            "compliance",
            "Sch. 3 para 4",
            "Declaration of compliance",
            f"In the opinion of {m.name}, {m.name} has complied with the applicable security requirements "
            "of Schedule 1 to the PSTI (Security Requirements for Relevant Connectable Products) Regulations 2023.",
            "fixed text",
        ),
        _verdict_item(
            result, "Schedule 1 para 1", "req_passwords", "Sch. 1 para 1", "Passwords (unique or user-defined)"
        ),
        _verdict_item(result, "Schedule 1 para 2", "req_reporting", "Sch. 1 para 2", "How to report security issues"),
        _verdict_item(
            result, "Schedule 1 para 3", "req_support_period", "Sch. 1 para 3", "Minimum security update period"
        ),
        _item(
            "support_period_end",
            "Sch. 3 para 5",
            "Defined support period (end) at the time of issue",
            sp.end.isoformat() if sp else None,
            "declarations.support_period.end",
        ),
        _item(
            "support_period_published",
            "Sch. 1 para 3",
            "Where the support period is published",
            sp.published_at if sp else None,
            "declarations.support_period.published_at",
        ),
        _item(
            "reporting_contact",
            "Sch. 1 para 2",
            "Where to report security issues",
            _join(
                decl.vulnerability_disclosure.policy_url if decl.vulnerability_disclosure else None,
                decl.vulnerability_disclosure.contact.email
                if decl.vulnerability_disclosure and decl.vulnerability_disclosure.contact
                else None,
            ),
            "declarations.vulnerability_disclosure",
        ),
    ]
    signature = [
        _by_hand("signatory", "Sch. 3 para 6", "Signed for and on behalf of (name, function)", "manufacturer"),
        _by_hand("place_date", "Sch. 3 para 6", "Place and date of issue", "manufacturer"),
        _by_hand("signature", "Sch. 3 para 6", "Signature", "manufacturer"),
    ]
    return Paperwork(
        kind=PaperworkKind.PSTI_STATEMENT,
        title=f"Statement of compliance: {_product_line(d)}",
        basis="UK PSTI Act 2022 Part 1; SI 2023/1007 Schedule 1 (security requirements) and Schedule 3 "
        "(statement of compliance content, as we read it: check against legislation.gov.uk)",
        audience="manufacturer: print, sign and ship with the product",
        intro="Statement of compliance with the security requirements for relevant connectable products.",
        sections=(
            Section("Product and manufacturer", tuple(identity)),
            Section("Declarations", tuple(declarations)),
            Section("Signature", tuple(signature)),
        ),
        blocking=_blocking(result, "uk-psti"),
        notes=(
            "Deemed compliance (Schedule 2): EN 303 645 5.1-1, 5.2-1 and 5.3-13; since SI 2025/1267 also a current "
            "JC-STAR STAR-1 or Singapore CLS(IoT) label, which also satisfies the statement-of-compliance duty.",
        ),
    )


# ---------------------------------------------------------------- EU CRA Annex II user information


def _cra_user_info(a: Assessment, d: Dossier) -> Paperwork:
    p, m = d.product, d.product.manufacturer
    decl = d.declarations
    vd, sp, up, ui = decl.vulnerability_disclosure, decl.support_period, decl.update, decl.user_information
    deletion = decl.deletion
    contact = vd.contact if vd else None
    items_1 = (
        _item("manufacturer_name", "Annex II 1", "Manufacturer name", m.name, "product.manufacturer.name"),
        _item(
            "trade_name",
            "Annex II 1",
            "Registered trade name or trademark",
            m.trade_name,
            "product.manufacturer.trade_name",
        ),
        _item("postal_address", "Annex II 1", "Postal address", m.address, "product.manufacturer.address"),
        _item("email", "Annex II 1", "Email or other digital contact", m.email, "product.manufacturer.email"),
        Item("website", "Annex II 1", "Website", m.website, "product.manufacturer.website")
        if m.website
        else _na("website", "Annex II 1", "Website", "only where available; none declared"),
    )
    items_2 = (
        _item(
            "vulnerability_contact",
            "Annex II 2",
            "Single point of contact for vulnerabilities",
            _join(contact.email, contact.url, contact.phone) if contact else None,
            "declarations.vulnerability_disclosure.contact",
        ),
        _item(
            "cvd_policy",
            "Annex II 2",
            "Where the coordinated vulnerability disclosure policy is",
            vd.policy_url if vd else None,
            "declarations.vulnerability_disclosure.policy_url",
        ),
    )
    items_3 = (
        _item("product_name", "Annex II 3", "Name", p.name, "product.name"),
        _item("product_type", "Annex II 3", "Type / model", p.model, "product.model"),
        _item(
            "identification",
            "Annex II 3",
            "Information that uniquely identifies the product",
            _join(
                f"hardware {p.hardware_version}" if p.hardware_version else None,
                f"firmware {p.firmware_version}" if p.firmware_version else None,
                *p.identifiers,
            ),
            "product.hardware_version / firmware_version / identifiers",
        ),
    )
    items_4 = (
        _item(
            "intended_purpose",
            "Annex II 4",
            "Intended purpose and essential functions",
            p.intended_purpose,
            "product.intended_purpose",
        ),
        _item(
            "security_properties",
            "Annex II 4",
            "Security environment and security properties",
            ui.security_properties if ui else None,
            "declarations.user_information.security_properties",
        ),
    )
    items_5 = (
        _item(
            "foreseeable_misuse",
            "Annex II 5",
            "Known or foreseeable circumstances that may lead to significant cybersecurity risks",
            p.foreseeable_misuse,
            "product.foreseeable_misuse",
        ),
    )
    items_6 = (
        _item(
            "doc_url",
            "Annex II 6",
            "Internet address of the EU declaration of conformity",
            ui.declaration_of_conformity_url if ui else None,
            "declarations.user_information.declaration_of_conformity_url",
        ),
    )
    items_7 = (
        _item(
            "support_type",
            "Annex II 7",
            "Type of technical security support offered",
            sp.type_of_support if sp else None,
            "declarations.support_period.type_of_support",
        ),
        _item(
            "support_end",
            "Annex II 7",
            "End date of the support period",
            sp.end.isoformat() if sp else None,
            "declarations.support_period.end",
        ),
    )
    automatic_default = up.automatic_by_default if up else None
    if automatic_default is False:
        disable = _na(
            "disable_automatic_updates",
            "Annex II 8(e)",
            "How to turn off automatic security updates",
            "automatic updates are not on by default (declarations.update.automatic_by_default)",
        )
    else:
        disable = _item(
            "disable_automatic_updates",
            "Annex II 8(e)",
            "How to turn off automatic security updates",
            up.disable_automatic_instructions if up else None,
            "declarations.update.disable_automatic_instructions",
        )
    integrated = d.facts.get("integrated_into_other_products")
    if integrated is False:
        integrator = _na(
            "integrator_information",
            "Annex II 8(f)",
            "Information for integrators",
            "facts.integrated_into_other_products is false",
        )
    else:
        integrator = _item(
            "integrator_information",
            "Annex II 8(f)",
            "Information for integrators (Annex I and Annex VII)",
            ui.integrator_information if ui else None,
            "declarations.user_information.integrator_information",
            None
            if integrated
            else "needed only for products meant for integration: set "
            "facts.integrated_into_other_products to false if it is not",
        )
    decommission = _join(
        ui.decommissioning_instructions if ui else None, deletion.instructions_url if deletion else None, sep="; "
    )
    items_8 = (
        _item(
            "secure_use",
            "Annex II 8(a)",
            "Secure commissioning and use over the lifetime",
            ui.secure_configuration_url if ui else None,
            "declarations.user_information.secure_configuration_url",
        ),
        _item(
            "data_security_changes",
            "Annex II 8(b)",
            "How changes to the product can affect data security",
            ui.data_security_change_effects if ui else None,
            "declarations.user_information.data_security_change_effects",
        ),
        _item(
            "install_updates",
            "Annex II 8(c)",
            "How to install security updates",
            up.instructions_url if up else None,
            "declarations.update.instructions_url",
        ),
        _item(
            "decommissioning",
            "Annex II 8(d)",
            "Secure decommissioning and removal of user data",
            decommission,
            "declarations.user_information.decommissioning_instructions / deletion.instructions_url",
        ),
        disable,
        integrator,
    )
    sbom_url = ui.sbom_url if ui else None
    shared = d.facts.get("sbom_shared_with_users")
    if sbom_url:
        items_9: tuple[Item, ...] = (
            Item(
                "sbom_url",
                "Annex II 9",
                "Where the SBOM can be accessed",
                sbom_url,
                "declarations.user_information.sbom_url",
            ),
        )
    elif shared:
        items_9 = (
            _item(
                "sbom_url",
                "Annex II 9",
                "Where the SBOM can be accessed",
                None,
                "declarations.user_information.sbom_url",
                "facts.sbom_shared_with_users is true",
            ),
        )
    else:
        items_9 = (
            _na(
                "sbom_url",
                "Annex II 9",
                "Where the SBOM can be accessed",
                "the manufacturer does not make the SBOM available to users",
            ),
        )
    return Paperwork(
        kind=PaperworkKind.CRA_USER_INFO,
        title=f"Information and instructions to the user: {_product_line(d)}",
        basis="Regulation (EU) 2024/2847 (Cyber Resilience Act) Annex II; Art. 13(18)-(19)",
        audience="manufacturer: publish online and ship with the product for at least 10 years or the support "
        "period, whichever is longer (Art. 13(18))",
        intro="The information every product with digital elements must come with (CRA Annex II, points 1 to 9).",
        sections=(
            Section("1. Manufacturer", items_1),
            Section("2. Vulnerability reporting", items_2),
            Section("3. Product identification", items_3),
            Section("4. Intended purpose and security properties", items_4),
            Section("5. Foreseeable misuse", items_5),
            Section("6. EU declaration of conformity", items_6),
            Section("7. Security support", items_7),
            Section("8. Instructions", items_8),
            Section("9. Software bill of materials", items_9),
        ),
        notes=(
            "Art. 13(19): the end date of the support period (at least month and year) must be shown clearly at "
            "the time of purchase and, where possible, on the product.",
        ),
    )


# ---------------------------------------------------------------- EU declaration of conformity (Annex V)

_ROUTES = {
    CraProductClass.DEFAULT: ("internal control (module A)", False),
    CraProductClass.IMPORTANT_CLASS_I: (
        "internal control (module A) only where harmonised standards, common specifications or a European "
        "cybersecurity certification were applied in full; otherwise EU-type examination (module B) + "
        "conformity to type (module C), or full quality assurance (module H)",
        True,
    ),
    CraProductClass.IMPORTANT_CLASS_II: (
        "EU-type examination (module B) + conformity to type (module C), full quality assurance (module H), "
        "or a European cybersecurity certification scheme at assurance level 'substantial'",
        True,
    ),
    CraProductClass.CRITICAL: (
        "a European cybersecurity certification scheme where the Commission requires one; otherwise as for "
        "important products of class II",
        True,
    ),
}


def _eu_doc(a: Assessment, d: Dossier) -> Paperwork:
    p, m = d.product, d.product.manufacturer
    result = a.scheme("eu-cra")
    route, notified_body = _ROUTES[p.cra_product_class or CraProductClass.DEFAULT]
    ident = _join(
        p.name,
        p.model,
        p.hardware_version and f"hardware {p.hardware_version}",
        p.firmware_version and f"firmware {p.firmware_version}",
        *p.identifiers,
    )
    items = (
        _item(
            "product",
            "Annex V 1",
            "Name and type of the product and information that uniquely identifies it",
            ident,
            "product",
        ),
        _item(
            "manufacturer",
            "Annex V 2",
            "Name and address of the manufacturer or its authorised representative",
            _join(m.name, m.address),
            "product.manufacturer.name / address",
        ),
        Item(
            "sole_responsibility",
            "Annex V 3",
            "Responsibility",
            f"This EU declaration of conformity is issued under the sole responsibility of {m.name}.",
            "fixed text",
        ),
        _item(
            "object",
            "Annex V 4",
            "Object of the declaration (identification allowing traceability)",
            _join(ident, p.description, sep="; "),
            "product.description",
            "a photograph may be added where appropriate",
        ),
        Item(
            "conformity",
            "Annex V 5",
            "Conformity statement",
            "The object of the declaration described above is in conformity with Regulation (EU) 2024/2847 and, "
            "where applicable, with other relevant Union harmonisation legislation.",
            "fixed text",
        ),
        _by_hand(
            "standards",
            "Annex V 6",
            "Harmonised standards, common specifications or cybersecurity certifications applied",
            "manufacturer",
            "cite each by reference and version; this assessment's EN 303 645 results are "
            "evidence for the technical documentation, not a reference listed here by default",
        ),
        Item(
            "procedure",
            "Annex V 7",
            "Conformity assessment procedure",
            f"CRA product class '{(p.cra_product_class or CraProductClass.DEFAULT).value}': {route}.",
            "product.cra_product_class (Art. 32)",
        ),
        _by_hand(
            "notified_body",
            "Annex V 7",
            "Notified body name and number, certificate",
            "manufacturer",
            "required for the route above",
        )
        if notified_body
        else _na("notified_body", "Annex V 7", "Notified body", "internal control needs no notified body"),
        _by_hand(
            "additional",
            "Annex V 8",
            "Signed for and on behalf of: place and date of issue, name, function, signature",
            "manufacturer",
        ),
    )
    return Paperwork(
        kind=PaperworkKind.EU_DOC,
        title=f"DRAFT EU declaration of conformity: {_product_line(d)}",
        basis="Regulation (EU) 2024/2847 Art. 28 and Annex V (content as we read it: check against EUR-Lex)",
        audience="manufacturer (and its notified body): complete, sign and keep for 10 years (Art. 13(13))",
        intro="Draft with the Annex V content. Not valid until the conformity assessment procedure is complete "
        "and the declaration is signed.",
        sections=(Section("EU declaration of conformity (Annex V)", items),),
        blocking=_blocking(result, "eu-cra"),
    )


# ---------------------------------------------------------------- US Cyber Trust Mark registry record


def _ctm_registry(a: Assessment, d: Dossier) -> Paperwork:
    p, m = d.product, d.product.manufacturer
    decl = d.declarations
    auth, up, sp, sbom, ui = decl.authentication, decl.update, decl.support_period, decl.sbom, decl.user_information
    result = a.scheme("us-ctm")
    if auth is not None and (not auth.uses_passwords or auth.default_password_approach is DefaultPasswordApproach.NONE):
        password = Item(
            "default_password",
            "8.222(b)(6)",
            "Default password: how to change it",
            "The product uses no passwords.",
            "declarations.authentication.uses_passwords",
        )
    elif auth is not None and auth.user_can_change_credentials is False:
        password = Item(
            "default_password",
            "8.222(b)(6)",
            "Default password: how to change it",
            "The default password cannot be changed.",
            "declarations.authentication.user_can_change_credentials",
        )
    else:
        password = _item(
            "default_password",
            "8.222(b)(6)",
            "Default password: how to change it",
            auth.change_password_instructions if auth else None,
            "declarations.authentication.change_password_instructions",
        )
    if up is None:
        updates = _item(
            "updates", "8.222(b)(8)", "Automatic updates, and how to get updates", None, "declarations.update"
        )
    elif not up.updatable:
        updates = Item(
            "updates",
            "8.222(b)(8)",
            "Automatic updates, and how to get updates",
            "The product's software cannot be updated.",
            "declarations.update.updatable",
        )
    elif up.automatic:
        updates = _item(
            "updates",
            "8.222(b)(8)",
            "Automatic updates, and how to get updates",
            _join("Security updates are installed automatically", up.instructions_url, sep="; "),
            "declarations.update.automatic / instructions_url",
        )
    else:
        updates = _item(
            "updates",
            "8.222(b)(8)",
            "Automatic updates, and how to get updates",
            up.instructions_url and f"Updates are not automatic; get them at {up.instructions_url}",
            "declarations.update.instructions_url",
            "needed when updates are not automatic",
        )
    if sp is not None:
        support = Item(
            "support_period_end",
            "8.222(b)(9)",
            "Minimum support period (end date)",
            sp.end.isoformat(),
            "declarations.support_period.end",
        )
    elif up is not None and not up.updatable:
        support = Item(
            "support_period_end",
            "8.222(b)(9)",
            "Minimum support period (end date)",
            "The device is unsupported; do not rely on security updates.",
            "declarations.update.updatable",
        )
    else:
        support = _item(
            "support_period_end",
            "8.222(b)(9)",
            "Minimum support period (end date)",
            None,
            "declarations.support_period.end",
        )
    if sbom is None:
        boms = _item("sbom_hbom", "8.222(b)(10)", "Manufacturer keeps an SBOM and/or HBOM", None, "declarations.sbom")
    else:
        kept = [name for name, flag in (("SBOM", sbom.available), ("HBOM", sbom.hbom_available)) if flag]
        boms = Item(
            "sbom_hbom",
            "8.222(b)(10)",
            "Manufacturer keeps an SBOM and/or HBOM",
            " and ".join(kept) + " kept (available on request to the FCC, CyberLAB or CLA)"
            if kept
            else "Neither an SBOM nor an HBOM is kept.",
            "declarations.sbom",
        )
    status = result.status if result else "not assessed"
    items = (
        _item("product_name", "8.222(b)(1)", "Product name", _join(p.name, p.model, sep=" "), "product.name / model"),
        _item("manufacturer_name", "8.222(b)(2)", "Manufacturer name", m.name, "product.manufacturer.name"),
        _by_hand(
            "authorization",
            "8.222(b)(3)",
            "Date authorised to carry the label, and current status",
            "label administrator (CLA) at grant",
            f"assessment status for us-ctm: {status}",
        ),
        _by_hand(
            "cla", "8.222(b)(4)", "Name and contact of the CLA that authorised the label", "label administrator (CLA)"
        ),
        _item("lab", "8.222(b)(5)", "Lab that did the conformity testing", d.assessment.lab, "assessment.lab"),
        password,
        _item(
            "secure_configuration",
            "8.222(b)(7)",
            "How to configure the device securely",
            ui.secure_configuration_url if ui else None,
            "declarations.user_information.secure_configuration_url",
        ),
        updates,
        support,
        boms,
    )
    return Paperwork(
        kind=PaperworkKind.CTM_REGISTRY,
        title=f"Cyber Trust Mark registry record: {_product_line(d)}",
        basis="47 CFR 8.222(b) (FCC 24-26 R&O para. 113)",
        audience="label administrator (CLA) and the registry API; the manufacturer supplies the dossier fields",
        intro="The fields the IoT registry must show for a product carrying the U.S. Cyber Trust Mark.",
        sections=(Section("Registry fields (47 CFR 8.222(b))", items),),
        blocking=_blocking(result, "us-ctm"),
    )


# ---------------------------------------------------------------- building and rendering


def build_paperwork(kind: PaperworkKind, assessment: Assessment, *, now: dt.datetime) -> Paperwork:
    dossier = _dossier(assessment)
    builder: Callable[[Assessment, Dossier], Paperwork]
    match kind:
        case PaperworkKind.PSTI_STATEMENT:
            builder = _psti
        case PaperworkKind.CRA_USER_INFO:
            builder = _cra_user_info
        case PaperworkKind.EU_DOC:
            builder = _eu_doc
        case PaperworkKind.CTM_REGISTRY:
            builder = _ctm_registry
        case _:
            assert_never(kind)
    doc = builder(assessment, dossier)
    return _stamp(doc, assessment, now, dossier)


def _stamp(doc: Paperwork, assessment: Assessment, now: dt.datetime, dossier: Dossier) -> Paperwork:
    return Paperwork(
        kind=doc.kind,
        title=doc.title,
        basis=doc.basis,
        audience=doc.audience,
        intro=doc.intro,
        sections=doc.sections,
        blocking=doc.blocking,
        notes=doc.notes,
        generated=now.isoformat(),
        assessment_digest=assessment.digest(),
        product=_product_line(dossier),
    )


@functools.cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES / "paperwork"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2"), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = _md_escape
    env.filters["mdcode"] = _md_code
    return env


def _md_code(text: object) -> str:
    return "`" + str(text).replace("`", "'").replace("|", "\\|") + "`"


def _md_escape(text: object) -> str:
    """Table-cell safe Markdown: pipes and newlines would break the table, HTML would render."""
    value = str(text)
    for char, repl in (("\\", "\\\\"), ("|", "\\|"), ("<", "&lt;"), (">", "&gt;"), ("\n", " ")):
        value = value.replace(char, repl)
    return value


def render_markdown(doc: Paperwork) -> str:
    return _env().get_template("paperwork.md.j2").render(doc=doc, Gap=Gap)


def render_html(doc: Paperwork) -> str:
    return _env().get_template("paperwork.html.j2").render(doc=doc, Gap=Gap)


def registry_record(doc: Paperwork) -> dict[str, Any]:
    """The CTM registry record as JSON for the registry API (issue 7): fields keyed as in 8.222(b)."""
    return {
        "schema": "cybersafe/ctm-registry-record/v1",
        "product": doc.product,
        "generated_at": doc.generated,
        "assessment_digest": f"sha256:{doc.assessment_digest}",
        "ready": doc.ready,
        "fields": {
            i.key: {"clause": i.clause, "label": i.label, "value": i.value, "source": i.source, "gap": i.gap.value}
            for i in doc.items
        },
        "missing": [f"{i.clause} {i.label}: {i.source}" for i in doc.missing],
        "by_hand": [f"{i.clause} {i.label}: {i.source}" for i in doc.by_hand],
        "blocking": list(doc.blocking),
    }


@dataclass(frozen=True, slots=True)
class PaperworkFiles:
    doc: Paperwork
    files: dict[str, bytes] = field(default_factory=dict)


def paperwork_files(kind: PaperworkKind, assessment: Assessment, *, now: dt.datetime) -> PaperworkFiles:
    """The files of one kind, named ``<kind>.<ext>``: HTML + Markdown, or JSON + Markdown for the registry."""
    doc = build_paperwork(kind, assessment, now=now)
    files = {f"{kind.value}.md": render_markdown(doc).encode("utf-8")}
    match kind:
        case PaperworkKind.CTM_REGISTRY:
            text = json.dumps(registry_record(doc), indent=2, ensure_ascii=False) + "\n"
            files[f"{kind.value}.json"] = text.encode("utf-8")
        case PaperworkKind.PSTI_STATEMENT | PaperworkKind.CRA_USER_INFO | PaperworkKind.EU_DOC:
            files[f"{kind.value}.html"] = render_html(doc).encode("utf-8")
        case _:
            assert_never(kind)
    return PaperworkFiles(doc, files)
