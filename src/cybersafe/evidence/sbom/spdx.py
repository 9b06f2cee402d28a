"""SPDX 2.1-2.3 in, JSON and tag-value; SPDX 3 recognised and refused with the reason.

A lean reader of packages, their identifiers, checksums, suppliers and licences, the relationships between
them and the creation info. spdx-tools validates while it parses, so a document real producers write every
day (Trivy's tag-value without PackageDownloadLocation, timestamps with milliseconds, ``FilesAnalyzed:
False``) failed as a whole; here a missing optional field is simply absent. spdx-tools 0.8 has no SPDX 3
reader, so SPDX 3 JSON-LD is refused with one line that says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from cybersafe.evidence.sbom._fields import Reader, hash_alg
from cybersafe.evidence.sbom.model import ComponentHash, SbomComponent, SbomDocument

VERSIONS = ("SPDX-2.1", "SPDX-2.2", "SPDX-2.3")
_NO_VALUE = frozenset({"NOASSERTION", "NONE", ""})
_ACTOR = re.compile(r"\s*(Person|Organization|Tool)\s*:\s*(.*?)\s*(?:\(([^()]*)\))?\s*$", re.IGNORECASE)
_DEPENDS = frozenset({"DEPENDS_ON", "CONTAINS", "DYNAMIC_LINK", "STATIC_LINK", "RUNTIME_DEPENDENCY_OF"})
_DEPENDS_REVERSED = frozenset({"DEPENDENCY_OF", "CONTAINED_BY"})


def check_version(reader: Reader, version: Any, where: str) -> str:
    if version not in VERSIONS:
        if isinstance(version, str) and version.startswith("SPDX-3"):
            message = (
                f"SPDX version {version!r} is not supported: spdx-tools reads no SPDX 3 yet (read: SPDX-2.1 to 2.3)"
            )
        else:
            message = f"SPDX version {version!r} is not supported (read: SPDX-2.1 to 2.3)"
        raise reader.error(message, where)
    return str(version)


def refuse_spdx3(reader: Reader, context: Any) -> None:
    raise reader.error(
        f"an SPDX 3 JSON-LD document ({context}) is not read: spdx-tools has no SPDX 3 reader yet; "
        "export SPDX 2.3 or CycloneDX instead",
        "@context",
    )


@dataclass
class _Doc:
    """What both encodings produce before it becomes an ``SbomDocument``."""

    version: str = ""
    packages: list[SbomComponent] = field(default_factory=list)
    relationships: list[tuple[str, str, str]] = field(default_factory=list)  # (a, TYPE, b)
    describes: list[str] = field(default_factory=list)
    creators: list[str] = field(default_factory=list)
    created: str | None = None
    namespace: str | None = None


def _actor(text: str | None) -> tuple[str, str | None, str | None]:
    """("Person"/"Organization"/"Tool", name, e-mail) of an SPDX actor string; ("", None, None) if none."""
    if not text or text.strip() in _NO_VALUE:
        return "", None, None
    m = _ACTOR.fullmatch(text)
    if m is None:
        return "", text.strip() or None, None
    return m.group(1).capitalize(), m.group(2) or None, (m.group(3) or "").strip() or None


def _license(*candidates: Any) -> tuple[str, ...]:
    for value in candidates:
        if isinstance(value, str) and value.strip() not in _NO_VALUE:
            return (value.strip(),)
    return ()


def _finish(reader: Reader, doc: _Doc, encoding: str, digest: str) -> SbomDocument:
    comps = {c.ref: c for c in doc.packages}
    deps: dict[str, list[str]] = {}
    described = list(doc.describes)
    for a, kind, b in doc.relationships:
        if kind == "DESCRIBES" and a == "SPDXRef-DOCUMENT":
            described.append(b)
        elif kind == "DESCRIBED_BY":
            described.append(a)
        elif kind in _DEPENDS:
            deps.setdefault(a, []).append(b)
        elif kind in _DEPENDS_REVERSED:
            deps.setdefault(b, []).append(a)
    primary = next((comps.pop(ref) for ref in described if ref in comps), None)
    actors = [_actor(c) for c in doc.creators]
    return SbomDocument(
        path=str(reader.path),
        format="spdx",
        spec_version=doc.version.removeprefix("SPDX-"),
        encoding=encoding,
        sha256=digest,
        components=tuple(comps.values()),
        primary=primary,
        dependencies={k: tuple(v) for k, v in deps.items()},
        timestamp=reader.timestamp(doc.created, "creationInfo.created"),
        authors=tuple(n for kind, n, _ in actors if n and kind in ("Person", "Organization")),
        author_contacts=tuple(e for _, _, e in actors if e),
        tools=tuple(n for kind, n, _ in actors if n and kind == "Tool"),
        serial=doc.namespace,
        problems=reader.all_problems(),
    )


# --- JSON ------------------------------------------------------------------------------------------------


def read_json(reader: Reader, data: dict[str, Any], digest: str) -> SbomDocument:
    doc = _Doc(version=check_version(reader, data.get("spdxVersion"), "spdxVersion"))
    info = reader.optional_obj(data, "creationInfo", "") or {}
    doc.creators = [c for c in reader.items(info, "creators", "creationInfo") if isinstance(c, str)]
    created = info.get("created")
    doc.created = created if isinstance(created, str) else None
    doc.namespace = reader.text(data, "documentNamespace", "")
    doc.describes = [d for d in reader.items(data, "documentDescribes", "") if isinstance(d, str)]
    for i, pkg in enumerate(reader.items(data, "packages", "")):
        doc.packages.append(_json_package(reader, reader.obj(pkg, f"packages[{i}]"), f"packages[{i}]"))
    for i, entry in enumerate(reader.items(data, "relationships", "")):
        rel = reader.obj(entry, f"relationships[{i}]")
        a, kind, b = (rel.get(k) for k in ("spdxElementId", "relationshipType", "relatedSpdxElement"))
        if isinstance(a, str) and isinstance(kind, str) and isinstance(b, str):
            doc.relationships.append((a, kind.upper(), b))
    return _finish(reader, doc, "json", digest)


def _json_package(reader: Reader, pkg: dict[str, Any], where: str) -> SbomComponent:
    ref = reader.text(pkg, "SPDXID", where, required=True)
    name = reader.text(pkg, "name", where, required=True)
    assert ref is not None and name is not None
    purl = cpe = None
    for j, ext in enumerate(reader.items(pkg, "externalRefs", where)):
        if not isinstance(ext, dict):
            continue
        kind, locator = ext.get("referenceType"), ext.get("referenceLocator")
        if not isinstance(kind, str) or not isinstance(locator, str):
            continue
        if kind == "purl" and purl is None:
            purl = reader.purl(locator, f"{where}.externalRefs[{j}]")
        elif kind.startswith("cpe") and cpe is None:
            cpe = locator
    hashes = []
    for j, entry in enumerate(reader.items(pkg, "checksums", where)):
        checksum = reader.obj(entry, f"{where}.checksums[{j}]")
        alg, value = checksum.get("algorithm"), checksum.get("checksumValue")
        if isinstance(alg, str) and isinstance(value, str) and value:
            hashes.append(ComponentHash(hash_alg(alg), value.lower()))
    purpose = pkg.get("primaryPackagePurpose")
    return SbomComponent(
        ref=ref,
        name=name,
        version=_value(pkg.get("versionInfo")),
        purl=purl,
        cpe=cpe,
        hashes=tuple(hashes),
        supplier=_actor(_value(pkg.get("supplier")))[1],
        author=_actor(_value(pkg.get("originator")))[1],
        licenses=_license(pkg.get("licenseDeclared"), pkg.get("licenseConcluded")),
        kind=purpose.lower().replace("_", "-") if isinstance(purpose, str) and purpose else None,
        filename=_value(pkg.get("packageFileName")),
    )


def _value(value: Any) -> str | None:
    if not isinstance(value, str) or value.strip() in _NO_VALUE:
        return None
    return value.strip()


# --- tag-value -------------------------------------------------------------------------------------------

_TAG_LINE = re.compile(r"([A-Za-z][A-Za-z0-9_-]*)\s*:\s?(.*)")
_TEXT_OPEN = "<text>"
_TEXT_CLOSE = "</text>"


def _tag_values(reader: Reader, lines: Iterable[str]) -> Iterator[tuple[int, str, str]]:
    """(line number, tag, value) pairs; a ``<text>`` value may run over several lines."""
    pending: tuple[int, str, list[str]] | None = None
    for n, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if pending is not None:
            if _TEXT_CLOSE in line:
                pending[2].append(line.split(_TEXT_CLOSE, 1)[0])
                yield pending[0], pending[1], "\n".join(pending[2])
                pending = None
            else:
                pending[2].append(line)
            continue
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _TAG_LINE.fullmatch(line.strip())
        if m is None:
            raise reader.error(f"not a 'Tag: value' line: {line.strip()[:60]!r}", line=n)
        tag, value = m.group(1), m.group(2).strip()
        if value.startswith(_TEXT_OPEN) and _TEXT_CLOSE not in value:
            pending = (n, tag, [value[len(_TEXT_OPEN) :]])
            continue
        if value.startswith(_TEXT_OPEN):
            value = value[len(_TEXT_OPEN) :].split(_TEXT_CLOSE, 1)[0]
        yield n, tag, value
    if pending is not None:
        raise reader.error(f"<text> opened for {pending[1]} is never closed", line=pending[0])


class _TagPackage:
    """The fields of one package section, gathered until the next section starts."""

    def __init__(self, line: int, name: str) -> None:
        self.line = line
        self.fields: dict[str, str] = {"PackageName": name}
        self.purl_locators: list[tuple[int, str]] = []
        self.cpes: list[str] = []
        self.checksums: list[str] = []

    def add(self, n: int, tag: str, value: str) -> None:
        if tag == "ExternalRef":
            parts = value.split()
            if len(parts) >= 3 and parts[1] == "purl":
                self.purl_locators.append((n, parts[2]))
            elif len(parts) >= 3 and parts[1].startswith("cpe"):
                self.cpes.append(parts[2])
        elif tag == "PackageChecksum":
            self.checksums.append(value)
        else:
            self.fields.setdefault(tag, value)

    def component(self, reader: Reader) -> SbomComponent:
        f = self.fields
        name = f["PackageName"]
        ref = f.get("SPDXID")
        if not ref:
            raise reader.error(f"package {name!r} has no SPDXID", "PackageName", line=self.line)
        purl = None
        for n, locator in self.purl_locators:
            purl = reader.purl(locator, f"line {n}: ExternalRef purl")
            if purl:
                break
        hashes = []
        for text in self.checksums:
            alg, _, value = text.partition(":")
            if value.strip():
                hashes.append(ComponentHash(hash_alg(alg), value.strip().lower()))
        purpose = f.get("PrimaryPackagePurpose")
        return SbomComponent(
            ref=ref,
            name=name,
            version=_value(f.get("PackageVersion")),
            purl=purl,
            cpe=self.cpes[0] if self.cpes else None,
            hashes=tuple(hashes),
            supplier=_actor(_value(f.get("PackageSupplier")))[1],
            author=_actor(_value(f.get("PackageOriginator")))[1],
            licenses=_license(f.get("PackageLicenseDeclared"), f.get("PackageLicenseConcluded")),
            kind=purpose.lower().replace("_", "-") if purpose else None,
            filename=_value(f.get("PackageFileName")),
        )


# Tags that start a section other than a package: what follows them is not about the package before.
_OTHER_SECTIONS = frozenset({"FileName", "SnippetSPDXID", "LicenseID", "Annotator"})


def read_tag_value(reader: Reader, lines: Iterable[str], digest: str) -> SbomDocument:
    doc = _Doc()
    current: _TagPackage | None = None
    for n, tag, value in _tag_values(reader, lines):
        if tag == "PackageName":
            if current is not None:
                doc.packages.append(current.component(reader))
            current = _TagPackage(n, value)
        elif tag in _OTHER_SECTIONS:
            if current is not None:
                doc.packages.append(current.component(reader))
            current = None
        elif tag == "Relationship":
            parts = value.split()
            if len(parts) >= 3:
                doc.relationships.append((parts[0], parts[1].upper(), parts[2]))
        elif current is not None:
            current.add(n, tag, value)
        else:
            _document_tag(reader, doc, n, tag, value)
    if current is not None:
        doc.packages.append(current.component(reader))
    if not doc.version:
        raise reader.error("no SPDXVersion line", "SPDXVersion")
    return _finish(reader, doc, "tag-value", digest)


def _document_tag(reader: Reader, doc: _Doc, n: int, tag: str, value: str) -> None:
    if tag == "SPDXVersion" and not doc.version:
        doc.version = check_version(reader, value, "SPDXVersion")
    elif tag == "Creator":
        doc.creators.append(value)
    elif tag == "Created":
        doc.created = value
    elif tag == "DocumentNamespace":
        doc.namespace = value or None
    elif tag == "DocumentDescribes":  # not in the 2.x tag list, but written by some producers
        doc.describes.extend(value.replace(",", " ").split())
