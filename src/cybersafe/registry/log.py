"""The transparency log stored in the registry database.

Every event (a label issued, updated or revoked; an issuer registered, re-keyed, suspended or revoked; a
manufacturer's grant) is one leaf. ``log_nodes`` keeps the hash of every complete subtree, so a root, an
inclusion proof or a consistency proof costs one indexed query for at most ~2*log2(n) rows. Appends lock
the single ``log_state`` row (PostgreSQL ``FOR UPDATE``; SQLite writers start with ``BEGIN IMMEDIATE``), and
the leaves, nodes, size and the new signed tree head are written in the caller's transaction, together
with the label change that caused them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, Engine, insert, select, update

from cybersafe import jsonio
from cybersafe.registry import merkle, note
from cybersafe.registry.models import LogEntry, LogKey, LogNode, LogState, TreeHead

LOG_NAME = "cybersafe-registry/v1"
POS_SHIFT = 48  # a node is stored at (level << 48) | index


def node_pos(level: int, index: int) -> int:
    return (level << POS_SHIFT) | index


def sth_message(tree_size: int, timestamp_ms: int, root_hash: bytes) -> bytes:
    """The bytes a tree head signature covers."""
    return jsonio.canonical(
        {"log": LOG_NAME, "tree_size": tree_size, "timestamp": timestamp_ms, "root_hash": root_hash.hex()}
    )


def raw_public_key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class SignedTreeHead:
    tree_size: int
    root_hash: bytes
    timestamp_ms: int
    signature: bytes

    def as_json(self) -> dict[str, object]:
        import base64

        return {
            "log": LOG_NAME,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash.hex(),
            "timestamp": self.timestamp_ms,
            "signature": base64.b64encode(self.signature).decode(),
        }


@dataclass(frozen=True)
class NewEvent:
    subject: str  # a label id, ``issuer/<id>`` or ``manufacturer/<id>``
    kind: str
    at: dt.datetime
    entry: bytes


def new_event(subject: str, kind: str, at: dt.datetime, **detail: object) -> NewEvent:
    """A leaf: canonical JSON of ``{"v": 1, "kind", "at", ...detail}``."""
    body = {"v": 1, "kind": kind, "at": at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"), **detail}
    return NewEvent(subject, kind, at, jsonio.canonical(body))


@dataclass(frozen=True)
class LogSigner:
    """The log's signing key and its checkpoint origin (also the key name in its note signatures)."""

    key: Ed25519PrivateKey
    origin: str

    def public_key(self) -> Ed25519PublicKey:
        return self.key.public_key()

    @property
    def verifier(self) -> note.Verifier:
        return note.verifier_for(self.origin, self.key)

    def checkpoint(self, head: SignedTreeHead) -> str:
        """The C2SP checkpoint of ``head``, signed by the log (witness cosignatures are added by readers)."""
        text = note.checkpoint_text(self.origin, head.tree_size, head.root_hash)
        return text + "\n" + note.sign_line(text, self.origin, self.key)


def default_origin(base_url: str, key_id: str) -> str:
    """``host[:port]/path`` of the public URL (a schema-less URL, as C2SP recommends), else one made from
    the log key, which is just as unique."""
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    if parts.hostname and not any(c.isspace() or c == "+" for c in base_url):
        return f"{parts.netloc}{parts.path.rstrip('/')}/log"
    return f"cybersafe-registry/{key_id[:16]}"


def ensure_log_key(engine: Engine, base_url: str = "", *, fix_origin: bool = False) -> LogSigner:
    """The log signing key, generated and stored on first use, and the log's checkpoint origin.

    The origin is fixed (stored) the first time the registry serves the log (``fix_origin``), from its
    public URL; admin commands run before that leave it open.
    """
    key = _ensure_key(engine)
    with engine.begin() as conn:
        origin = conn.execute(select(LogKey.origin).where(LogKey.id == 1)).scalar_one()
        if origin is None:
            origin = default_origin(base_url, raw_public_key_id(key.public_key()))
            if fix_origin:
                conn.execute(update(LogKey).where(LogKey.id == 1).values(origin=origin))
    return LogSigner(key, str(origin))


def _ensure_key(engine: Engine) -> Ed25519PrivateKey:
    with engine.begin() as conn:
        row = conn.execute(select(LogKey.private_key_pem).where(LogKey.id == 1)).scalar_one_or_none()
        if row is None:
            key = Ed25519PrivateKey.generate()
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ).decode()
            public = key.public_key()
            conn.execute(
                insert(LogKey).values(
                    id=1,
                    key_id=raw_public_key_id(public),
                    private_key_pem=pem,
                    public_key_pem=public.public_bytes(
                        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                    ).decode(),
                    created=dt.datetime.now(dt.UTC),
                )
            )
            return key
    loaded = serialization.load_pem_private_key(row.encode(), password=None)
    assert isinstance(loaded, Ed25519PrivateKey)
    return loaded


def _fetch(conn: Connection, keys: set[merkle.NodeKey]) -> dict[merkle.NodeKey, bytes]:
    """Fetch nodes in one query. PostgreSQL gets one array parameter, so the statement is prepared once
    and reused; SQLite gets the positions inlined: they are integers computed here, never user text."""
    if not keys:
        return {}
    positions = sorted(node_pos(level, index) for level, index in keys)
    if conn.dialect.name == "postgresql":
        rows = conn.exec_driver_sql("SELECT pos, hash FROM log_nodes WHERE pos = ANY(%s::bigint[])", (positions,))
    else:
        inlined = ",".join(str(int(p)) for p in positions)
        rows = conn.exec_driver_sql(f"SELECT pos, hash FROM log_nodes WHERE pos IN ({inlined})")  # noqa: S608 - integers only
    mask = (1 << POS_SHIFT) - 1
    return {(int(pos) >> POS_SHIFT, int(pos) & mask): bytes(digest) for pos, digest in rows}


def peak_nodes(conn: Connection, size: int) -> dict[merkle.NodeKey, bytes]:
    """The complete subtrees a tree of ``size`` leaves is made of: what an append (or a bulk load) builds on."""
    return _fetch(conn, set(merkle.peaks(size)))


def _run(conn: Connection, algorithm: Callable[[merkle.NodeGetter], merkle.T]) -> merkle.T:
    """Run a proof algorithm: learn the nodes it reads, fetch them in ONE query, run it for real."""
    nodes = _fetch(conn, merkle.needed_nodes(algorithm))
    return algorithm(merkle.getter_from(nodes))


def append(
    conn: Connection, events: Sequence[NewEvent], key: Ed25519PrivateKey | LogSigner, now: dt.datetime
) -> tuple[int, SignedTreeHead]:
    """Append events as leaves, sign the new tree head; returns (index of the first event, tree head)."""
    if isinstance(key, LogSigner):
        key = key.key
    size = conn.execute(select(LogState.size).where(LogState.id == 1).with_for_update()).scalar_one()
    peaks = _fetch(conn, set(merkle.peaks(size)))
    created = merkle.new_nodes(size, [merkle.leaf_hash(e.entry) for e in events], peaks)
    if events:
        conn.execute(
            insert(LogEntry),
            [
                {"log_index": size + i, "subject": e.subject, "kind": e.kind, "at": e.at, "entry": e.entry}
                for i, e in enumerate(events)
            ],
        )
        conn.execute(insert(LogNode), [{"pos": node_pos(*k), "hash": h} for k, h in created.items()])
    new_size = size + len(events)
    conn.execute(update(LogState).where(LogState.id == 1).values(size=new_size))
    known = {**peaks, **created}
    root_hash = merkle.root(new_size, merkle.getter_from(known)) if new_size else merkle.EMPTY_ROOT
    timestamp_ms = int(now.timestamp() * 1000)
    head = SignedTreeHead(new_size, root_hash, timestamp_ms, key.sign(sth_message(new_size, timestamp_ms, root_hash)))
    if events:
        conn.execute(
            insert(TreeHead).values(
                tree_size=new_size, root_hash=root_hash, timestamp_ms=timestamp_ms, signature=head.signature
            )
        )
    return size, head


def latest_tree_head(conn: Connection) -> SignedTreeHead | None:
    row = conn.execute(select(TreeHead).order_by(TreeHead.tree_size.desc()).limit(1)).first()
    return None if row is None else _head(row)


def tree_head(conn: Connection, tree_size: int) -> SignedTreeHead | None:
    row = conn.execute(select(TreeHead).where(TreeHead.tree_size == tree_size)).first()
    return None if row is None else _head(row)


def _head(row: object) -> SignedTreeHead:
    return SignedTreeHead(
        int(row.tree_size),  # type: ignore[attr-defined]
        bytes(row.root_hash),  # type: ignore[attr-defined]
        int(row.timestamp_ms),  # type: ignore[attr-defined]
        bytes(row.signature),  # type: ignore[attr-defined]
    )


def inclusion_proof(conn: Connection, index: int, tree_size: int) -> list[bytes]:
    return _run(conn, lambda get: merkle.inclusion_path(index, tree_size, get))


def consistency_proof(conn: Connection, first: int, second: int) -> list[bytes]:
    return _run(conn, lambda get: merkle.consistency_path(first, second, get))


def root_at(conn: Connection, tree_size: int) -> bytes:
    return _run(conn, lambda get: merkle.root(tree_size, get))


def log_size(conn: Connection) -> int:
    return int(conn.execute(select(LogState.size).where(LogState.id == 1)).scalar_one())


def entries_about(conn: Connection, subjects: Sequence[str]) -> dict[str, list[tuple[int, bytes]]]:
    """Every (index, entry) about each subject, in log order."""
    out: dict[str, list[tuple[int, bytes]]] = {s: [] for s in subjects}
    if not subjects:
        return out
    rows = conn.execute(
        select(LogEntry.subject, LogEntry.log_index, LogEntry.entry)
        .where(LogEntry.subject.in_(list(subjects)))
        .order_by(LogEntry.log_index)
    ).all()
    for row in rows:
        out[row.subject].append((int(row.log_index), bytes(row.entry)))
    return out


def issuer_subject(issuer_id: int) -> str:
    return f"issuer/{issuer_id}"


def manufacturer_subject(manufacturer_id: int) -> str:
    return f"manufacturer/{manufacturer_id}"
