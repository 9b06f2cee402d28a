"""Firmware file-system risks: setuid/setgid files, world-writable files and directories.

Modes come from the image's own metadata (a SquashFS inode table, debugfs, cpio and tar headers), never from the
extracted copy, which unblob makes readable. EN 303 645 5.6 (minimise attack surface, least privilege).
"""

from __future__ import annotations

from collections.abc import Sequence

from cybersafe.checks._firmware import conclude, image_facts
from cybersafe.checks.interface import Check, Finding, Location
from cybersafe.evidence.firmware.model import Area, FirmwareInventory
from cybersafe.evidence.interface import Evidence
from cybersafe.verdict import Severity


class SetuidWorldWritableCheck(Check):
    ID = "firmware.setuid-world-writable"
    TITLE = "No setuid/setgid file and nothing world-writable"
    SEVERITY = Severity.MEDIUM
    REQUIRES = (FirmwareInventory,)
    REMEDIATION = (
        "Drop setuid/setgid bits (use capabilities or a privileged helper) and remove write permission for "
        "others (a sticky /tmp is fine)."
    )

    def run(self, evidence: Evidence) -> Sequence[Finding]:
        inv = evidence.require(FirmwareInventory)
        failures = [
            self.failed(
                f"{r.kind} (mode {r.mode}, owner {r.uid}:{r.gid})",
                locations=[Location(path=r.path)],
                facts={"kind": r.kind, "mode": r.mode, "uid": r.uid, "gid": r.gid},
            )
            for r in inv.file_risks
        ]
        with_meta = [f for f in inv.filesystems if f.metadata_source]
        sources = sorted({f.metadata_source or "" for f in with_meta})
        if not inv.filesystems and not failures and not inv.gaps(Area.PERMISSIONS):
            return [self.inconclusive("no file system with file modes was found in the image", facts=image_facts(inv))]
        return conclude(
            self,
            inv,
            failures=failures,
            areas=(Area.PERMISSIONS,),
            pass_message=f"examined the modes of every entry of {len(with_meta)} file system(s) from their own metadata "
            f"({', '.join(sources)}); no setuid/setgid file and nothing world-writable",
            facts={**image_facts(inv), "filesystems": len(with_meta)},
        )


CHECKS: tuple[type[Check], ...] = (SetuidWorldWritableCheck,)
