"""Schemes as data: the value types the catalog loader produces and the evaluator reads.

A requirement's ``verified_by`` is a tree of ``all`` / ``any`` over leaves:

- a check id, ``firmware.universal-default-password``, optionally with parameters this requirement sets
  (``{check: declaration.support-period, with: {min_years: 5}}``): a threshold that differs between
  schemes is a parameter, so a check never reads the market or the scheme;
- a declaration key, ``declaration:support_period.end`` (path inside the dossier's declarations);
- a manual result, ``manual:<id>``;
- another scheme's requirement, ``requirement:<scheme>[@<version>]:<id>`` (PSTI deemed compliance,
  CLS Level 2 = the mandatory EN 303 645 provisions);
- another scheme as a whole, ``scheme:<scheme>[@<version>]`` (a law met through its harmonised standard);
- a step only a scheme body can take, ``grant:<id>`` (pending until the dossier's ``grants`` records it);
- ``ics:<scheme>@<version>``: every recommendation of that scheme that fails in this assessment is answered
  "no" with a justification in the dossier's ICS (EN 303 645 5.0-1, formerly 4-1).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar, TypeAlias

from cybersafe.checks.interface import Params, attempt_key

if TYPE_CHECKING:
    from cybersafe.schemes.trees import AssetClass, DecisionTree, Presumption


class Obligation(StrEnum):
    MANDATORY = "mandatory"
    RECOMMENDED = "recommended"
    CONDITIONAL = "conditional"  # mandatory when its condition holds


class Confidence(StrEnum):
    CONFIRMED = "confirmed"  # read in a primary source
    SECONDARY = "secondary"  # from a secondary source or transcription
    UNCONFIRMED = "unconfirmed"  # could not be checked; treat as open
    DERIVED = "derived"  # our own justified derivation (crosswalk edges)


class Relationship(StrEnum):
    """NIST IR 8477 / OSCAL mapping relationships, read as "source <relationship> target"."""

    EQUAL = "equal"
    SUBSET_OF = "subset-of"
    SUPERSET_OF = "superset-of"
    INTERSECTS_WITH = "intersects-with"
    NO_RELATIONSHIP = "no-relationship"

    def inverse(self) -> Relationship:
        if self is Relationship.SUBSET_OF:
            return Relationship.SUPERSET_OF
        if self is Relationship.SUPERSET_OF:
            return Relationship.SUBSET_OF
        return self


class LeafKind(StrEnum):
    CHECK = "check"
    DECLARATION = "declaration"
    MANUAL = "manual"
    REQUIREMENT = "requirement"
    GRANT = "grant"  # a step only the scheme body can take: pending until the dossier records it
    SCHEME = "scheme"  # another scheme's status (a law met through its harmonised standard)
    ICS = "ics"  # every recommendation of the scheme that fails is justified in the dossier's ICS


@dataclass(frozen=True, slots=True, eq=False)
class Leaf:
    """A verified_by leaf. Interned: equal leaves are one object, so identity is equality and hashing is cheap
    (leaves key every evaluation cache)."""

    kind: LeafKind
    ref: str  # check id, declaration path, manual id, or "scheme@version:requirement"
    params: Params = ()  # check parameters set by the requirement (checks only)
    _interned: ClassVar[dict[tuple[LeafKind, str, Params], Leaf]] = {}

    def __new__(cls, kind: LeafKind, ref: str, params: Params = ()) -> Leaf:
        found = cls._interned.get((kind, ref, params))
        if found is None:
            found = cls._interned[(kind, ref, params)] = object.__new__(cls)
        return found

    def __str__(self) -> str:
        return _leaf_text(self)


@functools.cache  # per interned leaf: the wire form asks for a leaf's text about a thousand times per assessment
def _leaf_text(leaf: Leaf) -> str:
    return attempt_key(leaf.ref, leaf.params) if leaf.kind is LeafKind.CHECK else f"{leaf.kind}:{leaf.ref}"


@dataclass(frozen=True, slots=True)
class AllOf:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    children: tuple[Node, ...]


Node: TypeAlias = Leaf | AllOf | AnyOf


@functools.cache
def grant_children(node: AnyOf) -> tuple[Leaf, ...]:
    """The alternatives of an ``any`` that are a scheme body's step (``grant:``), not evidence."""
    return tuple(c for c in node.children if type(c) is Leaf and c.kind is LeafKind.GRANT)


@dataclass(frozen=True, slots=True)
class Condition:
    """A condition over dossier facts: a fact name, or not / all / any of conditions."""

    op: str  # "fact" | "not" | "all" | "any"
    fact: str | None = None
    children: tuple[Condition, ...] = ()
    # as the catalog reads, made once: every assessment's wire form asks for each requirement's
    text: str = field(default="", init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.op == "fact":
            text = self.fact or ""
        elif self.op == "not":
            text = f"not {self.children[0]}"
        else:
            text = "(" + (" and " if self.op == "all" else " or ").join(c.text for c in self.children) + ")"
        object.__setattr__(self, "text", text)

    def facts(self) -> set[str]:
        if self.op == "fact":
            return {self.fact or ""}
        out: set[str] = set()
        for child in self.children:
            out |= child.facts()
        return out

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Source:
    document: str
    clause: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Level:
    id: str
    title: str
    description: str
    cumulative: bool = True
    assessment: str | None = None  # self-declaration / third-party


@dataclass(frozen=True, slots=True)
class Requirement:
    scheme_key: str  # "<scheme>@<version>"
    id: str
    title: str
    text: str  # our paraphrase, never the source text
    obligation: Obligation
    source: Source
    group: str | None = None
    condition: Condition | None = None
    condition_text: str | None = None
    levels: tuple[str, ...] = ()  # level ids where required; empty: every level / no levels
    confidence: Confidence = Confidence.CONFIRMED
    confidence_note: str | None = None
    verified_by: Node | None = None
    applies_to: str = "product"  # product / label-data (registry disclosures) / process
    applies_from: str | None = None  # its own date, else the scheme's ``dates.start`` (YYYY-MM-DD, YYYY-MM or YYYY)
    risk_based: bool = False  # applies on the basis of the risk assessment: a documented decision can justify it
    decision_tree: DecisionTree | None = None  # walked instead of verified_by (trees.py); verified_by = its leaves
    key: str = field(default="", compare=False)  # "<scheme>@<version>:<id>", filled in on creation

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", f"{self.scheme_key}:{self.id}")


class SchemeKind(StrEnum):
    LAW = "law"  # binding where it applies (CRA, PSTI, RED)
    STANDARD = "standard"  # a technical standard, harmonised or not (EN 303 645, EN 18031)
    LABEL = "label"  # a labelling scheme (Cyber Trust Mark, CLS)


class LabelStyle(StrEnum):
    """The artwork drawn for a scheme's label (label/render.py draws one per style)."""

    TRUST = "trust"
    LEVELLED = "levelled"
    SUPPORT_END = "support-end"
    GENERIC = "generic"


@dataclass(frozen=True, slots=True)
class SchemeLabel:
    name: str  # printed on the artwork
    style: LabelStyle


@dataclass(frozen=True, slots=True)
class SchemeDates:
    """When a scheme was published, came into force and applies. A date left out is unknown, never invented."""

    confidence: Confidence
    published: str | None = None  # YYYY, YYYY-MM or YYYY-MM-DD
    in_force: str | None = None
    reporting_from: str | None = None
    applies_from: str | None = None
    superseded_by: str | None = None  # scheme ref
    note: str | None = None

    @property
    def start(self) -> str | None:
        """The first date anything of this version can apply: its ``applies_from``, else when it came into force,
        else when it was published (a version not yet published applies to nothing); None when none is known."""
        return self.applies_from or self.in_force or self.published


def date_by(text: str) -> dt.date:
    """The date a catalog date is certainly reached by: YYYY-MM-DD itself, the last day of a YYYY-MM or of a YYYY
    whose day is not given (never earlier than true, so nothing applies before its source says it does)."""
    if len(text) == 4:
        return dt.date(int(text), 12, 31)
    if len(text) == 7:
        year, month = map(int, text.split("-"))
        return dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
    return dt.date.fromisoformat(text)


@dataclass(frozen=True, slots=True)
class ProductCategory:
    id: str
    title: str
    product_types: tuple[str, ...] = ()  # dossier product.types this category covers


@dataclass(frozen=True, slots=True)
class ConformityRoute:
    id: str
    title: str
    condition: str | None = None
    notified_body: bool = False
    needs: str | None = None  # "harmonised-standard" | "certification-scheme"


@dataclass(frozen=True, slots=True)
class ProductClass:
    """A class of a law (the CRA's default, Annex III Class I/II, Annex IV), in rising order of scrutiny."""

    id: str
    title: str
    annex: str
    categories: tuple[ProductCategory, ...]
    routes: tuple[ConformityRoute, ...]
    source: Source | None = None


@dataclass(frozen=True, slots=True)
class HarmonisedStandard:
    reference: str
    cited: str  # YYYY-MM-DD
    restrictions: str | None = None


@dataclass(frozen=True, slots=True)
class Scheme:
    id: str
    version: str
    title: str
    short_title: str
    jurisdiction: str
    kind: SchemeKind
    modelled: bool
    current: bool
    source: Source
    dates: SchemeDates
    markets: tuple[str, ...] = ()  # dossier market codes whose verdict this scheme decides
    label: SchemeLabel | None = None
    ics: bool = False  # the dossier's ICS rows (keyed by requirement id) apply to this scheme
    scope: Condition | None = None  # over dossier facts; false: the product is out of the scheme's scope
    scope_text: str | None = None
    product_classes: tuple[ProductClass, ...] = ()  # in rising order of scrutiny
    classification_paths: tuple[str, str | None] | None = None  # dossier paths of the declared class and category
    harmonised_standards: tuple[HarmonisedStandard, ...] = ()
    assets: tuple[AssetClass, ...] = ()  # the kinds of asset its requirements protect (decision-tree subjects)
    presumption: Presumption | None = None  # harmonised standard: the restrictions on its presumption of conformity
    levels: tuple[Level, ...] = ()
    conditions: Mapping[str, str] = field(default_factory=dict)
    requirements: tuple[Requirement, ...] = ()
    notes: str | None = None
    catalog_sha256: str = ""

    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"

    def requirement(self, req_id: str) -> Requirement | None:
        for req in self.requirements:
            if req.id == req_id:
                return req
        return None

    def required_at(self, level: str | None) -> tuple[Requirement, ...]:
        """Requirements that count at ``level`` (cumulative levels include every lower one)."""
        if not self.levels or level is None:
            return self.requirements
        wanted = set(self.levels_up_to(level))
        return tuple(r for r in self.requirements if not r.levels or wanted & set(r.levels))

    def levels_up_to(self, level: str) -> tuple[str, ...]:
        ids = [lv.id for lv in self.levels]
        if level not in ids:
            return (level,)
        index = ids.index(level)
        if self.levels[index].cumulative:
            return tuple(ids[: index + 1])
        return (level,)


@dataclass(frozen=True, slots=True)
class CrosswalkEdge:
    source: str  # requirement key "<scheme>@<version>:<id>"
    target: str
    relationship: Relationship
    rationale: str
    confidence: Confidence
    crosswalk: str  # id of the crosswalk file
    document: str  # source document


@dataclass(frozen=True, slots=True)
class Crosswalk:
    id: str
    title: str
    source_scheme: str  # scheme key
    target_scheme: str
    authority: str  # official / legal / derived
    document: str
    url: str | None
    edges: tuple[CrosswalkEdge, ...]


class ArrangementStatus(StrEnum):
    IN_FORCE = "in-force"
    SIGNED = "signed"  # signed, not yet effective
    PROPOSED = "proposed"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class Recognition:
    """One direction of an arrangement: a label of ``holder`` at ``holder_level`` counts as ``target``."""

    holder: str  # scheme id
    holder_level: str | None
    target: str
    target_level: str | None
    scope: str  # full / simplified-route / deemed-compliance
    note: str | None = None
    # When this direction has its own legal basis with its own date (SI 2025/1267's deemed compliance beside an MoU):
    effective: str | None = None  # the date it takes effect, else the arrangement's
    effective_source: str | None = None  # the instrument that date comes from


@dataclass(frozen=True, slots=True)
class Arrangement:
    id: str
    title: str
    parties: tuple[str, ...]
    status: ArrangementStatus
    signed: str | None
    effective: str | None
    recognitions: tuple[Recognition, ...]
    source: Source
    confidence: Confidence
    excluded_types: tuple[str, ...] = ()  # product types the arrangement does not cover
    exclusions_note: str | None = None

    def takes_effect(self, recognition: Recognition | None = None) -> str | None:
        """The date (YYYY-MM-DD, or a coarser YYYY-MM) from which the arrangement (or one direction of it, when
        that direction has its own date) applies."""
        if recognition is not None and recognition.effective is not None:
            return recognition.effective
        return self.effective or self.signed
