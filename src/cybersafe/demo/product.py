"""The bundled example product: build its firmware image from real binaries and lay out its artefacts.

The firmware of examples/smart-camera is built, not shipped: a busybox init system with the example's
configuration overlay, Debian's static busybox and dropbear binaries, and a small camera daemon compiled
here with hardening flags, packed as SquashFS 4 (xz) behind a U-Boot legacy header, as vendors ship it.
The build is reproducible for the same input binaries (fixed timestamps, root ownership, a key derived
from a fixed seed).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID

from cybersafe.errors import CybersafeError

EPOCH = 1767225600  # 2026-01-01T00:00:00Z: timestamps inside the image
BUSYBOX_APPLETS = ("sh", "ls", "cat", "mount", "umount", "ifup", "init", "ps", "ip", "udhcpc", "sleep")
HARDENING = ("-O2", "-fstack-protector-strong", "-D_FORTIFY_SOURCE=2", "-fPIE", "-pie", "-Wl,-z,relro,-z,now")


class ExampleBuildError(CybersafeError):
    """The example firmware could not be built (a tool or binary it needs is missing)."""


@dataclass(frozen=True)
class ExampleProduct:
    dossier: Path
    firmware: Path
    sbom: Path
    vulndb_source: Path


def _tool(name: str) -> str:
    found = shutil.which(name) or next(
        (str(p) for d in ("/usr/sbin", "/sbin", "/bin") if (p := Path(d) / name).exists()), None
    )
    if found is None:
        raise ExampleBuildError(f"{name} not found: run `make demo`, which installs it")
    return found


def _binary(*candidates: str) -> Path:
    for candidate in candidates:
        path = Path(candidate)
        if path.is_file():
            return path
    raise ExampleBuildError(f"none of {', '.join(candidates)} exists: run `make demo`, which installs it")


def _update_key_and_ca(root: Path) -> None:
    """A public update-verification key and a cloud CA certificate, deterministic (Ed25519, fixed seed)."""
    key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (root / "etc/nordlicht/update-signing.pub").write_bytes(public)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Nordlicht Cloud Root CA (example)")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(0x4E4C)
        .not_valid_before(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2036, 1, 1, tzinfo=dt.UTC))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, None)
    )
    certs = root / "etc/ssl/certs"
    certs.mkdir(parents=True, exist_ok=True)
    (certs / "nordlicht-cloud-ca.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def build_example_firmware(source: Path, out: Path) -> Path:
    """Build ``out`` (a U-Boot legacy image around SquashFS) from ``source`` (examples/.../firmware)."""
    mksquashfs, mkimage, cc = _tool("mksquashfs"), _tool("mkimage"), _tool("gcc")
    busybox = _binary("/bin/busybox", "/usr/bin/busybox")
    dropbear = _binary("/usr/sbin/dropbear")
    with tempfile.TemporaryDirectory(prefix="cybersafe-example-") as tmp:
        root = Path(tmp) / "rootfs"
        shutil.copytree(source / "rootfs", root, symlinks=True)
        for directory in ("bin", "sbin", "usr/bin", "usr/sbin", "proc", "sys", "tmp", "var/lib/dropbear", "home/admin"):
            (root / directory).mkdir(parents=True, exist_ok=True)
        shutil.copy2(busybox, root / "bin/busybox")
        for applet in BUSYBOX_APPLETS:
            (root / "bin" / applet).symlink_to("busybox")
        shutil.copy2(dropbear, root / "usr/sbin/dropbear")
        subprocess.run(
            [cc, *HARDENING, "-o", str(root / "usr/bin/nl-camd"), str(source / "src/nl-camd.c")],
            check=True,
            capture_output=True,
        )
        _update_key_and_ca(root)
        (root / "etc/init.d/rcS").chmod(0o755)
        for path in root.rglob("*"):
            if not path.is_symlink():
                os.utime(path, (EPOCH, EPOCH))
        squashfs = Path(tmp) / "rootfs.sqfs"
        subprocess.run(
            [mksquashfs, str(root), str(squashfs), "-comp", "xz", "-all-root", "-noappend", "-quiet", "-no-progress",
             "-mkfs-time", str(EPOCH), "-all-time", str(EPOCH)],
            check=True,
            capture_output=True,
        )  # fmt: skip
        out.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "SOURCE_DATE_EPOCH": str(EPOCH)}
        subprocess.run(
            [mkimage, "-A", "x86", "-O", "linux", "-T", "filesystem", "-C", "none", "-n", "NL-CAM2 CamOS 2.4.1",
             "-d", str(squashfs), str(out)],
            check=True,
            capture_output=True,
            env=env,
        )  # fmt: skip
    return out


def prepare_example(example: Path, work: Path, *, device: dict[str, object] | None = None) -> ExampleProduct:
    """Copy the example product into ``work`` with its firmware built and its artefacts named."""
    work.mkdir(parents=True, exist_ok=True)
    firmware = build_example_firmware(example / "firmware", work / "securecam-2.4.1.img")
    data = yaml.safe_load((example / "dossier.yaml").read_text(encoding="utf-8"))
    artefacts = data.setdefault("artefacts", {})
    named = [artefacts.get("sbom"), *artefacts.get("vex", []), "evidence", "vulndb"]
    for name in filter(None, named):
        src = example / name
        if src.is_dir():
            shutil.copytree(src, work / name, dirs_exist_ok=True)
        elif src.exists():
            shutil.copy2(src, work / name)
    artefacts["firmware"] = firmware.name
    artefacts.setdefault("sbom", "sbom.cdx.json")
    artefacts["vulndb"] = "vulndb.sqlite"
    if device is not None:
        artefacts["device"] = device
        # The simulated device serves the product's HTTPS interface on a free loopback port, not on 443/22.
        interfaces = data["declarations"].setdefault("interfaces", {})
        interfaces["network_ports"] = [
            {
                "port": port,
                "service": "https",
                "purpose": "local web interface (443 on the real product)",
                "authenticated": True,
            }
            for port in device.get("ports", [])  # type: ignore[attr-defined]
        ]
    dossier = work / "dossier.yaml"
    dossier.write_text(
        "# Generated by `cybersafe demo` from examples/smart-camera/dossier.yaml, with built artefacts.\n"
        + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120),
        encoding="utf-8",
    )
    return ExampleProduct(
        dossier=dossier, firmware=firmware, sbom=work / "sbom.cdx.json", vulndb_source=work / "vulndb"
    )
