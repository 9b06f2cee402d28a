"""Scheme paperwork drafted from the dossier and the assessment, each listing what input is still missing.

A document kind is data (``render/data/paperwork/<kind>.yaml``, see ``paperwork_kinds``): what the document
is, which scheme it belongs to and where each item comes from. This module fills the items in from one
assessment and lays the document out with the Jinja templates under ``render/templates/paperwork/``. It
knows no scheme: verdicts and statuses are read from the assessment exactly as the engine gave them.

Every document separates its gaps: input the dossier lacks (``missing``: fix the dossier and re-run), items
only a person can supply at signing or grant time (``by_hand``: signatory, batch, notified body, CLA), and
blocking verdicts (``blocking``: the scheme is not met in this assessment, or a requirement the document
states is not, so the document must not be issued as is). Nothing is invented: an absent declaration is
shown as missing.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

import jinja2
from pydantic import ValidationError

from cybersafe.dossier.model import Dossier
from cybersafe.errors import RenderError
from cybersafe.render.paperwork_kinds import (
    PLACEHOLDER,
    TEMPLATES,
    DocumentKind,
    ItemSpec,
    ValueSpec,
    bundled_kinds,
    document_kinds,
)
from cybersafe.results import Assessment, RequirementResultOut, SchemeResultOut
from cybersafe.schemes.algebra import level_status
from cybersafe.schemes.status import SchemeStatus

__all__ = [
    "DocumentKind",
    "Gap",
    "Item",
    "Paperwork",
    "PaperworkFiles",
    "Section",
    "build_paperwork",
    "document_kinds",
    "json_record",
    "paperwork_files",
    "render_html",
    "render_markdown",
]


class Gap(StrEnum):
    NONE = "none"
    MISSING = "missing"  # the dossier should say it
    BY_HAND = "by-hand"  # supplied by a person at signing / grant time, never by the dossier
    NOT_APPLICABLE = "not-applicable"
    BLOCKING = "blocking"  # a requirement verdict that keeps the scheme from being met


@dataclass(frozen=True, slots=True)
class Item:
    key: str  # stable machine key (the JSON record uses it)
    clause: str  # where the item is required, e.g. "Annex II 8(c)"
    label: str
    value: str | None
    source: str  # dossier path it came from, or who supplies it
    gap: Gap = Gap.NONE
    note: str | None = None
    confidence: str = "confirmed"  # of the clause and its content; anything else is shown beside the clause
    sign: bool = False  # leave room for a handwritten signature


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    items: tuple[Item, ...]
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Paperwork:
    kind: str
    title: str
    basis: str  # legal basis
    audience: str
    intro: str
    sections: tuple[Section, ...]
    blocking: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    generated: str = ""
    assessment_digest: str = ""
    product: str = ""
    spec: DocumentKind | None = field(default=None, compare=False, repr=False)

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(i for s in self.sections for i in s.items)

    @property
    def missing(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.gap is Gap.MISSING)

    @property
    def by_hand(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.gap is Gap.BY_HAND)

    @property
    def ready(self) -> bool:
        """Ready to sign or publish once the by-hand items are filled in."""
        return not self.missing and not self.blocking


# ---------------------------------------------------------------- reading the assessment


_MET = (SchemeStatus.MEETS,)


def blocks(requirement: RequirementResultOut, accepted: Iterable[SchemeStatus] = _MET) -> bool:
    """A requirement that counts and whose verdict alone would give a status the document does not accept.

    The status is the engine's own rule (``level_status``): pass, justified and not_applicable meet;
    pending is accepted only where the document says so.
    """
    return requirement.required and level_status((requirement.verdict,)) not in tuple(accepted)


def _requirement_line(result: SchemeResultOut, req: RequirementResultOut) -> str:
    return f"{result.scheme}@{result.version}:{req.id} {req.title}: {req.verdict} ({req.reason})"


def _text(value: Any) -> str | None:
    """A dossier value as document text; None when absent or empty."""
    if value is None or value in ("", [], {}):
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


class _Context:
    """One assessment as a kind sees it: the dossier's values, and the document scheme's result (``scheme.*``)."""

    def __init__(
        self,
        dossier: Mapping[str, Any],
        scheme: str | None,
        result: SchemeResultOut | None,
        accepted: tuple[SchemeStatus, ...] = _MET,
    ) -> None:
        self.dossier = dossier
        self.result = result
        self.accepted = accepted
        wire = result.model_dump(mode="json", exclude_none=True) if result else {"status": "not assessed"}
        key = f"{result.scheme}@{result.version}" if result else scheme
        self.scheme_values: dict[str, Any] = {"short_title": scheme, "title": scheme, **wire, "id": scheme, "key": key}
        self.element: Mapping[str, Any] | None = None  # inside ``each``: the list element paths are relative to
        self.blocked: dict[str, str] = {}  # requirement id -> line, for verdict items that block

    def lookup(self, path: str) -> Any:
        parts = path.split(".")
        value: Any = self.dossier
        if self.element is not None:
            value = self.element
        elif parts[0] == "scheme":
            value, parts = self.scheme_values, parts[1:]
        for part in parts:
            if not isinstance(value, Mapping):
                return None
            value = value.get(part)
        return value

    def fill(self, template: str) -> str | None:
        """``template`` with every ``{path}`` filled in; None when one of them is absent."""
        absent = False

        def one(match: Any) -> str:
            nonlocal absent
            text = _text(self.lookup(match.group(1)))
            absent = absent or text is None
            return text or ""

        out = PLACEHOLDER.sub(one, template)
        return None if absent else out

    def join(self, parts: Iterable[Any], sep: str) -> str | None:
        present: list[str] = []
        for part in parts:
            if isinstance(part, Mapping) and "each" in part:
                present += self.each(part)
                continue
            if isinstance(part, Mapping):
                text = self.join(part["join"], part.get("sep", ", "))
                present += [text] if text else []
                continue
            whole = PLACEHOLDER.fullmatch(part)
            value = self.lookup(whole.group(1)) if whole else None
            if isinstance(value, list):  # a list part adds each element
                present += [str(v) for v in value if v not in (None, "")]
                continue
            text = self.fill(part)
            present += [text] if text else []
        return sep.join(present) if present else None

    def each(self, part: Mapping[str, Any]) -> list[str]:
        """One text per element of the list at ``part['each']`` that meets ``part['where']``."""
        elements = self.lookup(part["each"])
        out: list[str] = []
        for element in elements if isinstance(elements, list) else ():
            inner = _Context(self.dossier, None, None)
            inner.element = element
            if "where" in part and not inner.holds(part["where"]):
                continue
            text = inner.fill(part["text"])
            out += [text] if text else []
        return out

    def holds(self, cond: Mapping[str, Any]) -> bool:
        if "all" in cond:
            return all(self.holds(c) for c in cond["all"])
        if "any" in cond:
            return any(self.holds(c) for c in cond["any"])
        value = self.lookup(cond["path"])
        if "present" in cond:
            return (_text(value) is not None) is cond["present"]
        expected = cond["equals"]
        if expected is None:
            return value is None
        return type(value) is type(expected) and value == expected


# ---------------------------------------------------------------- items


def _item(spec: ItemSpec, ctx: _Context) -> Item:
    case = next((c for c in spec.cases if ctx.holds(c.when)), None)
    value = case.value if case and case.value else spec.value
    overrides = case.overrides if case else {}
    label = overrides.get("label") or spec.label
    note = overrides.get("note", spec.note)  # a case may drop the note with an explicit null
    source = overrides.get("source") or spec.source
    item = Item(
        key=spec.key,
        clause=spec.clause,
        label=label,
        value=None,
        source=source or "dossier",
        gap=Gap.MISSING,
        note=ctx.fill(note) if note else None,
        confidence=spec.confidence,
        sign=spec.sign,
    )
    return _valued(item, value, ctx, explicit_source=source is not None) if value else item


def _valued(item: Item, spec: ValueSpec, ctx: _Context, *, explicit_source: bool) -> Item:
    """``item`` with its value, gap and (unless the kind names one) source from ``spec``."""
    text: str | None
    match spec.source:
        case "dossier":
            text, default_source = _text(ctx.lookup(spec.arg)), spec.arg
        case "text":
            text, default_source = ctx.fill(spec.arg), "fixed text"
        case "join":
            text, default_source = ctx.join(spec.arg, spec.sep), " / ".join(PLACEHOLDER.findall(str(spec.arg)))
        case "by_hand":
            return replace(item, gap=Gap.BY_HAND, source=item.source if explicit_source else spec.arg)
        case "not_applicable":
            return replace(item, value=f"not applicable: {spec.arg}", gap=Gap.NOT_APPLICABLE)
        case _:
            return _verdict(item, spec.arg, ctx)
    source = item.source if explicit_source else default_source
    return replace(item, value=text, source=source, gap=Gap.NONE if text is not None else Gap.MISSING)


def _verdict(item: Item, requirement: str, ctx: _Context) -> Item:
    """A requirement of the document's scheme with the verdict and reason the assessment states."""
    result = ctx.result
    if result is None:
        return replace(item, source="assessment", note="scheme not in the assessment")
    req = next((r for r in result.requirements if r.id == requirement), None)
    if req is None:
        return replace(item, source=f"assessment {result.scheme}", note=f"requirement {requirement} not found")
    gap = Gap.NONE
    if blocks(req, ctx.accepted):
        gap = Gap.BLOCKING
        ctx.blocked[req.id] = _requirement_line(result, req)
    source = f"assessment {result.scheme}@{result.version}:{req.id}"
    return replace(item, value=f"{req.verdict} ({req.reason})", source=source, gap=gap)


# ---------------------------------------------------------------- documents


def _dossier(assessment: Assessment) -> Dossier:
    try:
        return Dossier.model_validate(assessment.dossier)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise RenderError(f"dossier.{where}: {first['msg']}") from None


def _product_line(dossier: Dossier) -> str:
    p = dossier.product
    return " ".join(x for x in (p.manufacturer.name, p.name, p.model) if x)


def _blocking(kind: DocumentKind, ctx: _Context) -> tuple[str, ...]:
    """Why the document may not be issued, word for word from the assessment.

    The scheme's status today, and on every later date the assessment lists (a declaration made today
    must still hold when the rest of the law applies), with the requirements that keep it there.
    """
    result, accepted = ctx.result, kind.issue_when
    lines: list[str] = []
    if accepted and result is None:
        lines.append(f"the assessment has no result for {kind.scheme}; run `cybersafe assess` with that scheme")
    elif accepted and result is not None:
        expected = " or ".join(f"'{status}'" for status in accepted)
        as_of = f" (as of {result.as_of})" if result.as_of else ""
        if result.status not in accepted:
            lines.append(f"{result.short_title} status in this assessment{as_of} is '{result.status}', not {expected}")
            lines += [_requirement_line(result, r) for r in result.requirements if r.applies and blocks(r, accepted)]
        for later in result.later:
            if later.status not in accepted:
                lines.append(f"{result.short_title} status from {later.date} would be '{later.status}', not {expected}")
                due = [r for r in result.requirements if not r.applies and (r.applies_from or "") <= later.date]
                lines += [_requirement_line(result, r) for r in due if blocks(r, accepted)]
    lines += [line for line in ctx.blocked.values() if line not in lines]
    return tuple(dict.fromkeys(lines))


def _kind(kind: str | DocumentKind) -> DocumentKind:
    if isinstance(kind, DocumentKind):
        return kind
    try:
        return bundled_kinds()[kind]
    except KeyError:
        raise RenderError(f"unknown paperwork kind {kind!r}; known: {', '.join(sorted(bundled_kinds()))}") from None


def build_paperwork(kind: str | DocumentKind, assessment: Assessment, *, now: dt.datetime) -> Paperwork:
    spec = _kind(kind)
    dossier = _dossier(assessment)
    result = assessment.scheme(spec.scheme) if spec.scheme else None
    ctx = _Context(dossier.wire(), spec.scheme, result, spec.issue_when or _MET)
    sections = tuple(
        Section(s.title, tuple(_item(i, ctx) for i in s.items), ctx.fill(s.text) if s.text else None)
        for s in spec.sections
    )
    product = _product_line(dossier)
    return Paperwork(
        kind=spec.kind,
        title=f"{spec.title}: {product}",
        basis=spec.basis,
        audience=spec.audience,
        intro=spec.intro,
        sections=sections,
        blocking=_blocking(spec, ctx),
        notes=tuple(n for n in (ctx.fill(note) for note in spec.notes) if n),
        generated=now.isoformat(),
        assessment_digest=assessment.digest(),
        product=product,
        spec=spec,
    )


# ---------------------------------------------------------------- rendering


@functools.cache
def _env(kind_dir: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(kind_dir), jinja2.FileSystemLoader(TEMPLATES)]),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2"), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = _md_escape
    env.filters["mdcode"] = _md_code
    return env


def _md_code(text: object) -> str:
    return "`" + str(text).replace("`", "'").replace("|", "\\|") + "`"


def _md_escape(text: object) -> str:
    """Table-cell safe Markdown: pipes and newlines would break the table, HTML would render."""
    value = str(text)
    for char, repl in (("\\", "\\\\"), ("|", "\\|"), ("<", "&lt;"), (">", "&gt;"), ("\n", " ")):
        value = value.replace(char, repl)
    return value


def _render(doc: Paperwork, fmt: str) -> str:
    spec = doc.spec or _kind(doc.kind)
    try:
        template = _env(spec.path.parent).get_template(spec.template(fmt))
        return template.render(doc=doc, Gap=Gap)
    except jinja2.TemplateError as exc:
        raise RenderError(f"{spec.path}: {fmt} template {spec.template(fmt)}: {exc}") from None


def render_markdown(doc: Paperwork) -> str:
    return _render(doc, "markdown")


def render_html(doc: Paperwork) -> str:
    return _render(doc, "html")


def json_record(doc: Paperwork) -> dict[str, Any]:
    """The document as JSON (``cybersafe/<kind>-record/v1``): every item keyed by its ``key``."""
    return {
        "schema": f"cybersafe/{doc.kind}-record/v1",
        "product": doc.product,
        "generated_at": doc.generated,
        "assessment_digest": f"sha256:{doc.assessment_digest}",
        "ready": doc.ready,
        "fields": {
            i.key: {"clause": i.clause, "label": i.label, "value": i.value, "source": i.source, "gap": i.gap.value}
            for i in doc.items
        },
        "missing": [f"{i.clause} {i.label}: {i.source}" for i in doc.missing],
        "by_hand": [f"{i.clause} {i.label}: {i.source}" for i in doc.by_hand],
        "blocking": list(doc.blocking),
    }


def _json(doc: Paperwork) -> str:
    return json.dumps(json_record(doc), indent=2, ensure_ascii=False) + "\n"


_RENDERERS = {"markdown": render_markdown, "html": render_html, "json": _json}


@dataclass(frozen=True, slots=True)
class PaperworkFiles:
    doc: Paperwork
    files: dict[str, bytes] = field(default_factory=dict)


def paperwork_files(kind: str | DocumentKind, assessment: Assessment, *, now: dt.datetime) -> PaperworkFiles:
    """The files of one kind, named ``<kind>.<ext>``, in the order its ``formats`` lists them."""
    doc = build_paperwork(kind, assessment, now=now)
    spec = doc.spec or _kind(kind)
    files = {name: _RENDERERS[fmt](doc).encode("utf-8") for fmt, name in zip(spec.formats, spec.files, strict=True)}
    return PaperworkFiles(doc, files)
