"""keep label rows inline on PostgreSQL

A label row (public JSON plus signed envelope) is about 4 KB, over PostgreSQL's default 2 KB TOAST
threshold, so the envelope went to the TOAST table and every QR lookup read three places: the row, the
TOAST index and the TOAST chunks. With the threshold at a page, a lookup reads the row only: about half
the database time per lookup at 1,000,000 labels (bench/README.md). Rows written before this revision
stay as they are until rewritten (VACUUM FULL labels). SQLite has no TOAST: nothing to do there.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 18:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE labels SET (toast_tuple_target = 8160)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE labels RESET (toast_tuple_target)")
