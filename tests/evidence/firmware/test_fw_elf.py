"""ELF hardening as a developer can fix it, on real Debian binaries and on the architecture rule table."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.evidence.firmware.debs import unpacked

from cybersafe.evidence.firmware.elf import harden, role_of
from cybersafe.evidence.firmware.model import ElfHardening

pytestmark = pytest.mark.slow

HARDENED = ElfHardening(
    path="/usr/bin/x", arch="X86_64", elf_type="pie-executable", static=False, stripped=True, nx=True, pie=True,
    relro="full", canary=True, fortify=True, rpath=None, runpath=None,
)  # fmt: skip


@pytest.mark.parametrize(
    ("package", "path", "role"),
    [
        pytest.param("libc6", "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "loader", id="ld-linux"),
        pytest.param("libc6", "lib/x86_64-linux-gnu/libc.so.6", "libc", id="glibc"),
        pytest.param("musl", "lib/x86_64-linux-musl/libc.so", "libc", id="musl"),
        pytest.param("dropbear-bin", "usr/sbin/dropbear", "program", id="dropbear"),
        pytest.param("libssl3", "usr/lib/x86_64-linux-gnu/libssl.so.3", "library", id="libssl"),
        pytest.param("openssh-server", "usr/sbin/sshd", "program", id="sshd"),
    ],
)
def test_debian_hardened_binaries_have_no_weakness(package: str, path: str, role: str) -> None:
    # Given a binary of a hardened Debian 12 build (the loader and libc included)
    found = harden(unpacked(package) / path, "/" + path)

    # Then it is classified by role and none of its properties is a weakness
    assert found is not None
    assert found.role == role
    assert found.weaknesses == ()
    if role in ("loader", "libc"):
        assert not found.canary_required  # the start-up code that sets the canary up is exempt
    if role == "libc":
        assert found.elf_type == "shared-object"  # glibc's libc.so.6 has an interpreter but is a library


def test_static_busybox_is_not_pie() -> None:
    found = harden(unpacked("busybox-static") / "bin/busybox", "/bin/busybox")
    assert found is not None and found.static and found.weaknesses == ("not PIE",)


def test_boot_loader_and_kernel_images_are_not_judged() -> None:
    found = harden(
        unpacked("u-boot-qemu") / "usr/lib/u-boot/qemu-x86_64/uboot.elf", "/usr/lib/u-boot/qemu-x86_64/uboot.elf"
    )
    assert found is not None and found.role == "foreign" and found.weaknesses == ()
    assert role_of("brcmfmac43455-sdio.bin", "executable", "/lib/firmware/brcm/brcmfmac43455-sdio.bin") == "foreign"


@pytest.mark.parametrize(
    ("arch", "executable_stack"),
    [
        ("X86_64", True),
        ("I386", True),
        ("ARM", True),
        ("MIPS", True),
        ("PPC", True),
        ("AARCH64", False),
        ("RISCV", False),
    ],
)
def test_missing_gnu_stack_is_judged_by_the_architecture_default(arch: str, executable_stack: bool) -> None:
    # Given a library without a PT_GNU_STACK segment
    lib = replace(HARDENED, arch=arch, elf_type="shared-object", role="library", stack="missing", canary=False)

    # Then it has no NX exactly where the architecture's default stack is executable, and the finding says why
    rule = lib.stack_rule()
    assert (rule is not None) is executable_stack
    if rule is not None:
        assert f"on {arch}" in rule and "no PT_GNU_STACK" in rule and "default" in rule
    assert "no stack canary" not in lib.weaknesses  # libraries need NX and RELRO only


def test_canary_rule_by_role() -> None:
    no_canary = replace(HARDENED, canary=False)
    assert no_canary.weaknesses == ("no stack canary",)
    assert replace(no_canary, role="loader", elf_type="shared-object").weaknesses == ()
    assert replace(no_canary, role="libc", elf_type="shared-object").weaknesses == ()
    assert replace(no_canary, role="library", elf_type="shared-object").weaknesses == ()
    assert replace(HARDENED, relro="none", role="library", elf_type="shared-object").weaknesses == ("no RELRO",)
    assert replace(HARDENED, stack="rwx").weaknesses == ("no NX (executable stack requested by PT_GNU_STACK)",)
