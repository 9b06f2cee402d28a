"""Firmware images built from real Debian 12 packages, with a true package database, for tests and the bench.

A root file system gets each package's files (``dpkg-deb -x``, documentation and compressed changelogs
included), a dpkg status entry and an ``info/<package>.list`` per package, as dpkg itself writes them; "loose"
binaries are copied from other packages without any database entry, so that only their banners can name them.
The truth of such an image is therefore known: the package list plus the loose binaries' products.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.evidence.firmware.debs import contents, control, unpacked

try:
    import crypt_r as crypt
except ImportError:  # pragma: no cover
    import crypt  # type: ignore[no-redef]

# Packages whose every executable and library is hardened (Debian 12 builds with PIE, full RELRO, canaries).
HARDENED_PACKAGES = (
    "libc6", "libssl3", "openssl", "zlib1g", "dropbear-bin", "openssh-server", "lighttpd", "dnsmasq-base",
    "libcurl4", "curl", "libexpat1", "libsqlite3-0", "mosquitto",
)  # fmt: skip


@dataclass(frozen=True)
class Loose:
    """A binary copied from a package without a database entry: only its banner can name it."""

    package: str
    path: str  # inside the package
    target: str  # inside the image
    product: str
    version: str


@dataclass
class DistroImage:
    path: Path
    packages: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> control fields
    loose: tuple[Loose, ...] = ()


def _dpkg_files(root: Path, names: tuple[str, ...]) -> dict[str, dict[str, str]]:
    stanzas, fields_by_name = [], {}
    info = root / "var/lib/dpkg/info"
    info.mkdir(parents=True, exist_ok=True)
    for name in names:
        fields = control(name)
        fields_by_name[name] = fields
        stanzas.append("\n".join(f"{k}: {fields[k]}" for k in ("Package", "Version", "Architecture", "Maintainer")))
        (info / f"{name}.list").write_text("\n".join(contents(name)) + "\n")
    (root / "var/lib/dpkg/status").write_text("\n\n".join(s + "\nStatus: install ok installed" for s in stanzas) + "\n")
    return fields_by_name


def _base(root: Path) -> None:
    for directory in ("proc", "sys", "dev", "root", "tmp", "etc/init.d"):
        (root / directory).mkdir(parents=True, exist_ok=True)
    (root / "tmp").chmod(0o1777)
    (root / "etc/os-release").write_text('ID=debian\nVERSION_ID="12"\n')
    sha512 = crypt.crypt("k9#Vq2!unique-per-device", "$6$distrosalt$")
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\ndaemon:*:1:1::/:/usr/sbin/nologin\n")
    (root / "etc/shadow").write_text(f"root:{sha512}:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n")
    (root / "etc/shadow").chmod(0o600)
    (root / "etc/inittab").write_text("::sysinit:/etc/init.d/rcS\n::respawn:/usr/sbin/dropbear -F -s\n")
    (root / "etc/init.d/rcS").write_text("#!/bin/sh\nmount -a\n")
    (root / "etc/init.d/rcS").chmod(0o755)


def build(
    out: Path, packages: tuple[str, ...], loose: tuple[Loose, ...] = (), change: Callable[[Path], None] | None = None
) -> DistroImage:
    """A squashfs (xz) image at ``out`` of these packages (with their database) and loose binaries; ``change``
    edits the root file system last (a later release)."""
    with tempfile.TemporaryDirectory(prefix="cybersafe-distro-") as tmp:
        root = Path(tmp) / "root"
        root.mkdir()
        for name in packages:
            subprocess.run(["cp", "-a", f"{unpacked(name)}/.", str(root)], check=True)
        (root / ".unpacked").unlink(missing_ok=True)
        fields = _dpkg_files(root, packages)
        for item in loose:
            target = root / item.target.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(unpacked(item.package) / item.path, target)
        _base(root)
        if change is not None:
            change(root)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.unlink(missing_ok=True)
        subprocess.run(
            ["mksquashfs", str(root), str(out), "-comp", "xz", "-all-root", "-noappend", "-quiet", "-no-progress"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return DistroImage(out, fields, loose)


def declared_sbom(image: DistroImage, distro: str = "debian") -> dict[str, object]:
    """The true package list as a CycloneDX 1.6 document (what a manufacturer would declare)."""
    from packageurl import PackageURL

    components = []
    for name, fields in sorted(image.packages.items()):
        purl = str(PackageURL("deb", distro, name, fields["Version"], {"arch": fields["Architecture"]}))
        components.append(
            {"type": "library", "bom-ref": purl, "name": name, "version": fields["Version"], "purl": purl,
             "supplier": {"name": fields["Maintainer"]}}
        )  # fmt: skip
    for item in image.loose:
        purl = str(PackageURL("generic", None, item.product, item.version))
        components.append(
            {"type": "library", "bom-ref": purl, "name": item.product, "version": item.version, "purl": purl}
        )
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": {
            "timestamp": "2026-12-01T00:00:00Z",
            "component": {"type": "firmware", "name": "fw", "bom-ref": "fw"},
        },
        "components": components,
        "dependencies": [{"ref": "fw", "dependsOn": [c["bom-ref"] for c in components]}],
    }
