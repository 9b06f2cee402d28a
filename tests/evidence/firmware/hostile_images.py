"""Hostile firmware inputs, built at any scale: small for the tests, full size for ``bench/firmware.py``.

Each builder writes one file and returns its path. Nothing here is downloaded; the overlapping zip follows
David Fifield's construction ("A better zip bomb", USENIX WOOT 2019): every file's data quotes the next
file's local header in a stored deflate block and ends in one shared kernel of compressed zeros, so N
central directory entries expand to N copies of the kernel.
"""

from __future__ import annotations

import io
import os
import random
import shutil
import struct
import subprocess
import tarfile
import tempfile
import zlib
from pathlib import Path

MiB = 1024 * 1024
GiB = 1024 * MiB


def gzip_bomb(path: Path, size: int) -> Path:
    """``size`` bytes of zeros as one gzip member (about 1/1000 of ``size`` on disk).

    After a full flush deflate starts afresh, so one compressed MiB of zeros is the same bytes every time:
    it is written ``size / 1 MiB`` times instead of compressing gigabytes."""
    block = bytes(MiB)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    final = compressor.flush()
    crc = 0
    for _ in range(size // MiB):
        crc = zlib.crc32(block, crc)
    with path.open("wb") as fh:
        fh.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff")  # gzip header: deflate, no name, no mtime
        for _ in range(size // MiB):
            fh.write(deflated)
        fh.write(final + struct.pack("<II", crc, size & 0xFFFFFFFF))
    return path


def _local_header(name: bytes, crc: int, csize: int, usize: int) -> bytes:
    return struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, csize, usize, len(name), 0) + name


def _central_entry(name: bytes, crc: int, csize: int, usize: int, offset: int) -> bytes:
    return (
        struct.pack(
            "<4sHHHHHHIIIHHHHHII",
            b"PK\x01\x02",
            20,
            20,
            0,
            8,
            0,
            0x21,
            crc,
            csize,
            usize,
            len(name),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        + name
    )


def overlapping_zip(path: Path, files: int, kernel_bytes: int) -> Path:
    """``files`` entries of ``kernel_bytes`` zeros each (plus quoted headers), all sharing one kernel."""
    zeros = bytes(kernel_bytes)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    kernel = compressor.compress(zeros) + compressor.flush()
    names = [f"{i:04d}.bin".encode() for i in range(files)]
    headers: list[bytes] = [b""] * files
    sizes: list[tuple[int, int, int]] = [(0, 0, 0)] * files  # crc, compressed, uncompressed
    quoted = b""  # the local headers of files i+1 .. N-1, as file i's data starts
    for i in reversed(range(files)):
        crc = zlib.crc32(zeros, zlib.crc32(quoted))
        usize = len(quoted) + kernel_bytes
        csize = len(kernel) + sum(5 + len(h) for h in headers[i + 1 :])
        headers[i] = _local_header(names[i], crc, csize, usize)
        sizes[i] = (crc, csize, usize)
        quoted = headers[i] + quoted
    body = bytearray()
    offsets = []
    for i in range(files):
        offsets.append(len(body))
        body += headers[i]
        if i + 1 < files:
            nxt = len(headers[i + 1])
            body += b"\x00" + struct.pack("<HH", nxt, nxt ^ 0xFFFF)  # stored block, not final: quotes the next header
    body += kernel
    central = b"".join(_central_entry(names[i], *sizes[i], offsets[i]) for i in range(files))
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, files, files, len(central), len(body), 0)
    path.write_bytes(bytes(body) + central + end)
    return path


def sparse_tar(path: Path, apparent: int) -> Path:
    """A GNU tar whose one member is a sparse file of ``apparent`` bytes (1 TiB in the benchmark)."""
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        member = Path(tmp) / "disk.img"
        with member.open("wb") as fh:
            fh.write(b"MBR!")
            fh.truncate(apparent)
        subprocess.run(["tar", "--sparse", "-cf", str(path), "-C", tmp, "disk.img"], check=True)
    return path


def many_files(path: Path, count: int) -> Path:
    """A tar of ``count`` tiny files in directories of 1,000."""
    with tarfile.open(path, "w") as tar:
        for i in range(count):
            data = f"{i}\n".encode()
            info = tarfile.TarInfo(f"etc/d{i // 1000:03d}/f{i:06d}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def deep_tar(path: Path, depth: int) -> Path:
    """A tar with ``depth`` nested directories and a password file at the bottom (PAX long names)."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        parts: list[str] = []
        for _ in range(depth):
            parts.append("d")
            info = tarfile.TarInfo("/".join(parts))
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            tar.addfile(info)
        data = b"root::0:0:root:/root:/bin/sh\n"
        info = tarfile.TarInfo("/".join([*parts, "passwd"]))
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        etc = tarfile.TarInfo("etc/passwd")
        etc.size = len(data)
        tar.addfile(etc, io.BytesIO(data))
    return path


def deep_squashfs(path: Path, depth: int) -> Path:
    """The same nesting as a SquashFS image (built from a real directory tree)."""
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        root = Path(tmp) / "root"
        (root / "etc").mkdir(parents=True)
        (root / "etc" / "passwd").write_text("root::0:0:root:/root:/bin/sh\n")
        fd = os.open(root, os.O_RDONLY)
        try:
            for _ in range(depth):  # relative mkdir/chdir keeps every path short
                os.mkdir("d", dir_fd=fd)
                nxt = os.open("d", os.O_RDONLY, dir_fd=fd)
                os.close(fd)
                fd = nxt
            with os.fdopen(os.open("passwd", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "w") as fh:
                fh.write("deep::1000:1000:deep:/:/bin/sh\n")
        finally:
            os.close(fd)
        subprocess.run(
            ["mksquashfs", str(root), str(path), "-noappend", "-quiet", "-no-progress", "-all-root"],
            check=True,
            capture_output=True,
        )
        _rmtree_deep(root)
    return path


def _rmtree_deep(root: Path) -> None:
    """shutil.rmtree recurses once per level; a deep tree needs an iterative removal."""
    subprocess.run(["rm", "-rf", str(root)], check=True)


def _elf_variants(seed: int, mutants: int) -> dict[str, bytes]:
    """A real executable, broken in the ways ELF parsers have crashed or looped on, plus seeded mutants."""
    good = Path(shutil.which("true") or "/bin/true").read_bytes()
    e_phoff, e_shoff = struct.unpack_from("<QQ", good, 0x20)
    variants = {
        "truncated-header": good[:40],
        "truncated-program-headers": good[: e_phoff + 20],
        "truncated-half": good[: len(good) // 2],
        "phoff-past-end": good[:0x20] + struct.pack("<Q", len(good) * 4) + good[0x28:],
        "shoff-past-end": good[:0x28] + struct.pack("<Q", len(good) * 4) + good[0x30:],
        "phnum-65535": good[:0x38] + struct.pack("<H", 0xFFFF) + good[0x3A:],
        "shnum-65535": good[:0x3C] + struct.pack("<H", 0xFFFF) + good[0x3E:],
        "shstrndx-out-of-range": good[:0x3E] + struct.pack("<H", 0xFFF0) + good[0x40:],
        "class-32-in-64": good[:4] + b"\x01" + good[5:],
        "bad-byte-order": good[:5] + b"\x07" + good[6:],
        "magic-then-zeros": good[:16] + bytes(4096),
        "magic-then-random": good[:16] + random.Random(seed).randbytes(8192),
    }
    if e_shoff:
        # every section claims 16 EiB
        patched = bytearray(good)
        shentsize, shnum = struct.unpack_from("<HH", good, 0x3A)
        for i in range(shnum):
            at = e_shoff + i * shentsize + 0x20
            if at + 8 <= len(patched):
                patched[at : at + 8] = struct.pack("<Q", 0xFFFFFFFFFFFFFFF0)
        variants["section-sizes-16eib"] = bytes(patched)
    rng = random.Random(seed)
    for i in range(mutants):
        mutant = bytearray(good)
        for _ in range(64):
            at = rng.randrange(16, min(len(mutant), 4096))
            mutant[at] = rng.randrange(256)
        variants[f"mutant-{i:03d}"] = bytes(mutant)
    return variants


def malformed_elfs(path: Path, mutants: int = 40, seed: int = 1) -> Path:
    """A tar root file system of broken ELF executables and libraries."""
    with tarfile.open(path, "w") as tar:
        for name, data in sorted(_elf_variants(seed, mutants).items()):
            for where in (f"usr/bin/{name}", f"usr/lib/lib{name}.so"):
                info = tarfile.TarInfo(where)
                info.size = len(data)
                info.mode = 0o755
                tar.addfile(info, io.BytesIO(data))
        passwd = b"root:x:0:0:root:/root:/bin/sh\n"
        info = tarfile.TarInfo("etc/passwd")
        info.size = len(passwd)
        tar.addfile(info, io.BytesIO(passwd))
    return path


def special_files(path: Path) -> Path:
    """A tar whose shadow file is a FIFO, whose config is /dev/zero and whose passwd links to /dev/zero."""
    with tarfile.open(path, "w") as tar:
        fifo = tarfile.TarInfo("etc/shadow")
        fifo.type = tarfile.FIFOTYPE
        tar.addfile(fifo)
        device = tarfile.TarInfo("etc/config.ini")
        device.type = tarfile.CHRTYPE
        device.devmajor, device.devminor = 1, 5
        tar.addfile(device)
        link = tarfile.TarInfo("etc/passwd")
        link.type = tarfile.SYMTYPE
        link.linkname = "/dev/zero"
        tar.addfile(link)
        data = b"::sysinit:/etc/init.d/rcS\n"
        info = tarfile.TarInfo("etc/inittab")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return path


def big_sbom(path: Path, components: int) -> Path:
    """A CycloneDX 1.6 JSON SBOM with ``components`` components, written as a stream."""
    with path.open("w", encoding="utf-8") as fh:
        fh.write(
            '{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "metadata": {"timestamp": '
            '"2026-01-01T00:00:00Z", "component": {"type": "firmware", "name": "big", "version": "1"}, '
            '"supplier": {"name": "Example"}}, "components": ['
        )
        for i in range(components):
            if i:
                fh.write(",")
            fh.write(
                f'{{"type": "library", "bom-ref": "c{i}", "name": "pkg{i}", "version": "1.{i % 100}.0", '
                f'"supplier": {{"name": "Example"}}, "purl": "pkg:generic/pkg{i}@1.{i % 100}.0"}}'
            )
        fh.write("]}\n")
    return path
