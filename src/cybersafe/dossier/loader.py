"""Read a dossier YAML into the strict model; every problem is one line naming file, line and field."""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path

from pydantic import ValidationError

from cybersafe import safeio
from cybersafe.dossier.facts import DERIVED_FACTS
from cybersafe.dossier.model import DOSSIER_SCHEMA, Dossier
from cybersafe.errors import DossierError
from cybersafe.yamlio import LocatedDocument, first_pydantic_error, load_yaml

_CHECK_ID = re.compile(r"^[a-z]+\.[a-z0-9-]+$")


def load_dossier(
    path: Path, known_check_ids: Collection[str] | None = None, known_facts: Collection[str] | None = None
) -> Dossier:
    """Read and validate a dossier. ``known_facts`` (the facts the catalog's conditions read, and the derived
    ones) refuses a misspelt fact, which would otherwise leave a condition silently unknown."""
    doc = load_yaml(path, DossierError)
    dossier = parse_dossier(doc, known_facts)
    _check_files(dossier, path.parent, doc)
    if known_check_ids is not None:
        _check_manual_ids(dossier, doc, known_check_ids)
    return dossier


def parse_dossier(doc: LocatedDocument, known_facts: Collection[str] | None = None) -> Dossier:
    if not isinstance(doc.data, dict):
        raise DossierError("expected a mapping at the top level", file=doc.file, line=1)
    if doc.data.get("schema") != DOSSIER_SCHEMA:
        raise DossierError(
            f"expected schema: {DOSSIER_SCHEMA}",
            file=doc.file,
            line=doc.line_of(("schema",)),
            field="schema",
        )
    try:
        dossier = Dossier.model_validate(doc.data)
    except ValidationError as exc:
        raise first_pydantic_error(list(exc.errors()), doc, DossierError) from None
    if known_facts is None:  # no catalog to say which facts its conditions read
        return dossier
    known = set(known_facts) | DERIVED_FACTS
    for name in dossier.facts:
        if name not in known:
            raise DossierError(
                f"unknown fact (known: {', '.join(sorted(known))})",
                file=doc.file,
                line=doc.line_of(("facts", name)),
                field=f"facts.{name}",
            )
    return dossier


def _check_files(dossier: Dossier, base: Path, doc: LocatedDocument) -> None:
    """Artefacts named in the dossier must exist: a missing file is bad input, not missing evidence."""
    named: list[tuple[tuple[str | int, ...], str]] = []
    art = dossier.artefacts
    if art.firmware:
        named.append((("artefacts", "firmware"), art.firmware))
    if art.sbom:
        named.append((("artefacts", "sbom"), art.sbom))
    named.extend((("artefacts", "vex", i), p) for i, p in enumerate(art.vex))
    for i, result in enumerate(dossier.manual_results):
        named.extend((("manual_results", i, "evidence", j), p) for j, p in enumerate(result.evidence))
    if art.vulndb:  # may not be imported yet (a recorded problem), but never a FIFO or a device
        named.append((("artefacts", "vulndb"), art.vulndb))
    for loc, rel in named:
        found = safeio.describe(base / rel)
        if found == "not found" and loc == ("artefacts", "vulndb"):
            continue
        if found != "a regular file":
            field = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in loc).replace(".[", "[")
            why = "file not found" if found == "not found" else f"not a regular file ({found})"
            raise DossierError(f"{why}: {rel}", file=doc.file, line=doc.line_of(loc), field=field)


def _check_manual_ids(dossier: Dossier, doc: LocatedDocument, known: Collection[str]) -> None:
    for i, result in enumerate(dossier.manual_results):
        if _CHECK_ID.match(result.id) and result.id not in known:
            raise DossierError(
                f"unknown check id {result.id!r}",
                file=doc.file,
                line=doc.line_of(("manual_results", i, "id")),
                field=f"manual_results[{i}].id",
            )
