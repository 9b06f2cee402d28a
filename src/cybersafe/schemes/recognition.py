"""Mutual recognition and marginal test plans: "I hold label A; what does market B still need?"

A target requirement is covered when

- an arrangement in force recognises the held label (scheme, at or above the holder level) as the
  target scheme at a level that includes the requirement; or
- a requirement the held label guarantees is ``equal`` to or a ``superset-of`` it (crosswalk edges,
  followed transitively), or its ``verified_by`` tree passes with only guaranteed requirements as
  evidence (PSTI deemed compliance through EN 303 645 provisions).

A held label guarantees the requirements required at its level. Everything else is residual, listed
with the smallest set of checks, declarations and manual tests found that would verify it.

An arrangement covers only up to the level it gives: a higher level asked is never "covered", for a
scheme we model or not. It covers only from the date it takes effect (``as_of``), and never a product of
a type it excludes; when the product's types are not given and the arrangement excludes some, coverage
stays open until they are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field

from cybersafe.errors import UnknownScheme
from cybersafe.schemes.algebra import all_of, any_of
from cybersafe.schemes.catalog import Catalog, iter_leaves
from cybersafe.schemes.interface import (
    AllOf,
    AnyOf,
    Arrangement,
    ArrangementStatus,
    Confidence,
    Leaf,
    LeafKind,
    Node,
    Obligation,
    Recognition,
    Relationship,
    Requirement,
    Scheme,
    date_by,
    grant_children,
)
from cybersafe.verdict import Verdict

_COVERING = (Relationship.EQUAL, Relationship.SUPERSET_OF)
_LEAF_COST = {
    LeafKind.CHECK: 1,
    LeafKind.DECLARATION: 2,
    LeafKind.MANUAL: 4,
    LeafKind.GRANT: 50,  # a scheme body's step (a notified body, a CLA): the costliest route by far
    LeafKind.ICS: 2,  # justify in the ICS: a declaration
    LeafKind.REQUIREMENT: 0,
    LeafKind.SCHEME: 0,
}


@dataclass(frozen=True, slots=True)
class PlanStep:
    leaf: Leaf
    closes: tuple[str, ...]

    @property
    def automated(self) -> bool:
        return self.leaf.kind is LeafKind.CHECK


@dataclass(frozen=True, slots=True)
class ArrangementMatch:
    arrangement: Arrangement
    recognition: Recognition

    as_of: dt.date | None = None

    @property
    def in_force(self) -> bool:
        if self.arrangement.status is not ArrangementStatus.IN_FORCE or self.recognition.scope == "none":
            return False
        start = self.takes_effect
        return self.as_of is None or start is None or _start_date(start) <= self.as_of

    @property
    def takes_effect(self) -> str | None:
        """This direction's own date (with its legal basis), else the arrangement's."""
        return self.arrangement.takes_effect(self.recognition)


@dataclass(frozen=True)
class RecognitionResult:
    have: Scheme
    have_level: str | None
    want: Scheme
    want_level: str | None
    arrangements: tuple[ArrangementMatch, ...]
    covered: dict[str, str]  # requirement key -> basis
    residual: tuple[str, ...]
    steps: tuple[PlanStep, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)
    covering: ArrangementMatch | None = None  # the arrangement in force that recognises the held label
    open_conditions: tuple[str, ...] = ()  # why coverage cannot be claimed yet (a level short, an exclusion)
    # requirement key -> the confidence its coverage rests on (the weakest of the arrangement, crosswalk edges and
    # catalog references it follows): a claim resting on our own derivation says so
    confidence: dict[str, Confidence] = field(default_factory=dict)

    @property
    def fully_covered(self) -> bool:
        """Nothing residual, nothing open, and a scheme we do not model is covered only by an arrangement."""
        return not self.residual and not self.open_conditions and (self.want.modelled or self.covering is not None)


def parse_label_ref(ref: str) -> tuple[str, str | None]:
    """``sg-cls:2`` -> ("sg-cls", "2"); ``us-ctm`` -> ("us-ctm", None); versions stay on the scheme part."""
    scheme, sep, level = ref.partition(":")
    return scheme, (level or None) if sep else None


def _level_rank(scheme: Scheme, level: str | None) -> int:
    ids = [lv.id for lv in scheme.levels]
    if level is None or level not in ids:
        return -1 if level is None else len(ids)
    return ids.index(level)


def validate_level(scheme: Scheme, level: str | None) -> None:
    if level is not None and scheme.levels and level not in {lv.id for lv in scheme.levels}:
        known = ", ".join(lv.id for lv in scheme.levels)
        raise UnknownScheme(f"{scheme.id} has no level {level!r} (levels: {known})")
    if level is not None and not scheme.levels:
        raise UnknownScheme(f"{scheme.id} has no levels; drop ':{level}'")


def matching_arrangements(
    catalog: Catalog, have: Scheme, have_level: str | None, want: Scheme
) -> list[ArrangementMatch]:
    out = []
    for arrangement in catalog.arrangements:
        for rec in arrangement.recognitions:
            if rec.holder != have.id or rec.target != want.id:
                continue
            if rec.holder_level is not None and _level_rank(have, have_level) < _level_rank(have, rec.holder_level):
                continue  # the held label is below the level the arrangement recognises
            out.append(ArrangementMatch(arrangement, rec))
    return out


def guaranteed_requirements(catalog: Catalog, scheme: Scheme, level: str | None) -> dict[str, str]:
    """Requirement keys a label of ``scheme`` at ``level`` guarantees, with the basis of each."""
    return guaranteed_with_confidence(catalog, scheme, level)[0]


def guaranteed_with_confidence(
    catalog: Catalog, scheme: Scheme, level: str | None
) -> tuple[dict[str, str], dict[str, Confidence]]:
    """What a label guarantees, with the basis of each and the confidence that basis rests on: the weakest link
    of its chain (a crosswalk edge's confidence, or the confidence of the requirement whose ``verified_by``
    references the next one); the label's own requirements rest on nothing else (confirmed)."""
    if not scheme.modelled:
        return {}, {}
    label = f"{scheme.id}:{level}" if level else scheme.id
    basis: dict[str, str] = {}
    confidence: dict[str, Confidence] = {}
    queue: list[str] = []
    for req in scheme.required_at(level):
        if req.obligation is not Obligation.RECOMMENDED:
            basis[req.key] = f"required by the {label} label"
            confidence[req.key] = Confidence.CONFIRMED
            queue.append(req.key)
    while queue:
        key = queue.pop()
        req = catalog.requirement(key)
        implied: list[tuple[str, str, Confidence]] = [
            (leaf.ref, f"verified through {key}", req.confidence)
            for leaf in _all_path_requirement_leaves(req.verified_by)
        ]
        implied.extend(
            (edge.target, f"{edge.relationship} {key} ({edge.crosswalk}, {edge.confidence})", edge.confidence)
            for edge in catalog.edges_from(key)
            if edge.relationship in _COVERING
        )
        for target, why, link in implied:
            target_key = catalog.requirement(target).key
            if target_key not in basis:
                basis[target_key] = why
                confidence[target_key] = weakest(confidence[key], link)
                queue.append(target_key)
    return basis, confidence


# Weakest first: what a coverage claim resting on several links can be trusted as.
_CONFIDENCE_ORDER = (Confidence.UNCONFIRMED, Confidence.DERIVED, Confidence.SECONDARY, Confidence.CONFIRMED)


def weakest(*confidences: Confidence) -> Confidence:
    return min(confidences, key=_CONFIDENCE_ORDER.index)


def _all_path_requirement_leaves(node: Node | None) -> Iterable[Leaf]:
    """Requirement leaves reached only through ``all`` nodes: each is necessary, so it is guaranteed."""
    if node is None:
        return
    if isinstance(node, Leaf):
        if node.kind is LeafKind.REQUIREMENT:
            yield node
        return
    if isinstance(node, AllOf):
        for child in node.children:
            yield from _all_path_requirement_leaves(child)


def recognize(
    catalog: Catalog,
    have_ref: str,
    want_ref: str,
    want_level: str | None = None,
    *,
    product_types: Collection[str] | None = None,
    as_of: dt.date | None = None,
) -> RecognitionResult:
    """What a label of ``have_ref`` covers of ``want_ref``. ``product_types`` (None: not given) and ``as_of``
    are checked against each arrangement's exclusions and effective date."""
    have_scheme_ref, have_level = parse_label_ref(have_ref)
    want_scheme_ref, parsed_want_level = parse_label_ref(want_ref)
    have = catalog.scheme(have_scheme_ref, as_of)  # the version current on the date, as assess takes it
    want = catalog.scheme(want_scheme_ref, as_of)
    want_level = want_level or parsed_want_level
    validate_level(have, have_level)
    validate_level(want, want_level)
    if have.levels and have_level is None:
        have_level = have.levels[0].id
    notes: list[str] = []

    asked_level = want_level
    matches = [
        ArrangementMatch(m.arrangement, m.recognition, as_of)
        for m in matching_arrangements(catalog, have, have_level, want)
    ]
    covering, open_conditions = _sort_matches(matches, product_types, as_of, notes)
    # The best covering arrangement decides the target level it reaches.
    best = max(covering, key=lambda m: _level_rank(want, m.recognition.target_level), default=None)
    if want.levels and want_level is None:
        want_level = best.recognition.target_level if best is not None else want.levels[0].id
    short = _level_short(want, asked_level, best)
    if short is not None:
        open_conditions.append(short)
    if not want.modelled:
        notes.append(f"{want.id} requirements are not modelled: only an arrangement can cover it")

    covered: dict[str, str] = {}
    confidence: dict[str, Confidence] = {}
    if best is not None:
        reached = best.recognition.target_level
        basis = f"arrangement {best.arrangement.id} ({best.recognition.scope})"
        for req in want.required_at(reached if want.levels else None):
            covered[req.key] = basis
            confidence[req.key] = best.arrangement.confidence
    targets = [r for r in want.required_at(want_level) if r.obligation is not Obligation.RECOMMENDED]

    guaranteed, guaranteed_confidence = guaranteed_with_confidence(catalog, have, have_level)
    residual = _residual(catalog, targets, covered, guaranteed, confidence, guaranteed_confidence)

    if not want.modelled and best is None:
        # Nothing to test against: the scheme itself must be applied for.
        notes.append(f"apply for the {want.short_title} label: no modelled requirements to plan against")
    if best is not None:
        reached = f" level {best.recognition.target_level}" if best.recognition.target_level else ""
        notes.insert(
            0,
            f"covered by {best.arrangement.title} ({best.recognition.scope}): the held label counts as "
            f"{want.short_title}{reached}",
        )
    steps = plan_steps(
        catalog, residual, done=lambda leaf: leaf.kind is LeafKind.REQUIREMENT and leaf.ref in guaranteed
    )
    return RecognitionResult(
        have=have,
        have_level=have_level,
        want=want,
        want_level=want_level,
        arrangements=tuple(matches),
        covered=covered,
        confidence=confidence,
        residual=tuple(residual),
        steps=steps,
        notes=tuple(dict.fromkeys(notes)),
        covering=best,
        open_conditions=tuple(dict.fromkeys(open_conditions)),
    )


def _sort_matches(
    matches: Iterable[ArrangementMatch], product_types: Collection[str] | None, as_of: dt.date | None, notes: list[str]
) -> tuple[list[ArrangementMatch], list[str]]:
    """The arrangements that cover, and what keeps coverage open; every other match is explained in ``notes``."""
    covering: list[ArrangementMatch] = []
    open_conditions: list[str] = []
    for match in matches:
        excluded = _excluded(match, product_types)
        if excluded is not None and product_types is not None:
            notes.append(excluded)
            continue
        if excluded is not None:
            open_conditions.append(excluded)
        if match.arrangement.status is ArrangementStatus.IN_FORCE and not match.in_force and as_of is not None:
            notes.append(
                f"{match.arrangement.title}: takes effect on {match.takes_effect}"
                f"{f' ({match.recognition.effective_source})' if match.recognition.effective_source else ''}, after "
                f"{as_of.isoformat()} - does not cover requirements yet"
            )
        elif not match.in_force:
            scope = f", scope {match.recognition.scope}" if match.recognition.scope != "none" else ""
            notes.append(f"{match.arrangement.title}: {match.arrangement.status}{scope} - does not cover requirements")
        elif match.recognition.scope == "simplified-route":
            notes.append(f"{match.arrangement.title}: a simplified application route, not automatic recognition")
        else:
            covering.append(match)
    return covering, open_conditions


def _residual(
    catalog: Catalog,
    targets: Iterable[Requirement],
    covered: dict[str, str],
    guaranteed: dict[str, str],
    confidence: dict[str, Confidence],
    guaranteed_confidence: dict[str, Confidence],
) -> list[str]:
    """Target requirements neither an arrangement nor the held label's guarantees cover (``covered`` and
    ``confidence`` grow)."""
    residual: list[str] = []
    for req in targets:
        if req.key in covered:
            continue
        if req.key in guaranteed:
            covered[req.key] = guaranteed[req.key]
            confidence[req.key] = guaranteed_confidence[req.key]
        elif _tree_passes_with(catalog, req.verified_by, guaranteed):
            covered[req.key] = "its verified_by passes on requirements the held label guarantees"
            used = [
                guaranteed_confidence[key]
                for leaf in iter_leaves(req.verified_by)
                if leaf.kind is LeafKind.REQUIREMENT
                and (key := catalog.requirement(leaf.ref).key) in guaranteed_confidence
            ]
            confidence[req.key] = weakest(req.confidence, *used)
        else:
            residual.append(req.key)
    return residual


def _start_date(text: str) -> dt.date:
    """YYYY-MM-DD, or the last day of a YYYY-MM (or YYYY) whose day is not confirmed (never earlier than true)."""
    return date_by(text)


def _excluded(match: ArrangementMatch, product_types: Collection[str] | None) -> str | None:
    """Why an arrangement does not cover this product (or may not, when its types are not given)."""
    excluded = match.arrangement.excluded_types
    if not excluded:
        return None
    names = ", ".join(excluded)
    if product_types is None:
        return (
            f"{match.arrangement.title} excludes some product types ({names}): give the product's types "
            f"(--type or a dossier's product.types) to know whether it covers this product"
        )
    hit = sorted(set(excluded) & set(product_types))
    if not hit:
        return None
    return f"{match.arrangement.title} excludes {', '.join(hit)}: it does not cover this product"


def _level_short(want: Scheme, asked: str | None, best: ArrangementMatch | None) -> str | None:
    """An asked level above the level the covering arrangement gives is never covered."""
    if best is None or asked is None or not want.levels:
        return None
    reached = best.recognition.target_level
    if _level_rank(want, reached) >= _level_rank(want, asked):
        return None
    return (
        f"{best.arrangement.title} gives {want.short_title} level {reached}; level {asked} asked is not covered "
        f"by it and needs {want.short_title}'s own assessment"
    )


def _tree_passes_with(catalog: Catalog, node: Node | None, guaranteed: dict[str, str]) -> bool:
    def verdict(n: Node) -> Verdict:
        if isinstance(n, Leaf):
            if n.kind is LeafKind.REQUIREMENT and catalog.requirement(n.ref).key in guaranteed:
                return Verdict.PASS
            return Verdict.INCONCLUSIVE
        children = [verdict(c) for c in n.children]
        return all_of(children) if isinstance(n, AllOf) else any_of(children)

    return node is not None and verdict(node) is Verdict.PASS


def plan_steps(
    catalog: Catalog,
    requirement_keys: Iterable[str],
    done: Callable[[Leaf], bool],
    fails: Callable[[Node], bool] | None = None,
) -> tuple[PlanStep, ...]:
    """The smallest set of leaves found that would verify every requirement, reusing steps across them.

    ``all`` needs every child; ``any`` takes the child whose steps cost least given what is already
    planned (automated checks before declarations before manual tests). A requirement with nothing that
    verifies it needs a manual result for the requirement itself. ``fails``: whether the evidence of a node
    fails on this assessment; a scheme body's step (a grant) among an ``any``'s alternatives is then no way to
    close it (failing evidence is never outranked by a step, ``algebra.any_route``): the plan names the failing
    evidence to put right instead.
    """
    chosen: dict[Leaf, list[str]] = {}

    def cost(leaves: set[Leaf]) -> int:
        return sum(_LEAF_COST[leaf.kind] for leaf in leaves if leaf not in chosen)

    def needs(node: Node | None, owner: str, seen: frozenset[str]) -> set[Leaf]:
        if node is None:
            return {Leaf(LeafKind.MANUAL, owner)}
        if isinstance(node, Leaf):
            if done(node):
                return set()
            if node.kind is LeafKind.REQUIREMENT:
                req = catalog.requirement(node.ref)
                if req.key in seen:
                    return set()
                return needs(req.verified_by, req.key, seen | {req.key})
            if node.kind is LeafKind.SCHEME:  # every requirement that scheme requires
                reqs = [r for r in catalog.scheme(node.ref).requirements if r.obligation is not Obligation.RECOMMENDED]
                return set().union(*(needs(r.verified_by, r.key, seen | {r.key}) for r in reqs if r.key not in seen))
            return {node}
        children = node.children
        if isinstance(node, AnyOf) and fails is not None:
            grants = grant_children(node)
            evidence = [c for c in children if c not in grants]
            if grants and evidence and all(fails(c) for c in evidence):
                children = tuple(evidence)
        options = [needs(child, owner, seen) for child in children]
        if isinstance(node, AllOf):
            return set().union(*options)
        return min(options, key=lambda leaves: (cost(leaves), len(leaves), sorted(map(str, leaves))))

    for key in requirement_keys:
        req: Requirement = catalog.requirement(key)
        for leaf in sorted(needs(req.verified_by, req.key, frozenset({req.key})), key=str):
            chosen.setdefault(leaf, []).append(key)
    ordered = sorted(chosen.items(), key=lambda item: (_LEAF_COST[item[0].kind], str(item[0])))
    return tuple(PlanStep(leaf, tuple(keys)) for leaf, keys in ordered)
