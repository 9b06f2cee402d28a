"""Build the hand-made sample assessment the render tests, the CLI tests and bench/reports.py read.

``tests/render/data/assessment.json`` is its output, held to it by ``test_sample_assessment_is_current``; rewrite
it with the golden updater (``CYBERSAFE_UPDATE_GOLDEN=1 pytest tests/render/test_interface.py``).
It is realistic on purpose: several schemes (one meets, one fails, one is incomplete, one has levels, one
is not modelled), requirements with every verdict, checks with findings and locations of every kind
(path with line, path with byte offset, host:port, SBOM component), an error attempt and a not_run
attempt, marginal test plans, problems and artefacts. The dossier leaves some Annex II and registry
fields out, so the paperwork has something to list as missing.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from cybersafe.results import Assessment
from tests.support import dossier as build_dossier

HERE = Path(__file__).parent
GENERATED_AT = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)

PSTI = "uk-psti@2023"
ETSI = "etsi-en-303-645@3.1.3"
CRA = "eu-cra@2024"
CLS = "sg-cls@1.4"
CTM = "us-ctm@2024"


def dossier() -> dict[str, Any]:
    raw: dict[str, Any] = {
        "schema": "cybersafe/dossier/v1",
        "product": {
            "manufacturer": {
                "name": "Acme Devices Ltd",
                "trade_name": "Acme",
                "address": "1 Example Street, Cambridge CB1 1AA, United Kingdom",
                "email": "security@acme.example",
                "website": "https://acme.example",
            },
            "name": "Acme Smart Camera",
            "model": "AC-200",
            "hardware_version": "rev B",
            "firmware_version": "2.4.1",
            "identifiers": ["GTIN 05012345678900"],
            "intended_purpose": "Indoor home security camera with a companion app.",
            "cra_product_class": "important-class-i",
            "components": ["device", "companion app", "cloud backend"],
            "wireless": True,
        },
        "markets": ["uk", "eu", "us", "sg"],
        "declarations": {
            "authentication": {
                "uses_passwords": True,
                "default_password_approach": "unique-per-device",
                "password_generation": "random 12-character password per device, printed on the label",
                "user_can_change_credentials": True,
                "change_password_instructions": "Settings > Security > Change password in the Acme app.",
            },
            "vulnerability_disclosure": {
                "policy_url": "https://acme.example/security/cvd",
                "contact": {"email": "security@acme.example", "url": "https://acme.example/security"},
                "acknowledgement_days": 5,
                "status_update_days": 30,
            },
            "support_period": {
                "end": "2031-12-31",
                "start": "2026-01-15",
                "published_at": "https://acme.example/support/ac-200",
                "shown_at_purchase": True,
            },
            "update": {
                "updatable": True,
                "mechanism": "signed OTA images over HTTPS",
                "delivery": "network",
                "automatic": True,
                "automatic_by_default": True,
                "signed": True,
                "instructions_url": "https://acme.example/support/ac-200/updates",
            },
            "sbom": {"available": True, "format": "CycloneDX 1.6", "hbom_available": False},
            "user_information": {
                "secure_configuration_url": "https://acme.example/support/ac-200/secure-setup",
                "security_properties": "Video is encrypted in transit (TLS 1.3) and at rest in the cloud.",
            },
        },
        "artefacts": {"firmware": "firmware/ac200-2.4.1.bin", "sbom": "sbom.cdx.json"},
        "manual_results": [
            {
                "id": "manual:uart-console",
                "verdict": "pass",
                "by": "Example Test Lab",
                "at": "2026-10-28",
                "summary": "UART pads present; console requires authentication.",
            }
        ],
        "assessment": {"lab": "Example Test Lab", "assessor": "J. Doe", "reference": "ETL-2026-0142"},
    }
    return build_dossier(patch=raw).wire()


def loc(**kwargs: Any) -> dict[str, Any]:
    return kwargs


def check(
    check_id: str,
    title: str,
    severity: str,
    verdict: str,
    findings: list[dict[str, Any]],
    feeds: list[str],
    *,
    status: str = "completed",
    reason: str | None = None,
    detail: str | None = None,
    remediation: str | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "check_id": check_id,
        "title": title,
        "severity": severity,
        "status": status,
        "verdict": verdict,
        "findings": findings,
        "feeds": feeds,
    }
    extra = {"reason": reason, "detail": detail, "remediation": remediation}
    return out | {key: value for key, value in extra.items() if value is not None}


def finding(verdict: str, severity: str, message: str, *locations: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"verdict": verdict, "severity": severity, "message": message, "locations": list(locations), **extra}


def checks() -> list[dict[str, Any]]:
    rem_cred = "Remove the credential from the image; provision a unique secret per device at manufacture."
    return [
        check(
            "firmware.universal-default-password",
            "No universal default password",
            "critical",
            "pass",
            [finding("pass", "info", "examined 3 accounts in /etc/shadow; none has a password from the default list")],
            [f"{ETSI}:5.1-1", f"{PSTI}:Schedule 1 para 1", f"{CRA}:I-2(b)", f"{CTM}:4", f"{CLS}:5.1-1"],
        ),
        check(
            "firmware.hard-coded-credential",
            "No hard-coded credentials",
            "high",
            "fail",
            [
                finding(
                    "fail",
                    "high",
                    "user 'support' has a hard-coded md5crypt hash of the password 'support123'",
                    loc(path="/etc/shadow", line=3),
                    facts={"user": "support", "hash": "md5crypt"},
                    remediation=rem_cred,
                ),
                finding(
                    "fail",
                    "high",
                    "binary embeds the literal credential 'admin:<redacted>' used by the cloud relay",
                    loc(path="/usr/bin/relayd", offset=0x1F4A0),
                    remediation=rem_cred,
                ),
            ],
            [f"{ETSI}:5.4-3", f"{CRA}:I-2(b)", f"{CTM}:4"],
            remediation=rem_cred,
        ),
        check(
            "firmware.private-key-embedded",
            "No private key shared across devices",
            "high",
            "fail",
            [
                finding(
                    "fail",
                    "high",
                    "RSA-2048 private key in the image (same in every unit) <script>alert(1)</script>",
                    loc(path="/etc/ssl/private/device.key", offset=0),
                    remediation="Generate the device key on first boot or inject a unique key at manufacture.",
                )
            ],
            [f"{ETSI}:5.4-3", f"{CRA}:I-2(e)"],
        ),
        check(
            "firmware.binary-hardening",
            "Binaries built with hardening flags",
            "medium",
            "fail",
            [
                finding(
                    "fail",
                    "medium",
                    "/usr/bin/relayd lacks stack canaries and is not position independent",
                    loc(path="/usr/bin/relayd"),
                    facts={"nx": True, "pie": False, "canary": False},
                    remediation="Rebuild with -fstack-protector-strong -fPIE -pie -Wl,-z,relro,-z,now.",
                ),
                finding("pass", "info", "41 other ELF binaries have NX, PIE, RELRO and stack canaries"),
            ],
            [f"{ETSI}:5.6-8"],
        ),
        check(
            "sbom.known-exploited-vulnerability",
            "No known exploited vulnerability",
            "critical",
            "fail",
            [
                finding(
                    "fail",
                    "critical",
                    "busybox 1.30.1 is affected by CVE-2022-28391, listed in CISA KEV",
                    loc(component="pkg:generic/busybox@1.30.1"),
                    facts={"cve": "CVE-2022-28391"},
                    remediation="Upgrade busybox to 1.36.0 or later.",
                )
            ],
            [f"{CRA}:I-2(a)", f"{ETSI}:5.3-8"],
        ),
        check(
            "network.tls-legacy-protocol",
            "No legacy TLS protocol",
            "medium",
            "fail",
            [
                finding(
                    "fail",
                    "medium",
                    "TLS 1.0 accepted on the web interface",
                    loc(host="192.0.2.10", port=443, protocol="tls"),
                    remediation="Disable TLS 1.0 and 1.1; offer TLS 1.2 and 1.3 only.",
                )
            ],
            [f"{ETSI}:5.5-1", f"{CRA}:I-2(e)"],
        ),
        check(
            "network.ssh-weak-algorithms",
            "No weak SSH algorithms",
            "medium",
            "error",
            [],
            [f"{ETSI}:5.5-1"],
            status="error",
            reason="bug",
            detail="ValueError: unexpected banner at ssh.py:88",
        ),
        check(
            "network.cleartext-services",
            "No cleartext remote services",
            "high",
            "inconclusive",
            [
                finding(
                    "inconclusive",
                    "info",
                    "device did not answer on 3 of 5 declared ports within the time budget",
                    loc(host="192.0.2.10", port=23, protocol="tcp"),
                )
            ],
            [f"{ETSI}:5.6-1", f"{CTM}:4"],
        ),
        check(
            "firmware.debug-interface-enabled",
            "Debug interfaces disabled",
            "medium",
            "not_applicable",
            [finding("not_applicable", "info", "the product declares no debug interface physically accessible")],
            [f"{ETSI}:5.6-4"],
        ),
        check(
            "declaration.support-period",
            "Support period declared and long enough",
            "high",
            "pass",
            [finding("pass", "info", "support period ends 2031-12-31, 5 years 11 months after placing on the market")],
            [f"{PSTI}:Schedule 1 para 3", f"{ETSI}:5.3-13", f"{CRA}:13(8)", f"{CTM}:9"],
        ),
        check(
            "declaration.vulnerability-disclosure-policy",
            "Vulnerability disclosure policy with contact and timelines",
            "high",
            "pass",
            [finding("pass", "info", "policy at https://acme.example/security/cvd; acknowledgement within 5 days")],
            [f"{PSTI}:Schedule 1 para 2", f"{ETSI}:5.2-1", f"{CRA}:II-5", f"{CLS}:5.2-1"],
        ),
        check(
            "declaration.user-information-complete",
            "User information complete (CRA Annex II)",
            "medium",
            "fail",
            [
                finding(
                    "fail",
                    "medium",
                    "Annex II information is missing: 5 (foreseeable misuse), 6 (DoC address), 8(d), 8(e)",
                    loc(path="dossier.yaml"),
                    remediation="Complete declarations.user_information in the dossier.",
                )
            ],
            [f"{CRA}:II-info"],
        ),
        check(
            "sbom.minimum-elements",
            "SBOM has the minimum elements",
            "low",
            "inconclusive",
            [],
            [f"{CRA}:II-1"],
            status="not_run",
            reason="missing_evidence",
            detail="no SbomDocument evidence in this assessment",
        ),
    ]


def req(
    rid: str,
    title: str,
    verdict: str,
    reason: str,
    evidence: list[tuple[str, str, str]],
    *,
    group: str | None = None,
    obligation: str = "mandatory",
    required: bool = True,
    levels: list[str] | None = None,
    missing: list[str] | None = None,
    condition: str | None = None,
    source: str = "",
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": rid,
        "title": title,
        "obligation": obligation,
        "required": required,
        "levels": levels or [],
        "verdict": verdict,
        "reason": reason,
        "confidence": "confirmed",
        "source": source or f"clause {rid}",
        "evidence": [{"ref": ref, "kind": kind, "verdict": v} for ref, kind, v in evidence],
        "missing": missing or [],
    }
    if group is not None:
        out["group"] = group
    if condition is not None:
        out["condition"] = condition
    return out


def counts(reqs: list[dict[str, Any]]) -> dict[str, int]:
    out = dict.fromkeys(("pass", "fail", "inconclusive", "not_applicable", "error"), 0)
    for r in reqs:
        out[r["verdict"]] += 1
    return out


def scheme(
    key: str,
    title: str,
    short: str,
    jurisdiction: str,
    status: str,
    reqs: list[dict[str, Any]],
    *,
    highest: str | None = None,
    levels: list[dict[str, Any]] | None = None,
    modelled: bool = True,
) -> dict[str, Any]:
    sid, version = key.split("@")
    missing = sorted({m for r in reqs for m in r["missing"]})
    out: dict[str, Any] = {
        "scheme": sid,
        "version": version,
        "title": title,
        "short_title": short,
        "jurisdiction": jurisdiction,
        "modelled": modelled,
        "status": status,
        "levels": levels or [],
        "counts": counts(reqs),
        "requirements": reqs,
        "missing_evidence": missing,
    }
    if highest is not None:
        out["highest_level"] = highest
    return out


def schemes() -> list[dict[str, Any]]:
    psti = [
        req(
            "Schedule 1 para 1",
            "Passwords unique per product or defined by the user",
            "pass",
            "all verifying checks pass",
            [("firmware.universal-default-password", "check", "pass")],
            source="SI 2023/1007 Schedule 1 para 1",
        ),
        req(
            "Schedule 1 para 2",
            "Information on how to report security issues",
            "pass",
            "all verifying checks pass",
            [("declaration.vulnerability-disclosure-policy", "check", "pass")],
            source="SI 2023/1007 Schedule 1 para 2",
        ),
        req(
            "Schedule 1 para 3",
            "Information on minimum security update periods",
            "pass",
            "all verifying checks pass",
            [("declaration.support-period", "check", "pass")],
            source="SI 2023/1007 Schedule 1 para 3",
        ),
    ]
    etsi = [
        req(
            "5.1-1",
            "No universal default passwords",
            "pass",
            "all verifying checks pass",
            [("firmware.universal-default-password", "check", "pass")],
            group="5.1 No universal default passwords",
            condition="uses_passwords",
            obligation="conditional",
        ),
        req(
            "5.2-1",
            "Vulnerability disclosure policy is published",
            "pass",
            "all verifying checks pass",
            [("declaration.vulnerability-disclosure-policy", "check", "pass")],
            group="5.2 Means to manage reports of vulnerabilities",
        ),
        req(
            "5.3-8",
            "Security updates are timely",
            "fail",
            "a verifying check fails",
            [
                ("sbom.known-exploited-vulnerability", "check", "fail"),
                ("declaration:update.timeliness_days", "declaration", "inconclusive"),
            ],
            group="5.3 Keep software updated",
        ),
        req(
            "5.3-13",
            "Defined support period is published",
            "pass",
            "all verifying checks pass",
            [("declaration.support-period", "check", "pass")],
            group="5.3 Keep software updated",
        ),
        req(
            "5.4-3",
            "No hard-coded critical security parameters",
            "fail",
            "a verifying check fails",
            [("firmware.hard-coded-credential", "check", "fail"), ("firmware.private-key-embedded", "check", "fail")],
            group="5.4 Securely store sensitive security parameters",
        ),
        req(
            "5.5-1",
            "Best-practice cryptography for communication",
            "fail",
            "a verifying check fails",
            [("network.tls-legacy-protocol", "check", "fail"), ("network.ssh-weak-algorithms", "check", "error")],
            group="5.5 Communicate securely",
        ),
        req(
            "5.5-5",
            "Security-relevant changes via the network interface need authentication",
            "error",
            "a verifying check errored",
            [("network.ssh-weak-algorithms", "check", "error")],
            group="5.5 Communicate securely",
        ),
        req(
            "5.6-1",
            "Unused network and logical interfaces are disabled",
            "inconclusive",
            "evidence insufficient",
            [("network.cleartext-services", "check", "inconclusive")],
            group="5.6 Minimize exposed attack surfaces",
            missing=["network.cleartext-services: probe the device with every declared port reachable"],
        ),
        req(
            "5.6-4",
            "Debug interfaces physically accessible are disabled in software",
            "not_applicable",
            "condition debug_interface_physically_accessible is false",
            [("firmware.debug-interface-enabled", "check", "not_applicable")],
            group="5.6 Minimize exposed attack surfaces",
            obligation="conditional",
            required=False,
            condition="debug_interface_physically_accessible",
        ),
        req(
            "5.6-8",
            "Hardware-level and software-level exploit mitigations",
            "fail",
            "a verifying check fails",
            [("firmware.binary-hardening", "check", "fail")],
            group="5.6 Minimize exposed attack surfaces",
            obligation="recommended",
            required=False,
        ),
        req(
            "5.8-3",
            "External sensing capabilities are documented",
            "inconclusive",
            "not assessable automatically, needs declaration or manual result",
            [("declaration:sensors.documented_at", "declaration", "inconclusive")],
            group="5.8 Ensure that personal data is secure",
            missing=["declaration:sensors.documented_at"],
        ),
    ]
    cra = [
        req(
            "I-2(a)",
            "Made available without known exploitable vulnerabilities",
            "fail",
            "a verifying check fails",
            [("sbom.known-exploited-vulnerability", "check", "fail")],
            group="Annex I Part I",
            source="Regulation (EU) 2024/2847 Annex I Part I (2)(a)",
        ),
        req(
            "I-2(b)",
            "Secure by default configuration",
            "fail",
            "a verifying check fails",
            [
                ("firmware.universal-default-password", "check", "pass"),
                ("firmware.hard-coded-credential", "check", "fail"),
            ],
            group="Annex I Part I",
        ),
        req(
            "I-2(e)",
            "Confidentiality of data by state-of-the-art encryption",
            "fail",
            "a verifying check fails",
            [("network.tls-legacy-protocol", "check", "fail"), ("firmware.private-key-embedded", "check", "fail")],
            group="Annex I Part I",
        ),
        req(
            "II-1",
            "Identify and document components, including an SBOM",
            "inconclusive",
            "evidence insufficient",
            [("sbom.minimum-elements", "check", "inconclusive")],
            group="Annex I Part II",
            missing=["sbom.minimum-elements: an SBOM artefact in the dossier"],
        ),
        req(
            "II-5",
            "Coordinated vulnerability disclosure policy",
            "pass",
            "all verifying checks pass",
            [("declaration.vulnerability-disclosure-policy", "check", "pass")],
            group="Annex I Part II",
        ),
        req(
            "13(8)",
            "Support period of at least five years",
            "pass",
            "all verifying checks pass",
            [("declaration.support-period", "check", "pass")],
            group="Article 13",
        ),
        req(
            "II-info",
            "Information and instructions to the user (Annex II)",
            "fail",
            "a verifying check fails",
            [("declaration.user-information-complete", "check", "fail")],
            group="Annex II",
        ),
        req(
            "14",
            "Reporting of actively exploited vulnerabilities and severe incidents",
            "inconclusive",
            "not assessable automatically, needs declaration or manual result",
            [("declaration:vulnerability_disclosure.cra_reporting_contact", "declaration", "inconclusive")],
            group="Article 14",
            missing=["declaration:vulnerability_disclosure.cra_reporting_contact"],
        ),
    ]
    cls = [
        req(
            "5.1-1",
            "No universal default passwords",
            "pass",
            "all verifying checks pass",
            [("firmware.universal-default-password", "check", "pass")],
            levels=["1", "2", "3", "4"],
        ),
        req(
            "5.2-1",
            "Vulnerability disclosure policy",
            "pass",
            "all verifying checks pass",
            [("declaration.vulnerability-disclosure-policy", "check", "pass")],
            levels=["1", "2", "3", "4"],
        ),
        req(
            "L2-baseline",
            "Mandatory EN 303 645 provisions",
            "fail",
            "a referenced requirement fails",
            [(f"{ETSI}:5.4-3", "requirement", "fail")],
            levels=["2", "3", "4"],
        ),
        req(
            "L3-design",
            "Security by design evidence",
            "inconclusive",
            "needs manual result",
            [("manual:cls-l3-design-review", "manual", "inconclusive")],
            levels=["3", "4"],
            missing=["manual:cls-l3-design-review"],
        ),
        req(
            "L4-pentest",
            "Penetration test by an approved lab",
            "inconclusive",
            "needs manual result",
            [("manual:cls-l4-pentest", "manual", "inconclusive")],
            levels=["4"],
            missing=["manual:cls-l4-pentest"],
        ),
    ]
    ctm = [
        req(
            "4",
            "Interface access control",
            "fail",
            "a verifying check fails",
            [
                ("firmware.universal-default-password", "check", "pass"),
                ("firmware.hard-coded-credential", "check", "fail"),
                ("network.cleartext-services", "check", "inconclusive"),
            ],
            group="NIST IR 8425 outcomes",
        ),
        req(
            "9",
            "Information dissemination: support period",
            "pass",
            "all verifying checks pass",
            [("declaration.support-period", "check", "pass")],
            group="NIST IR 8425 outcomes",
        ),
        req(
            "8.222(b)(6)",
            "Registry: default password instructions",
            "pass",
            "declaration present",
            [("declaration:authentication.change_password_instructions", "declaration", "pass")],
            group="Registry disclosures (47 CFR 8.222(b))",
        ),
    ]
    cls_levels = [
        {"level": "1", "title": "Level 1", "status": "meets", "counts": {"pass": 2}},
        {"level": "2", "title": "Level 2", "status": "fails", "counts": {"pass": 2, "fail": 1}},
        {"level": "3", "title": "Level 3", "status": "fails", "counts": {"pass": 2, "fail": 1, "inconclusive": 1}},
        {"level": "4", "title": "Level 4", "status": "fails", "counts": {"pass": 2, "fail": 1, "inconclusive": 2}},
    ]
    return [
        scheme(PSTI, "UK PSTI security requirements for relevant connectable products", "UK PSTI", "UK", "meets", psti),
        scheme(ETSI, "ETSI EN 303 645 V3.1.3", "EN 303 645", "EU", "fails", etsi),
        scheme(CRA, "EU Cyber Resilience Act (Regulation (EU) 2024/2847)", "EU CRA", "EU", "fails", cra),
        scheme(
            CLS,
            "Singapore Cybersecurity Labelling Scheme (IoT)",
            "CLS(IoT)",
            "SG",
            "fails",
            cls,
            highest="1",
            levels=cls_levels,
        ),
        scheme(CTM, "US Cyber Trust Mark (NIST IR 8425)", "Cyber Trust Mark", "US", "fails", ctm),
        scheme(
            "de-bsi@2024",
            "BSI IT-Sicherheitskennzeichen",
            "BSI IT security label",
            "DE",
            "not_modelled",
            [],
            modelled=False,
        ),
    ]


def plans() -> list[dict[str, Any]]:
    return [
        {
            "have": "sg-cls:1",
            "want": "eu-cra",
            "covered": [f"{CRA}:II-5"],
            "residual": [f"{CRA}:I-2(a)", f"{CRA}:II-1", f"{CRA}:14"],
            "steps": [
                {
                    "ref": "sbom.known-exploited-vulnerability",
                    "kind": "check",
                    "closes": [f"{CRA}:I-2(a)"],
                    "automated": True,
                },
                {"ref": "sbom.minimum-elements", "kind": "check", "closes": [f"{CRA}:II-1"], "automated": True},
                {
                    "ref": "vulnerability_disclosure.cra_reporting_contact",
                    "kind": "declaration",
                    "closes": [f"{CRA}:14"],
                    "automated": False,
                },
            ],
        },
        {
            "have": "uk-psti",
            "want": "de-bsi",
            "covered": [],
            "residual": [],
            "steps": [
                {"ref": "de-bsi", "kind": "manual", "closes": ["de-bsi@2024:*"], "automated": False},
            ],
        },
    ]


def build() -> Assessment:
    data = {
        "schema": "cybersafe/assessment/v1",
        "generated_at": GENERATED_AT.isoformat(),
        "tool": {"name": "cybersafe", "version": "0.1.0"},
        "dossier": dossier(),
        "artefacts": [
            {"kind": "dossier", "name": "dossier.yaml", "sha256": "1" * 64, "size": 4210},
            {"kind": "firmware", "name": "firmware/ac200-2.4.1.bin", "sha256": "ab" * 32, "size": 8_388_608},
            {"kind": "sbom", "name": "sbom.cdx.json", "sha256": "cd" * 32, "size": 52_113},
            {"kind": "device", "name": "192.0.2.10"},
        ],
        "catalogs": [
            {"scheme": s.split("@")[0], "version": s.split("@")[1], "sha256": f"{i:x}" * 64}
            for i, s in enumerate((PSTI, ETSI, CRA, CLS, CTM), start=2)
        ],
        "checks": checks(),
        "schemes": schemes(),
        "plans": plans(),
        "reuse": {
            "checks_run": 11,
            "requirement_verdicts": 30,
            "schemes_served": 5,
            "requirements_fed_per_check": 2.7,
        },
        "problems": [
            {
                "source": "firmware.unpack",
                "severity": "warning",
                "message": "symlink escapes the extraction root; neutralised",
                "path": "/www/cgi-bin/link",
            },
            {"source": "network.probe", "severity": "error", "message": "SSH banner could not be parsed"},
        ],
    }
    return Assessment.model_validate(data)
