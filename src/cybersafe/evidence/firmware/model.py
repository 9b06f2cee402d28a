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

    name: str  # telnetd / ftpd / tftpd / rlogind / upnpd / gdbserver / serial-shell / ssh ...
    category: str  # cleartext-login / debug / upnp / remote-login
    mechanism: str  # inittab / init.d / systemd / inetd / xinetd / procd
    path: str
    line: int
    command: str


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

    @property
    def weaknesses(self) -> tuple[str, ...]:
        """The checksec properties that are red; partial RELRO and FORTIFY are reported, not failed."""
        out: list[str] = []
        if not self.nx:
            out.append("no NX (executable stack)")
        if self.elf_type == "executable":
            out.append("not PIE")
        if self.relro == "none":
            out.append("no RELRO")
        if self.canary is False:
            out.append("no stack canary")
        return tuple(out)


@dataclass(frozen=True, slots=True)
class FileRisk:
    path: str
    kind: str  # setuid / setgid / world-writable-file / world-writable-dir
    mode: str  # octal, e.g. "4755"
    uid: int | None
    gid: int | None


@dataclass(frozen=True, slots=True)
class Component:
    name: str
    version: str | None
    purl: str
    how_found: str  # opkg-status / dpkg-status / apk-installed / version-banner
    path: str
    confidence: Confidence


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
