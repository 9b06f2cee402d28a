"""Read CycloneDX 1.4-1.6 (JSON, XML) and SPDX 2.3 (JSON, tag-value) into an ``SbomDocument``.

CycloneDX goes through cyclonedx-python-lib, SPDX through spdx-tools. Both libraries report malformed
input in their own words, often without saying where; so the JSON shapes are checked first and every
error names the file and the element (``components[3].purl``) in one line.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from packageurl import PackageURL

from cybersafe.errors import SbomError
from cybersafe.evidence.sbom.model import ComponentHash, SbomComponent, SbomDocument

CYCLONEDX_VERSIONS = ("1.4", "1.5", "1.6")
SPDX_VERSIONS = ("SPDX-2.3",)
_CDX_XML_NS = re.compile(r"\{http://cyclonedx\.org/schema/bom/(\d+\.\d+)\}bom")
_MAX_BYTES = 256 * 1024 * 1024


def load_sbom(path: str | Path) -> SbomDocument:
    """Read an SBOM file; raise ``SbomError`` naming file and element when it cannot be read."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SbomError(f"cannot read: {exc.strerror or exc}", file=path) from exc
    if len(raw) > _MAX_BYTES:
        raise SbomError(f"larger than {_MAX_BYTES // (1024 * 1024)} MiB, refusing to read", file=path)
    digest = hashlib.sha256(raw).hexdigest()
    text = raw.decode("utf-8-sig", errors="replace")
    try:
        return _load_text(path, raw, text, digest)
    except RecursionError as exc:  # a document nested deeper than the readers' recursion allows
        raise SbomError("nested too deeply to read (hostile or broken document)", file=path) from exc


def _load_text(path: Path, raw: bytes, text: str, digest: str) -> SbomDocument:
    head = text.lstrip()[:4096]
    if head.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SbomError(f"not valid JSON: {exc.msg}", file=path, line=exc.lineno) from exc
        if not isinstance(data, dict):
            raise SbomError("top level is not a JSON object", file=path)
        if data.get("bomFormat") == "CycloneDX":
            return _cyclonedx_json(path, data, digest)
        if "spdxVersion" in data:
            return _spdx(path, data, digest, "json")
        raise SbomError("neither CycloneDX (bomFormat) nor SPDX (spdxVersion)", file=path, field="bomFormat")
    if head.startswith("<"):
        return _cyclonedx_xml(path, raw, digest)
    if re.search(r"^SPDXVersion:", text, re.MULTILINE):
        return _spdx(path, None, digest, "tag-value")
    raise SbomError("not a CycloneDX (JSON/XML) or SPDX (JSON/tag-value) document", file=path)


# --- CycloneDX -------------------------------------------------------------------------------------------


def _check_cdx_components(path: Path, items: Any, where: str) -> None:
    if items is None:
        return
    if not isinstance(items, list):
        raise SbomError("must be a list", file=path, field=where)
    for i, item in enumerate(items):
        here = f"{where}[{i}]"
        if not isinstance(item, dict):
            raise SbomError("must be an object", file=path, field=here)
        for key in ("name", "type"):
            if not isinstance(item.get(key), str) or not item.get(key):
                raise SbomError(f"missing or not a string: {key!r}", file=path, field=f"{here}.{key}")
        for key in ("version", "purl", "cpe", "bom-ref"):
            if key in item and not isinstance(item[key], str):
                raise SbomError("must be a string", file=path, field=f"{here}.{key}")
        if isinstance(item.get("purl"), str):
            _check_purl(path, item["purl"], f"{here}.purl")
        _check_cdx_hashes(path, item.get("hashes"), f"{here}.hashes")
        _check_cdx_components(path, item.get("components"), f"{here}.components")


def _check_cdx_hashes(path: Path, hashes: Any, where: str) -> None:
    if hashes is None:
        return
    if not isinstance(hashes, list):
        raise SbomError("must be a list", file=path, field=where)
    for j, item in enumerate(hashes):
        if not isinstance(item, dict):
            raise SbomError("must be an object", file=path, field=f"{where}[{j}]")
        for key in ("alg", "content"):
            if not isinstance(item.get(key), str):
                raise SbomError(f"missing or not a string: {key!r}", file=path, field=f"{where}[{j}].{key}")


def _check_purl(path: Path, purl: str, where: str) -> None:
    try:
        PackageURL.from_string(purl)
    except ValueError as exc:
        raise SbomError(f"not a valid purl {purl!r}: {exc}", file=path, field=where) from exc


def _cyclonedx_json(path: Path, data: dict[str, Any], digest: str) -> SbomDocument:
    version = data.get("specVersion")
    if version not in CYCLONEDX_VERSIONS:
        raise SbomError(
            f"CycloneDX specVersion {version!r} is not supported (read: {', '.join(CYCLONEDX_VERSIONS)})",
            file=path,
            field="specVersion",
        )
    _check_cdx_components(path, data.get("components"), "components")
    metadata = data.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise SbomError("must be an object", file=path, field="metadata")
    if isinstance(metadata, dict) and "component" in metadata:
        _check_cdx_components(path, [metadata["component"]], "metadata.component")
    deps = data.get("dependencies")
    if deps is not None:
        if not isinstance(deps, list):
            raise SbomError("must be a list", file=path, field="dependencies")
        for i, dep in enumerate(deps):
            if not isinstance(dep, dict) or not isinstance(dep.get("ref"), str):
                raise SbomError("each entry needs a string 'ref'", file=path, field=f"dependencies[{i}]")
    from cyclonedx.model.bom import Bom

    try:
        bom = Bom.from_json(data)  # type: ignore[attr-defined]
    except RecursionError:
        raise  # load_sbom says "nested too deeply"
    except Exception as exc:
        raise SbomError(f"not a valid CycloneDX {version} document: {_short(exc)}", file=path, field="bom") from exc
    return _converted(path, f"CycloneDX {version}", lambda: _from_bom(path, bom, version, "json", digest))


def _cyclonedx_xml(path: Path, raw: bytes, digest: str) -> SbomDocument:
    import defusedxml.ElementTree as DET
    from defusedxml import DefusedXmlException

    try:
        root = DET.fromstring(raw)
    except DefusedXmlException as exc:
        raise SbomError(f"XML refused: {exc}", file=path) from exc
    except Exception as exc:
        line = getattr(exc, "position", (None, None))[0]
        raise SbomError(f"not well-formed XML: {_short(exc)}", file=path, line=line) from exc
    match = _CDX_XML_NS.fullmatch(root.tag)
    if match is None:
        raise SbomError(f"root element {root.tag!r} is not a CycloneDX <bom>", file=path, field="bom")
    version = match.group(1)
    if version not in CYCLONEDX_VERSIONS:
        raise SbomError(f"CycloneDX {version} is not supported", file=path, field="bom@xmlns")
    ns = "{http://cyclonedx.org/schema/bom/" + version + "}"
    for i, comp in enumerate(root.iter(ns + "component")):
        name = comp.find(ns + "name")
        if name is None or not (name.text or "").strip():
            raise SbomError("missing <name>", file=path, field=f"component[{i}]")
        purl = comp.find(ns + "purl")
        if purl is not None and purl.text:
            _check_purl(path, purl.text.strip(), f"component[{i}]({name.text}).purl")
    from cyclonedx.model.bom import Bom

    try:
        bom = Bom.from_xml(root)  # type: ignore[attr-defined]
    except RecursionError:
        raise  # load_sbom says "nested too deeply"
    except Exception as exc:
        raise SbomError(f"not a valid CycloneDX {version} document: {_short(exc)}", file=path, field="bom") from exc
    return _converted(path, f"CycloneDX {version}", lambda: _from_bom(path, bom, version, "xml", digest))


def _converted(path: Path, kind: str, convert: Callable[[], SbomDocument]) -> SbomDocument:
    """Run the library-model -> SbomDocument conversion; a value of a shape the element checks did not
    foresee (the libraries accept more than they type) becomes an SbomError, never a traceback."""
    try:
        return convert()
    except (AttributeError, TypeError, ValueError, KeyError) as exc:
        field = "spdx" if kind.startswith("SPDX") else "bom"
        raise SbomError(f"unexpected value in the {kind} document: {_short(exc)}", file=path, field=field) from exc


def _walk(components: Iterable[Any]) -> Iterator[Any]:
    for comp in components:
        yield comp
        yield from _walk(comp.components or ())


def _org_name(entity: Any) -> str | None:
    if entity is None:
        return None
    name = getattr(entity, "name", None)
    return str(name) if name else None


def _cdx_component(comp: Any, fallback_ref: str) -> SbomComponent:
    ref = comp.bom_ref.value if comp.bom_ref and comp.bom_ref.value else fallback_ref
    licenses: list[str] = []
    for lic in comp.licenses or ():
        text = getattr(lic, "id", None) or getattr(lic, "name", None) or getattr(lic, "value", None)
        if text:
            licenses.append(str(text))
    filename = None
    for prop in comp.properties or ():
        if prop.name in ("bsi:component:filename", "cdx:file:filename", "filename"):
            filename = prop.value
    author = comp.author or None
    if author is None and getattr(comp, "authors", None):
        author = ", ".join(a.name for a in comp.authors if a.name) or None
    return SbomComponent(
        ref=ref,
        name=comp.name,
        version=comp.version or None,
        purl=comp.purl.to_string() if comp.purl else None,
        cpe=comp.cpe or None,
        hashes=tuple(ComponentHash(_hash_alg(str(h.alg.value)), h.content.lower()) for h in comp.hashes or ()),
        supplier=_org_name(comp.supplier) or (str(comp.publisher) if comp.publisher else None),
        author=author,
        licenses=tuple(licenses),
        kind=str(comp.type.value) if comp.type else None,
        filename=filename,
        group=comp.group or None,
    )


def _from_bom(path: Path, bom: Any, version: str, encoding: str, digest: str) -> SbomDocument:
    meta = bom.metadata
    primary = _cdx_component(meta.component, "metadata.component") if meta.component else None
    components: list[SbomComponent] = []
    seen: set[str] = set()
    for i, comp in enumerate(_walk(bom.components or ())):
        item = _cdx_component(comp, f"components[{i}]")
        if item.ref in seen:
            continue
        seen.add(item.ref)
        components.append(item)
    deps: dict[str, tuple[str, ...]] = {}
    for dep in bom.dependencies or ():
        deps[dep.ref.value] = tuple(d.ref.value for d in dep.dependencies or ())
    authors = [a.name for a in meta.authors or () if a.name]
    contacts = [str(a.email) for a in meta.authors or () if a.email]
    if meta.manufacturer is not None or getattr(meta, "manufacture", None) is not None:
        org = meta.manufacturer or meta.manufacture
        if org.name:
            authors.append(org.name)
        contacts.extend(str(u) for u in org.urls or ())
        contacts.extend(str(c.email) for c in org.contacts or () if c.email)
    if meta.supplier is not None:
        contacts.extend(str(u) for u in meta.supplier.urls or ())
    tools: list[str] = []
    repo = meta.tools
    for tool in list(repo.tools or ()) + list(repo.components or ()) + list(repo.services or ()):
        tools.append(" ".join(x for x in (getattr(tool, "name", None), getattr(tool, "version", None)) if x))
    return SbomDocument(
        path=str(path),
        format="cyclonedx",
        spec_version=version,
        encoding=encoding,
        sha256=digest,
        components=tuple(components),
        primary=primary,
        dependencies=deps,
        timestamp=meta.timestamp,
        authors=tuple(authors),
        author_contacts=tuple(contacts),
        tools=tuple(t for t in tools if t),
        serial=str(bom.serial_number.urn) if bom.serial_number else None,
    )


# --- SPDX ------------------------------------------------------------------------------------------------


def _spdx(path: Path, data: dict[str, Any] | None, digest: str, encoding: str) -> SbomDocument:
    if data is not None:
        if data.get("spdxVersion") not in SPDX_VERSIONS:
            raise SbomError(
                f"SPDX version {data.get('spdxVersion')!r} is not supported (read: SPDX-2.3)",
                file=path,
                field="spdxVersion",
            )
        packages = data.get("packages", [])
        if not isinstance(packages, list):
            raise SbomError("must be a list", file=path, field="packages")
        for i, pkg in enumerate(packages):
            if not isinstance(pkg, dict):
                raise SbomError("must be an object", file=path, field=f"packages[{i}]")
            for key in ("SPDXID", "name"):
                if not isinstance(pkg.get(key), str):
                    raise SbomError(f"missing or not a string: {key!r}", file=path, field=f"packages[{i}].{key}")
            refs = pkg.get("externalRefs")
            if refs is not None and not isinstance(refs, list):
                raise SbomError("must be a list", file=path, field=f"packages[{i}].externalRefs")
            for j, ref in enumerate(refs or []):
                if isinstance(ref, dict) and ref.get("referenceType") == "purl":
                    _check_purl(path, str(ref.get("referenceLocator")), f"packages[{i}].externalRefs[{j}]")
    from spdx_tools.spdx.parser.error import SPDXParsingError

    try:
        if data is not None:
            from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser

            doc = JsonLikeDictParser().parse(data)  # type: ignore[no-untyped-call]
        else:
            # spdx-tools picks a parser by file extension; we detected tag-value by content instead.
            doc = _parse_tagvalue_text(path)
    except SPDXParsingError as exc:
        messages = exc.get_messages()  # type: ignore[no-untyped-call]
        first = messages[0] if messages else "unknown error"
        more = f" (and {len(messages) - 1} more)" if len(messages) > 1 else ""
        first = " ".join(str(first).split())
        raise SbomError(f"not a valid SPDX 2.3 document: {first}{more}", file=path, field="spdx") from exc
    except RecursionError:
        raise  # load_sbom says "nested too deeply"
    except Exception as exc:
        raise SbomError(f"not a valid SPDX 2.3 document: {_short(exc)}", file=path, field="spdx") from exc
    return _converted(path, "SPDX 2.3", lambda: _from_spdx(path, doc, encoding, digest))


def _parse_tagvalue_text(path: Path) -> Any:
    from spdx_tools.spdx.parser.tagvalue.parser import Parser

    return Parser().parse(path.read_text(encoding="utf-8", errors="replace"))  # type: ignore[no-untyped-call]


def _from_spdx(path: Path, doc: Any, encoding: str, digest: str) -> SbomDocument:
    from spdx_tools.spdx.model.actor import ActorType
    from spdx_tools.spdx.model.package import ExternalPackageRefCategory
    from spdx_tools.spdx.model.relationship import RelationshipType

    info = doc.creation_info
    if info.spdx_version not in SPDX_VERSIONS:
        raise SbomError(f"SPDX version {info.spdx_version!r} is not supported", file=path, field="SPDXVersion")
    comps: dict[str, SbomComponent] = {}
    for pkg in doc.packages:
        purl = cpe = None
        for ref in pkg.external_references:
            if ref.reference_type == "purl" and purl is None:
                purl = ref.locator
            elif ref.category == ExternalPackageRefCategory.SECURITY and ref.reference_type.startswith("cpe"):
                cpe = cpe or ref.locator
        supplier = getattr(pkg.supplier, "name", None) if pkg.supplier is not None else None
        author = getattr(pkg.originator, "name", None) if pkg.originator is not None else None
        licenses: tuple[str, ...] = ()
        for lic in (pkg.license_declared, pkg.license_concluded):
            text = str(lic) if lic is not None else ""
            if text and text not in ("NOASSERTION", "NONE"):
                licenses = (text,)
                break
        comps[pkg.spdx_id] = SbomComponent(
            ref=pkg.spdx_id,
            name=pkg.name,
            version=pkg.version or None,
            purl=purl,
            cpe=cpe,
            hashes=tuple(ComponentHash(_hash_alg(c.algorithm.name), c.value.lower()) for c in pkg.checksums),
            supplier=supplier,
            author=author,
            licenses=licenses,
            kind=pkg.primary_package_purpose.name.lower() if pkg.primary_package_purpose else None,
            filename=pkg.file_name or None,
        )
    deps: dict[str, list[str]] = {}
    described: list[str] = []
    for rel in doc.relationships:
        a, b = rel.spdx_element_id, str(rel.related_spdx_element_id)
        if rel.relationship_type == RelationshipType.DESCRIBES and a == "SPDXRef-DOCUMENT":
            described.append(b)
        elif rel.relationship_type == RelationshipType.DESCRIBED_BY:
            described.append(a)
        elif rel.relationship_type in (RelationshipType.DEPENDS_ON, RelationshipType.CONTAINS):
            deps.setdefault(a, []).append(b)
        elif rel.relationship_type in (RelationshipType.DEPENDENCY_OF, RelationshipType.CONTAINED_BY):
            deps.setdefault(b, []).append(a)
    primary = comps.pop(described[0], None) if described else None
    authors = tuple(c.name for c in info.creators if c.actor_type in (ActorType.PERSON, ActorType.ORGANIZATION))
    contacts = tuple(c.email for c in info.creators if c.email)
    tools = tuple(c.name for c in info.creators if c.actor_type == ActorType.TOOL)
    created = info.created
    if created is not None and created.tzinfo is None:
        created = created.replace(tzinfo=dt.UTC)
    return SbomDocument(
        path=str(path),
        format="spdx",
        spec_version=info.spdx_version.removeprefix("SPDX-"),
        encoding=encoding,
        sha256=digest,
        components=tuple(comps.values()),
        primary=primary,
        dependencies={k: tuple(v) for k, v in deps.items()},
        timestamp=created,
        authors=authors,
        author_contacts=contacts,
        tools=tools,
        serial=info.document_namespace,
    )


def _hash_alg(name: str) -> str:
    text = name.upper().replace("_", "-")
    return {"SHA256": "SHA-256", "SHA512": "SHA-512", "SHA1": "SHA-1", "SHA384": "SHA-384"}.get(text, text)


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."
