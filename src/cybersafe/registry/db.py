"""Engines, SQLite tuning, and the Alembic migrations applied on start."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from cybersafe.errors import RegistryError

MIGRATIONS = Path(__file__).parent / "migrations"
ENV_VAR = "CYBERSAFE_DATABASE_URL"


def default_database_url() -> str:
    """CYBERSAFE_DATABASE_URL, else a SQLite file in the user's data directory."""
    env = os.environ.get(ENV_VAR)
    if env:
        return env
    from platformdirs import user_data_dir

    data = Path(user_data_dir("cybersafe"))
    data.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{data / 'registry.sqlite3'}"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str, *, writer: bool = True, pool_size: int = 5) -> Engine:
    """An engine; for SQLite the writer starts every transaction with BEGIN IMMEDIATE (no lock upgrades)."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise RegistryError(f"database URL is not valid: {url!r}") from exc
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(url, pool_size=pool_size, max_overflow=10, pool_pre_ping=True)
    raise RegistryError(f"unsupported database {parsed.get_backend_name()!r}: use sqlite:/// or postgresql+psycopg://")


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision; safe to call from several processes at once."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(7007001)"))
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
