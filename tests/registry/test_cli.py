"""Admin commands of `cybersafe registry` run against the database directly; bad input is one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from registry_support import public_pem
from sqlalchemy import inspect
from typer.testing import CliRunner

from cybersafe.cli import app
from cybersafe.registry import db
from cybersafe.registry.models import Base

runner = CliRunner()


def test_admin_commands_create_issuer_manufacturer_and_tokens(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    key = tmp_path / "issuer.pub"
    key.write_text(public_pem(Ed25519PrivateKey.generate()))
    issuer = runner.invoke(
        app, ["registry", "issuer", "add", "Acme", "--public-key", str(key), "--db", url, "-f", "json"]
    )
    assert issuer.exit_code == 0, issuer.output
    issuer_id = json.loads(issuer.stdout)["id"]
    maker = runner.invoke(app, ["registry", "manufacturer", "add", "Widget Co", "--db", url, "-f", "json"])
    assert maker.exit_code == 0, maker.output
    token = runner.invoke(
        app,
        ["registry", "token", "create", "--role", "issuer", "--issuer-id", str(issuer_id), "--db", url, "-f", "json"],
    )
    assert token.exit_code == 0, token.output
    assert json.loads(token.stdout)["token"].startswith("cst_")
    again = runner.invoke(app, ["registry", "manufacturer", "add", "widget  co", "--db", url])
    assert again.exit_code == 2
    assert "already registered" in again.output


def test_bad_admin_input_is_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    bad_key = tmp_path / "bad.pub"
    bad_key.write_text("not a key")
    result = runner.invoke(app, ["registry", "issuer", "add", "X", "--public-key", str(bad_key), "--db", url])
    assert result.exit_code == 2
    assert "bad.pub" in result.output
    assert "Traceback" not in result.output
    missing = runner.invoke(app, ["registry", "token", "create", "--role", "issuer", "--db", url])
    assert missing.exit_code == 2
    assert "issuer_id" in missing.output
    nowhere = runner.invoke(app, ["registry", "publish", str(tmp_path / "none.json"), "--token", "t"])
    assert nowhere.exit_code == 2
    assert "file not found" in nowhere.output
    bad_db = runner.invoke(app, ["registry", "manufacturer", "add", "x", "--db", "mysql://nope"])
    assert bad_db.exit_code == 2
    assert "unsupported database" in bad_db.output


def test_migrations_create_exactly_the_models(tmp_path: Path) -> None:
    # Given a database migrated by Alembic, its tables and columns are those the models declare.
    engine = db.make_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    db.migrate(engine)
    db.migrate(engine)  # idempotent
    found = inspect(engine)
    for table in Base.metadata.sorted_tables:
        columns = {c["name"] for c in found.get_columns(table.name)}
        assert columns == {c.name for c in table.columns}, table.name
    assert set(found.get_table_names()) - {"alembic_version"} == set(Base.metadata.tables)
    engine.dispose()
