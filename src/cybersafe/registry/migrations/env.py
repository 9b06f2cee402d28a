"""Alembic environment: the registry passes its open connection in ``config.attributes["connection"]``."""

from __future__ import annotations

from alembic import context

from cybersafe.registry.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - migrations only run through cybersafe.registry.db
    raise RuntimeError("run migrations through cybersafe.registry.db.migrate()")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
