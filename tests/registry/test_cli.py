"""Admin commands of `cybersafe registry` run against the database directly; bad input is one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


def _json(args: list[str]) -> dict[str, object]:
    result = runner.invoke(app, [*args, "-f", "json"])
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def test_issuer_lifecycle_names_tokens_and_witnesses_from_the_command_line(tmp_path: Path) -> None:
    # Given a registry database, the admin commands suspend, reinstate, rotate and revoke an issuer, refuse a
    # look-alike manufacturer unless approved, revoke a token, and put a witness on record; each logged change
    # shows in the log's entries.
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    keys = [tmp_path / f"k{i}.pub" for i in range(2)]
    for path in keys:
        path.write_text(public_pem(Ed25519PrivateKey.generate()))
    issuer = _json(["registry", "issuer", "add", "Acme", "--public-key", str(keys[0]), "--db", url])["id"]
    suspended = _json(["registry", "issuer", "suspend", str(issuer), "--reason", "audit", "--db", url])
    assert suspended["status"] == "suspended"
    assert _json(["registry", "issuer", "reinstate", str(issuer), "--reason", "ok", "--db", url])["status"] == "active"
    rotated = _json(["registry", "issuer", "rotate-key", str(issuer), "--public-key", str(keys[1]), "--db", url])
    assert rotated["previous_key_id"] != rotated["key_id"]
    revoked = _json(
        ["registry", "issuer", "revoke", str(issuer), "--reason", "gone", "--effective", "2026-01-01", "--db", url]
    )
    assert (revoked["status"], revoked["effective"]) == ("revoked", "2026-01-01")
    again = runner.invoke(app, ["registry", "issuer", "reinstate", str(issuer), "--reason", "x", "--db", url])
    assert again.exit_code == 2 and "final" in again.output
    _json(["registry", "manufacturer", "add", "Scope Ltd", "--db", url])
    look_alike = runner.invoke(app, ["registry", "manufacturer", "add", "Ѕсоре Ltd", "--db", url])
    assert look_alike.exit_code == 2 and "looks like the registered manufacturer" in look_alike.output
    approved = _json(["registry", "manufacturer", "add", "Ѕсоре Ltd", "--approve-confusable", "--db", url])
    assert approved["approved_confusable_with"] == "Scope Ltd"
    hidden = runner.invoke(app, ["registry", "manufacturer", "add", "Wid\u200bget", "--db", url])
    assert hidden.exit_code == 2 and "U+200B ZERO WIDTH SPACE" in hidden.output
    token = _json(["registry", "token", "create", "--role", "admin", "--db", url])
    assert _json(["registry", "token", "revoke", str(token["id"]), "--db", url])["revoked"] is True
    assert _json(["registry", "approve-model", "--manufacturer-id", "1", "--model", "CAM-l", "--db", url])["model"]
    vkey = runner.invoke(app, ["registry", "witness", "vkey", "--public-key", str(keys[0]), "--name", "w.test/1"])
    assert vkey.exit_code == 0 and vkey.stdout.startswith("w.test/1+")
    added = _json(["registry", "witness", "add", vkey.stdout.strip(), "--url", "http://127.0.0.1:9", "--db", url])
    assert added["name"] == "w.test/1"
    log_key = _json(["registry", "log-key", "--db", url])
    assert str(log_key["vkey"]).startswith(str(log_key["origin"]) + "+")
    collected = runner.invoke(app, ["registry", "witness", "collect", "--db", url, "-f", "json"])
    assert collected.exit_code == 0 and json.loads(collected.stdout)[0]["outcome"] == "failed"  # nobody listens


def test_serve_writes_its_base_url_as_a_browser_writes_the_origin(tmp_path: Path, monkeypatch: Any) -> None:
    # Given `registry serve --base-url` spelt with an upper-case scheme and host, an explicit default port or a
    # trailing slash, when it starts, then it serves (and fixes its log origin) for the URL as a browser's
    # location.origin reads it, which is what the page's check compares labels' links with; a base URL with a
    # path, a query, user info or another scheme is refused with exit 2 and one line.
    import socket

    import uvicorn

    from cybersafe.registry.interface import public_base_url

    for name in (
        db.ENV_VAR,
        "CYBERSAFE_REGISTRY_MIGRATE",
        "CYBERSAFE_REGISTRY_BASE_URL",
        "CYBERSAFE_REGISTRY_RATE_LIMITS",
    ):
        monkeypatch.setenv(name, "")  # serve sets them for its workers; restored after the test
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: None)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"sqlite:///{tmp_path / 'r.db'}"
    argv = ["registry", "serve", "--port", str(port), "--db", url, "-f", "json"]
    started = runner.invoke(app, [*argv, "--base-url", f"HTTP://LocalHost:{port}/"])
    assert started.exit_code == 0, started.output
    facts = json.loads(started.stdout)
    assert (facts["base_url"], facts["origin"]) == (f"http://localhost:{port}", f"localhost:{port}/log")
    assert [
        public_base_url(u)
        for u in (
            "https://labels.example:443/",
            "HTTPS://Labels.Example",
            "http://labels.example:80",
            "http://[::1]:8000",
        )
    ] == ["https://labels.example", "https://labels.example", "http://labels.example", "http://[::1]:8000"]
    for bad, says in [
        ("https://labels.example/registry", "only scheme, host and port"),
        ("https://labels.example/?x", "only scheme, host and port"),
        ("https://user@labels.example", "no user name or password"),
        ("ftp://labels.example", "the scheme must be http or https"),
        ("https://bücher.example", "xn--"),
        ("https://labels.example:99999", "is not a URL"),
    ]:
        refused = runner.invoke(app, [*argv, "--base-url", bad])
        assert refused.exit_code == 2 and "--base-url: " in refused.output and says in refused.output, refused.output


def test_serve_off_loopback_needs_a_base_url(tmp_path: Path) -> None:
    result = runner.invoke(app, ["registry", "serve", "--host", "0.0.0.0", "--db", f"sqlite:///{tmp_path / 'r.db'}"])
    assert result.exit_code == 2
    assert "--base-url: required when listening on 0.0.0.0" in result.output
    bad_rate = runner.invoke(
        app, ["registry", "serve", "--writes-per-token", "lots", "--db", f"sqlite:///{tmp_path / 'r.db'}"]
    )
    assert bad_rate.exit_code == 2 and "--writes-per-token" in bad_rate.output
