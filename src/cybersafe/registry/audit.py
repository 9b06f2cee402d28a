"""A full audit of the transparency log: what a monitor reading every entry checks.

A label's page and ``verify --registry`` find a label's entries through the registry's index of what each
entry is about (``log_entries.subject``); that index is not covered by any hash. Someone editing the database
can re-file an entry (a revocation) under another subject, and rebuild the label's stored copy without it:
the label's own entry list then looks complete and consistent. Only a reader of the whole log sees the entry
that still names the label. This module is that reader:

- ``subject_of``: what an entry is about, from its own (hashed) content;
- ``audit_entries``: every entry's index, kind and subject checked against its content, the root of all
  leaves against the signed tree head, and each label's state derived from every entry that names it,
  compared with what the registry shows (its stored copy and status);
- ``audit`` runs it on a registry database (``cybersafe registry audit``); the client's ``--full-log`` runs
  the same rules over ``/api/v1/log/entries`` (``cybersafe verify --registry --full-log``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select

from cybersafe.registry import derive, documents, log, merkle
from cybersafe.registry.models import Label, LogEntry


def subject_of(body: Mapping[str, Any]) -> str | None:
    """The subject an entry is about, read from its content: a label (``label_id``), a manufacturer (its
    entries, grants included, carry ``manufacturer_id``) or an issuer (``issuer_id``)."""
    if isinstance(body.get("label_id"), str):
        return str(body["label_id"])
    if isinstance(body.get("manufacturer_id"), int):
        return log.manufacturer_subject(int(body["manufacturer_id"]))
    if isinstance(body.get("issuer_id"), int):
        return log.issuer_subject(int(body["issuer_id"]))
    return None


def root_of(entries: Sequence[bytes]) -> bytes:
    """The RFC 9162 root of a log holding exactly these entries."""
    if not entries:
        return merkle.EMPTY_ROOT
    nodes = merkle.new_nodes(0, [merkle.leaf_hash(e) for e in entries], {})
    return merkle.root(len(entries), merkle.getter_from(nodes))


def by_subject(entries: Iterable[tuple[int, bytes]]) -> dict[str, list[tuple[int, bytes]]]:
    """Every entry, grouped by the subject its content names (entries that are not JSON objects left out)."""
    out: dict[str, list[tuple[int, bytes]]] = {}
    leaves, _ = derive.parse_leaves(entries)
    for leaf in leaves:
        subject = subject_of(leaf.body)
        if subject is not None:
            out.setdefault(subject, []).append((leaf.index, leaf.raw))
    return out


@dataclass
class AuditReport:
    entries: int
    labels: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries": self.entries, "labels": self.labels, "problems": self.problems}


@dataclass(frozen=True)
class StoredEntry:
    index: int
    subject: str
    kind: str
    entry: bytes


def audit_entries(
    rows: Sequence[StoredEntry],
    signed_size: int,
    signed_root: bytes,
    labels: Sequence[tuple[documents.LabelSource, str]],
) -> AuditReport:
    """Audit a log's stored entries (with their index columns) against the signed tree head, and each
    label (its stored row: source and status column) against every entry that names it."""
    report = AuditReport(len(rows), len(labels))
    problems = report.problems
    if [r.index for r in rows] != list(range(len(rows))):
        problems.append("the log's entry indices are not 0, 1, 2, ... without gaps")
    if signed_size != len(rows) or root_of([r.entry for r in rows]) != signed_root:
        problems.append(
            f"the {len(rows)} stored entries do not make the signed tree head ({signed_size} entries): "
            "an entry was changed, added or removed"
        )
    leaves, unreadable = derive.parse_leaves((r.index, r.entry) for r in rows)
    problems.extend(unreadable)
    stored = {r.index: r for r in rows}
    for leaf in leaves:
        row = stored[leaf.index]
        named = subject_of(leaf.body)
        if named is not None and row.subject != named:
            problems.append(f"log entry {leaf.index} is about {named}, but the registry files it under {row.subject!r}")
        if row.kind != leaf.kind:
            problems.append(
                f"log entry {leaf.index} is a {leaf.kind!r} entry, but the registry files it as {row.kind!r}"
            )
    grouped = by_subject((leaf.index, leaf.raw) for leaf in leaves)
    issuer_ids = sorted({source.issuer_id for source, _ in labels})
    issuers = documents.issuer_states({i: grouped.get(log.issuer_subject(i), []) for i in issuer_ids})
    for source, status in labels:
        derived = documents.derive_source(source, grouped.get(source.label_id, []), issuers.get(source.issuer_id))
        for problem in derived.problems:
            problems.append(f"label {source.label_id}: {problem}")
        logged = derived.facts.get("logged_status")
        if status != logged:
            problems.append(f"label {source.label_id}: the registry stores status {status!r}, its log says {logged!r}")
    known = {source.label_id for source, _ in labels}
    for subject in sorted(grouped):
        if not subject.startswith(("issuer/", "manufacturer/")) and subject not in known:
            problems.append(
                f"log entries {[i for i, _ in grouped[subject]]} name label {subject}, which the registry does not hold"
            )
    return report


def audit(engine: Engine) -> AuditReport:
    """Audit a registry database in full (reads every entry and every label)."""
    with engine.connect() as conn:
        head = log.latest_tree_head(conn)
        rows = [
            StoredEntry(int(r.log_index), str(r.subject), str(r.kind), bytes(r.entry))
            for r in conn.execute(
                select(LogEntry.log_index, LogEntry.subject, LogEntry.kind, LogEntry.entry).order_by(LogEntry.log_index)
            )
        ]
        labels = [
            (documents.LabelSource(r.label_id, r.envelope, r.document, int(r.issuer_id), int(r.product_id)), r.status)
            for r in conn.execute(
                select(
                    Label.label_id, Label.envelope, Label.document, Label.issuer_id, Label.product_id, Label.status
                ).order_by(Label.label_id)
            )
        ]
    size, root = (head.tree_size, head.root_hash) if head is not None else (0, merkle.EMPTY_ROOT)
    return audit_entries(rows, size, root, labels)
