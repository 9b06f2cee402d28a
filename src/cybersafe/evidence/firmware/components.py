"""Components: package databases (high confidence) merged with version banners read by signature (medium).

The signatures are data (``signatures.yaml`` beside this module, validated at load). A banner counts only in
an ELF executable, shared library or kernel module (or, for kernels and boot loaders, a non-text image) that
is not documentation: compressed changelogs, NEWS files, man pages and sshd's table of old peer versions
never yield a component. Results are merged by package: a banner found in a file a package database owns
joins that package's entry, so every component appears once with every path that showed it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from pathlib import PurePosixPath
from typing import Any, Literal

import yaml
from packageurl import PackageURL
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cybersafe import yamlio
from cybersafe.errors import CatalogError
from cybersafe.evidence.firmware.model import Component, ComponentEvidence, Confidence, ElfHardening
from cybersafe.evidence.firmware.packagedb import PackageDatabases

SCHEMA = "cybersafe/component-signatures/v1"
_DOC_PARTS = ("usr/share/doc/", "usr/share/man/", "usr/share/info/", "usr/share/gtk-doc/", "usr/include/")
_ELF_MAGIC = b"\x7fELF"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VersionPattern(_Strict):
    pattern: str


def _compiles(value: str, groups: bool) -> str:
    try:
        compiled = re.compile(value.encode("latin-1"))
    except (re.error, UnicodeEncodeError) as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from exc
    if groups and compiled.groups < 1:
        raise ValueError("a version pattern needs at least one capture group")
    return value


class Signature(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.+-]*$")
    supplier: str
    cpe: str = Field(pattern=r"^[a-z0-9_.\-]+:[a-z0-9_.\-]+$")
    packages: tuple[str, ...] = ()
    files: Literal["elf", "binary"] = "elf"
    versions: tuple[VersionPattern, ...] = ()
    filenames: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    presence: str | None = None
    format: str | None = None
    linked_as: tuple[str, ...] = ()

    @field_validator("versions", mode="before")
    @classmethod
    def _versions(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"pattern": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("versions")
    @classmethod
    def _check_versions(cls, value: tuple[VersionPattern, ...]) -> tuple[VersionPattern, ...]:
        for item in value:
            _compiles(item.pattern, groups=True)
        return value

    @field_validator("filenames")
    @classmethod
    def _check_filenames(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            _compiles(item, groups=True)
        return value

    @field_validator("requires")
    @classmethod
    def _check_requires(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            _compiles(item, groups=False)
        return value


class SignatureCatalog(_Strict):
    schema_: str = Field(alias="schema", pattern=f"^{re.escape(SCHEMA)}$")
    products: tuple[Signature, ...]

    @field_validator("products")
    @classmethod
    def _unique(cls, value: tuple[Signature, ...]) -> tuple[Signature, ...]:
        seen: set[str] = set()
        for sig in value:
            if sig.id in seen:
                raise ValueError(f"product {sig.id!r} is listed twice")
            if not (sig.versions or sig.filenames or sig.presence):
                raise ValueError(f"product {sig.id!r} has no versions, filenames or presence pattern")
            seen.add(sig.id)
        return value


def load_catalog(text: str, source: str = "signatures.yaml") -> SignatureCatalog:
    """Parse and validate a signature catalog; any problem is one CatalogError naming the file and field."""
    try:
        data = yamlio.safe_load(text)
    except yaml.YAMLError as exc:
        raise CatalogError(f"not valid YAML: {str(exc).splitlines()[0]}", file=source) from exc
    try:
        return SignatureCatalog.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise CatalogError(str(first["msg"]), file=source, field=where) from exc


@cache
def catalog() -> SignatureCatalog:
    text = resources.files("cybersafe.evidence.firmware").joinpath("signatures.yaml").read_text(encoding="utf-8")
    return load_catalog(text)


@cache
def signatures() -> dict[str, Signature]:
    return {sig.id: sig for sig in catalog().products}


@dataclass(frozen=True, slots=True)
class ScanRule:
    """One byte regex the scanner runs for the catalog: a version pattern, a requirement or a presence mark."""

    product: str
    role: Literal["version", "requires", "presence", "linked"]
    index: int
    regex: bytes


@cache
def scan_rules() -> tuple[ScanRule, ...]:
    out: list[ScanRule] = []
    for sig in catalog().products:
        for i, item in enumerate(sig.versions):
            out.append(ScanRule(sig.id, "version", i, item.pattern.encode("latin-1")))
        for i, item2 in enumerate(sig.requires):
            out.append(ScanRule(sig.id, "requires", i, item2.encode("latin-1")))
        if sig.presence:
            out.append(ScanRule(sig.id, "presence", 0, sig.presence.encode("latin-1")))
        for i, lib in enumerate(sig.linked_as):
            out.append(ScanRule(sig.id, "linked", i, rb"\x00" + re.escape(lib.encode()) + rb"[\d.]*\x00"))
    return tuple(out)


def format_version(sig: Signature, groups: Sequence[bytes | str | None]) -> str | None:
    """The version from a pattern's capture groups: one group as is; several joined by '.', or by ``format``."""
    parts = [g.decode("ascii", "replace") if isinstance(g, bytes) else g for g in groups]
    if not parts or any(p is None or p == "" for p in parts):
        return None
    texts = [str(p) for p in parts]
    if len(texts) == 1:
        return texts[0]
    numbers = [str(int(t)) if t.isdigit() else t for t in texts]
    if sig.format is not None:
        return sig.format.format(None, *numbers)
    return ".".join(numbers)


def is_documentation(rel: str) -> bool:
    lowered = "/" + rel.lower()
    return any("/" + part in lowered for part in _DOC_PARTS)


@dataclass(frozen=True, slots=True)
class Hit:
    """What the scanner saw for one catalog rule in one file."""

    rule: ScanRule
    groups: tuple[bytes | None, ...]


def identify(rel: str, head: bytes, hits: Iterable[Hit]) -> list[tuple[str, str | None]]:
    """(product, version) pairs one file shows; ``rel`` is its path, ``head`` its first bytes."""
    if is_documentation(rel):
        return []
    elf = head[:4] == _ELF_MAGIC
    text = b"\x00" not in head[:8192]
    by_product: dict[str, list[Hit]] = {}
    for hit in hits:
        by_product.setdefault(hit.rule.product, []).append(hit)
    name = PurePosixPath(rel).name
    out: list[tuple[str, str | None]] = []
    for sig in catalog().products:
        if not elf and (sig.files == "elf" or text):
            continue
        found = _identify_one(sig, name if elf else "", by_product.get(sig.id, []))
        out.extend((sig.id, version) for version in found)
    return out


def _identify_one(sig: Signature, name: str, hits: list[Hit]) -> list[str | None]:
    if any(h.rule.role == "linked" for h in hits) and not name.startswith(sig.linked_as):
        return []  # links the library: the banner is the version it was built against, not a copy
    prefixes: list[str] = []
    for i in range(len(sig.requires)):
        wanted = [h for h in hits if h.rule.role == "requires" and h.rule.index == i]
        if not wanted:
            return []
        prefixes.extend(g.decode("ascii", "replace") for h in wanted for g in h.groups[:1] if g)
    for i in range(len(sig.versions)):
        versions = [format_version(sig, h.groups) for h in hits if h.rule.role == "version" and h.rule.index == i]
        kept = _most_specific([v for v in versions if v and all(v.startswith(p) for p in prefixes)])
        if kept:
            return list(kept)
    for pattern in sig.filenames:
        match = re.match(pattern, name)
        if match:
            version = format_version(sig, match.groups())
            if version:
                return [version]
    if sig.presence and any(h.rule.role == "presence" for h in hits):
        return [None]
    return []


def _most_specific(versions: list[str]) -> list[str]:
    """Distinct versions, without one that another extends (``9.2`` beside ``9.2p1``)."""
    unique = sorted(set(versions))
    return [v for v in unique if not any(o != v and o.startswith(v) for o in unique)]


def upstream_version(package_version: str | None) -> str | None:
    """``1:1.35.0-4+deb12u1+b1`` -> ``1.35.0``; ``1.3.8+dfsg-4`` -> ``1.3.8``; rpm ``2.36-9.fc38`` -> ``2.36``."""
    if not package_version:
        return None
    version = package_version.split(":", 1)[-1]
    version = version.rsplit("-", 1)[0] if "-" in version else version
    version = re.split(r"[+~](?:dfsg|ds|repack|really|debian)", version)[0]
    return version or None


def cpe_name(sig: Signature, version: str | None) -> str:
    vendor, product = sig.cpe.split(":", 1)
    ver = _cpe_escape(version) if version else "*"
    return f"cpe:2.3:a:{vendor}:{product}:{ver}:*:*:*:*:*:*:*"


def _cpe_escape(value: str) -> str:
    return re.sub(r"([^A-Za-z0-9._-])", r"\\\1", value)


def from_banner(product: str, version: str | None, display: str) -> Component:
    sig = signatures()[product]
    purl = PackageURL("generic", None, sig.id, version)
    return Component(
        name=sig.id,
        version=version,
        purl=str(purl),
        how_found="version-banner",
        path=display,
        confidence=Confidence.MEDIUM if version else Confidence.LOW,
        cpe=cpe_name(sig, version),
        supplier=sig.supplier,
        evidence=(ComponentEvidence("version-banner", display, version, sig.id),),
    )


def distro_from_os_release(text: str) -> str | None:
    for line in text.splitlines():
        if line.startswith("ID="):
            return line[3:].strip().strip("\"'") or None
    return None


def _product_of_package(name: str) -> Signature | None:
    for sig in catalog().products:
        if name in sig.packages:
            return sig
    return None


def _compatible(package_version: str | None, banner_version: str | None) -> bool:
    upstream = upstream_version(package_version)
    if not upstream or not banner_version:
        return banner_version is None
    return upstream.startswith(banner_version) or banner_version.startswith(upstream)


def _add_evidence(comp: Component, found: Component, sig: Signature | None) -> Component:
    evidence = comp.evidence + tuple(e for e in found.evidence if e not in comp.evidence)
    cpe = comp.cpe
    if cpe is None and sig is not None:
        cpe = cpe_name(sig, found.version or upstream_version(comp.version))
    return replace(comp, evidence=evidence, cpe=cpe)


def merge(databases: PackageDatabases, banners: list[Component]) -> list[Component]:
    """One component per package (with every banner its files showed), plus banners no package owns."""
    packaged: dict[tuple[str, str, str], Component] = {key: databases.component(key) for key in databases.packages}
    loose: dict[tuple[str, str | None], Component] = {}
    for banner in banners:
        sig = signatures().get(banner.name)
        key = databases.owner_key(banner.path)
        if key is not None and sig is not None and key[2] not in sig.packages:
            key = None  # the owning package embeds another product (a static copy): its own component
        if key is None and sig is not None:
            key = next(
                (k for k, c in packaged.items() if k[2] in sig.packages and _compatible(c.version, banner.version)),
                None,
            )
        if key is not None:
            packaged[key] = _add_evidence(packaged[key], banner, sig)
            continue
        ident = (banner.name, banner.version)
        loose[ident] = _add_evidence(loose[ident], banner, sig) if ident in loose else banner
    for key, comp in packaged.items():
        if comp.cpe is None:
            sig = _product_of_package(key[2])
            if sig is not None:
                packaged[key] = replace(comp, cpe=cpe_name(sig, upstream_version(comp.version)))
    out = list(packaged.values()) + list(loose.values())
    return sorted(out, key=lambda c: (c.name, c.version or "", c.purl))


def attribute_packages(
    elfs: list[ElfHardening], databases: PackageDatabases, components: list[Component]
) -> list[ElfHardening]:
    """Each ELF file with the package that ships it: the database's file list, else the package whose entry a
    banner in that file joined (opkg images often keep no file lists)."""
    by_path = {
        e.path: c.name
        for c in components
        if c.how_found.endswith("-database")
        for e in c.evidence
        if e.how_found == "version-banner"
    }
    return [replace(e, package=databases.owner_name(e.path) or by_path.get(e.path)) for e in elfs]
