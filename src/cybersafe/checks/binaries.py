"""Firmware binary hardening (checksec semantics), judged as a developer can fix it.

Executables need NX, PIE, RELRO and a stack canary; shared libraries need NX and RELRO. The dynamic loader
(ld-linux*, ld-musl*, ld-uClibc*) and libc, which hold the start-up code that sets the canary up, are exempt
from the canary rule; ELF images the system never runs as a process (peripheral firmware, boot loaders,
kernels) are not judged. A missing PT_GNU_STACK is judged by the architecture's default, stated in the
finding. Each finding names the package that ships the file when a package database says so. Partial
RELRO, missing FORTIFY, RPATH and stripped state are reported as facts, not failures, like checksec's yellow.
EN 303 645 5.6-8 (exploit mitigations); CRA Annex I Part I (2)(k).

``protections`` narrows what is judged to what the requirement asks: EN 303 645 5.6-8 asks for
hardware-level memory access control, which binaries use through a non-executable stack and data (NX), so
its catalog passes ``protections: [nx]``; the CRA's exploitation-mitigation point asks for all four.
"""

from __future__ import annotations

from collections.abc import Sequence

from cybersafe.checks._firmware import conclude, image_facts
from cybersafe.checks.interface import Check, Finding, Location
from cybersafe.evidence.firmware.model import Area, ElfHardening, FirmwareInventory
from cybersafe.evidence.interface import Evidence
from cybersafe.verdict import Severity

PROTECTIONS = ("nx", "pie", "relro", "canary")
_NAMES = {"nx": "NX", "pie": "PIE", "relro": "RELRO", "canary": "a stack canary"}
_KIND = {"program": "", "library": "", "loader": "dynamic loader, ", "libc": "C library, "}


_FIX = {
    "nx": "-Wl,-z,noexecstack",
    "pie": "-fPIE -pie",
    "relro": "-Wl,-z,relro,-z,now",
    "canary": "-fstack-protector-strong",
}


class BinaryHardeningCheck(Check):
    ID = "firmware.binary-hardening"
    TITLE = "Executables and libraries are built with exploit mitigations"
    SEVERITY = Severity.MEDIUM
    REQUIRES = (FirmwareInventory,)
    REMEDIATION = (
        "Build executables with -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE -pie -Wl,-z,relro,-z,now "
        "-Wl,-z,noexecstack, and libraries with -fPIC -Wl,-z,relro,-z,now -Wl,-z,noexecstack."
    )

    def __init__(self, *, protections: Sequence[str] = PROTECTIONS) -> None:
        unknown = sorted(set(protections) - set(PROTECTIONS))
        if unknown or not protections:
            raise ValueError(
                f"protections must be a non-empty list of {', '.join(PROTECTIONS)}, not {list(protections)}"
            )
        self.protections = tuple(p for p in PROTECTIONS if p in protections)

    def _judged(self, e: ElfHardening) -> tuple[tuple[str, str], ...]:
        return tuple(item for item in e.weakness_items if item[0] in self.protections)

    def _finding(self, e: ElfHardening, judged: tuple[tuple[str, str], ...]) -> Finding:
        package = f", package {e.package}" if e.package else ""
        return self.failed(
            f"{_KIND.get(e.role, '')}{e.elf_type} ({e.arch}{', static' if e.static else ''}{package}): "
            f"{', '.join(text for _, text in judged)}; rebuild with {' '.join(_FIX[key] for key, _ in judged)}",
            locations=[Location(path=e.path)],
            facts={
                "nx": e.nx,
                "stack": e.stack,
                "pie": e.pie,
                "relro": e.relro,
                "canary": e.canary,
                "canary_required": e.canary_required,
                "fortify": e.fortify,
                "static": e.static,
                "stripped": e.stripped,
                "rpath": e.rpath,
                "runpath": e.runpath,
                "role": e.role,
                "package": e.package,
            },
        )

    def run(self, evidence: Evidence) -> Sequence[Finding]:
        inv = evidence.require(FirmwareInventory)
        elfs = [e for e in inv.elf if e.elf_type != "relocatable" and e.role != "foreign"]
        failures = [self._finding(e, judged) for e in elfs if (judged := self._judged(e))]
        if not elfs and not inv.gaps(Area.ELF):
            return [self.not_applicable("no ELF executable or library found in the image", facts=image_facts(inv))]
        partial = len([e for e in elfs if e.relro == "partial"])
        unknown = len([e for e in elfs if e.canary is None and e.canary_required])
        exempt = len([e for e in elfs if e.role in ("loader", "libc")])
        foreign = len([e for e in inv.elf if e.role == "foreign"])
        return conclude(
            self,
            inv,
            failures=failures,
            areas=(Area.ELF,),
            pass_message=self._pass_message(len(elfs), exempt, partial, unknown, foreign),
            facts={
                **image_facts(inv),
                "elf_files": len(elfs),
                "partial_relro": partial,
                "canary_unknown": unknown,
                "canary_exempt": exempt,
                "not_judged": foreign,
                "protections": list(self.protections),
            },
        )

    def _pass_message(self, elfs: int, exempt: int, partial: int, unknown: int, foreign: int) -> str:
        not_judged = f"{foreign} firmware, boot-loader or kernel images not judged"
        if self.protections != PROTECTIONS:
            asked = " and ".join(_NAMES[p] for p in self.protections)
            return f"examined {elfs} ELF files for {asked}, the protection asked here: none lacks it ({not_judged})"
        return (
            f"examined {elfs} ELF files: executables have NX, PIE, RELRO and a stack canary, "
            f"libraries NX and RELRO ({exempt} dynamic loader or libc files exempt from the canary rule; "
            f"{partial} with partial RELRO; canary not determinable in {unknown} stripped static binaries; "
            f"{not_judged})"
        )


CHECKS: tuple[type[Check], ...] = (BinaryHardeningCheck,)
