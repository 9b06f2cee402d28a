"""Components from package databases (dpkg, opkg, apk: high confidence) and version banners (medium)."""

from __future__ import annotations

from packageurl import PackageURL

from cybersafe.evidence.firmware.model import Component, Confidence

PACKAGE_DBS = {
    "var/lib/dpkg/status": "dpkg-status",
    "usr/lib/opkg/status": "opkg-status",
    "var/lib/opkg/status": "opkg-status",
    "lib/apk/db/installed": "apk-installed",
}


def _stanzas(text: str, apk: bool = False) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if current:
                out.append(current)
            current = {}
            continue
        if apk and len(line) > 2 and line[1] == ":":
            current.setdefault(line[0], line[2:].strip())
        elif not apk and ":" in line and not line.startswith((" ", "\t")):
            key, value = line.split(":", 1)
            current.setdefault(key.strip(), value.strip())
    if current:
        out.append(current)
    return out


def from_package_db(rel: str, display: str, text: str, distro: str | None) -> list[Component]:
    how = PACKAGE_DBS[rel]
    out: list[Component] = []
    if how == "apk-installed":
        for stanza in _stanzas(text, apk=True):
            name, version = stanza.get("P"), stanza.get("V")
            if not name:
                continue
            qualifiers = {"arch": stanza["A"]} if stanza.get("A") else None
            purl = PackageURL("apk", distro or "alpine", name, version, qualifiers)
            out.append(Component(name, version, str(purl), how, display, Confidence.HIGH))
        return out
    for stanza in _stanzas(text):
        name, version = stanza.get("Package"), stanza.get("Version")
        if not name or ("Status" in stanza and "installed" not in stanza["Status"].split()):
            continue
        arch = stanza.get("Architecture")
        qualifiers = {"arch": arch} if arch else None
        if how == "dpkg-status":
            purl = PackageURL("deb", distro or "debian", name, version, qualifiers)
        else:
            purl = PackageURL("generic", None, name, version, {**(qualifiers or {}), "package_manager": "opkg"})
        out.append(Component(name, version, str(purl), how, display, Confidence.HIGH))
    return out


def from_banner(name: str, version: str, display: str) -> Component:
    purl = PackageURL("generic", None, name, version)
    return Component(name, version, str(purl), "version-banner", display, Confidence.MEDIUM)


def distro_from_os_release(text: str) -> str | None:
    for line in text.splitlines():
        if line.startswith("ID="):
            return line[3:].strip().strip("\"'") or None
    return None


def merge(components: list[Component]) -> list[Component]:
    """One entry per (name, version, how found); banners of a package the database lists are dropped."""
    packaged = {(c.name, c.version) for c in components if c.confidence is Confidence.HIGH}
    seen: set[tuple[str, str | None, str]] = set()
    out: list[Component] = []
    for comp in components:
        if comp.how_found == "version-banner" and (comp.name, comp.version) in packaged:
            continue
        key = (comp.name, comp.version, comp.how_found)
        if key not in seen:
            seen.add(key)
            out.append(comp)
    return sorted(out, key=lambda c: (c.name, c.version or "", c.how_found))
