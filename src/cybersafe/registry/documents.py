"""Label documents: derived from the log, stored as a cache, compared on every read.

``public_document`` is the one place that turns derived facts into what the JSON API and the pages serve:
the facts, the status as of today, the integrity verdict (any problem met deriving the facts, or a stored
copy that differs from them), the label's link (from the configured base URL, never from a request) and
the signed envelope. Synchronous helpers here serve writes, search and product listings; the QR-code read
path (``views.py``) derives the same way from its batched async reads.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update

from cybersafe import jsonio
from cybersafe.registry import derive, log
from cybersafe.registry.models import Label

# Bumped when the rules of ``derive_facts`` change: stored documents of an older version are rebuilt on start.
DOCUMENTS_VERSION = 3


@dataclass(frozen=True)
class LabelSource:
    """What deriving a label needs from its row: the stored envelope and document, its issuer and product."""

    label_id: str
    envelope: str
    document: str
    issuer_id: int
    product_id: int


def issuer_states(entries: Mapping[int, Sequence[tuple[int, bytes | str]]]) -> dict[int, derive.IssuerState | str]:
    """Each issuer's state from its log entries, or the reason it cannot be derived."""
    out: dict[int, derive.IssuerState | str] = {}
    for issuer_id, pairs in entries.items():
        leaves, problems = derive.parse_leaves(pairs)
        if problems:
            out[issuer_id] = problems[0]
            continue
        try:
            out[issuer_id] = derive.issuer_state(issuer_id, leaves)
        except derive.IssuerLogError as exc:
            out[issuer_id] = str(exc)
    return out


def derive_source(
    source: LabelSource, pairs: Sequence[tuple[int, bytes | str]], issuer: derive.IssuerState | str | None
) -> derive.Derived:
    """Derive one label's facts and add the stored copy's disagreement, if any, to its problems."""
    leaves, leaf_problems = derive.parse_leaves(pairs)
    envelope = _envelope(source.envelope)
    derived = derive.derive_facts(
        source.label_id,
        envelope,
        leaves,
        issuer if isinstance(issuer, derive.IssuerState) else None,
        product_id=source.product_id,
        issuer_problem=issuer if isinstance(issuer, str) else None,
        envelope_sha256=hashlib.sha256(source.envelope.encode()).hexdigest(),
    )
    derived.problems[:0] = leaf_problems
    stale = stored_difference(source.document, derived)
    if stale:
        derived.problems.append(stale)
    return derived


def _envelope(text: str) -> dict[str, Any] | None:
    try:
        value = jsonio.loads(text)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def stored_difference(stored: str, derived: derive.Derived) -> str | None:
    """None when the stored document holds exactly the derived facts, else which fields differ."""
    if stored == derived.facts_json:
        return None
    facts = derived.facts
    try:
        cached = json.loads(stored)
    except (ValueError, RecursionError):
        cached = None
    if not isinstance(cached, dict):
        return "the registry's stored copy of this label is unreadable"
    fields = sorted(k for k in set(cached) | set(facts) if cached.get(k) != facts.get(k))
    return f"the registry's stored copy of this label differs from its log in: {', '.join(fields)}"


def public_document(
    derived: derive.Derived, today: dt.date, base_url: str, envelope_text: str, *, with_envelope: bool = True
) -> str:
    """The label JSON served to readers: facts, status as of ``today``, integrity, link, envelope."""
    facts = derived.facts
    extra = {**derive.shown(derived, today), "registry_url": f"{base_url}/l/{facts['label_id']}"}
    # Splice rather than serialise the facts again: they are already JSON (``facts_json``).
    text = derived.facts_json[:-1] + "," + derive.document_json(extra)[1:]
    if not with_envelope:
        return text
    envelope = envelope_text if derived.ok or _envelope(envelope_text) is not None else "null"
    return text[:-1] + ',"envelope":' + envelope + "}"


# --- synchronous reads (writes, search, product listings, start-up rebuild) ---------------------------


def sources(conn: Connection, label_ids: Iterable[str]) -> list[LabelSource]:
    rows = conn.execute(
        select(Label.label_id, Label.envelope, Label.document, Label.issuer_id, Label.product_id).where(
            Label.label_id.in_(list(label_ids))
        )
    ).all()
    return [LabelSource(r.label_id, r.envelope, r.document, int(r.issuer_id), int(r.product_id)) for r in rows]


def derive_many(conn: Connection, found: Sequence[LabelSource]) -> dict[str, derive.Derived]:
    """Derive several labels with two queries: their entries and their issuers' entries."""
    issuer_ids = sorted({s.issuer_id for s in found})
    entries = log.entries_about(conn, [s.label_id for s in found] + [log.issuer_subject(i) for i in issuer_ids])
    issuers = issuer_states({i: entries[log.issuer_subject(i)] for i in issuer_ids})
    return {s.label_id: derive_source(s, entries[s.label_id], issuers.get(s.issuer_id)) for s in found}


def rebuild(conn: Connection, label_ids: Iterable[str]) -> None:
    """Store the derived facts of each label as its cached document."""
    found = sources(conn, label_ids)
    for label_id, derived in derive_many(conn, found).items():
        conn.execute(update(Label).where(Label.label_id == label_id).values(document=derived.facts_json))


def read_documents(
    conn: Connection, label_ids: Sequence[str], today: dt.date, base_url: str, *, with_envelope: bool = True
) -> list[dict[str, Any]]:
    """Public documents of the labels, in the order asked, derived from the log (missing ids skipped)."""
    found = sources(conn, label_ids)
    derived = derive_many(conn, found)
    envelopes = {s.label_id: s.envelope for s in found}
    return [
        json.loads(public_document(derived[i], today, base_url, envelopes[i], with_envelope=with_envelope))
        for i in label_ids
        if i in derived
    ]
