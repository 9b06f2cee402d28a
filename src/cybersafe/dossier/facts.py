"""Condition facts of a dossier (EN 303 645 Annex B conditions and the like).

A fact is True, False, or unknown (absent). Explicit ``facts:`` in the dossier win over derived ones.
An unknown fact makes a conditional requirement inconclusive: we never guess a condition away.

What the evidence observed wins over what the dossier says (``reconcile_facts``): a device that asks for a
password over the network uses passwords, whatever ``authentication.uses_passwords`` declares. A declaration
cannot make a requirement not applicable when the evidence shows its condition holds; the contradiction is
kept and named in the verdict of every requirement whose condition reads that fact.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from cybersafe.dossier.model import DefaultPasswordApproach, Dossier


@dataclass(frozen=True, slots=True)
class Contradiction:
    """A condition fact the dossier gives one value and the evidence the other; the evidence's value is used."""

    fact: str
    declared: bool
    observed: bool
    source: str  # the check whose finding observed it
    evidence: str  # that finding's message
    unknown: str | None = None  # a fact derived from this one, now unknown (the contradiction is filed under it)

    def __str__(self) -> str:
        text = (
            f"the dossier gives {self.fact}: {str(self.declared).lower()}, but {self.source} observed "
            f"{self.fact}: {str(self.observed).lower()} ({self.evidence}), so the evidence's value is used"
        )
        return text + (f"; {self.unknown}, derived from it, is unknown" if self.unknown else "")


# Derived facts and the facts they are worked out from (derive_facts): when the evidence contradicts a premise,
# the derived value rests on a false declaration and becomes unknown, unless it was observed itself.
DERIVED_FROM: dict[str, frozenset[str]] = {
    "preinstalled_passwords": frozenset({"uses_passwords"}),
    "password_optional": frozenset({"uses_passwords"}),
    "automatic_updates_supported": frozenset({"software_updatable"}),
    "update_notifications_supported": frozenset({"software_updatable"}),
    "network_updates": frozenset({"software_updatable"}),
    "consent_based_processing": frozenset({"processes_personal_data"}),
}


def reconcile_facts(
    declared: Mapping[str, bool],
    observed: Mapping[str, tuple[bool, str, str]],
    *,
    stated: frozenset[str] = frozenset(),
) -> tuple[dict[str, bool], dict[str, Contradiction]]:
    """The facts to judge by: the declared ones, overridden by what the evidence observed (``observed`` maps a
    fact to its value, the observing check and its evidence); with each contradiction of the two, filed under
    the contradicted fact and under each fact derived from it (``DERIVED_FROM``) that is unknown as a result.
    ``stated`` are the facts the dossier gives explicitly (``facts:``): those are not derived."""
    facts = dict(declared)
    contradictions: dict[str, Contradiction] = {}
    for fact, (value, source, evidence) in sorted(observed.items()):
        before = facts.get(fact)
        if before is not None and before != value:
            contradictions[fact] = Contradiction(fact, before, value, source, evidence)
        facts[fact] = value
    for derived, premises in sorted(DERIVED_FROM.items()):
        if derived in observed or derived in stated or derived not in facts:
            continue
        premise = next((contradictions[p] for p in sorted(premises) if p in contradictions), None)
        if premise is not None:
            del facts[derived]
            contradictions[derived] = dataclasses.replace(premise, unknown=derived)
    return facts, contradictions


# The facts derive_facts() can work out from declarations. A dossier may also state any fact a scheme's
# catalog declares in its ``conditions:`` (the catalog is the list of those).
DERIVED_FACTS = frozenset(
    {
        "uses_passwords",
        "preinstalled_passwords",
        "software_updatable",
        "constrained_device",
        "telemetry_collected",
        "consent_based_processing",
        "user_authentication",
        "automatic_updates_supported",
        "update_notifications_supported",
        "hardcoded_unique_identity",
        "network_updates",
        "update_mechanism",
        "debug_interface_physically_accessible",
        "processes_personal_data",
        "sensitive_personal_data",
        "external_sensors",
        "wireless",
        "integrated_into_other_products",
        "sbom_shared_with_users",
        "machine_to_machine_authentication",
        "password_optional",  # the user may choose not to set or use a password (Decision (EU) 2025/138)
    }
)


def derive_facts(dossier: Dossier) -> dict[str, bool]:
    d = dossier.declarations
    facts: dict[str, bool] = {}

    def put(name: str, value: bool | None) -> None:
        if value is not None:
            facts[name] = value

    put("wireless", dossier.product.wireless)
    put("constrained_device", dossier.product.constrained_device)
    if d.authentication is not None:
        auth = d.authentication
        put("uses_passwords", auth.uses_passwords)
        put(
            "preinstalled_passwords",
            (auth.uses_passwords and auth.default_password_approach is DefaultPasswordApproach.UNIQUE_PER_DEVICE)
            or auth.default_password_approach is DefaultPasswordApproach.UNIVERSAL,
        )
        put("user_authentication", auth.user_authentication)
        put("machine_to_machine_authentication", auth.machine_to_machine_passwords)
        put("password_optional", auth.password_optional if auth.uses_passwords else False)
    if d.update is not None:
        upd = d.update
        put("software_updatable", upd.updatable)
        put("update_mechanism", upd.updatable)
        put("automatic_updates_supported", upd.automatic if upd.updatable else False)
        put("update_notifications_supported", upd.notifications if upd.updatable else False)
        if upd.delivery is not None:
            put("network_updates", upd.delivery in ("network", "both"))
        elif not upd.updatable:
            put("network_updates", False)
    if d.personal_data is not None:
        pd = d.personal_data
        put("processes_personal_data", pd.processes_personal_data)
        put("telemetry_collected", pd.telemetry_collected)
        put("consent_based_processing", pd.consent_based if pd.processes_personal_data else False)
    if d.communication is not None:
        put("sensitive_personal_data", any(c.carries_sensitive_personal_data for c in d.communication))
    if d.sensors is not None:
        put("external_sensors", bool(d.sensors.capabilities))
    if d.interfaces is not None:
        put("debug_interface_physically_accessible", d.interfaces.debug_interface_physically_accessible)
    if d.security_parameters is not None:
        identities = [p.hard_coded for p in d.security_parameters if p.kind == "identity"]
        # an identity whose hard_coded is not declared leaves the fact unknown, unless another one is hard-coded
        put("hardcoded_unique_identity", True if True in identities else None if None in identities else False)
    if d.user_information is not None:
        put("sbom_shared_with_users", d.user_information.sbom_url is not None)
    facts.update(dossier.facts)
    return facts
