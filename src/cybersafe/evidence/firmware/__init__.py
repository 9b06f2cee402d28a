"""Firmware evidence: unpack an image safely (unblob, budgets) and inventory what the schemes forbid.

- ``collector.FirmwareCollector``: what ``assess`` runs for the dossier's ``artefacts.firmware``;
- ``scan.scan_image``: the same work for ``cybersafe firmware scan``;
- ``model.FirmwareInventory``: the evidence both produce and the firmware checks require.

Kept import-free so the unblob child process (``_unblob_child``) starts fast.
"""
