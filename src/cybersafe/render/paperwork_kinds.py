"""Paperwork document kinds as data: one YAML file per kind, validated at load.

A kind (``render/data/paperwork/<kind>.yaml``, schema ``render/data/schemas/paperwork.schema.json``) names
its title, legal basis, audience, the scheme it belongs to (a scheme id, as data) and the statuses of that
scheme it may be issued under (``issue_when``), the files it is written as, and its sections of items. Each
item says where its value comes from:

- ``dossier: PATH``: the dossier value at a dotted path (missing when absent or empty);
- ``text: "... {PATH} ..."``: a fixed text, with values filled in (missing when one is absent);
- ``join: [PART, ...]`` (``sep``): the parts that are present, joined; a part is a text, a nested join, or
  ``each`` (one text per record of a list, paths relative to the record);
- ``by_hand: WHO``: supplied by a person at signing or grant time, never by the dossier;
- ``verdict: REQUIREMENT``: a requirement of the document's scheme, with the verdict and reason the
  assessment gives it;
- ``not_applicable: WHY``.

A path names a dossier field, or ``scheme.<field>`` of the document's scheme result in the assessment.
``cases`` override the value (and label, note, source) when their condition holds; the first that holds
wins. Every path a kind names is checked at load against the dossier model or the assessment's wire model,
so a typo is an error here rather than an item that reads "missing" forever.
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

from cybersafe import safeio
from cybersafe.dossier.model import Dossier
from cybersafe.errors import PaperworkDataError
from cybersafe.results import SchemeResultOut
from cybersafe.schemes.status import SchemeStatus
from cybersafe.yamlio import LocatedDocument, dotted, load_yaml

PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*)\}")
VALUE_SOURCES = ("dossier", "text", "join", "by_hand", "verdict", "not_applicable")
# ``{scheme.id}`` (the id the kind names) and ``{scheme.key}`` (id@version) beside the scheme result's own fields.
SCHEME_NAMES = frozenset({"id", "key"})
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
    issue_when: tuple[SchemeStatus, ...] = ()  # scheme statuses the document may be issued under; () never blocks
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
        issue_when=_statuses(raw, doc),
        templates=raw.get("templates"),
        notes=tuple(raw.get("notes", ())),
    )
    _check(kind, raw, doc)
    return kind


def _statuses(raw: Mapping[str, Any], doc: LocatedDocument) -> tuple[SchemeStatus, ...]:
    """``issue_when``: the statuses the document may be issued under; [meets] when a scheme is named."""
    names = raw.get("issue_when", [SchemeStatus.MEETS.value] if "scheme" in raw else [])
    known = {s.value for s in SchemeStatus}
    for n, name in enumerate(names):
        if name not in known:
            raise _fail(doc, ("issue_when", n), f"{name!r} is not a scheme status ({', '.join(sorted(known))})")
    if names and "scheme" not in raw:
        raise _fail(doc, ("issue_when",), "needs a scheme whose status decides it")
    return tuple(SchemeStatus(name) for name in names)


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
            _check_paths(doc, _paths(item, loc))
    _check_paths(doc, (((("notes", n), p, None)) for n, note in enumerate(kind.notes) for p in _placeholders(note)))


def _check_paths(doc: LocatedDocument, paths: Iterable[tuple[Loc, str, Any]]) -> None:
    for where, path, element in paths:
        problem = path_problem(path, element)
        if problem:
            raise _fail(doc, where, problem)


def _uses_verdict(item: Mapping[str, Any]) -> bool:
    return "verdict" in item or any("verdict" in c for c in item.get("cases", ()))


def _placeholders(text: str) -> list[str]:
    return PLACEHOLDER.findall(text)


# A named path, where it is named, and the model of the list element it is relative to (inside ``each``).
_Named = tuple[Loc, str, Any]


def _paths(item: Mapping[str, Any], loc: Loc) -> Iterable[_Named]:
    """Every dossier or scheme path an item names, with where it is named."""
    yield from _value_paths(item, loc)
    for n, case in enumerate(item.get("cases", ())):
        yield from _value_paths(case, (*loc, "cases", n))
        yield from (((*loc, "cases", n, "when"), p, None) for p in _condition_paths(case["when"]))


def _value_paths(raw: Mapping[str, Any], loc: Loc) -> Iterable[_Named]:
    if "dossier" in raw:
        yield (*loc, "dossier"), raw["dossier"], None
    for key in ("text", "note"):
        if isinstance(raw.get(key), str):
            yield from (((*loc, key), p, None) for p in _placeholders(raw[key]))
    if "join" in raw:
        yield from _join_paths(raw["join"], (*loc, "join"))


def _join_paths(parts: Iterable[Any], loc: Loc) -> Iterable[_Named]:
    for n, part in enumerate(parts):
        if isinstance(part, str):
            yield from (((*loc, n), p, None) for p in _placeholders(part))
        elif "join" in part:
            yield from _join_paths(part["join"], (*loc, n, "join"))
        else:
            yield (*loc, n, "each"), part["each"], None
            element = element_model(part["each"])
            if element is None:
                yield (*loc, n, "each"), part["each"], _NOT_A_LIST
                continue
            inner = [*_placeholders(part["text"]), *_condition_paths(part.get("where", {}))]
            yield from (((*loc, n), p, element) for p in inner)


def _condition_paths(cond: Mapping[str, Any]) -> Iterable[str]:
    if "path" in cond:
        yield cond["path"]
    for child in (*cond.get("all", ()), *cond.get("any", ())):
        yield from _condition_paths(child)


class _NotAList:
    """Marks an ``each`` path that does not lead to a list of records."""


_NOT_A_LIST = _NotAList


def path_problem(path: str, element: Any = None) -> str | None:
    """Why ``path`` names nothing, or None when it is fine.

    A path names a dossier field, ``scheme.<field>`` of the document's scheme result in the assessment
    (``scheme.id`` and ``scheme.key`` too), or, inside ``each``, a field of the list's element.
    """
    parts = path.split(".")
    if element is _NOT_A_LIST:
        return f"{path}: not a list of records"
    if element is not None:
        return _walk(element, parts, path, "a list element")
    if parts[0] == "scheme":
        if len(parts) == 2 and parts[1] in SCHEME_NAMES:
            return None
        return _walk(SchemeResultOut, parts[1:], path, "the assessment's scheme result", prefix="scheme.")
    return _walk(Dossier, parts, path, "the dossier")


def _walk(root: Any, parts: list[str], path: str, what: str, prefix: str = "") -> str | None:
    node, at = _resolve(root, parts)
    if node is _MISSING_FIELD:
        return f"{path}: {what} has no field {prefix}{'.'.join(parts[: at + 1])}"
    if node is _NO_FIELDS:
        return f"{path}: {prefix}{'.'.join(parts[:at])} has no fields"
    return None


_MISSING_FIELD, _NO_FIELDS = object(), object()


def _resolve(root: Any, parts: list[str]) -> tuple[Any, int]:
    """The annotation ``parts`` lead to from ``root``, or a marker and the index where it went wrong."""
    node: Any = root
    for n, part in enumerate(parts):
        if node is dict:  # a free-form mapping (facts): any key
            return dict, n
        if not (isinstance(node, type) and issubclass(node, BaseModel)):
            return _NO_FIELDS, n
        annotation = _annotation(node, part)
        if annotation is None:
            return _MISSING_FIELD, n
        node = _target(annotation)
    return node, len(parts)


def element_model(path: str) -> Any:
    """The record model of the list ``path`` leads to (a dossier or scheme path), or None."""
    parts = path.split(".")
    root, parts = (SchemeResultOut, parts[1:]) if parts[0] == "scheme" else (Dossier, parts)
    node, _ = _resolve(root, parts)
    if typing.get_origin(node) is not list:
        return None
    (element,) = typing.get_args(node)
    return element if isinstance(element, type) and issubclass(element, BaseModel) else None


def _annotation(model: type[BaseModel], name: str) -> Any:
    """The resolved type of the field called ``name`` (or aliased so), or None."""
    hints = _hints(model)
    for attr, field in model.model_fields.items():
        if name in (attr, field.alias):
            return hints.get(attr)
    return None


@functools.cache
def _hints(model: type[BaseModel]) -> dict[str, Any]:
    # Field annotations may still be forward references (models defined further down a module).
    return typing.get_type_hints(model)


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
            raise PaperworkDataError(f"not a directory of document kinds ({safeio.describe(extra)})", file=extra)
        kinds |= _load_dir(extra)
    return kinds
