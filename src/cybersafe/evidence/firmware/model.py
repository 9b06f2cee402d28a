"""FirmwareInventory: the facts the firmware collector found, and what it could not examine.

Facts only, never verdicts: "file /etc/shadow, user root, md5crypt hash that matches 'admin'". The checks in
``cybersafe.checks`` read this class (``REQUIRES = (FirmwareInventory,)``). Completeness is part of the facts:
every area the collector could not fully examine (budget hit, unreadable metadata, unsupported format) is
listed in ``not_examined`` so that a check returns INCONCLUSIVE instead of a pass.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any


class Area(StrEnum):
    """Analysis areas; a gap in one makes the checks reading it inconclusive."""

    UNPACK = "unpack"  # a gap here affects every other area
    ACCOUNTS = "accounts"
    PASSWORDS = "password-cracking"
    CREDENTIALS = "credentials"
    SECRETS = "secrets"
    KEYS = "keys"
    SERVICES = "services"
    ELF = "elf"
    PERMISSIONS = "permissions"
    COMPONENTS = "components"


class Confidence(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class CrackStatus(StrEnum):
    MATCHED = "matched"  # the hash matches a password from the default list
    NOT_MATCHED = "not_matched"  # every listed password was tried, none matched
    NOT_TESTED = "not_tested"  # budget ran out before this hash was tried in full
    UNSUPPORTED = "unsupported"  # a hash format crypt(3) on this machine cannot verify
    NO_HASH = "no_hash"  # empty or locked password field


@dataclass(frozen=True, slots=True)
class NotExamined:
    area: Area
    reason: str
    path: str | None = None


@dataclass(frozen=True, slots=True)
class Filesystem:
    """One unpacked chunk (squashfs, ext4, cpio ...) and where its file modes came from."""

    handler: str
    path: str  # chunk location inside the image ("" = the image itself)
    offset: int
    size: int
    root: str  # display prefix of its files
    metadata_source: str | None  # unsquashfs / debugfs / cpio; None: modes unknown


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    uid: int | None
    gid: int | None
    home: str
    shell: str
    source: str  # path of the file the hash came from (shadow or passwd)
    line: int
    hash_algorithm: str  # des / md5crypt / sha256crypt / sha512crypt / bcrypt / yescrypt / empty / locked / unknown
    login_capable: bool
    crack_status: CrackStatus
    matched_password: str | None = None  # only a password from the public default list, never a real secret

    @property
    def empty_password(self) -> bool:
        return self.hash_algorithm == "empty"


@dataclass(frozen=True, slots=True)
class Credential:
    """A password-like value assigned in a configuration file or script."""

    path: str
    line: int
    key: str
    preview: str  # redacted: first two characters and length
    kind: str  # password / psk / token
    in_default_list: bool
    stock_source: str | None = None  # a public demo value the upstream package ships: where it comes from


@dataclass(frozen=True, slots=True)
class Secret:
    """A hard-coded secret found by the byte-level scanner (also inside binaries)."""

    path: str
    offset: int
    rule: str
    preview: str  # redacted
    in_binary: bool
    confidence: Confidence
    line: int | None = None


@dataclass(frozen=True, slots=True)
class KeyMaterial:
    path: str
    offset: int
    kind: str  # private-key / certificate / public-key
    algorithm: str  # RSA / EC / Ed25519 / DSA / unknown
    bits: int | None
    encrypted: bool = False
    weak_reasons: tuple[str, ...] = ()
    subject: str | None = None
    not_before: str | None = None  # ISO 8601
    not_after: str | None = None
    expired: bool | None = None
    self_signed: bool | None = None
    signature_algorithm: str | None = None


@dataclass(frozen=True, slots=True)
class Service:
    """A service started at boot (or on demand by inetd)."""

    name: str  # telnetd / ftpd / tftpd / rlogind / gdbserver / serial-shell / ssh / upnp-igd / ssdp / mdns ...
    category: str  # cleartext-login / debug / remote-login / discovery
    mechanism: str  # inittab / init.d / systemd / inetd / xinetd / procd
    path: str
    line: int
    command: str
    settings: tuple[tuple[str, str], ...] = ()  # what the collector read of its configuration (upnp-igd: secure_mode)


# Whether a program or library without a PT_GNU_STACK segment runs with an executable stack, by e_machine.
# glibc's DEFAULT_STACK_PERMS (sysdeps/<arch>/stackinfo.h) includes PF_X on x86, x86-64, ARM, MIPS, PowerPC,
# SPARC and SH: such a binary (or a library loaded into it) makes the stack executable; the Linux kernel also
# sets READ_IMPLIES_EXEC for it on 32-bit x86, on ARM before ARMv6 and on MIPS CPUs without RI/XI. AArch64,
# RISC-V and LoongArch default to a non-executable stack (PF_R|PF_W).
EXEC_STACK_BY_DEFAULT: dict[str, bool] = {
    "X86_64": True, "I386": True, "ARM": True, "MIPS": True, "MIPS_RS3_LE": True, "PPC": True, "PPC64": True,
    "SPARC": True, "SPARCV9": True, "SH": True, "S390": True,
    "AARCH64": False, "RISCV": False, "LOONGARCH": False,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ElfHardening:
    path: str
    arch: str
    elf_type: str  # executable / pie-executable / shared-object / relocatable
    static: bool
    stripped: bool
    nx: bool
    pie: bool
    relro: str  # full / partial / none
    canary: bool | None  # None: not determinable (stripped static binary)
    fortify: bool | None  # None: nothing to fortify found
    rpath: str | None
    runpath: str | None
    stack: str = "rw"  # PT_GNU_STACK: "rw", "rwx" (executable stack requested) or "missing"
    role: str = "program"  # program / library / loader (ld-linux*, ld-musl*, ld-uClibc*) / libc / foreign
    package: str | None = None  # the package that owns the file, when a package database says so

    @property
    def canary_required(self) -> bool:
        """Executables need a canary; libraries, the dynamic loader and libc's own start-up code do not."""
        return self.role == "program" and self.elf_type in ("executable", "pie-executable")

    def stack_rule(self) -> str | None:
        """Why the stack is executable, stating the rule applied; None when it is not."""
        if self.stack == "rwx":
            return "no NX (executable stack requested by PT_GNU_STACK)"
        if self.stack == "missing" and EXEC_STACK_BY_DEFAULT.get(self.arch, True):
            return (
                f"no NX: no PT_GNU_STACK segment, and on {self.arch} a program or library without one runs with an "
                "executable stack (glibc's default stack permissions for this architecture include execute)"
            )
        return None

    @property
    def weakness_items(self) -> tuple[tuple[str, str], ...]:
        """The checksec properties that are red, each as (protection, description).

        Protections are ``nx``, ``pie``, ``relro`` and ``canary``; partial RELRO and FORTIFY are reported,
        not failed.
        """
        out: list[tuple[str, str]] = []
        if self.role == "foreign":
            return ()
        stack = self.stack_rule()
        if stack is not None:
            out.append(("nx", stack))
        if self.elf_type == "executable" and self.role == "program":
            out.append(("pie", "not PIE"))
        if self.relro == "none":
            out.append(("relro", "no RELRO"))
        if self.canary is False and self.canary_required:
            out.append(("canary", "no stack canary"))
        return tuple(out)

    @property
    def weaknesses(self) -> tuple[str, ...]:
        """The descriptions of every red checksec property."""
        return tuple(text for _, text in self.weakness_items)


@dataclass(frozen=True, slots=True)
class FileRisk:
    path: str
    kind: str  # setuid / setgid / world-writable-file / world-writable-dir
    mode: str  # octal, e.g. "4755"
    uid: int | None
    gid: int | None


@dataclass(frozen=True, slots=True)
class ComponentEvidence:
    """One place a component was seen: a package database entry or a version banner in a file."""

    how_found: str  # dpkg-database / opkg-database / apk-database / rpm-database / version-banner / file-name
    path: str
    version: str | None = None  # the version this evidence states (a banner's upstream version)
    product: str | None = None  # the signature that matched (banners), e.g. "openssh"


@dataclass(frozen=True, slots=True)
class Component:
    """One component, listed once: a package with every file that showed its banner, or a banner alone."""

    name: str
    version: str | None
    purl: str
    how_found: str  # the strongest evidence: <manager>-database, else version-banner / file-name
    path: str  # where that evidence is
    confidence: Confidence
    cpe: str | None = None  # CPE 2.3 name of the upstream product, when a signature names it
    supplier: str | None = None  # package maintainer, or the upstream project for a banner-only component
    licenses: tuple[str, ...] = ()
    evidence: tuple[ComponentEvidence, ...] = ()


@dataclass(frozen=True, slots=True)
class FileDigest:
    """One regular file of the unpacked file systems, by the path a user reads, with its content digest: what
    changed between two releases of an image, file by file."""

    path: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class UnpackProblem:
    """A problem met while unpacking hostile input (traversal, symlink escape, truncated data, budget)."""

    kind: str
    message: str
    path: str | None = None


@dataclass(frozen=True)
class FirmwareInventory:
    image: str
    sha256: str
    size: int
    budget: str
    filesystems: tuple[Filesystem, ...] = ()
    files_examined: int = 0
    bytes_examined: int = 0
    accounts: tuple[Account, ...] = ()
    credentials: tuple[Credential, ...] = ()
    secrets: tuple[Secret, ...] = ()
    keys: tuple[KeyMaterial, ...] = ()
    services: tuple[Service, ...] = ()
    elf: tuple[ElfHardening, ...] = ()
    file_risks: tuple[FileRisk, ...] = ()
    components: tuple[Component, ...] = ()
    not_examined: tuple[NotExamined, ...] = ()
    problems: tuple[UnpackProblem, ...] = ()
    files: tuple[FileDigest, ...] = ()  # every file examined, with its sha256, sorted by path
    # the per-file facts (a memo.FileMemo), for the next release's delta run; not a fact the checks read. Typed
    # Any: memo.py builds on this module, and test cases validate inventories with pydantic, which must resolve it
    file_facts: Any = field(default=None, compare=False, repr=False)
    duration_s: float = 0.0
    extraction_s: float = 0.0
    stats: dict[str, int] = field(default_factory=dict)

    def gaps(self, *areas: Area) -> tuple[NotExamined, ...]:
        """What was not examined in these areas (unpacking gaps count for every area)."""
        wanted = {Area.UNPACK, *areas}
        return tuple(gap for gap in self.not_examined if gap.area in wanted)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "file_facts":
                continue
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                out[f.name] = [_item_dict(v) for v in value]
            else:
                out[f.name] = value
        return out


def _item_dict(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(value).items() if v is not None}
    return value
