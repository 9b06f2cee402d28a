"""Paperwork document kinds as data: one YAML file per kind, validated at load.

A kind (``render/data/paperwork/<kind>.yaml``, schema ``render/data/schemas/paperwork.schema.json``) names
its title, legal basis, audience, the scheme it belongs to (a scheme id, as data), the files it is written
as, and its sections of items. Each item says where its value comes from:

- ``dossier: PATH``: the dossier value at a dotted path (missing when absent or empty);
- ``text: "... {PATH} ..."``: a fixed text, with dossier values filled in (missing when one is absent);
- ``join: [PART, ...]`` (``sep``): the parts that are present, joined; a part is a text or a nested join;
- ``by_hand: WHO``: supplied by a person at signing or grant time, never by the dossier;
- ``verdict: REQUIREMENT``: a requirement of the document's scheme, with the verdict and reason the
  assessment gives it;
- ``not_applicable: WHY``.

``cases`` override the value (and label, note, source) when their condition on dossier values holds; the
first that holds wins. Every dossier path a kind names is checked against the dossier model at load, so a
typo is an error here rather than an item that reads "missing" forever.
"""

from __future__ import annotations

import functools
import json
import re
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from pydantic import BaseModel

from cybersafe.dossier.model import Dossier
from cybersafe.errors import PaperworkDataError
from cybersafe.yamlio import LocatedDocument, dotted, load_yaml

PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*)\}")
VALUE_SOURCES = ("dossier", "text", "join", "by_hand", "verdict", "not_applicable")
# What ``{scheme.NAME}`` can name: the document's scheme and its result in the assessment.
SCHEME_FIELDS = frozenset({"id", "key", "version", "status", "title", "short_title"})
FILE_SUFFIX = {"markdown": ".md", "html": ".html", "json": ".json"}
DEFAULT_TEMPLATES = {"markdown": "paperwork.md.j2", "html": "paperwork.html.j2"}
TEMPLATES = Path(__file__).parent / "templates" / "paperwork"

Loc = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class ValueSpec:
    """Where a value comes from: ``source`` is one of VALUE_SOURCES, ``arg`` its path, text, parts or id."""

    source: str
    arg: Any
    sep: str = ", "


@dataclass(frozen=True, slots=True)
class CaseSpec:
    when: Mapping[str, Any]
    value: ValueSpec | None  # None: the item's own value
    overrides: Mapping[str, str | None]  # label, note (None drops it), source


@dataclass(frozen=True, slots=True)
class ItemSpec:
    key: str
    clause: str
    label: str
    value: ValueSpec | None  # None: only cases give a value; no case holding means missing
    note: str | None = None
    source: str | None = None
    confidence: str = "confirmed"
    sign: bool = False  # room for a handwritten signature
    cases: tuple[CaseSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class SectionSpec:
    title: str
    items: tuple[ItemSpec, ...]
    text: str | None = None


@dataclass(frozen=True, slots=True)
class DocumentKind:
    kind: str
    title: str
    basis: str
    audience: str
    intro: str
    formats: tuple[str, ...]
    sections: tuple[SectionSpec, ...]
    path: Path
    scheme: str | None = None
    blocked_unless_met: bool = False
    templates: Mapping[str, str] | None = None
    notes: tuple[str, ...] = ()

    def template(self, fmt: str) -> str:
        return (self.templates or {}).get(fmt, DEFAULT_TEMPLATES.get(fmt, ""))

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(f"{self.kind}{FILE_SUFFIX[f]}" for f in self.formats)


def kinds_dir() -> Path:
    """The bundled document kinds."""
    return Path(str(resources.files("cybersafe.render") / "data" / "paperwork"))


@functools.cache
def _validator() -> Draft202012Validator:
    path = Path(str(resources.files("cybersafe.render") / "data" / "schemas" / "paperwork.schema.json"))
    return Draft202012Validator(json.loads(path.read_text(encoding="utf-8")))


def _fail(doc: LocatedDocument, loc: Loc, message: str) -> PaperworkDataError:
    return PaperworkDataError(message, file=doc.file, line=doc.line_of(loc), field=dotted(loc) or None)


def _validate(doc: LocatedDocument) -> None:
    error = best_match(_validator().iter_errors(doc.data))
    if error is not None:
        message = error.message if len(error.message) < 200 else error.message[:200] + "..."
        raise _fail(doc, tuple(error.absolute_path), message)


def load_kind(path: Path) -> DocumentKind:
    """Read and check one document kind; any problem is one line naming the file, line and field."""
    doc = load_yaml(path, PaperworkDataError)
    _validate(doc)
    raw: dict[str, Any] = doc.data
    if raw["kind"] != path.stem:
        raise _fail(doc, ("kind",), f"kind {raw['kind']!r} differs from the file name {path.name!r}")
    sections = tuple(_section(s) for s in raw["sections"])
    kind = DocumentKind(
        kind=raw["kind"],
        title=raw["title"],
        basis=raw["basis"],
        audience=raw["audience"],
        intro=raw["intro"],
        formats=tuple(raw["formats"]),
        sections=sections,
        path=path,
        scheme=raw.get("scheme"),
        blocked_unless_met=bool(raw.get("blocked_unless_met", "scheme" in raw)),
        templates=raw.get("templates"),
        notes=tuple(raw.get("notes", ())),
    )
    _check(kind, raw, doc)
    return kind


def _section(raw: Mapping[str, Any]) -> SectionSpec:
    items = tuple(_item(i) for i in raw["items"])
    return SectionSpec(title=raw["title"], items=items, text=raw.get("text"))


def _value(raw: Mapping[str, Any]) -> ValueSpec | None:
    for source in VALUE_SOURCES:
        if source in raw:
            return ValueSpec(source, raw[source], raw.get("sep", ", "))
    return None


def _item(raw: Mapping[str, Any]) -> ItemSpec:
    cases = tuple(
        CaseSpec(
            when=c["when"],
            value=_value(c),
            overrides={k: c[k] for k in ("label", "note", "source") if k in c},
        )
        for c in raw.get("cases", ())
    )
    return ItemSpec(
        key=raw["key"],
        clause=raw["clause"],
        label=raw["label"],
        value=_value(raw),
        note=raw.get("note"),
        source=raw.get("source"),
        confidence=raw.get("confidence", "confirmed"),
        sign=raw.get("sign", False),
        cases=cases,
    )


# ---------------------------------------------------------------- checks the schema cannot make


def _check(kind: DocumentKind, raw: Mapping[str, Any], doc: LocatedDocument) -> None:
    if kind.blocked_unless_met and kind.scheme is None:
        raise _fail(doc, ("blocked_unless_met",), "needs a scheme whose status decides it")
    for fmt, name in (kind.templates or {}).items():
        if not ((kind.path.parent / name).is_file() or (TEMPLATES / name).is_file()):
            raise _fail(doc, ("templates", fmt), f"template {name} not found beside the file or in the bundled ones")
    for fmt in kind.formats:
        if fmt != "json" and not kind.template(fmt):
            raise _fail(doc, ("formats",), f"no template for {fmt}")
    seen: set[str] = set()
    for s, section in enumerate(raw["sections"]):
        for i, item in enumerate(section["items"]):
            loc: Loc = ("sections", s, "items", i)
            if item["key"] in seen:
                raise _fail(doc, (*loc, "key"), f"duplicate key {item['key']!r}")
            seen.add(item["key"])
            if kind.scheme is None and _uses_verdict(item):
                raise _fail(doc, loc, "a verdict item needs the document's scheme")
            for where, path in _paths(item, loc):
                problem = path_problem(path)
                if problem:
                    raise _fail(doc, where, problem)
    for n, note in enumerate(raw.get("notes", ())):
        for path in _placeholders(note):
            if path_problem(path):
                raise _fail(doc, ("notes", n), path_problem(path) or "")


def _uses_verdict(item: Mapping[str, Any]) -> bool:
    return "verdict" in item or any("verdict" in c for c in item.get("cases", ()))


def _placeholders(text: str) -> list[str]:
    return PLACEHOLDER.findall(text)


def _paths(item: Mapping[str, Any], loc: Loc) -> Iterable[tuple[Loc, str]]:
    """Every dossier or scheme path an item names, with where it is named."""
    yield from _value_paths(item, loc)
    for n, case in enumerate(item.get("cases", ())):
        yield from _value_paths(case, (*loc, "cases", n))
        yield from ((((*loc, "cases", n, "when"), p)) for p in _condition_paths(case["when"]))


def _value_paths(raw: Mapping[str, Any], loc: Loc) -> Iterable[tuple[Loc, str]]:
    if "dossier" in raw:
        yield (*loc, "dossier"), raw["dossier"]
    for key in ("text", "note"):
        if isinstance(raw.get(key), str):
            yield from (((*loc, key), p) for p in _placeholders(raw[key]))
    if "join" in raw:
        yield from (((*loc, "join"), p) for p in _join_paths(raw["join"]))


def _join_paths(parts: Iterable[Any]) -> Iterable[str]:
    for part in parts:
        if isinstance(part, str):
            yield from _placeholders(part)
        else:
            yield from _join_paths(part["join"])


def _condition_paths(cond: Mapping[str, Any]) -> Iterable[str]:
    if "path" in cond:
        yield cond["path"]
    for child in (*cond.get("all", ()), *cond.get("any", ())):
        yield from _condition_paths(child)


def path_problem(path: str) -> str | None:
    """Why ``path`` names nothing (a dossier field or ``scheme.<field>``), or None when it is fine."""
    parts = path.split(".")
    if parts[0] == "scheme":
        if len(parts) == 2 and parts[1] in SCHEME_FIELDS:
            return None
        return f"{path}: the scheme fields are {', '.join(sorted(SCHEME_FIELDS))}"
    node: Any = Dossier
    for n, part in enumerate(parts):
        if node is dict:  # a free-form mapping (facts): any key
            return None
        if not (isinstance(node, type) and issubclass(node, BaseModel)):
            return f"{path}: {'.'.join(parts[:n])} has no fields"
        field = _field(node, part)
        if field is None:
            return f"{path}: the dossier has no field {'.'.join(parts[: n + 1])}"
        node = _target(field.annotation)
    return None


def _field(model: type[BaseModel], name: str) -> Any:
    for attr, field in model.model_fields.items():
        if name in (attr, field.alias):
            return field
    return None


def _target(annotation: Any) -> Any:
    """The model (or ``dict``) a field leads to, through Optional; anything else is a leaf."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        models = [_target(a) for a in typing.get_args(annotation) if a is not type(None)]
        return models[0] if len(models) == 1 else None
    if origin is dict or annotation is dict:
        return dict
    return annotation


# ---------------------------------------------------------------- the set of kinds


@functools.cache
def bundled_kinds() -> Mapping[str, DocumentKind]:
    return types.MappingProxyType(_load_dir(kinds_dir()))


def _load_dir(directory: Path) -> dict[str, DocumentKind]:
    return {kind.kind: kind for kind in (load_kind(p) for p in sorted(directory.glob("*.yaml")))}


def document_kinds(extra: Path | None = None) -> dict[str, DocumentKind]:
    """The bundled kinds, plus (and overridden by) the ``*.yaml`` kinds in ``extra``."""
    kinds = dict(bundled_kinds())
    if extra is not None:
        if not extra.is_dir():
            raise PaperworkDataError("not a directory of document kinds", file=extra)
        kinds |= _load_dir(extra)
    return kinds
