"""Firmware credential checks: universal default passwords, empty passwords, hard-coded credentials/secrets.

EN 303 645 5.1-1 / UK PSTI Sch. 1 para 1 / CRA Annex I (2)(d) / NISTIR 8425 (default passwords);
EN 303 645 5.4-3 (no hard-coded critical security parameters).
"""

from __future__ import annotations

from collections.abc import Sequence

from cybersafe.checks._firmware import conclude, image_facts
from cybersafe.checks.interface import OBSERVES, Check, Finding, Location
from cybersafe.evidence.defaults import default_passwords
from cybersafe.evidence.firmware.model import Area, CrackStatus, FirmwareInventory
from cybersafe.evidence.interface import Evidence
from cybersafe.verdict import Severity

# A well-known password set in the image shows that the product uses passwords and ships one preinstalled,
# whatever its dossier declares (dossier/facts.py, reconcile_facts).
PRESET_PASSWORD: dict[str, bool] = {"uses_passwords": True, "preinstalled_passwords": True}


class UniversalDefaultPasswordCheck(Check):
    ID = "firmware.universal-default-password"
    TITLE = "No account has a universal default password"
    SEVERITY = Severity.CRITICAL
    REQUIRES = (FirmwareInventory,)
    REMEDIATION = (
        "Remove built-in passwords: give each device a unique password at manufacture, or force the user to set "
        "one before first use (EN 303 645 5.1-1)."
    )

    def run(self, evidence: Evidence) -> Sequence[Finding]:
        inv = evidence.require(FirmwareInventory)
        failures = [
            self.failed(
                f"account {a.name!r} (uid {a.uid}) has the well-known default password {a.matched_password!r} "
                f"({a.hash_algorithm} hash)",
                locations=[Location(path=a.source, line=a.line)],
                facts={
                    "account": a.name,
                    "uid": a.uid,
                    "hash": a.hash_algorithm,
                    "login_capable": a.login_capable,
                    "password": a.matched_password,
                    **({OBSERVES: PRESET_PASSWORD} if a.login_capable else {}),
                },
            )
            for a in inv.accounts
            if a.crack_status is CrackStatus.MATCHED
        ]
        failures += [
            self.failed(
                f"{c.key!r} in a configuration file is set to a well-known default password",
                locations=[Location(path=c.path, line=c.line)],
                facts={"key": c.key, "kind": c.kind, OBSERVES: PRESET_PASSWORD},
            )
            for c in inv.credentials
            if c.in_default_list and c.kind == "password" and c.stock_source is None
        ]
        untested = [a for a in inv.accounts if a.crack_status in (CrackStatus.NOT_TESTED, CrackStatus.UNSUPPORTED)]
        if untested and not failures:
            return [
                self.inconclusive(
                    f"{len(untested)} password hash(es) could not be fully tested against the default list",
                    locations=[Location(path=a.source, line=a.line) for a in untested],
                    facts={"accounts": [a.name for a in untested], "status": [str(a.crack_status) for a in untested]},
                )
            ]
        if not inv.accounts and not failures and not inv.gaps(Area.ACCOUNTS, Area.PASSWORDS):
            return [
                self.inconclusive(
                    "no passwd or shadow file was found in the image; credentials may be kept elsewhere "
                    "(a vendor database, NVRAM): declare how default passwords are handled",
                    facts=image_facts(inv),
                )
            ]
        tested = [a for a in inv.accounts if a.crack_status is CrackStatus.NOT_MATCHED]
        sources = sorted({a.source for a in inv.accounts})
        return conclude(
            self,
            inv,
            failures=failures,
            areas=(Area.ACCOUNTS, Area.PASSWORDS, Area.CREDENTIALS),
            pass_message=f"examined {len(inv.accounts)} accounts in {', '.join(sources)}: {len(tested)} password hashes tested "
            f"against {len(default_passwords())} known default passwords, none matched",
            facts={**image_facts(inv), "accounts": len(inv.accounts), "hashes_tested": len(tested)},
        )


class EmptyPasswordCheck(Check):
    ID = "firmware.empty-password"
    TITLE = "No login-capable account has an empty password"
    SEVERITY = Severity.HIGH
    REQUIRES = (FirmwareInventory,)
    REMEDIATION = "Lock the account ('!' or '*' in the password field) or give it a unique strong password."

    def run(self, evidence: Evidence) -> Sequence[Finding]:
        inv = evidence.require(FirmwareInventory)
        failures = [
            self.failed(
                f"account {a.name!r} (uid {a.uid}, shell {a.shell or '-'}) can log in without a password",
                locations=[Location(path=a.source, line=a.line)],
                facts={"account": a.name, "uid": a.uid, "shell": a.shell},
            )
            for a in inv.accounts
            if a.empty_password and a.login_capable
        ]
        if not inv.accounts and not failures and not inv.gaps(Area.ACCOUNTS):
            return [self.inconclusive("no passwd or shadow file was found in the image", facts=image_facts(inv))]
        return conclude(
            self,
            inv,
            failures=failures,
            areas=(Area.ACCOUNTS,),
            pass_message=f"examined {len(inv.accounts)} accounts; none that can log in has an empty password",
            facts={**image_facts(inv), "accounts": len(inv.accounts)},
        )


class HardCodedCredentialCheck(Check):
    ID = "firmware.hard-coded-credential"
    TITLE = "No credential is hard-coded in configuration files or scripts"
    SEVERITY = Severity.HIGH
    REQUIRES = (FirmwareInventory,)
    REMEDIATION = (
        "Do not ship passwords, PSKs or tokens in the image; provision them per device at manufacture or first "
        "use (EN 303 645 5.4-3)."
    )

    def run(self, evidence: Evidence) -> Sequence[Finding]:
        inv = evidence.require(FirmwareInventory)
        failures = [
            self.failed(
                f"{c.kind} assigned to {c.key!r}: {c.preview}",
                locations=[Location(path=c.path, line=c.line)],
                facts={
                    "key": c.key,
                    "kind": c.kind,
                    "preview": c.preview,
                    "default": c.in_default_list,
                    **({OBSERVES: PRESET_PASSWORD} if c.kind == "password" else {}),
                },
            )
            for c in inv.credentials
            if c.stock_source is None
        ]
        stock = [
            self.passed(
                f"{c.kind} assigned to {c.key!r} is the stock demo value the upstream package ships ({c.stock_source}); "
                "for information",
                locations=[Location(path=c.path, line=c.line)],
                facts={"key": c.key, "kind": c.kind, "preview": c.preview, "stock_source": c.stock_source},
            )
            for c in inv.credentials
            if c.stock_source is not None
        ]
        files = inv.stats.get("config_files", 0)
        return [
            *conclude(
                self,
                inv,
                failures=failures,
                areas=(Area.CREDENTIALS,),
                pass_message=f"examined {files} configuration files, scripts and web code files (JavaScript, JSON, "
                f"PHP, Lua); no password, PSK or token is assigned in them"
                + (f" apart from {len(stock)} stock demo value(s) of upstream packages" if stock else ""),
                facts={**image_facts(inv), "config_files": files},
            ),
            *stock,
        ]


class HardCodedSecretCheck(Check):
    ID = "firmware.hard-coded-secret"
    TITLE = "No hard-coded secret (cloud keys, API tokens) in files or binaries"
    SEVERITY = Severity.HIGH
    REQUIRES = (FirmwareInventory,)
    REMEDIATION = (
        "Remove the secret from the image and revoke it; fetch per-device secrets from a provisioning service "
        "(EN 303 645 5.4-3)."
    )

    def run(self, evidence: Evidence) -> Sequence[Finding]:
        inv = evidence.require(FirmwareInventory)
        failures = [
            self.failed(
                f"{s.rule} {s.preview}" + (" inside a binary" if s.in_binary else ""),
                locations=[Location(path=s.path, offset=s.offset, line=s.line)],
                facts={"rule": s.rule, "confidence": str(s.confidence), "in_binary": s.in_binary},
                severity=self.SEVERITY if s.confidence != "low" else Severity.MEDIUM,
            )
            for s in inv.secrets
        ]
        return conclude(
            self,
            inv,
            failures=failures,
            areas=(Area.SECRETS,),
            pass_message=f"scanned {inv.files_examined} files ({inv.bytes_examined} bytes, binaries included) for cloud keys "
            "and tokens; none found",
            facts=image_facts(inv),
        )


CHECKS: tuple[type[Check], ...] = (
    UniversalDefaultPasswordCheck,
    EmptyPasswordCheck,
    HardCodedCredentialCheck,
    HardCodedSecretCheck,
)
