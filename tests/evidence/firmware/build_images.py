"""Build the firmware test images from real binaries, once, into a cache dir.

Real binaries: the Debian packages busybox-static and dropbear-bin (taken from the apt cache, else
``apt-get download``) unpacked with ``dpkg -x``, plus small C programs compiled with and without hardening
flags. Two root file systems:

- ``vuln``: one of each problem the firmware checks look for (default and empty passwords, hard-coded
  credentials and secrets, private and weak keys, an expired certificate, telnetd and a serial root shell,
  unhardened binaries, setuid and world-writable files);
- ``clean``: the control, with zero findings of every kind (and decoys that must not be findings: example
  keys in documentation, a PEM header string inside a binary, a public key, a valid certificate).

Images: squashfs (xz, gzip), ext4, jffs2, UBI (ubifs), cpio.gz, a vendor-header image (random header + squashfs) and a
uImage for ``vuln``; squashfs and ext4 for ``clean``. Run: ``python tests/evidence/firmware/build_images.py DIR``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

try:
    import crypt_r as crypt
except ImportError:  # pragma: no cover
    import crypt  # type: ignore[no-redef]

PACKAGES = ("busybox-static", "dropbear-bin")
VULN_IMAGES = ("squashfs-xz", "squashfs-gzip", "ext4", "jffs2", "ubi", "cpio-gz", "vendor-header", "uimage")
CLEAN_IMAGES = ("squashfs-xz", "ext4")
# Fake tokens with the right shape; not real credentials.
AWS_KEY = "AKIA" + "Q3EGRDHM2XWJ7TPN"
GITHUB_TOKEN = "ghp_" + "R8dLk2Qp7ZxW9vB4nM6cT1yH3jF5sA0eGu2K"
BINARY_AWS_KEY = "AKIA" + "Z7PL4MKD9QX2NBW8"

SOFT_C = r"""
#include <stdio.h>
#include <string.h>
static const char *cloud_key = "%s";
int main(int argc, char **argv) { char buf[64]; strcpy(buf, argc > 1 ? argv[1] : "x");
  printf("%%s %%s\n", buf, cloud_key); return 0; }
"""
HARD_C = r"""
#include <stdio.h>
#include <string.h>
/* a PEM header string as crypto libraries carry it: not a key */
static const char *pem_tag = "-----BEGIN RSA PRIVATE KEY-----";
int main(int argc, char **argv) { char buf[64]; strncpy(buf, argc > 1 ? argv[1] : "x", sizeof buf - 1);
  buf[63] = 0; printf("%s %s\n", buf, pem_tag); return 0; }
"""


def _run(*cmd: str, cwd: Path | None = None) -> None:
    subprocess.run(cmd, check=True, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _deb(name: str, cache: Path) -> Path:
    for directory in (Path("/var/cache/apt/archives"), cache):
        found = sorted(directory.glob(f"{name}_*.deb"))
        if found:
            return found[-1]
    _run("apt-get", "download", name, cwd=cache)
    return sorted(cache.glob(f"{name}_*.deb"))[-1]


def _dpkg_status(debs: list[Path]) -> str:
    stanzas = []
    for deb in debs:
        fields = subprocess.run(
            ["dpkg-deb", "-f", str(deb), "Package", "Version", "Architecture", "Maintainer"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        stanzas.append(fields.strip() + "\nStatus: install ok installed\n")
    return "\n".join(stanzas)


def _dpkg_list(deb: Path) -> str:
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True).stdout
    paths = []
    for line in listing.splitlines():
        path = line.split(None, 5)[-1].split(" -> ", 1)[0].lstrip(".").rstrip("/")
        paths.append(path or "/.")
    return "\n".join(paths) + "\n"


def _key_pem(bits: int) -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )


def _cert(expired: bool, sha1: bool) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "device.example")])
    now = dt.datetime.now(dt.UTC)
    start, end = (
        (now - dt.timedelta(days=800), now - dt.timedelta(days=30))
        if expired
        else (now - dt.timedelta(days=1), now + dt.timedelta(days=3650))
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1000)
        .not_valid_before(start)
        .not_valid_after(end)
        .sign(key, hashes.SHA256())
    )
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return cert.public_bytes(serialization.Encoding.PEM), public


def _write(root: Path, rel: str, text: str | bytes, mode: int = 0o644) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        path.write_text(text)
    else:
        path.write_bytes(text)
    path.chmod(mode)


def _base_rootfs(root: Path, work: Path) -> None:
    debs = [_deb(name, work) for name in PACKAGES]
    for deb in debs:
        _run("dpkg", "-x", str(deb), str(root))
    shutil.rmtree(root / "usr/share/doc", ignore_errors=True)
    shutil.rmtree(root / "usr/share/man", ignore_errors=True)
    for d in ("proc", "sys", "dev", "root", "var/run"):
        (root / d).mkdir(parents=True, exist_ok=True)
    _write(root, "var/lib/dpkg/status", _dpkg_status(debs))
    for deb in debs:  # the files each package owns, as dpkg records them
        _write(root, f"var/lib/dpkg/info/{deb.name.split('_', 1)[0]}.list", _dpkg_list(deb))
    _write(root, "etc/os-release", 'ID=debian\nVERSION_ID="12"\n')
    tmp = root / "tmp"
    tmp.mkdir(exist_ok=True)
    tmp.chmod(0o1777)  # sticky world-writable /tmp is normal, not a finding
    _write(root, "usr/share/doc/sdk/README", "Set aws_access_key_id = AKIAIOSFODNN7EXAMPLE\npassword = hunter2\n")


def _compile(src: str, out: Path, hardened: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        c = Path(tmp) / "p.c"
        c.write_text(src)
        if hardened:
            flags = ["-O2", "-fstack-protector-strong", "-D_FORTIFY_SOURCE=2", "-fPIE", "-pie", "-Wl,-z,relro,-z,now"]
        else:
            flags = ["-O0", "-fno-stack-protector", "-fno-pie", "-no-pie", "-z", "execstack", "-Wl,-z,norelro"]
        out.parent.mkdir(parents=True, exist_ok=True)
        _run("gcc", *flags, "-o", str(out), str(c))


def build_vuln(root: Path, work: Path) -> None:
    _base_rootfs(root, work)
    (root / "bin/busybox").chmod(0o4755)  # setuid root busybox: every applet runs as root
    _compile(SOFT_C % BINARY_AWS_KEY, root / "usr/bin/legacyd", hardened=False)
    _compile(HARD_C, root / "usr/bin/hardened", hardened=True)
    md5 = crypt.crypt("admin", "$1$Xy7pQ2aZ$")
    sha512 = crypt.crypt("admin", "$6$r0undsalt$")
    des = crypt.crypt("vizxv", "ab")
    _write(
        root,
        "etc/passwd",
        (
            "root:x:0:0:root:/root:/bin/sh\nadmin:x:1000:1000::/home/admin:/bin/sh\n"
            f"support:{des}:1001:1001::/home/support:/bin/sh\nguest::1002:1002::/home/guest:/bin/sh\n"
            "daemon:*:1:1::/:/bin/false\n"
        ),
    )
    _write(root, "etc/shadow", f"root:{md5}:19000:0:99999:7:::\nadmin:{sha512}:19000:0:99999:7:::\n", 0o600)
    _write(
        root,
        "etc/inittab",
        (
            "::sysinit:/etc/init.d/rcS\n::respawn:/usr/sbin/telnetd -F -l /bin/sh\n"
            "ttyS0::respawn:/bin/sh\n::respawn:/usr/sbin/dropbear -F -R\n"
        ),
    )
    _write(
        root,
        "etc/init.d/rcS",
        "#!/bin/sh\nmount -a\n/usr/bin/gdbserver :2345 /usr/bin/legacyd &\n/usr/sbin/miniupnpd -f /etc/miniupnpd.conf\n",
        0o755,
    )
    _write(root, "etc/miniupnpd.conf", "ext_ifname=eth0\nlistening_ip=br0\nsecure_mode=no\n")
    _write(root, "etc/config.ini", f"[cloud]\naws_access_key_id = {AWS_KEY}\n[git]\ntoken = {GITHUB_TOKEN}\n")
    _write(root, "www/cgi-bin/config.xml", "<config>\n  <user>admin</user>\n  <password>admin</password>\n</config>\n")
    _write(root, "etc/wpa_supplicant.conf", 'network={\n  ssid="factory"\n  psk="Fact0ryWifi2019"\n}\n')
    # a web UI bundle shipped as a tarball: its JavaScript holds a password constant
    bundle = work / "webui"
    _write(
        bundle, "app/static/app.js", "// web UI\nconst DEFAULT_PASSWORD = 'Nordl1cht!2024';\nlet p = this.password;\n"
    )
    (root / "opt").mkdir(parents=True, exist_ok=True)
    _run("tar", "-czf", str(root / "opt/webui.tar.gz"), "-C", str(bundle), "app")
    _write(root, "etc/ssl/private/device.key", _key_pem(1024), 0o600)
    cert, _ = _cert(expired=True, sha1=False)
    _write(root, "etc/ssl/certs/device.pem", cert)
    (root / "etc/dropbear").mkdir(parents=True, exist_ok=True)
    _run("dropbearkey", "-t", "ed25519", "-f", str(root / "etc/dropbear/dropbear_ed25519_host_key"))
    _write(root, "etc/rw.conf", "mode=1\n", 0o666)
    (root / "var/share").mkdir(parents=True, exist_ok=True)
    (root / "var/share").chmod(0o777)


def build_clean(root: Path, work: Path) -> None:
    _base_rootfs(root, work)
    (root / "bin/busybox").unlink()  # static, not PIE: the clean image carries only hardened binaries
    _compile(HARD_C, root / "usr/bin/hardened", hardened=True)
    sha512 = crypt.crypt("k9#Vq2!unique-per-device", "$6$cleansalt$")
    _write(root, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\ndaemon:*:1:1::/:/bin/false\n")
    _write(root, "etc/shadow", f"root:{sha512}:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n", 0o600)
    _write(root, "etc/inittab", "::sysinit:/etc/init.d/rcS\n::respawn:/usr/sbin/dropbear -F -R\n")
    _write(root, "etc/init.d/rcS", "#!/bin/sh\nmount -a\n# telnetd disabled: /usr/sbin/telnetd -l /bin/sh\n", 0o755)
    # a script that only ever stops telnetd and UPnP: stop lines start nothing
    _write(
        root,
        "etc/init.d/S50legacy",
        '#!/bin/sh\ncase "$1" in\n  start)\n    echo "legacy services are off"\n    ;;\n'
        "  stop)\n    killall telnetd\n    start-stop-daemon --stop --exec /usr/sbin/miniupnpd\n    ;;\nesac\n",
        0o755,
    )
    _write(root, "etc/app.conf", "password_file = /etc/app/secret\nlog_level = info\n")
    cert, public = _cert(expired=False, sha1=False)
    _write(root, "etc/ssl/certs/ca.pem", cert)
    _write(root, "etc/ssl/update-key.pub", public)


def _images(root: Path, out: Path, names: tuple[str, ...], prefix: str, work: Path) -> None:
    sqfs = {}
    for comp in ("xz", "gzip"):
        if f"squashfs-{comp}" in names or (comp == "xz" and {"vendor-header", "uimage"} & set(names)):
            target = out / f"{prefix}-squashfs-{comp}.img"
            _run(
                "mksquashfs", str(root), str(target), "-comp", comp, "-all-root", "-noappend", "-quiet", "-no-progress"
            )
            sqfs[comp] = target
    if "ext4" in names:
        target = out / f"{prefix}-ext4.img"
        _run("mkfs.ext4", "-q", "-F", "-E", "root_owner=0:0", "-d", str(root), str(target), "12M")
    if "jffs2" in names:
        _run("mkfs.jffs2", "-U", "-l", "-n", "-e", "128KiB", "-r", str(root), "-o", str(out / f"{prefix}-jffs2.img"))
    if "ubi" in names:
        ubifs = work / f"{prefix}.ubifs"
        _run("mkfs.ubifs", "-r", str(root), "-m", "2048", "-e", "126976", "-c", "128", "-o", str(ubifs))
        ini = work / f"{prefix}-ubi.ini"
        ini.write_text(f"[rootfs]\nmode=ubi\nimage={ubifs}\nvol_id=0\nvol_type=dynamic\nvol_name=rootfs\n")
        _run("ubinize", "-o", str(out / f"{prefix}-ubi.img"), "-m", "2048", "-p", "128KiB", "-s", "2048", str(ini))
    if "cpio-gz" in names:
        cpio = out / f"{prefix}-rootfs.cpio"
        listing = subprocess.run(["find", "."], cwd=root, capture_output=True, check=True).stdout
        with cpio.open("wb") as fh:
            subprocess.run(
                ["cpio", "-o", "-H", "newc", "-R", "0:0", "--quiet"], cwd=root, input=listing, stdout=fh, check=True
            )
        _run("gzip", "-n", "-f", str(cpio))
        (out / f"{prefix}-rootfs.cpio.gz").rename(out / f"{prefix}-cpio-gz.img")
    if "vendor-header" in names:
        header = hashlib.sha256(b"vendor").digest() * 2  # 64 bytes of deterministic "random" header
        (out / f"{prefix}-vendor-header.img").write_bytes(header + sqfs["xz"].read_bytes())
    if "uimage" in names:
        _run(
            "mkimage",
            "-A",
            "arm",
            "-O",
            "linux",
            "-T",
            "filesystem",
            "-C",
            "none",
            "-n",
            "rootfs",
            "-d",
            str(sqfs["xz"]),
            str(out / f"{prefix}-uimage.img"),
        )
    if "squashfs-xz" not in names and "xz" in sqfs:
        sqfs["xz"].unlink()


def _stamp() -> str:
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def build_all(out: Path) -> Path:
    """Build every image into ``out`` unless the same builder version already did; returns ``out``.

    The images are built in a sibling directory and renamed into place, so concurrent
    runs (parallel CI jobs, other checkouts sharing the cache) never see a half-built set.
    """
    stamp = out / f".built-{_stamp()}"
    if stamp.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}-") as tmp:
        staging = Path(tmp) / "images"
        staging.mkdir()
        work = Path(tmp) / "work"
        work.mkdir()
        for prefix, builder, names in (("vuln", build_vuln, VULN_IMAGES), ("clean", build_clean, CLEAN_IMAGES)):
            root = work / prefix
            root.mkdir()
            builder(root, work)
            _images(root, staging, names, prefix, work)
        (staging / stamp.name).touch()
        try:
            staging.rename(out)
        except OSError:
            if not stamp.exists():  # another run won the race with the same builder version
                shutil.rmtree(out, ignore_errors=True)
                staging.rename(out)
    return out


def image_cache_dir() -> Path:
    """One directory per builder version: checkouts of other versions never overwrite it."""
    default = Path(tempfile.gettempdir()) / f"cybersafe-fw-images-{os.getuid()}"
    base = Path(os.environ.get("CYBERSAFE_FW_IMAGE_CACHE", default))
    return base / _stamp()


if __name__ == "__main__":
    target = build_all(Path(sys.argv[1]) if len(sys.argv) > 1 else image_cache_dir())
    for image in sorted(target.glob("*.img")):
        print(f"{image.stat().st_size:>10}  {image}")
