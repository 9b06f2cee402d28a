"""A law's product classification aid and the conformity-assessment routes it leaves open on a date.

For a scheme with ``product_classes`` (the CRA's default, Annex III Class I/II and Annex IV):

- the dossier's ``product.types`` are matched with each category's ``product_types`` (words taken from the
  category's own wording); the class is the highest of what matched and what the manufacturer declared,
  never silently lower than a match, and a declared class below a match is reported;
- each route of that class is open or closed on the assessment date: a route that ``needs`` a harmonised
  standard is closed while none is cited for the scheme (the CRA: none yet), one that needs a certification
  scheme is open only if the catalog records one (none is, so it reads "not confirmed");
- a notified body is needed when no open route goes without one.

Nothing here is a verdict: it says which route a product takes to the market, and the marginal plan lists it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from cybersafe.dossier.model import Dossier
from cybersafe.schemes.interface import ConformityRoute, ProductCategory, ProductClass, Scheme


@dataclass(frozen=True, slots=True)
class RouteOption:
    id: str
    title: str
    notified_body: bool
    open: bool | None  # None: depends on something the catalog does not record (a certification scheme)
    why: str


@dataclass(frozen=True, slots=True)
class Classification:
    scheme: str  # key
    product_class: ProductClass
    matched: tuple[tuple[ProductCategory, str], ...]  # (category, the product type that matched it)
    declared_class: str | None
    declared_category: str | None
    routes: tuple[RouteOption, ...]
    notes: tuple[str, ...]

    @property
    def notified_body_required(self) -> bool:
        """No route known to be open goes without a notified body."""
        return not any(r.open and not r.notified_body for r in self.routes)


def classify(scheme: Scheme, dossier: Dossier, as_of: dt.date) -> Classification | None:
    """The classification of the product under ``scheme`` on ``as_of``; None for a scheme without classes."""
    if not scheme.product_classes:
        return None
    types = set(dossier.product.types)
    matched = [
        (product_class, category, next(t for t in category.product_types if t in types))
        for product_class in scheme.product_classes
        for category in product_class.categories
        if types & set(category.product_types)
    ]
    declared_class, declared_category = _declared(scheme, dossier)
    rank = {c.id: i for i, c in enumerate(scheme.product_classes)}
    notes: list[str] = []
    chosen = max((c for c, _, _ in matched), key=lambda c: rank[c.id], default=scheme.product_classes[0])
    if declared_class is not None and declared_class in rank:
        declared = scheme.product_classes[rank[declared_class]]
        if rank[declared.id] < rank[chosen.id]:
            notes.append(
                f"declared class {declared.id} is below {chosen.id}, which product type "
                f"{next(t for c, _, t in matched if c is chosen)} matches: the higher class applies"
            )
        else:
            chosen = declared
    elif declared_class is not None:
        notes.append(f"declared class {declared_class!r} is not a class of {scheme.key}")
    if not matched and declared_class is None:
        notes.append(
            f"no product.types matches a category of {scheme.key} and no class is declared: read as "
            f"{chosen.id}; declare product.types to have the classification checked"
        )
    routes = tuple(_route(route, scheme, as_of) for route in chosen.routes)
    return Classification(
        scheme=scheme.key,
        product_class=chosen,
        matched=tuple((category, t) for _, category, t in matched),
        declared_class=declared_class,
        declared_category=declared_category,
        routes=routes,
        notes=tuple(notes),
    )


def _declared(scheme: Scheme, dossier: Dossier) -> tuple[str | None, str | None]:
    if scheme.classification_paths is None:
        return None, None
    class_path, category_path = scheme.classification_paths
    declared = _value(dossier, class_path)
    category = _value(dossier, category_path) if category_path else None
    return (str(declared) if declared is not None else None), (str(category) if category is not None else None)


def _value(root: Any, path: str) -> Any:
    value = root
    for part in path.split("."):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def _route(route: ConformityRoute, scheme: Scheme, as_of: dt.date) -> RouteOption:
    if route.needs == "harmonised-standard":
        cited = [h for h in scheme.harmonised_standards if dt.date.fromisoformat(h.cited) <= as_of]
        if not cited:
            why = f"no harmonised standard is cited for {scheme.short_title} on {as_of.isoformat()}"
            return RouteOption(route.id, route.title, route.notified_body, False, why)
        names = ", ".join(h.reference for h in cited)
        return RouteOption(route.id, route.title, route.notified_body, True, f"if applied in full: {names}")
    if route.needs == "certification-scheme":
        why = "only if a European cybersecurity certification scheme covers the product (none recorded in the catalog)"
        return RouteOption(route.id, route.title, route.notified_body, None, why)
    return RouteOption(route.id, route.title, route.notified_body, True, route.condition or "open")
