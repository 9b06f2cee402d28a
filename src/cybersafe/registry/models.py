"""SQLAlchemy 2 models of the registry: issuers, manufacturers, products, labels, events, the log, tokens.

The Alembic migrations in ``migrations/versions`` create exactly these tables; a test compares them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Issuer(Base):
    """A label administrator (CLA): its current Ed25519 signing key, and its status (every change logged)."""

    __tablename__ = "issuers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    contact: Mapped[str | None] = mapped_column(String(300))
    key_id: Mapped[str] = mapped_column(String(64), unique=True)  # the current key
    public_key_pem: Mapped[str] = mapped_column(Text)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | suspended | revoked
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_effective: Mapped[dt.date | None] = mapped_column(Date)


class IssuerKey(Base):
    """Every key an issuer has signed with: rotated-out keys stay, so the labels they signed still verify."""

    __tablename__ = "issuer_keys"
    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    public_key_pem: Mapped[str] = mapped_column(Text)
    added: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    retired: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Manufacturer(Base):
    __tablename__ = "manufacturers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200), unique=True)  # NFKC, casefolded, whitespace-collapsed
    skeleton: Mapped[str] = mapped_column(String(400), index=True, default="")  # UTS #39 skeleton
    contact: Mapped[str | None] = mapped_column(String(300))
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Grant(Base):
    """A manufacturer's authorisation of an issuer: for one product (model key) or every product of a scheme."""

    __tablename__ = "grants"
    __table_args__ = (Index("ix_grants_lookup", "manufacturer_id", "issuer_id", "scheme"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    manufacturer_id: Mapped[int] = mapped_column(ForeignKey("manufacturers.id"))
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"))
    scheme: Mapped[str | None] = mapped_column(String(60))  # None: every scheme
    model_key: Mapped[str | None] = mapped_column(String(200))  # None: every product of the manufacturer
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    withdrawn: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    log_index: Mapped[int] = mapped_column(BigInteger)


class NameApproval(Base):
    """An admin's approval of a product model name confusable with another of the same manufacturer."""

    __tablename__ = "name_approvals"
    __table_args__ = (UniqueConstraint("manufacturer_id", "model_key", name="uq_name_approvals"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    manufacturer_id: Mapped[int] = mapped_column(ForeignKey("manufacturers.id"))
    model_key: Mapped[str] = mapped_column(String(200))
    approved: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    log_index: Mapped[int] = mapped_column(BigInteger)


class ApiToken(Base):
    """An API token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    issuer_id: Mapped[int | None] = mapped_column(ForeignKey("issuers.id"))
    manufacturer_id: Mapped[int | None] = mapped_column(ForeignKey("manufacturers.id"))
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("manufacturer_id", "model_key", name="uq_products_manufacturer_model"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    manufacturer_id: Mapped[int] = mapped_column(ForeignKey("manufacturers.id"))
    name: Mapped[str] = mapped_column(String(300))
    model: Mapped[str] = mapped_column(String(200))
    model_key: Mapped[str] = mapped_column(String(200))
    model_skeleton: Mapped[str] = mapped_column(String(400), default="")
    support_end: Mapped[str] = mapped_column(String(20))  # ISO date or "unsupported"
    update_instructions: Mapped[str | None] = mapped_column(Text)
    updates_automatic: Mapped[bool | None] = mapped_column(Boolean)
    support_updated: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Label(Base):
    __tablename__ = "labels"
    __table_args__ = (
        Index("ix_labels_product_scheme", "product_id", "scheme"),
        Index("ix_labels_search", "search_text"),
    )
    label_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"))
    scheme: Mapped[str] = mapped_column(String(60))
    scheme_version: Mapped[str] = mapped_column(String(60))
    level: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))  # active | revoked | superseded (expired is computed)
    issued: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date] = mapped_column(Date)
    support_end_signed: Mapped[str] = mapped_column(String(20))
    lab: Mapped[str | None] = mapped_column(String(300))
    envelope: Mapped[str] = mapped_column(Text)  # the DSSE envelope exactly as published
    envelope_sha256: Mapped[str] = mapped_column(String(64))
    search_text: Mapped[str] = mapped_column(String(700))
    revocation_reason: Mapped[str | None] = mapped_column(Text)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    superseded_by: Mapped[str | None] = mapped_column(String(80))
    published: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_event_index: Mapped[int] = mapped_column(BigInteger)
    # A cache of the label's facts as derived from its envelope and log entries (``derive.derive_facts``),
    # rebuilt on every write. Readers derive the facts again and show an integrity error when they differ.
    document: Mapped[str] = mapped_column(Text)


class LogEntry(Base):
    """One log entry: its index IS the leaf index in the transparency log.

    ``subject`` is what the entry is about, so a reader finds every entry of a label (its id) or of an
    issuer (``issuer/<id>``) or manufacturer (``manufacturer/<id>``) with one indexed look-up.
    """

    __tablename__ = "log_entries"
    log_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    subject: Mapped[str] = mapped_column(String(80), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # issued | updated | revoked | issuer | issuer-key | ...
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    entry: Mapped[bytes] = mapped_column(LargeBinary)  # canonical JSON; leaf hash = SHA-256(0x00 || entry)


class LogNode(Base):
    """Hash of the complete subtree (level, index), keyed by ``level << 48 | index``."""

    __tablename__ = "log_nodes"
    pos: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary)


class LogState(Base):
    """The single row every append locks: serialises appends across processes."""

    __tablename__ = "log_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    # The version of the rules the stored label documents were built with; older ones are rebuilt on start.
    documents_version: Mapped[int] = mapped_column(Integer, default=0)


class TreeHead(Base):
    __tablename__ = "tree_heads"
    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary)
    timestamp_ms: Mapped[int] = mapped_column(BigInteger)
    signature: Mapped[bytes] = mapped_column(LargeBinary)


class LogKey(Base):
    """The registry's log signing key, generated on first start, and the log's checkpoint origin."""

    __tablename__ = "log_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    key_id: Mapped[str] = mapped_column(String(64))
    private_key_pem: Mapped[str] = mapped_column(Text)
    public_key_pem: Mapped[str] = mapped_column(Text)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    origin: Mapped[str | None] = mapped_column(String(200))  # C2SP checkpoint origin; fixed once set


class Witness(Base):
    """A witness the log asks to cosign its checkpoints (C2SP tlog-witness ``add-checkpoint``)."""

    __tablename__ = "witnesses"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    vkey: Mapped[str] = mapped_column(String(400))
    url: Mapped[str] = mapped_column(String(400))
    cosigned_size: Mapped[int] = mapped_column(BigInteger, default=0)  # the witness's latest size for this log
    added: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Cosignature(Base):
    """A witness's cosignature line on the checkpoint of one tree size."""

    __tablename__ = "cosignatures"
    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    witness_id: Mapped[int] = mapped_column(ForeignKey("witnesses.id"), primary_key=True)
    line: Mapped[str] = mapped_column(Text)
    timestamp: Mapped[int] = mapped_column(BigInteger)
