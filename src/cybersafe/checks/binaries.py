"""Firmware binary hardening (checksec semantics): NX, PIE, RELRO, stack canary.

EN 303 645 5.6-8 (exploit mitigations); CRA Annex I (2)(k). Partial RELRO, missing FORTIFY, RPATH and
stripped state are reported as facts, not failures, like checksec's yellow.
"""

from __future__ import annotations

from collections.abc import Sequence

from cybersafe.checks._firmware import conclude, image_facts
from cybersafe.checks.interface import Check, Finding, Location
from cybersafe.evidence.firmware.model import Area, FirmwareInventory
from cybersafe.evidence.interface import Evidence
from cybersafe.verdict import Severity


class BinaryHardeningCheck(Check):
    ID = "firmware.binary-hardening"
    TITLE = "Executables and libraries are built with exploit mitigations"
    SEVERITY = Severity.MEDIUM
    REQUIRES = (FirmwareInventory,)
    REMEDIATION = (
        "Build with -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE -pie -Wl,-z,relro,-z,now and without "
        "-z execstack."
    )

    def run(self, evidence: Evidence) -> Sequence[Finding]:
        inv = evidence.require(FirmwareInventory)
        elfs = [e for e in inv.elf if e.elf_type != "relocatable"]
        failures = [
            self.failed(
                f"{e.elf_type} ({e.arch}{', static' if e.static else ''}): {', '.join(e.weaknesses)}",
                locations=[Location(path=e.path)],
                facts={
                    "nx": e.nx,
                    "pie": e.pie,
                    "relro": e.relro,
                    "canary": e.canary,
                    "fortify": e.fortify,
                    "static": e.static,
                    "stripped": e.stripped,
                    "rpath": e.rpath,
                    "runpath": e.runpath,
                },
            )
            for e in elfs
            if e.weaknesses
        ]
        if not elfs and not inv.gaps(Area.ELF):
            return [self.not_applicable("no ELF executable or library found in the image", facts=image_facts(inv))]
        partial = len([e for e in elfs if e.relro == "partial"])
        unknown = len([e for e in elfs if e.canary is None])
        return conclude(
            self,
            inv,
            failures=failures,
            areas=(Area.ELF,),
            pass_message=f"examined {len(elfs)} ELF files: all have NX, PIE (or are libraries), RELRO and a stack canary "
            f"({partial} with partial RELRO; canary not determinable in {unknown} stripped static binaries)",
            facts={**image_facts(inv), "elf_files": len(elfs), "partial_relro": partial, "canary_unknown": unknown},
        )


CHECKS: tuple[type[Check], ...] = (BinaryHardeningCheck,)
