"""ELF hardening with lief, with checksec's semantics (feasibility.md section 2: 16x faster than pyelftools).

- NX: a PT_GNU_STACK segment without the execute flag. Without the segment the architecture's default
  decides (``model.EXEC_STACK_BY_DEFAULT``): executable on x86, x86-64, ARM, MIPS, PowerPC; not on AArch64
  or RISC-V. checksec reads every missing segment as an executable stack, which is wrong for the latter.
- PIE: ET_DYN with an interpreter or DF_1_PIE and no DT_SONAME is a PIE executable; ET_DYN otherwise a shared
  object (DSO: glibc's libc.so.6 has an interpreter so that it can run, and a SONAME); ET_EXEC is "no PIE"
  (static binaries included).
- Role: the dynamic loader (ld-linux*, ld-musl*, ld-uClibc*) and libc itself carry the start-up code that
  sets the canary up, so the canary rule does not apply to them; nor to shared libraries.
- RELRO: PT_GNU_RELRO plus BIND_NOW (DT_BIND_NOW, DF_BIND_NOW or DF_1_NOW) is full, PT_GNU_RELRO alone partial.
- Canary: ``__stack_chk_fail``/``__stack_chk_guard``/``__intel_security_cookie`` among the symbols; a stripped
  static binary has no symbols to tell, so its canary is "unknown" (None), not "absent".
- FORTIFY: any ``__*_chk`` symbol; None when the binary imports no fortifiable function at all.
"""

from __future__ import annotations

import contextlib
import io
import re
from dataclasses import replace
from pathlib import Path, PurePosixPath

import lief

from cybersafe.evidence.firmware.model import ElfHardening

lief.logging.disable()

_LOADER = re.compile(
    r"^(?:ld-linux[\w.-]*\.so[\d.]*|ld-musl-[\w.-]+\.so[\d.]*|ld64?-uClibc[\w.-]*\.so[\d.]*|ld\.so[\d.]*)$"
)
_FOREIGN = ("/lib/firmware/", "/usr/lib/firmware/", "/boot/", "/usr/lib/u-boot/", "/usr/share/u-boot/")
_LIBC = re.compile(r"^(?:libc\.so(?:\.\d+)*|libc-[\d.]+\.so|libc\.musl-[\w.-]+\.so[\d.]*|libuClibc-[\d.]+\.so)$")

# Only headers, segments, dynamic entries and symbols are needed.
_CONFIG = lief.ELF.ParserConfig()
_CONFIG.parse_relocations = False
_CONFIG.parse_symbol_versions = False
_CONFIG.parse_overlay = False
_CONFIG.parse_notes = False

_CANARY = frozenset({"__stack_chk_fail", "__stack_chk_guard", "__intel_security_cookie", "__stack_chk_fail_local"})
_FORTIFIABLE = frozenset(
    {
        "memcpy", "memmove", "memset", "strcpy", "stpcpy", "strncpy", "strcat", "strncat", "sprintf",
        "snprintf", "vsprintf", "vsnprintf", "gets", "fgets", "read", "recv", "printf", "fprintf",
        "realpath", "getcwd", "wcscpy", "mbstowcs", "wcstombs", "memchr", "poll", "readlink", "syslog",
    }
)  # fmt: skip


def is_elf(head: bytes) -> bool:
    return head[:4] == b"\x7fELF"


def harden(path: Path, display: str) -> ElfHardening | None:
    with contextlib.redirect_stderr(io.StringIO()):
        binary = lief.ELF.parse(str(path), _CONFIG)
    if binary is None:
        return None
    header = binary.header
    file_type = header.file_type
    seg_types = {seg.type for seg in binary.segments}
    stack_seg = next((s for s in binary.segments if s.type == lief.ELF.Segment.TYPE.GNU_STACK), None)
    stack = "missing" if stack_seg is None else "rwx" if stack_seg.has(lief.ELF.Segment.FLAGS.X) else "rw"
    interp = lief.ELF.Segment.TYPE.INTERP in seg_types
    static = lief.ELF.Segment.TYPE.DYNAMIC not in seg_types
    flags1 = _dyn_value(binary, lief.ELF.DynamicEntry.TAG.FLAGS_1)
    flags = _dyn_value(binary, lief.ELF.DynamicEntry.TAG.FLAGS)
    soname = binary.get(lief.ELF.DynamicEntry.TAG.SONAME) is not None
    if file_type == lief.ELF.Header.FILE_TYPE.DYN:
        pie_flag = bool(flags1 & 0x08000000)  # DF_1_PIE
        elf_type = "pie-executable" if (interp or pie_flag) and not soname else "shared-object"
    elif file_type == lief.ELF.Header.FILE_TYPE.EXEC:
        elf_type = "executable"
    elif file_type == lief.ELF.Header.FILE_TYPE.REL:
        elf_type = "relocatable"
    else:
        return None
    bind_now = (
        binary.has(lief.ELF.DynamicEntry.TAG.BIND_NOW)
        or bool(flags & 0x8)
        or bool(flags1 & 0x1)  # DF_BIND_NOW/DF_1_NOW
    )
    has_relro = lief.ELF.Segment.TYPE.GNU_RELRO in seg_types
    relro = ("full" if bind_now else "partial") if has_relro else "none"
    # binary.symbols chains both tables through a slow iterator (20 s for node's 185k symbols); read each table
    names: set[str] = {str(sym.name) for sym in binary.dynamic_symbols}
    names.update(str(sym.name) for sym in binary.symtab_symbols)
    names.discard("")
    stripped = not any(sec.type == lief.ELF.Section.TYPE.SYMTAB for sec in binary.sections)
    canary: bool | None = bool(names & _CANARY)
    if not canary and static and stripped:
        canary = None
    fortified = any(n.startswith("__") and n.endswith("_chk") and n not in _CANARY for n in names)
    fortify: bool | None = True if fortified else (False if names & _FORTIFIABLE else None)
    arch = str(header.machine_type).split(".")[-1]
    role = role_of(PurePosixPath(display).name, elf_type, display)
    hardening = ElfHardening(
        path=display,
        arch=arch,
        elf_type=elf_type,
        static=static,
        stripped=stripped,
        nx=True,
        pie=elf_type in ("pie-executable", "shared-object"),
        relro=relro,
        canary=canary,
        fortify=fortify,
        rpath=_dyn_text(binary, lief.ELF.DynamicEntry.TAG.RPATH),
        runpath=_dyn_text(binary, lief.ELF.DynamicEntry.TAG.RUNPATH),
        stack=stack,
        role=role,
    )
    return replace(hardening, nx=hardening.stack_rule() is None)


def role_of(name: str, elf_type: str, path: str = "") -> str:
    """program / library / loader / libc / foreign, from the file's path, name and ELF type.

    ``foreign``: an ELF image for another processor or a bare-metal stage that this system never runs as a
    process (peripheral firmware in /lib/firmware, boot loaders and kernels): process hardening does not apply.
    """
    if any(part in "/" + path for part in _FOREIGN):
        return "foreign"
    if _LOADER.match(name):
        return "loader"
    if _LIBC.match(name):
        return "libc"
    return "library" if elf_type == "shared-object" else "program"


def _dyn_value(binary: lief.ELF.Binary, tag: lief.ELF.DynamicEntry.TAG) -> int:
    entry = binary.get(tag)
    return int(entry.value) if entry is not None else 0


def _dyn_text(binary: lief.ELF.Binary, tag: lief.ELF.DynamicEntry.TAG) -> str | None:
    entry = binary.get(tag)
    if entry is None:
        return None
    for attr in ("rpath", "runpath", "name"):
        value = getattr(entry, attr, None)
        if isinstance(value, str):
            return value
    return None
