"""CycloneDX 1.0-1.7 in, JSON (a parsed dict, or a stream for large files) and XML.

A lean reader of the fields the checks use, not a model of the whole standard: the JSON shapes of every
1.x version are compatible for components, metadata and dependencies, so one reader serves them all and a
producer's new optional fields never cost the document. Large JSON files are read as a stream (ijson),
one component at a time, so memory follows the number of components, not the size of the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import IO, Any

from cybersafe.evidence.sbom._fields import Reader, hash_alg
from cybersafe.evidence.sbom.model import ComponentHash, SbomComponent, SbomDocument

VERSIONS = ("1.0", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7")
NAMESPACE = re.compile(r"\{http://cyclonedx\.org/schema/bom/(\d+\.\d+)\}bom")
_FILENAME_PROPERTIES = frozenset({"bsi:component:filename", "cdx:file:filename", "filename"})
# About 0.6 KiB of memory per component once read: 1.5M components stay well inside 1 GiB.
MAX_COMPONENTS = 1_500_000


def check_version(reader: Reader, version: Any, where: str) -> str:
    if version not in VERSIONS:
        raise reader.error(
            f"CycloneDX specVersion {version!r} is not supported (read: {VERSIONS[0]} to {VERSIONS[-1]})", where
        )
    return str(version)


# --- JSON ------------------------------------------------------------------------------------------------


class JsonBuilder:
    """Collects the parts of one CycloneDX JSON document, fed whole or piece by piece from a stream."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.components: list[SbomComponent] = []
        self.seen: set[str] = set()
        self.dependencies: dict[str, tuple[str, ...]] = {}
        self.count = 0

    def add_components(self, items: Iterable[Any], where: str) -> None:
        """Top-level components and their nested ``components``, depth first, without recursion."""
        stack: list[tuple[str, Iterator[tuple[int, Any]]]] = [(where, enumerate(items))]
        while stack:
            here, rest = stack[-1]
            step = next(rest, None)
            if step is None:
                stack.pop()
                continue
            i, item = step
            spot = f"{here}[{i}]"
            comp = self.component(item, spot, f"components[{self.count}]")
            self.count += 1
            if self.count > MAX_COMPONENTS:
                raise self.reader.error(f"more than {MAX_COMPONENTS:,} components (the limit for one SBOM)", here)
            if comp.ref not in self.seen:
                self.seen.add(comp.ref)
                self.components.append(comp)
            nested = self.reader.items(item, "components", spot)
            if nested:
                stack.append((f"{spot}.components", enumerate(nested)))

    def component(self, item: Any, where: str, fallback_ref: str) -> SbomComponent:
        r = self.reader
        item = r.obj(item, where)
        name = r.text(item, "name", where, required=True)
        assert name is not None
        return SbomComponent(
            ref=r.text(item, "bom-ref", where) or fallback_ref,
            name=name,
            version=r.text(item, "version", where) or None,
            purl=r.purl(r.text(item, "purl", where), f"{where}.purl"),
            cpe=r.text(item, "cpe", where) or None,
            hashes=self._hashes(item, where),
            supplier=_entity_name(r, item, "supplier", where) or r.text(item, "publisher", where) or None,
            author=self._author(item, where),
            licenses=self._licenses(item, where),
            kind=r.text(item, "type", where) or None,
            filename=self._filename(item, where),
            group=r.text(item, "group", where) or None,
        )

    def _hashes(self, item: dict[str, Any], where: str) -> tuple[ComponentHash, ...]:
        out = []
        for j, entry in enumerate(self.reader.items(item, "hashes", where)):
            here = f"{where}.hashes[{j}]"
            h = self.reader.obj(entry, here)
            alg = self.reader.text(h, "alg", here, required=True)
            content = self.reader.text(h, "content", here, required=True)
            assert alg is not None and content is not None
            out.append(ComponentHash(hash_alg(alg), content.lower()))
        return tuple(out)

    def _author(self, item: dict[str, Any], where: str) -> str | None:
        author = self.reader.text(item, "author", where)
        if author:
            return author
        names = [
            _entity_name(self.reader, {"a": a}, "a", f"{where}.authors")
            for a in self.reader.items(item, "authors", where)
        ]
        return ", ".join(n for n in names if n) or None

    def _licenses(self, item: dict[str, Any], where: str) -> tuple[str, ...]:
        out: list[str] = []
        for j, choice in enumerate(self.reader.items(item, "licenses", where)):
            if not isinstance(choice, dict):
                raise self.reader.error("must be an object", f"{where}.licenses[{j}]")
            expression = choice.get("expression")
            lic = choice.get("license")
            if isinstance(expression, str) and expression:
                out.append(expression)
            elif isinstance(lic, dict):
                text = lic.get("id") or lic.get("name")
                if isinstance(text, str) and text:
                    out.append(text)
        return tuple(out)

    def _filename(self, item: dict[str, Any], where: str) -> str | None:
        for prop in self.reader.items(item, "properties", where):
            if (
                isinstance(prop, dict)
                and prop.get("name") in _FILENAME_PROPERTIES
                and isinstance(prop.get("value"), str)
            ):
                return str(prop["value"])
        return None

    def add_dependencies(self, items: Iterable[Any]) -> None:
        for i, dep in enumerate(items):
            if not isinstance(dep, dict) or not isinstance(dep.get("ref"), str):
                raise self.reader.error("each entry needs a string 'ref'", f"dependencies[{i}]")
            targets = dep.get("dependsOn") or []
            if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
                raise self.reader.error("must be a list of strings", f"dependencies[{i}].dependsOn")
            self.dependencies[dep["ref"]] = tuple(targets)

    def document(self, header: dict[str, Any], version: str, encoding: str, digest: str) -> SbomDocument:
        r = self.reader
        meta = r.optional_obj(header, "metadata", "") or {}
        primary = None
        if meta.get("component") is not None:
            primary = self.component(meta["component"], "metadata.component[0]", "metadata.component")
        authors, contacts = _json_authors(r, meta)
        serial = header.get("serialNumber")
        return SbomDocument(
            path=str(r.path),
            format="cyclonedx",
            spec_version=version,
            encoding=encoding,
            sha256=digest,
            components=tuple(self.components),
            primary=primary,
            dependencies=self.dependencies,
            timestamp=r.timestamp(meta.get("timestamp"), "metadata.timestamp"),
            authors=tuple(authors),
            author_contacts=tuple(contacts),
            tools=tuple(_json_tools(r, meta)),
            serial=serial if isinstance(serial, str) and serial else None,
            problems=r.all_problems(),
        )


def _entity_name(reader: Reader, obj: dict[str, Any], key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, str):  # some producers write a plain name where an object belongs
        return value or None
    entity = reader.obj(value, f"{where}.{key}")
    name = entity.get("name")
    return name if isinstance(name, str) and name else None


def _contacts(entity: dict[str, Any]) -> list[str]:
    out: list[str] = []
    urls = entity.get("url")
    out.extend(u for u in (urls if isinstance(urls, list) else [urls]) if isinstance(u, str) and u)
    for contact in entity.get("contact") or []:
        if isinstance(contact, dict) and isinstance(contact.get("email"), str):
            out.append(contact["email"])
    return out


def _json_authors(reader: Reader, meta: dict[str, Any]) -> tuple[list[str], list[str]]:
    authors: list[str] = []
    contacts: list[str] = []
    for i, entry in enumerate(reader.items(meta, "authors", "metadata")):
        author = reader.obj(entry, f"metadata.authors[{i}]")
        if isinstance(author.get("name"), str) and author["name"]:
            authors.append(author["name"])
        if isinstance(author.get("email"), str) and author["email"]:
            contacts.append(author["email"])
    for key in ("manufacturer", "manufacture"):
        org = reader.optional_obj(meta, key, "metadata")
        if org is not None:
            if isinstance(org.get("name"), str) and org["name"]:
                authors.append(org["name"])
            contacts.extend(_contacts(org))
            break
    supplier = reader.optional_obj(meta, "supplier", "metadata")
    if supplier is not None:
        contacts.extend(_contacts(supplier))
    return authors, contacts


def _json_tools(reader: Reader, meta: dict[str, Any]) -> list[str]:
    tools = meta.get("tools")
    if tools is None:
        return []
    if isinstance(tools, dict):  # 1.5+: {components: [...], services: [...]}
        entries = [
            *reader.items(tools, "components", "metadata.tools"),
            *reader.items(tools, "services", "metadata.tools"),
        ]
    elif isinstance(tools, list):  # 1.0-1.4 (deprecated since 1.5, still written): [{vendor, name, version}]
        entries = tools
    else:
        raise reader.error("must be a list or an object", "metadata.tools")
    out = []
    for tool in entries:
        if isinstance(tool, dict):
            parts = [tool.get(k) for k in ("name", "version")]
            text = " ".join(p for p in parts if isinstance(p, str) and p)
            if text:
                out.append(text)
    return out


def read_json(reader: Reader, data: dict[str, Any], digest: str) -> SbomDocument:
    version = check_version(reader, data.get("specVersion"), "specVersion")
    builder = JsonBuilder(reader)
    builder.add_components(reader.items(data, "components", ""), "components")
    builder.add_dependencies(reader.items(data, "dependencies", ""))
    return builder.document(data, version, "json", digest)


def read_json_stream(reader: Reader, stream: IO[bytes], digest: str) -> SbomDocument:
    """The same document read in passes over a stream: the header (format, version, metadata), then the
    components one by one, then the dependencies. ijson's C backend builds each item; no pass holds more
    than one component's JSON at a time."""
    import ijson

    header = stream_header(stream)
    version = check_version(reader, header.get("specVersion"), "specVersion")
    builder = JsonBuilder(reader)
    stream.seek(0)
    builder.add_components(ijson.items(stream, "components.item", use_float=True), "components")
    stream.seek(0)
    builder.add_dependencies(ijson.items(stream, "dependencies.item", use_float=True))
    return builder.document(header, version, "json", digest)


_HEADER_KEYS = frozenset({"bomFormat", "specVersion", "serialNumber", "spdxVersion", "@context", "metadata"})
_WANTED = frozenset({"bomFormat", "specVersion", "metadata"})


def stream_header(stream: IO[bytes]) -> dict[str, Any]:
    """Top-level scalars and ``metadata`` of a JSON object, read from the start of a stream. Producers write
    them before the components; when one comes after, a second pass fetches it (each item pass runs in C)."""
    import ijson

    out: dict[str, Any] = {}
    events = ijson.parse(stream, use_float=True)
    key: str | None = None
    for prefix, event, value in events:
        if prefix == "" and event == "map_key":
            key = str(value)
            if key in ("components", "dependencies", "packages", "@graph") and out.keys() >= _WANTED:
                break
        elif prefix == key and key in _HEADER_KEYS:
            if event in ("string", "number", "boolean", "null"):
                out[key] = value
            elif event == "start_map" and key == "metadata":
                out[key] = _build(events, event, value)
    missing = [k for k in ("bomFormat", "specVersion", "metadata") if k not in out]
    for name in missing:
        stream.seek(0)
        found = next(iter(ijson.items(stream, name, use_float=True)), None)
        if found is not None:
            out[name] = found
    return out


def _build(events: Iterator[tuple[str, str, Any]], event: str, value: Any) -> Any:
    import ijson

    builder = ijson.ObjectBuilder()
    builder.event(event, value)
    depth = 1
    for _prefix, ev, val in events:
        builder.event(ev, val)
        depth += ev in ("start_map", "start_array")
        depth -= ev in ("end_map", "end_array")
        if depth == 0:
            break
    return builder.value


# --- XML -------------------------------------------------------------------------------------------------


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child(elem: Any, name: str) -> Any:
    for child in elem:
        if _local(child.tag) == name:
            return child
    return None


def _children(elem: Any, name: str) -> list[Any]:
    return [c for c in elem if _local(c.tag) == name] if elem is not None else []


def _text(elem: Any, name: str) -> str | None:
    child = _child(elem, name)
    if child is None or child.text is None:
        return None
    return child.text.strip() or None


class XmlBuilder:
    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.count = 0

    def component(self, elem: Any, where: str) -> SbomComponent:
        r = self.reader
        name = _text(elem, "name")
        if name is None:
            raise r.error("missing <name>", where)
        ref = elem.get("bom-ref") or f"components[{self.count}]"
        self.count += 1
        hashes = tuple(
            ComponentHash(hash_alg(h.get("alg") or ""), (h.text or "").strip().lower())
            for h in _children(_child(elem, "hashes"), "hash")
            if h.get("alg") and (h.text or "").strip()
        )
        licenses: list[str] = []
        for choice in _child(elem, "licenses") if _child(elem, "licenses") is not None else ():
            text = (choice.text or "").strip() if _local(choice.tag) == "expression" else None
            text = text or _text(choice, "id") or _text(choice, "name")
            if text:
                licenses.append(text)
        filename = None
        for prop in _children(_child(elem, "properties"), "property"):
            if prop.get("name") in _FILENAME_PROPERTIES and prop.text:
                filename = prop.text.strip()
        supplier = _child(elem, "supplier")
        return SbomComponent(
            ref=ref,
            name=name,
            version=_text(elem, "version"),
            purl=r.purl(_text(elem, "purl"), f"{where}({name}).purl"),
            cpe=_text(elem, "cpe"),
            hashes=hashes,
            supplier=(_text(supplier, "name") if supplier is not None else None) or _text(elem, "publisher"),
            author=_text(elem, "author") or _xml_names(_child(elem, "authors"), "author"),
            licenses=tuple(licenses),
            kind=elem.get("type") or None,
            filename=filename,
            group=_text(elem, "group"),
        )

    def components(self, root: Any) -> list[SbomComponent]:
        out: list[SbomComponent] = []
        seen: set[str] = set()
        stack = [iter(_children(_child(root, "components"), "component"))]
        while stack:
            elem = next(stack[-1], None)
            if elem is None:
                stack.pop()
                continue
            comp = self.component(elem, f"component[{self.count}]")
            if self.count > MAX_COMPONENTS:
                raise self.reader.error(
                    f"more than {MAX_COMPONENTS:,} components (the limit for one SBOM)", "components"
                )
            if comp.ref not in seen:
                seen.add(comp.ref)
                out.append(comp)
            stack.append(iter(_children(_child(elem, "components"), "component")))
        return out


def _xml_names(elem: Any, tag: str) -> str | None:
    names = [_text(a, "name") for a in _children(elem, tag)]
    return ", ".join(n for n in names if n) or None


def _xml_dependencies(root: Any) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for dep in _children(_child(root, "dependencies"), "dependency"):
        ref = dep.get("ref")
        if ref:
            out[ref] = tuple(d.get("ref") for d in _children(dep, "dependency") if d.get("ref"))
    return out


def _xml_meta(meta: Any) -> tuple[list[str], list[str], list[str]]:
    authors: list[str] = []
    contacts: list[str] = []
    for author in _children(_child(meta, "authors"), "author"):
        authors.extend(filter(None, [_text(author, "name")]))
        contacts.extend(filter(None, [_text(author, "email")]))
    for key in ("manufacturer", "manufacture", "supplier"):
        org = _child(meta, key)
        if org is None:
            continue
        if key != "supplier" and _text(org, "name"):
            authors.append(str(_text(org, "name")))
        contacts.extend((u.text or "").strip() for u in _children(org, "url") if (u.text or "").strip())
        contacts.extend(filter(None, (_text(c, "email") for c in _children(org, "contact"))))
    tools_elem = _child(meta, "tools")
    tools: list[str] = []
    if tools_elem is not None:
        entries = [*_children(tools_elem, "tool"), *_children(_child(tools_elem, "components"), "component")]
        for tool in entries:
            text = " ".join(x for x in (_text(tool, "name"), _text(tool, "version")) if x)
            if text:
                tools.append(text)
    return authors, contacts, tools


def read_xml(reader: Reader, root: Any, digest: str) -> SbomDocument:
    match = NAMESPACE.fullmatch(root.tag) if isinstance(root.tag, str) else None
    if match is None:
        raise reader.error(f"root element {_local(root.tag) or root.tag!r} is not a CycloneDX <bom>", "bom")
    version = check_version(reader, match.group(1), "bom@xmlns")
    builder = XmlBuilder(reader)
    meta = _child(root, "metadata")
    primary = None
    if meta is not None and _child(meta, "component") is not None:
        primary = builder.component(_child(meta, "component"), "metadata.component")
    components = builder.components(root)
    authors, contacts, tools = _xml_meta(meta) if meta is not None else ([], [], [])
    stamp = _text(meta, "timestamp") if meta is not None else None
    return SbomDocument(
        path=str(reader.path),
        format="cyclonedx",
        spec_version=version,
        encoding="xml",
        sha256=digest,
        components=tuple(components),
        primary=primary,
        dependencies=_xml_dependencies(root),
        timestamp=reader.timestamp(stamp, "metadata.timestamp"),
        authors=tuple(authors),
        author_contacts=tuple(contacts),
        tools=tuple(tools),
        serial=root.get("serialNumber") or None,
        problems=reader.all_problems(),
    )
