"""Real Debian packages for the firmware tests, downloaded once into a git-ignored cache and unpacked there.

``make test`` runs ``python -m tests.evidence.firmware.debs`` first, so the tests themselves never reach the
network; a test that needs a package the cache lacks downloads it the same way (``apt-get download``, which
works as root on a Debian machine with package lists). Cache: ``$CYBERSAFE_DEB_CACHE`` or ``.cache/debs`` in
the checkout.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

# Every package a signature test or the component benchmark reads (Debian 12 names).
PACKAGES = (
    "busybox-static", "dropbear-bin", "openssh-server", "openssh-client", "openssl", "libssl3", "libwolfssl35",
    "libmbedcrypto7", "libgnutls30", "lighttpd", "nginx", "mini-httpd", "mosquitto", "miniupnpd-iptables", "miniupnpd",
    "dnsmasq-base", "hostapd", "wpasupplicant", "vsftpd", "proftpd-core", "pure-ftpd", "samba-libs",
    "avahi-daemon", "curl", "libcurl4", "zlib1g", "libsqlite3-0", "libxml2", "libexpat1", "libicu72", "libc6",
    "musl", "u-boot-qemu", "libavcodec59", "libavutil57", "libgstreamer1.0-0", "openvpn", "iptables",
    "liblua5.4-0", "php8.2-cli", "libpython3.11", "python3.11-minimal", "bash", "ntpsec", "chrony",
    "linux-image-6.1.0-57-cloud-amd64",
)  # fmt: skip


def cache_dir() -> Path:
    return Path(os.environ.get("CYBERSAFE_DEB_CACHE", REPO / ".cache" / "debs"))


def _cached(name: str, where: Path) -> Path | None:
    found = sorted(where.glob(f"{name}_*.deb"))
    return found[-1] if found else None


def deb(name: str) -> Path:
    """The .deb of ``name``: from the cache, else from apt's own cache, else ``apt-get download``."""
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    found = _cached(name, cache) or _cached(name, Path("/var/cache/apt/archives"))
    if found is not None:
        return found
    download = ["apt-get", "download", "-q", name]
    if subprocess.run(download, cwd=cache, capture_output=True, check=False).returncode != 0:
        # a fresh machine may have no package lists yet
        subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True)
        subprocess.run(download, cwd=cache, check=True, capture_output=True)
    found = _cached(name, cache)
    if found is None:
        raise FileNotFoundError(f"apt-get download {name} left no .deb in {cache}")
    return found


def unpacked(name: str) -> Path:
    """The package's files, unpacked once with ``dpkg-deb -x`` next to the cached .deb."""
    package = deb(name)
    target = cache_dir() / "x" / package.stem
    stamp = target / ".unpacked"
    if not stamp.exists():
        target.mkdir(parents=True, exist_ok=True)
        subprocess.run(["dpkg-deb", "-x", str(package), str(target)], check=True, capture_output=True)
        stamp.touch()
    return target


def control(name: str) -> dict[str, str]:
    """Package, Version, Architecture and Maintainer of the cached .deb."""
    out = subprocess.run(
        ["dpkg-deb", "-f", str(deb(name)), "Package", "Version", "Architecture", "Maintainer"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)


def contents(name: str) -> list[str]:
    """The paths the package installs (``dpkg-deb -c``), as dpkg's info/<name>.list records them."""
    out = subprocess.run(["dpkg-deb", "-c", str(deb(name))], capture_output=True, text=True, check=True).stdout
    paths = []
    for line in out.splitlines():
        path = line.split(None, 5)[-1].split(" -> ", 1)[0].lstrip(".").rstrip("/")
        paths.append(path or "/.")
    return paths


def main() -> None:
    for name in PACKAGES:
        unpacked(name)
    print(f"{len(PACKAGES)} packages unpacked in {cache_dir()}", file=sys.stderr)


if __name__ == "__main__":
    main()
