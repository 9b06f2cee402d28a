"""registry trust: log entries about issuers and manufacturers, issuer keys and status, grants, name
approvals, witnesses and cosignatures, the checkpoint origin

The label documents stored before this revision were built by older rules; ``documents_version`` 0 makes
the registry rebuild them from the log on its next start (``admin.prepare``).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _rename_label_events()
    with op.batch_alter_table("issuers") as batch:
        batch.add_column(sa.Column("status", sa.String(length=20), nullable=False, server_default="active"))
        batch.add_column(sa.Column("status_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("status_effective", sa.Date(), nullable=True))
    op.create_table(
        "issuer_keys",
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("issuer_id", sa.Integer(), nullable=False),
        sa.Column("public_key_pem", sa.Text(), nullable=False),
        sa.Column("added", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["issuer_id"], ["issuers.id"]),
        sa.PrimaryKeyConstraint("key_id"),
    )
    op.create_index("ix_issuer_keys_issuer_id", "issuer_keys", ["issuer_id"])
    op.execute(
        "INSERT INTO issuer_keys (key_id, issuer_id, public_key_pem, added) "
        "SELECT key_id, id, public_key_pem, created FROM issuers"
    )
    with op.batch_alter_table("manufacturers") as batch:
        batch.add_column(sa.Column("skeleton", sa.String(length=400), nullable=False, server_default=""))
        batch.create_index("ix_manufacturers_skeleton", ["skeleton"])
    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("model_skeleton", sa.String(length=400), nullable=False, server_default=""))
    _create_grants_and_approvals()
    _create_witness_tables()
    with op.batch_alter_table("log_keys") as batch:
        batch.add_column(sa.Column("origin", sa.String(length=200), nullable=True))
    with op.batch_alter_table("log_state") as batch:
        batch.add_column(sa.Column("documents_version", sa.Integer(), nullable=False, server_default="0"))


def _rename_label_events() -> None:
    """label_events(label_id) -> log_entries(subject): entries are now also about issuers and manufacturers."""
    op.execute("ALTER TABLE label_events RENAME TO log_entries")
    op.execute("ALTER TABLE log_entries RENAME COLUMN label_id TO subject")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER INDEX label_events_pkey RENAME TO log_entries_pkey")
        op.execute("ALTER INDEX ix_label_events_label_id RENAME TO ix_log_entries_subject")
    else:
        op.execute("DROP INDEX ix_label_events_label_id")
        op.create_index("ix_log_entries_subject", "log_entries", ["subject"])


def _create_grants_and_approvals() -> None:
    op.create_table(
        "grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("manufacturer_id", sa.Integer(), nullable=False),
        sa.Column("issuer_id", sa.Integer(), nullable=False),
        sa.Column("scheme", sa.String(length=60), nullable=True),
        sa.Column("model_key", sa.String(length=200), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn", sa.DateTime(timezone=True), nullable=True),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["issuer_id"], ["issuers.id"]),
        sa.ForeignKeyConstraint(["manufacturer_id"], ["manufacturers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_grants_lookup", "grants", ["manufacturer_id", "issuer_id", "scheme"])
    op.create_table(
        "name_approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("manufacturer_id", sa.Integer(), nullable=False),
        sa.Column("model_key", sa.String(length=200), nullable=False),
        sa.Column("approved", sa.DateTime(timezone=True), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["manufacturer_id"], ["manufacturers.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("manufacturer_id", "model_key", name="uq_name_approvals"),
    )


def _create_witness_tables() -> None:
    op.create_table(
        "witnesses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("vkey", sa.String(length=400), nullable=False),
        sa.Column("url", sa.String(length=400), nullable=False),
        sa.Column("cosigned_size", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("added", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "cosignatures",
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("witness_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["witness_id"], ["witnesses.id"]),
        sa.PrimaryKeyConstraint("tree_size", "witness_id"),
    )


def downgrade() -> None:
    op.drop_table("cosignatures")
    op.drop_table("witnesses")
    op.drop_table("name_approvals")
    op.drop_index("ix_grants_lookup", "grants")
    op.drop_table("grants")
    op.drop_index("ix_issuer_keys_issuer_id", "issuer_keys")
    op.drop_table("issuer_keys")
    with op.batch_alter_table("log_state") as batch:
        batch.drop_column("documents_version")
    with op.batch_alter_table("log_keys") as batch:
        batch.drop_column("origin")
    with op.batch_alter_table("products") as batch:
        batch.drop_column("model_skeleton")
    with op.batch_alter_table("manufacturers") as batch:
        batch.drop_index("ix_manufacturers_skeleton")
        batch.drop_column("skeleton")
    with op.batch_alter_table("issuers") as batch:
        batch.drop_column("status_effective")
        batch.drop_column("status_reason")
        batch.drop_column("status")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER INDEX ix_log_entries_subject RENAME TO ix_label_events_label_id")
        op.execute("ALTER INDEX log_entries_pkey RENAME TO label_events_pkey")
    else:
        op.execute("DROP INDEX ix_log_entries_subject")
    op.execute("ALTER TABLE log_entries RENAME COLUMN subject TO label_id")
    op.execute("ALTER TABLE log_entries RENAME TO label_events")
    if op.get_bind().dialect.name != "postgresql":
        op.create_index("ix_label_events_label_id", "label_events", ["label_id"])
