"""Load the scheme catalogs, crosswalks and arrangements (YAML data) into value types.

Every file is validated against its JSON Schema at load time; errors name the file, line and field.
Integrity (every check reference resolves, every crosswalk endpoint exists, no requirement cycle) is
checked by ``Catalog.validate_references``; the CLI and the tests call it.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from cybersafe import safeio
from cybersafe.checks.interface import Check, Params
from cybersafe.errors import CatalogError, UnknownCheckReference, UnknownRequirement, UnknownScheme
from cybersafe.schemes.interface import (
    AllOf,
    AnyOf,
    Arrangement,
    ArrangementStatus,
    Condition,
    Confidence,
    ConformityRoute,
    Crosswalk,
    CrosswalkEdge,
    HarmonisedStandard,
    LabelStyle,
    Leaf,
    LeafKind,
    Level,
    Node,
    Obligation,
    ProductCategory,
    ProductClass,
    Recognition,
    Relationship,
    Requirement,
    Scheme,
    SchemeDates,
    SchemeKind,
    SchemeLabel,
    Source,
    date_by,
)
from cybersafe.schemes.trees import AssetClass, DecisionTree, Presumption, Restriction, TreeDataError, parse_tree
from cybersafe.yamlio import LocatedDocument, dotted, load_yaml

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator


T = TypeVar("T")


def data_dir() -> Path:
    return Path(str(resources.files("cybersafe.schemes") / "data"))


@functools.cache
def _validator(name: str) -> Draft202012Validator:
    # jsonschema loads with the first catalog, not with the module (firmware scan loads it while unpacking)
    from jsonschema import Draft202012Validator

    schema = json.loads((data_dir() / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


def _validate(doc: LocatedDocument, schema: str) -> None:
    errors = sorted(_validator(schema).iter_errors(doc.data), key=lambda e: (len(e.absolute_path), str(e.path)))
    if errors:
        # The deepest error is the most precise; oneOf noise is reported at the node that failed.
        first = max(errors, key=lambda e: len(e.absolute_path))
        loc = tuple(first.absolute_path)
        message = first.message if len(first.message) < 200 else first.message[:200] + "..."
        raise CatalogError(message, file=doc.file, line=doc.line_of(loc), field=dotted(loc) or None)


def _source(raw: Mapping[str, Any]) -> Source:
    return Source(document=raw["document"], clause=raw.get("clause"), url=raw.get("url"))


def parse_node(raw: Any) -> Node:
    if isinstance(raw, str):
        return parse_leaf(raw)
    if isinstance(raw, list):
        return AllOf(tuple(parse_node(x) for x in raw))
    if "check" in raw:
        return Leaf(LeafKind.CHECK, raw["check"], _params(raw["with"]))
    if "all" in raw:
        return AllOf(tuple(parse_node(x) for x in raw["all"]))
    return AnyOf(tuple(parse_node(x) for x in raw["any"]))


def parse_leaf(raw: str) -> Leaf:
    for kind in (
        LeafKind.DECLARATION,
        LeafKind.MANUAL,
        LeafKind.REQUIREMENT,
        LeafKind.GRANT,
        LeafKind.SCHEME,
        LeafKind.ICS,
    ):
        prefix = f"{kind}:"
        if raw.startswith(prefix):
            return Leaf(kind, raw[len(prefix) :])
    return Leaf(LeafKind.CHECK, raw)


def _params(raw: Mapping[str, Any]) -> Params:
    """Check parameters in canonical form: sorted by name, lists as tuples (hashable, one key per run)."""
    return tuple(sorted((str(k), tuple(v) if isinstance(v, list) else v) for k, v in raw.items()))


def _product_class(raw: Mapping[str, Any]) -> ProductClass:
    return ProductClass(
        id=raw["id"],
        title=raw["title"],
        annex=raw["annex"],
        categories=tuple(
            ProductCategory(c["id"], c["title"], tuple(c.get("product_types", []))) for c in raw["categories"]
        ),
        routes=tuple(
            ConformityRoute(r["id"], r["title"], r.get("condition"), r.get("notified_body", False), r.get("needs"))
            for r in raw["routes"]
        ),
        source=_source(raw["source"]) if "source" in raw else None,
    )


def _started(scheme: Scheme, as_of: dt.date) -> bool:
    start = scheme.dates.start
    return start is None or date_by(start) <= as_of


def _dates(raw: Mapping[str, Any]) -> SchemeDates:
    return SchemeDates(
        confidence=Confidence(raw["confidence"]),
        published=raw.get("published"),
        in_force=raw.get("in_force"),
        reporting_from=raw.get("reporting_from"),
        applies_from=raw.get("applies_from"),
        superseded_by=raw.get("superseded_by"),
        note=raw.get("note"),
    )


def _label(raw: Mapping[str, Any] | None) -> SchemeLabel | None:
    return None if raw is None else SchemeLabel(name=raw["name"], style=LabelStyle(raw["style"]))


def parse_condition(raw: Any) -> Condition:
    if isinstance(raw, str):
        return Condition("fact", fact=raw)
    if "not" in raw:
        return Condition("not", children=(parse_condition(raw["not"]),))
    op = "all" if "all" in raw else "any"
    return Condition(op, children=tuple(parse_condition(x) for x in raw[op]))


def load_scheme_file(path: Path, *, validate: bool = True) -> Scheme:
    doc = load_yaml(path, CatalogError)
    if validate:
        _validate(doc, "catalog")
    raw = doc.data["scheme"]
    key = f"{raw['id']}@{raw['version']}"
    levels = tuple(
        Level(
            id=str(lv["id"]),
            title=lv["title"],
            description=lv["description"],
            cumulative=lv.get("cumulative", True),
            assessment=lv.get("assessment"),
        )
        for lv in raw.get("levels", [])
    )
    level_ids = {lv.id for lv in levels}
    conditions: dict[str, str] = dict(raw.get("conditions", {}))
    requirements = []
    seen: set[str] = set()
    for i, req in enumerate(doc.data["requirements"]):
        rid = str(req["id"])
        if rid in seen:
            raise CatalogError(
                f"duplicate requirement id {rid!r}", file=path, line=doc.line_of(("requirements", i)), field="id"
            )
        seen.add(rid)
        requirements.append(_requirement(doc, i, key, level_ids))
    _check_condition_facts(path, doc, conditions, raw, requirements)
    scheme = Scheme(
        id=raw["id"],
        version=str(raw["version"]),
        title=raw["title"],
        short_title=raw["short_title"],
        jurisdiction=raw["jurisdiction"],
        kind=SchemeKind(raw["kind"]),
        modelled=raw["modelled"],
        current=raw["current"],
        source=_source(raw["source"]),
        dates=_dates(raw["dates"]),
        markets=tuple(raw["markets"]),
        label=_label(raw.get("label")),
        ics=raw.get("ics", False),
        scope=parse_condition(raw["scope"]["condition"]) if "scope" in raw else None,
        scope_text=raw["scope"]["text"] if "scope" in raw else None,
        product_classes=tuple(_product_class(c) for c in doc.data.get("product_classes", [])),
        classification_paths=(
            (raw["classification"]["declared_class"], raw["classification"].get("declared_category"))
            if "classification" in raw
            else None
        ),
        harmonised_standards=tuple(
            HarmonisedStandard(h["reference"], h["cited"], h.get("restrictions"))
            for h in raw.get("harmonised_standards", [])
        ),
        assets=tuple(_asset(a) for a in raw.get("assets", ())),
        presumption=_presumption(raw["presumption"]) if "presumption" in raw else None,
        levels=levels,
        conditions=conditions,
        requirements=tuple(requirements),
        notes=raw.get("notes"),
        catalog_sha256=safeio.sha256_file(path, what="a scheme catalog", error=CatalogError)[0],
    )
    _check_tree_references(scheme, doc)
    return scheme


def _requirement(doc: LocatedDocument, i: int, key: str, level_ids: set[str]) -> Requirement:
    req = doc.data["requirements"][i]
    loc: tuple[str | int, ...] = ("requirements", i)
    req_levels = tuple(str(x) for x in req.get("levels", []))
    unknown_levels = set(req_levels) - level_ids
    if unknown_levels:
        raise CatalogError(
            f"unknown level(s) {sorted(unknown_levels)}",
            file=doc.file,
            line=doc.line_of((*loc, "levels")),
            field=f"requirements[{i}].levels",
        )
    tree = _decision_tree(doc, i) if "decision_tree" in req else None
    verified_by = parse_node(req["verified_by"]) if "verified_by" in req else None
    if tree is not None and verified_by is None:
        verified_by = tree.evidence(key)  # the leaves the tree reads: what runs its checks and feeds the figures
    return Requirement(
        scheme_key=key,
        id=str(req["id"]),
        title=req["title"],
        text=req["text"],
        obligation=Obligation(req["obligation"]),
        source=_source(req["source"]),
        group=req.get("group"),
        condition=parse_condition(req["condition"]) if "condition" in req else None,
        condition_text=req.get("condition_text"),
        levels=req_levels,
        confidence=Confidence(req.get("confidence", "confirmed")),
        confidence_note=req.get("confidence_note"),
        verified_by=verified_by,
        applies_to=req.get("applies_to", "product"),
        # its own date, else the scheme's applies_from, else when the scheme came into force or was published:
        # a scheme version not yet in force on the assessment date applies to nothing on it (reads prepare)
        applies_from=req.get("applies_from", _dates(doc.data["scheme"]["dates"]).start),
        risk_based=req.get("risk_based", False),
        decision_tree=tree,
    )


def _decision_tree(doc: LocatedDocument, i: int) -> DecisionTree:
    loc: tuple[str | int, ...] = ("requirements", i, "decision_tree")
    try:
        return parse_tree(doc.data["requirements"][i]["decision_tree"], parse_node)
    except TreeDataError as exc:
        where = (*loc, *exc.where)
        raise CatalogError(str(exc), file=doc.file, line=doc.line_of(where), field=dotted(where)) from None


def _asset(raw: Mapping[str, Any]) -> AssetClass:
    return AssetClass(
        id=raw["id"],
        name=raw["name"],
        description=raw["description"],
        examples=tuple(raw.get("examples", ())),
    )


def _presumption(raw: Mapping[str, Any]) -> Presumption:
    return Presumption(
        act=_source(raw["act"]),
        presumes=raw["presumes"],
        note=raw.get("note"),
        restrictions=tuple(
            Restriction(
                id=r["id"],
                requirements=tuple(r["requirements"]),
                clauses=r["clauses"],
                text=r["text"],
                effect=r["effect"],
                confidence=Confidence(r["confidence"]),
                when=parse_condition(r["when"]) if "when" in r else None,
                note=r.get("note"),
            )
            for r in raw.get("restrictions", ())
        ),
    )


def _check_tree_references(scheme: Scheme, doc: LocatedDocument) -> None:
    """Trees name assets and prerequisite requirements of their own scheme; restrictions name its requirements."""
    ids = [req.id for req in scheme.requirements]
    assets = {asset.id for asset in scheme.assets}

    def fail(message: str, loc: tuple[str | int, ...]) -> None:
        raise CatalogError(message, file=doc.file, line=doc.line_of(loc), field=dotted(loc))

    for i, req in enumerate(scheme.requirements):
        tree = req.decision_tree
        if tree is None:
            continue
        loc: tuple[str | int, ...] = ("requirements", i, "decision_tree")
        for name in tree.assets:
            if name not in assets:
                fail(f"unknown asset class {name!r} (scheme assets: {sorted(assets)})", (*loc, "assets"))
        for dep in tree.needs:
            if dep not in ids or dep == req.id:
                fail(f"needs {dep!r}, which is not another requirement of {scheme.key}", (*loc, "needs"))
    restrictions = scheme.presumption.restrictions if scheme.presumption else ()
    for j, restriction in enumerate(restrictions):
        for rid in restriction.requirements:
            if rid not in ids:
                fail(f"restriction names unknown requirement {rid!r}", ("scheme", "presumption", "restrictions", j))


def _check_condition_facts(
    path: Path, doc: LocatedDocument, declared: Mapping[str, str], raw: Mapping[str, Any], reqs: list[Requirement]
) -> None:
    """Every fact a condition, the scope, a decision tree or a presumption restriction reads is declared in the
    scheme's ``conditions:`` with its meaning: the catalog is the one list of the facts a dossier may state."""
    used: list[tuple[tuple[str | int, ...], str]] = []
    if "scope" in raw:
        used.extend((("scheme", "scope"), f) for f in sorted(parse_condition(raw["scope"]["condition"]).facts()))
    for i, req in enumerate(reqs):
        if req.condition is not None:
            used.extend((("requirements", i, "condition"), f) for f in sorted(req.condition.facts()))
        if req.decision_tree is not None:
            used.extend((("requirements", i, "decision_tree"), f) for f in sorted(req.decision_tree.facts()))
    for j, restriction in enumerate(raw.get("presumption", {}).get("restrictions", ())):
        if "when" in restriction:
            where: tuple[str | int, ...] = ("scheme", "presumption", "restrictions", j, "when")
            used.extend((where, f) for f in sorted(parse_condition(restriction["when"]).facts()))
    for loc, fact in used:
        if fact not in declared:
            raise CatalogError(
                f"fact {fact!r} is not declared in scheme.conditions",
                file=path,
                line=doc.line_of(loc),
                field=dotted(loc),
            )


def load_crosswalk_file(path: Path, *, validate: bool = True) -> Crosswalk:
    doc = load_yaml(path, CatalogError)
    if validate:
        _validate(doc, "crosswalk")
    data = doc.data
    edges = tuple(
        CrosswalkEdge(
            source=f"{data['from']}:{edge['from']}",
            target=f"{data['to']}:{edge['to']}",
            relationship=Relationship(edge["relationship"]),
            rationale=edge["rationale"],
            confidence=Confidence(edge["confidence"]),
            crosswalk=data["id"],
            document=edge.get("document", data["document"]),
        )
        for edge in data["edges"]
    )
    return Crosswalk(
        id=data["id"],
        title=data["title"],
        source_scheme=data["from"],
        target_scheme=data["to"],
        authority=data["authority"],
        document=data["document"],
        url=data.get("url"),
        edges=edges,
    )


def load_arrangements_file(path: Path, *, validate: bool = True) -> tuple[Arrangement, ...]:
    doc = load_yaml(path, CatalogError)
    if validate:
        _validate(doc, "arrangements")
    out = []
    for raw in doc.data["arrangements"]:
        out.append(
            Arrangement(
                id=raw["id"],
                title=raw["title"],
                parties=tuple(raw["parties"]),
                status=ArrangementStatus(raw["status"]),
                signed=raw.get("signed"),
                effective=raw.get("effective"),
                recognitions=tuple(
                    Recognition(
                        holder=r["holder"],
                        holder_level=_opt_str(r.get("holder_level")),
                        target=r["target"],
                        target_level=_opt_str(r.get("target_level")),
                        scope=r["scope"],
                        note=r.get("note"),
                        effective=r.get("effective"),
                        effective_source=r.get("effective_source"),
                    )
                    for r in raw["recognitions"]
                ),
                source=_source(raw["source"]),
                confidence=Confidence(raw["confidence"]),
                excluded_types=tuple(raw.get("exclusions", {}).get("product_types", [])),
                exclusions_note=raw.get("exclusions", {}).get("note"),
            )
        )
    return tuple(out)


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass
class Catalog:
    """Every scheme version, crosswalk and arrangement, with look-ups."""

    schemes: dict[str, Scheme]  # key "<id>@<version>"
    crosswalks: tuple[Crosswalk, ...]
    arrangements: tuple[Arrangement, ...]
    _requirements: dict[str, Requirement] = field(default_factory=dict, repr=False)
    _edges: dict[str, list[CrosswalkEdge]] = field(default_factory=dict, repr=False)
    _current: dict[str, Scheme] = field(default_factory=dict, repr=False)  # id -> current version
    memo: dict[str, Any] = field(default_factory=dict, repr=False)  # derived look-ups, computed once

    def __post_init__(self) -> None:
        for scheme in self.schemes.values():
            for req in scheme.requirements:
                self._requirements[req.key] = req
            if scheme.current:
                if scheme.id in self._current:
                    raise CatalogError(
                        f"scheme {scheme.id}: versions {self._current[scheme.id].version} and "
                        f"{scheme.version} are both marked current"
                    )
                self._current[scheme.id] = scheme
        for scheme in self.schemes.values():
            if scheme.id not in self._current:
                raise CatalogError(f"scheme {scheme.id}: no version is marked current")
        for crosswalk in self.crosswalks:
            for edge in crosswalk.edges:
                self._edges.setdefault(edge.source, []).append(edge)
                inverse = CrosswalkEdge(
                    source=edge.target,
                    target=edge.source,
                    relationship=edge.relationship.inverse(),
                    rationale=edge.rationale,
                    confidence=edge.confidence,
                    crosswalk=edge.crosswalk,
                    document=edge.document,
                )
                self._edges.setdefault(edge.target, []).append(inverse)

    def scheme(self, ref: str, as_of: dt.date | None = None) -> Scheme:
        """``us-ctm`` (the version current on ``as_of``, see ``current_on``) or ``etsi-en-303-645@2.1.1``."""
        scheme_id, _, version = ref.partition("@")
        if version:
            found = self.schemes.get(f"{scheme_id}@{version}")
            if found is None:
                known = ", ".join(s.version for s in self.schemes.values() if s.id == scheme_id) or "none"
                raise UnknownScheme(f"unknown scheme version {ref!r} (versions of {scheme_id}: {known})")
            return found
        if scheme_id in self._current:
            return self.current_on(scheme_id, as_of)
        raise UnknownScheme(f"unknown scheme {ref!r} (known: {', '.join(self.scheme_ids())})")

    def current_on(self, scheme_id: str, as_of: dt.date | None) -> Scheme:
        """The version of ``scheme_id`` current on ``as_of``: the one marked current when it has started by then
        (``dates.start``; an undated version counts as started), else the latest version that had started; when
        none had, the one marked current, which then applies to nothing yet and reads prepare with its date."""
        current = self._current[scheme_id]
        if as_of is None or _started(current, as_of):
            return current
        started = [s for s in self.schemes.values() if s.id == scheme_id and _started(s, as_of)]
        if not started:
            return current
        return max(started, key=lambda s: date_by(s.dates.start) if s.dates.start else dt.date.min)

    def scheme_ids(self) -> list[str]:
        """Every scheme id in the catalog, in a stable order: labels and laws of markets, then standards."""
        return [s.id for s in sorted(self._current.values(), key=_listing_order)]

    def current_schemes(self, as_of: dt.date | None = None) -> list[Scheme]:
        """Every scheme in the version current on ``as_of`` (the versions marked current without a date)."""
        return [self.current_on(sid, as_of) for sid in self.scheme_ids()]

    def condition_facts(self) -> dict[str, str]:
        """Every fact a scheme's conditions or scope may read, with its meaning (the first scheme's wording)."""
        facts: dict[str, str] = {}
        for scheme in self.schemes.values():
            for name, meaning in scheme.conditions.items():
                facts.setdefault(name, meaning)
        return facts

    def markets(self) -> list[str]:
        """Every market code some scheme decides, sorted."""
        return sorted({m for s in self._current.values() for m in s.markets})

    def market_schemes(self, market: str, as_of: dt.date | None = None) -> list[Scheme]:
        """The current schemes whose verdict decides ``market`` (its laws and labels, from the catalog data)."""
        found = [s for s in self.current_schemes(as_of) if market in s.markets]
        if not found:
            raise UnknownScheme(
                f"no scheme in the catalog decides market {market!r} (markets: {', '.join(self.markets()) or 'none'})"
            )
        return found

    def requirement(self, key: str) -> Requirement:
        """A requirement by key ``<scheme>[@<version>]:<id>``."""
        found = self._requirements.get(key)
        if found is not None:
            return found
        scheme_ref, sep, req_id = key.partition(":")
        if not sep:
            raise UnknownRequirement(f"bad requirement reference {key!r}: expected <scheme>[@<version>]:<id>")
        scheme = self.scheme(scheme_ref)
        req = scheme.requirement(req_id)
        if req is None:
            raise UnknownRequirement(f"{scheme.key} has no requirement {req_id!r}")
        return req

    def edges_from(self, key: str) -> list[CrosswalkEdge]:
        """Edges with ``key`` on either end, oriented so that ``source`` is ``key``."""
        return self._edges.get(key, [])

    def crosswalk_between(self, a: str, b: str) -> list[CrosswalkEdge]:
        """Every edge between two schemes (refs with or without version), oriented from ``a`` to ``b``."""
        sa, sb = self.scheme(a), self.scheme(b)
        out: list[CrosswalkEdge] = []
        for req in sa.requirements:
            out.extend(e for e in self.edges_from(req.key) if e.target.startswith(f"{sb.key}:"))
        return out

    def validate_references(self, checks: Iterable[type[Check]]) -> None:
        """Every check (with its parameters), requirement and crosswalk reference resolves; raises on the first
        that does not."""
        known = {check.ID: check for check in checks}
        for scheme in self.schemes.values():
            for req in scheme.requirements:
                for leaf in iter_leaves(req.verified_by):
                    if leaf.kind is LeafKind.CHECK:
                        _validate_check_leaf(req, leaf, known)
                    if leaf.kind is LeafKind.REQUIREMENT:
                        self.requirement(leaf.ref)
                    if leaf.kind in (LeafKind.SCHEME, LeafKind.ICS):
                        self.scheme(leaf.ref)
        for crosswalk in self.crosswalks:
            for edge in crosswalk.edges:
                for end in (edge.source, edge.target):
                    if end not in self._requirements:
                        raise UnknownRequirement(f"crosswalk {crosswalk.id}: no requirement {end!r}")
        for arrangement in self.arrangements:
            for rec in arrangement.recognitions:
                for sid, level in ((rec.holder, rec.holder_level), (rec.target, rec.target_level)):
                    scheme = self.scheme(sid)
                    if level is not None and scheme.levels and level not in {lv.id for lv in scheme.levels}:
                        raise UnknownRequirement(f"arrangement {arrangement.id}: {sid} has no level {level!r}")

    def referenced_check_ids(self) -> set[str]:
        return {
            leaf.ref
            for scheme in self.schemes.values()
            for req in scheme.requirements
            for leaf in iter_leaves(req.verified_by)
            if leaf.kind is LeafKind.CHECK
        }


def _validate_check_leaf(req: Requirement, leaf: Leaf, known: Mapping[str, type[Check]]) -> None:
    check = known.get(leaf.ref)
    if check is None:
        raise UnknownCheckReference(f"{req.key}: unknown check {leaf.ref!r}")
    if not leaf.params:
        return
    accepted = check.parameter_names()
    unknown = [name for name, _ in leaf.params if name not in accepted]
    if unknown:
        raise UnknownCheckReference(
            f"{req.key}: check {leaf.ref} has no parameter {unknown[0]!r} (parameters: {', '.join(accepted) or 'none'})"
        )
    try:
        check.with_parameters(leaf.params)
    except (TypeError, ValueError) as exc:
        raise UnknownCheckReference(f"{req.key}: check {leaf.ref}: bad parameters: {exc}") from None


_KIND_ORDER = {SchemeKind.LABEL: 0, SchemeKind.LAW: 1, SchemeKind.STANDARD: 2}


def _listing_order(scheme: Scheme) -> tuple[int, int, str]:
    """Modelled schemes first; within them labels, laws, standards; then by id."""
    return (0 if scheme.modelled else 1, _KIND_ORDER[scheme.kind], scheme.id)


def iter_leaves(node: Node | None) -> Iterable[Leaf]:
    if node is None:
        return
    if isinstance(node, Leaf):
        yield node
        return
    for child in node.children:
        yield from iter_leaves(child)


def load_catalog(root: Path | None = None, extra: Sequence[Path] = ()) -> Catalog:
    """The catalog under ``root`` (default: the bundled one) plus every ``extra`` catalog directory.

    A catalog directory holds ``catalogs/*.yaml`` (one scheme version each), optionally ``crosswalks/*.yaml``
    and ``arrangements.yaml``; a directory with only scheme files directly in it is read too. A scheme
    version defined twice is an error naming both files.
    """
    schemes: dict[str, Scheme] = {}
    files: dict[str, Path] = {}
    crosswalks: list[Crosswalk] = []
    arrangements: list[Arrangement] = []
    for base in (root or data_dir(), *extra):
        if not base.is_dir():
            raise CatalogError(f"not a catalog directory ({safeio.describe(base)})", file=base)
        bundled = root is None and base == data_dir()
        scheme_dir = base / "catalogs" if (base / "catalogs").is_dir() else base
        for path in sorted(scheme_dir.glob("*.yaml")):
            if path.name == "arrangements.yaml":
                continue
            scheme = _read(load_scheme_file, path, bundled)
            if scheme.key in schemes:
                raise CatalogError(f"scheme {scheme.key} is defined twice (also in {files[scheme.key]})", file=path)
            schemes[scheme.key], files[scheme.key] = scheme, path
        crosswalks.extend(_read(load_crosswalk_file, p, bundled) for p in sorted((base / "crosswalks").glob("*.yaml")))
        arrangements_path = base / "arrangements.yaml"
        if arrangements_path.exists():
            arrangements.extend(_read(load_arrangements_file, arrangements_path, bundled))
    return Catalog(schemes=schemes, crosswalks=tuple(crosswalks), arrangements=tuple(arrangements))


def _read(loader: Callable[..., T], path: Path, bundled: bool) -> T:
    """A catalog file, validated against its JSON schema unless it is one of the bundled files: those are
    validated by the test suite (tests/schemes/test_bundled_catalog.py), and validation was three quarters of
    reading the catalog, which every assessment does. A bundled file that no longer parses (edited in place)
    is read again with validation, so the error still names its file, line and field."""
    if not bundled:
        return loader(path)
    try:
        return loader(path, validate=False)
    except CatalogError:
        raise
    except Exception:  # noqa: BLE001 - the schema says what is wrong with it
        return loader(path)


_DEFAULT_LOCK = threading.Lock()


def default_catalog() -> Catalog:
    """The bundled catalog, loaded once per process; a thread that asks while another loads it waits for that
    load (``firmware scan`` loads it in the background while the image unpacks)."""
    with _DEFAULT_LOCK:
        return _default_catalog()


@functools.cache
def _default_catalog() -> Catalog:
    return load_catalog()
