"""The firmware checks over hand-made inventories: fail with locations, pass with what was examined,
inconclusive (never pass) when something was not examined."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.support import dossier

from cybersafe.checks import BUILTIN_CHECKS
from cybersafe.checks.firmware_checks import FIRMWARE_CHECKS, run_firmware_checks
from cybersafe.evidence.firmware.model import (
    Account,
    Area,
    Confidence,
    CrackStatus,
    Credential,
    ElfHardening,
    FileRisk,
    Filesystem,
    FirmwareInventory,
    KeyMaterial,
    NotExamined,
    Secret,
    Service,
)
from cybersafe.verdict import AttemptStatus, Verdict

# The firmware family, as BUILTIN_CHECKS lists it (the one list of check ids).
FIRMWARE_IDS = {check.ID for check in BUILTIN_CHECKS if check.ID.startswith("firmware.")}


def _account(name: str, algorithm: str, status: CrackStatus, password: str | None = None) -> Account:
    return Account(name, 0, 0, "/root", "/bin/sh", "/etc/shadow", 1, algorithm, algorithm != "locked", status, password)


def _elf(path: str, **kw: Any) -> ElfHardening:
    base = {
        "arch": "ARM",
        "elf_type": "pie-executable",
        "static": False,
        "stripped": True,
        "nx": True,
        "pie": True,
        "relro": "full",
        "canary": True,
        "fortify": True,
        "rpath": None,
        "runpath": None,
    }
    base.update(kw)
    return ElfHardening(path=path, **base)


CLEAN = FirmwareInventory(
    image="fw.bin",
    sha256="0" * 64,
    size=10,
    budget="standard",
    filesystems=(Filesystem("squashfs_v4_le", "", 0, 10, "/", "unsquashfs"),),
    files_examined=3,
    accounts=(_account("root", "sha512crypt", CrackStatus.NOT_MATCHED),),
    keys=(KeyMaterial("/etc/ssl/ca.pem", 0, "certificate", "RSA", 2048, expired=False),),
    services=(Service("ssh", "remote-login", "inittab", "/etc/inittab", 2, "::respawn:/usr/sbin/dropbear"),),
    elf=(_elf("/usr/sbin/dropbear"),),
    stats={"config_files": 4, "boot_files": 2},
)
DIRTY = replace(
    CLEAN,
    accounts=(
        _account("root", "md5crypt", CrackStatus.MATCHED, "admin"),
        _account("guest", "empty", CrackStatus.NO_HASH),
    ),
    credentials=(Credential("/etc/app.conf", 3, "password", "hu…r2 (7 chars)", "password", False),),
    secrets=(Secret("/usr/bin/app", 4096, "aws-access-key-id", "AKIA…PN (20 chars)", True, Confidence.HIGH),),
    keys=(
        KeyMaterial("/etc/ssl/key.pem", 0, "private-key", "RSA", 1024, weak_reasons=("RSA key of 1024 bits",)),
        KeyMaterial("/etc/ssl/old.pem", 0, "certificate", "EC", 256, expired=True, not_after="2020-01-01"),
    ),
    services=(
        Service("telnetd", "cleartext-login", "inittab", "/etc/inittab", 2, "::respawn:/usr/sbin/telnetd"),
        Service("serial-shell", "debug", "inittab", "/etc/inittab", 3, "ttyS0::respawn:/bin/sh"),
        Service(
            "upnp-igd",
            "discovery",
            "init.d",
            "/etc/init.d/rcS",
            4,
            "miniupnpd -f /etc/miniupnpd.conf",
            (("secure_mode", "no"), ("secure_mode_source", "/etc/miniupnpd.conf")),
        ),
    ),
    elf=(_elf("/bin/busybox", elf_type="executable", pie=False, static=True, canary=None),),
    file_risks=(FileRisk("/bin/busybox", "setuid", "4755", 0, 0),),
)


def _verdicts(inventory: FirmwareInventory) -> dict[str, Verdict]:
    return {a.check_id: a.verdict for a in run_firmware_checks(inventory)}


def test_firmware_scan_runs_exactly_the_builtin_firmware_family() -> None:
    ids = [check.ID for check in FIRMWARE_CHECKS]
    assert FIRMWARE_IDS and len(ids) == len(set(ids))
    assert set(ids) == FIRMWARE_IDS


def test_clean_inventory_passes_and_says_what_was_examined() -> None:
    attempts = run_firmware_checks(CLEAN)

    assert all(a.status is AttemptStatus.COMPLETED for a in attempts)
    verdicts = {a.check_id: a.verdict for a in attempts}
    assert set(verdicts.values()) == {Verdict.PASS}
    messages = {a.check_id: a.findings[0].message for a in attempts}
    assert "examined 1 accounts in /etc/shadow" in messages["firmware.universal-default-password"]
    assert "examined 1 ELF files" in messages["firmware.binary-hardening"]


def test_dirty_inventory_fails_every_check_with_locations() -> None:
    attempts = {a.check_id: a for a in run_firmware_checks(DIRTY)}

    assert {k: a.verdict for k, a in attempts.items()} == dict.fromkeys(FIRMWARE_IDS, Verdict.FAIL)
    root = attempts["firmware.universal-default-password"].findings[0]
    assert (str(root.locations[0]), root.facts["password"]) == ("/etc/shadow:1", "admin")
    secret = attempts["firmware.hard-coded-secret"].findings[0]
    assert (secret.locations[0].path, secret.locations[0].offset) == ("/usr/bin/app", 4096)
    assert "inside a binary" in secret.message
    assert attempts["firmware.binary-hardening"].findings[0].message.endswith("not PIE; rebuild with -fPIE -pie")


@pytest.mark.parametrize(
    ("area", "check_id"),
    [
        pytest.param(Area.PASSWORDS, "firmware.universal-default-password", id="cracking-budget"),
        pytest.param(Area.SECRETS, "firmware.hard-coded-secret", id="big-file-not-scanned"),
        pytest.param(Area.PERMISSIONS, "firmware.setuid-world-writable", id="modes-unknown"),
        pytest.param(Area.ELF, "firmware.binary-hardening", id="elf-not-parsed"),
    ],
)
def test_a_gap_in_the_area_makes_the_check_inconclusive(area: Area, check_id: str) -> None:
    inventory = replace(CLEAN, not_examined=(NotExamined(area, "budget reached", "/big.bin"),))

    verdicts = _verdicts(inventory)

    assert verdicts[check_id] is Verdict.INCONCLUSIVE
    assert verdicts["firmware.cleartext-remote-login-enabled"] is Verdict.PASS  # other areas are unaffected


def test_a_failure_seen_is_kept_even_when_something_was_not_examined() -> None:
    inventory = replace(DIRTY, not_examined=(NotExamined(Area.UNPACK, "wall-time budget reached"),))

    assert set(_verdicts(inventory).values()) == {Verdict.FAIL}


def test_untested_hash_is_inconclusive_not_pass() -> None:
    inventory = replace(CLEAN, accounts=(_account("root", "bcrypt", CrackStatus.NOT_TESTED),))

    assert _verdicts(inventory)["firmware.universal-default-password"] is Verdict.INCONCLUSIVE


def test_image_without_accounts_or_keys() -> None:
    inventory = replace(CLEAN, accounts=(), keys=(), elf=())

    verdicts = _verdicts(inventory)

    assert verdicts["firmware.universal-default-password"] is Verdict.INCONCLUSIVE
    assert verdicts["firmware.expired-certificate"] is Verdict.NOT_APPLICABLE
    assert verdicts["firmware.binary-hardening"] is Verdict.NOT_APPLICABLE


def test_public_keys_and_certificates_are_not_private_key_findings() -> None:
    inventory = replace(CLEAN, keys=(KeyMaterial("/etc/update.pub", 0, "public-key", "Ed25519", 256), *CLEAN.keys))

    assert _verdicts(inventory)["firmware.private-key-embedded"] is Verdict.PASS


@settings(max_examples=60, deadline=None)
@given(
    areas=st.lists(st.sampled_from(list(Area)), min_size=1, max_size=3),
    dirty=st.booleans(),
)
def test_nothing_not_examined_ever_reads_as_pass(areas: list[Area], dirty: bool) -> None:
    # Property: for every check, a gap in an area it reads (or in unpacking) blocks a pass.
    base = DIRTY if dirty else CLEAN
    inventory = replace(base, not_examined=tuple(NotExamined(a, "budget") for a in areas))
    if Area.UNPACK in areas:
        assert Verdict.PASS not in _verdicts(inventory).values()
    clean_verdicts = _verdicts(replace(base, not_examined=()))
    for check_id, verdict in _verdicts(inventory).items():
        # a gap can only move a verdict away from pass, never towards it
        if clean_verdicts[check_id] is not Verdict.PASS:
            assert verdict is clean_verdicts[check_id]


def _discovery(service: Service, ports: list[dict[str, Any]] | None) -> list[tuple[Verdict, str]]:
    from dataclasses import replace

    from cybersafe.checks.services import DiscoveryServiceCheck
    from cybersafe.evidence.interface import Evidence

    declarations = {} if ports is None else {"interfaces": {"network_ports": ports}}
    evidence = Evidence(dossier=dossier(declarations=declarations))
    evidence.add(replace(CLEAN, services=(service,)))
    return [(f.verdict, f.message) for f in DiscoveryServiceCheck().run(evidence)]


MDNS = Service("mdns", "discovery", "init.d", "/etc/init.d/S50avahi", 3, "avahi-daemon -D")
IGD = Service(
    "upnp-igd", "discovery", "inittab", "/etc/inittab", 2, "::respawn:/usr/sbin/miniupnpd -S -d",
    (("secure_mode", "yes"), ("secure_mode_source", "command line -S")),
)  # fmt: skip


@pytest.mark.parametrize(
    ("service", "ports", "verdict", "says"),
    [
        pytest.param(MDNS, None, Verdict.INCONCLUSIVE, "declares no network interfaces", id="undeclared-dossier"),
        pytest.param(MDNS, [{"port": 443, "service": "https"}], Verdict.FAIL, "not among the network", id="not-needed"),
        pytest.param(MDNS, [{"port": 5353, "protocol": "udp", "service": "mdns"}], Verdict.PASS, "are declared", id="needed"),
        pytest.param(IGD, [{"port": 1900, "protocol": "udp", "service": "ssdp"}], Verdict.PASS, "secure mode", id="igd-secure"),
        pytest.param(
            Service("upnp-igd", "discovery", "init.d", "/etc/init.d/rcS", 4, "miniupnpd", (("secure_mode", "unset"),
                    ("secure_mode_source", "/etc/miniupnpd.conf"))),
            [{"port": 1900, "protocol": "udp", "service": "upnp"}], Verdict.FAIL, "is not set", id="igd-unset",
        ),
        pytest.param(
            Service("upnp-igd", "discovery", "init.d", "/etc/init.d/rcS", 4, "miniupnpd", (("secure_mode", "unknown"),)),
            [{"port": 1900, "protocol": "udp", "service": "upnp"}], Verdict.INCONCLUSIVE, "could not be read",
            id="igd-unknown",
        ),
    ],
)  # fmt: skip
def test_discovery_service_check(service: Service, ports: Any, verdict: Verdict, says: str) -> None:
    found = _discovery(service, ports)
    assert [v for v, _ in found] == [verdict], found
    assert says in found[0][1]


def _hardening(protections: tuple[str, ...], *elfs: ElfHardening) -> list[tuple[Verdict, str]]:
    from cybersafe.checks.binaries import BinaryHardeningCheck
    from cybersafe.evidence.interface import Evidence

    evidence = Evidence(dossier=dossier())
    evidence.add(replace(CLEAN, elf=elfs))
    check = BinaryHardeningCheck.with_parameters((("protections", protections),))
    return [(f.verdict, f.message) for f in check.run(evidence)]


def test_hardening_judges_only_the_protections_the_requirement_asks_for() -> None:
    # EN 303 645 5.6-8 (hardware-level memory access control) asks for NX only: a static busybox
    # without PIE but with NX meets it, while the CRA's exploitation-mitigation point judges all four.
    busybox = _elf("/bin/busybox", elf_type="executable", pie=False, static=True, canary=None)
    [(verdict, message)] = _hardening(("nx",), busybox)
    assert verdict is Verdict.PASS
    assert "for NX, the protection asked here" in message
    [(verdict, message)] = _hardening(("nx", "pie", "relro", "canary"), busybox)
    assert (verdict, message.split(": ", 1)[1]) == (Verdict.FAIL, "not PIE; rebuild with -fPIE -pie")


def test_hardening_with_nx_only_still_fails_an_executable_stack() -> None:
    stack = _elf("/usr/bin/app", nx=False, stack="rwx", pie=False)
    [(verdict, message)] = _hardening(("nx",), stack)
    assert verdict is Verdict.FAIL
    assert "PIE" not in message
    assert message.endswith("rebuild with -Wl,-z,noexecstack")


@pytest.mark.parametrize("protections", [(), ("nx", "aslr")])
def test_hardening_refuses_unknown_or_empty_protections(protections: tuple[str, ...]) -> None:
    from cybersafe.checks.binaries import BinaryHardeningCheck

    with pytest.raises(ValueError, match="protections must be a non-empty list of nx, pie, relro, canary"):
        BinaryHardeningCheck(protections=protections)
