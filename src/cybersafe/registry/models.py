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
    """A label administrator (CLA) with its Ed25519 signing key on record."""

    __tablename__ = "issuers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    contact: Mapped[str | None] = mapped_column(String(300))
    key_id: Mapped[str] = mapped_column(String(64), unique=True)
    public_key_pem: Mapped[str] = mapped_column(Text)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Manufacturer(Base):
    __tablename__ = "manufacturers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200), unique=True)  # casefolded, whitespace-collapsed
    contact: Mapped[str | None] = mapped_column(String(300))
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


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
    # The public JSON without the envelope, rebuilt on every write: the read path is one primary-key lookup
    # that splices ``envelope`` in (see ``service.splice_envelope``).
    document: Mapped[str] = mapped_column(Text)


class LabelEvent(Base):
    """One log entry: its index IS the leaf index in the transparency log."""

    __tablename__ = "label_events"
    log_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    label_id: Mapped[str] = mapped_column(String(80), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # issued | updated | revoked
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


class TreeHead(Base):
    __tablename__ = "tree_heads"
    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary)
    timestamp_ms: Mapped[int] = mapped_column(BigInteger)
    signature: Mapped[bytes] = mapped_column(LargeBinary)


class LogKey(Base):
    """The registry's log signing key, generated on first start."""

    __tablename__ = "log_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    key_id: Mapped[str] = mapped_column(String(64))
    private_key_pem: Mapped[str] = mapped_column(Text)
    public_key_pem: Mapped[str] = mapped_column(Text)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
