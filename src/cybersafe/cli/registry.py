"""``cybersafe registry ...``: run the registry, publish and revoke labels, manage issuers and tokens."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cybersafe.cli._common import FORMAT_OPTION, OutputFormat, console, emit_json, handle_errors

registry_app = typer.Typer(help="The public label registry and its transparency log.", no_args_is_help=True)
issuer_app = typer.Typer(help="Label administrators (issuers) and their signing keys.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens (stored hashed; shown once).", no_args_is_help=True)
manufacturer_app = typer.Typer(help="Manufacturers (who may update support information).", no_args_is_help=True)
registry_app.add_typer(issuer_app, name="issuer")
registry_app.add_typer(token_app, name="token")
registry_app.add_typer(manufacturer_app, name="manufacturer")

DB_OPTION = typer.Option(
    "--db", help="database URL (sqlite:///path or postgresql+psycopg://...); default CYBERSAFE_DATABASE_URL "
    "or a SQLite file in the user data directory"
)  # fmt: skip
URL_OPTION = typer.Option("--url", envvar="CYBERSAFE_REGISTRY_URL", help="registry base URL")
TOKEN_OPTION = typer.Option("--token", envvar="CYBERSAFE_REGISTRY_TOKEN", help="API token")


def register(app: typer.Typer) -> None:
    app.add_typer(registry_app, name="registry")


def _engine(db: str | None) -> Any:
    from cybersafe.registry import db as regdb

    url = db or regdb.default_database_url()
    engine = regdb.make_engine(url)
    regdb.migrate(engine)
    return engine


def _show(data: dict[str, Any], fmt: OutputFormat) -> None:
    if fmt is OutputFormat.JSON:
        emit_json(data)
        return
    table = Table(show_header=False)
    for key, value in data.items():
        table.add_row(str(key), str(value))
    console.print(table)


@registry_app.command("serve")
@handle_errors
def serve(
    db: Annotated[str | None, DB_OPTION] = None,
    host: Annotated[str, typer.Option("--host", help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="uvicorn worker processes")] = 1,
    base_url: Annotated[str, typer.Option("--base-url", help="public URL used in label links")] = "",
) -> None:
    """Run the registry (migrations are applied and the log key is made before the workers start)."""
    import uvicorn

    from cybersafe.registry import db as regdb
    from cybersafe.registry import log

    url = db or regdb.default_database_url()
    engine = _engine(url)
    log.ensure_log_key(engine)
    engine.dispose()
    os.environ[regdb.ENV_VAR] = url
    os.environ["CYBERSAFE_REGISTRY_MIGRATE"] = "0"
    os.environ["CYBERSAFE_REGISTRY_BASE_URL"] = base_url
    console.print(f"registry on http://{host}:{port} (database {_redact(url)}, {workers} worker(s))")
    uvicorn.run(
        "cybersafe.registry.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@registry_app.command("publish")
@handle_errors
def publish(
    label: Annotated[Path, typer.Argument(help="label file (<label_id>.label.json, a DSSE envelope)")],
    token: Annotated[str, TOKEN_OPTION],
    url: Annotated[str, URL_OPTION] = "http://127.0.0.1:8000",
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Publish a signed label (issuer token)."""
    from cybersafe.registry.client import RegistryClient, read_envelope

    with RegistryClient(url, token) as client:
        result = client.publish(read_envelope(label))
    result.pop("tree_head", None)
    _show(result, fmt)


@registry_app.command("revoke")
@handle_errors
def revoke(
    label_id: Annotated[str, typer.Argument(help="label id, CSL-...")],
    reason: Annotated[str, typer.Option("--reason", help="why the label is revoked (shown publicly)")],
    token: Annotated[str, TOKEN_OPTION],
    url: Annotated[str, URL_OPTION] = "http://127.0.0.1:8000",
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Revoke one of your labels (issuer token)."""
    from cybersafe.registry.client import RegistryClient

    with RegistryClient(url, token) as client:
        result = client.revoke(label_id, reason)
    result.pop("tree_head", None)
    _show(result, fmt)


@registry_app.command("support")
@handle_errors
def support(
    product_id: Annotated[int, typer.Argument(help="product id (shown in the label JSON)")],
    support_end: Annotated[str, typer.Option("--support-end", help="new support end, YYYY-MM-DD (extend only)")],
    token: Annotated[str, TOKEN_OPTION],
    url: Annotated[str, URL_OPTION] = "http://127.0.0.1:8000",
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Extend a product's support period (manufacturer token)."""
    from cybersafe.registry.client import RegistryClient

    with RegistryClient(url, token) as client:
        result = client.update_support(product_id, {"support_end": support_end})
    result.pop("tree_head", None)
    _show(result, fmt)


@issuer_app.command("add")
@handle_errors
def issuer_add(
    name: Annotated[str, typer.Argument(help="label administrator name")],
    public_key: Annotated[Path, typer.Option("--public-key", help="the issuer's Ed25519 public key (PEM)")],
    contact: Annotated[str | None, typer.Option("--contact", help="public contact")] = None,
    db: Annotated[str | None, DB_OPTION] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Register an issuer and its signing key (runs against the database directly)."""
    from cybersafe import safeio
    from cybersafe.attest.keys import MAX_KEY_BYTES, load_public_key
    from cybersafe.registry import service

    load_public_key(public_key)  # one clear line for a bad key file
    pem = safeio.read_text(public_key, MAX_KEY_BYTES, what="a PEM key file", field="--public-key")
    _show(service.add_issuer(_engine(db), name, contact, pem), fmt)


@manufacturer_app.command("add")
@handle_errors
def manufacturer_add(
    name: Annotated[str, typer.Argument(help="manufacturer name, as labels name it")],
    contact: Annotated[str | None, typer.Option("--contact", help="public contact")] = None,
    db: Annotated[str | None, DB_OPTION] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Register a manufacturer (runs against the database directly)."""
    from cybersafe.registry import service

    _show(service.add_manufacturer(_engine(db), name, contact), fmt)


@token_app.command("create")
@handle_errors
def token_create(
    role: Annotated[str, typer.Option("--role", help="admin, issuer or manufacturer")],
    name: Annotated[str, typer.Option("--name", help="who holds the token")] = "token",
    issuer_id: Annotated[int | None, typer.Option("--issuer-id")] = None,
    manufacturer_id: Annotated[int | None, typer.Option("--manufacturer-id")] = None,
    db: Annotated[str | None, DB_OPTION] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Create an API token; the secret is printed once (runs against the database directly)."""
    from cybersafe.errors import InputError
    from cybersafe.registry import service
    from cybersafe.registry.interface import Role

    try:
        parsed = Role(role)
    except ValueError:
        raise InputError("must be admin, issuer or manufacturer", field="--role") from None
    _show(service.create_token(_engine(db), parsed, name, issuer_id=issuer_id, manufacturer_id=manufacturer_id), fmt)
