"""``cybersafe registry ...``: run the registry and a witness, publish and revoke labels, grant issuers,
manage issuers (add, suspend, reinstate, revoke, rotate keys), manufacturers, tokens and witnesses."""

from __future__ import annotations

import errno
import ipaddress
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cybersafe.cli._common import FORMAT_OPTION, OutputFormat, console, emit_json, fail, handle_errors

registry_app = typer.Typer(help="The public label registry and its transparency log.", no_args_is_help=True)
issuer_app = typer.Typer(help="Label administrators (issuers): keys and status.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens (stored hashed; shown once).", no_args_is_help=True)
manufacturer_app = typer.Typer(help="Manufacturers, and the issuers they authorise.", no_args_is_help=True)
witness_app = typer.Typer(help="Witnesses that cosign the log's checkpoints (C2SP).", no_args_is_help=True)
registry_app.add_typer(issuer_app, name="issuer")
registry_app.add_typer(token_app, name="token")
registry_app.add_typer(manufacturer_app, name="manufacturer")
registry_app.add_typer(witness_app, name="witness")

DB_OPTION = typer.Option(
    "--db", help="database URL (sqlite:///path or postgresql+psycopg://...); default CYBERSAFE_DATABASE_URL "
    "or a SQLite file in the user data directory"
)  # fmt: skip
URL_OPTION = typer.Option("--url", envvar="CYBERSAFE_REGISTRY_URL", help="registry base URL")
TOKEN_OPTION = typer.Option("--token", envvar="CYBERSAFE_REGISTRY_TOKEN", help="API token")
REASON_OPTION = typer.Option("--reason", help="why (shown publicly and logged)")


def register(app: typer.Typer) -> None:
    app.add_typer(registry_app, name="registry")


def _engine(db: str | None) -> Any:
    """The registry database, migrated; a file that is no SQLite database, a path that cannot be opened or a
    server that cannot be reached is one line naming the database (exit 2)."""
    from sqlalchemy.exc import SQLAlchemyError

    from cybersafe.errors import InputError
    from cybersafe.registry import db as regdb

    url = db or regdb.default_database_url()
    engine = regdb.make_engine(url)
    try:
        regdb.migrate(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        raise InputError(_database_problem(url, exc), field="--db") from None
    return engine


def _database_problem(url: str, exc: Exception) -> str:
    from sqlalchemy.engine import make_url

    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        where = parsed.database or url
        if "not a database" in reason:
            return f"{where}: not a SQLite database ({reason})"
        return f"{where}: cannot open it as a SQLite database ({reason})"
    return f"{_redact(url)}: cannot use the database ({reason})"


def _check_port(host: str, port: int, option: str = "--port") -> None:
    """Refuse a port outside 1-65535, and one already in use, before anything starts (one line, exit 2)."""
    import socket

    from cybersafe.errors import InputError

    if not 1 <= port <= 65535:
        raise InputError(f"{port} is not a TCP port (1-65535)", field=option)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise InputError(f"cannot listen on {host!r}: {exc.strerror or exc}", field="--host") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            why = "already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc)).lower()
            raise InputError(f"cannot listen on {host}:{port}: address {why}", field=option) from None


def _signer(engine: Any) -> Any:
    from cybersafe.registry import log

    return log.ensure_log_key(engine)


def _show(data: dict[str, Any], fmt: OutputFormat) -> None:
    if fmt is OutputFormat.JSON:
        emit_json(data)
        return
    table = Table(show_header=False)
    for key, value in data.items():
        table.add_row(str(key), str(value))
    console.print(table)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@registry_app.command("serve")
@handle_errors
def serve(
    db: Annotated[str | None, DB_OPTION] = None,
    host: Annotated[str, typer.Option("--host", help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="uvicorn worker processes")] = 1,
    base_url: Annotated[
        str, typer.Option("--base-url", help="public URL used in every link; required unless bound to loopback")
    ] = "",
    writes_per_token: Annotated[
        str, typer.Option(help="write rate per API token, e.g. 120/min (0/min: off)")
    ] = "120/min",
    writes_per_address: Annotated[str, typer.Option(help="write rate per client address")] = "240/min",
    failed_auth_per_address: Annotated[str, typer.Option(help="failed logins per client address")] = "10/min",
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Run the registry (migrations, the log key and the cache rebuild happen before the workers start)."""
    import uvicorn

    from cybersafe.registry import admin, log
    from cybersafe.registry import db as regdb
    from cybersafe.registry.security import Rate

    if not base_url and not _is_loopback(host):
        fail(f"--base-url: required when listening on {host}: links must never be taken from a request's Host header")
    _check_port(host, port)
    from cybersafe.registry.interface import public_base_url

    try:  # as a browser writes the origin: the links labels carry must match the page's own check
        base_url = public_base_url(base_url or f"http://{f'[{host}]' if ':' in host else host}:{port}")
    except ValueError as exc:
        fail(f"--base-url: {exc}")
    rates = {"--writes-per-token": writes_per_token, "--writes-per-address": writes_per_address,
             "--failed-auth-per-address": failed_auth_per_address}  # fmt: skip
    for option, rate in rates.items():
        Rate.parse(rate, option)  # one clear line before anything starts
    url = db or regdb.default_database_url()
    engine = _engine(url)
    signer = log.ensure_log_key(engine, base_url, fix_origin=True)
    prepared = admin.prepare(engine, signer)
    engine.dispose()
    os.environ[regdb.ENV_VAR] = url
    os.environ["CYBERSAFE_REGISTRY_MIGRATE"] = "0"
    os.environ["CYBERSAFE_REGISTRY_BASE_URL"] = base_url
    os.environ["CYBERSAFE_REGISTRY_RATE_LIMITS"] = ",".join(rates.values())
    _show_start(
        {
            "listening": f"http://{host}:{port}", "base_url": base_url, "database": _redact(url), "workers": workers,
            "documents_rebuilt": prepared["documents_rebuilt"], "origin": signer.origin,
            "vkey": signer.verifier.vkey(),
        },
        fmt,
    )  # fmt: skip
    uvicorn.run(
        "cybersafe.registry.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )


def _show_start(facts: dict[str, Any], fmt: OutputFormat) -> None:
    """What a server is about to serve: one JSON object with --format json, else a few lines."""
    if fmt is OutputFormat.JSON:
        emit_json(facts)
        return
    if facts["documents_rebuilt"]:
        console.print(f"rebuilt {facts['documents_rebuilt']} stored label documents from the log")
    console.print(
        f"registry on {facts['listening']} for {facts['base_url']} "
        f"(database {facts['database']}, {facts['workers']} worker(s))"
    )
    console.print(f"log origin {facts['origin']}; verifier key {facts['vkey']}", highlight=False)


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
    reason: Annotated[str, REASON_OPTION],
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


@registry_app.command("grant")
@handle_errors
def grant(
    issuer_id: Annotated[int, typer.Option("--issuer-id", help="the label administrator you authorise")],
    token: Annotated[str, TOKEN_OPTION],
    scheme: Annotated[str | None, typer.Option("--scheme", help="for this scheme (all your products)")] = None,
    model: Annotated[str | None, typer.Option("--model", help="for this product model (any scheme)")] = None,
    url: Annotated[str, URL_OPTION] = "http://127.0.0.1:8000",
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Authorise a label administrator for your products (manufacturer token); logged."""
    from cybersafe.registry.client import RegistryClient

    with RegistryClient(url, token) as client:
        _show(client.grant(issuer_id, scheme, model), fmt)


@registry_app.command("approve-model")
@handle_errors
def approve_model(
    manufacturer_id: Annotated[int, typer.Option("--manufacturer-id")],
    model: Annotated[str, typer.Option("--model", help="the model name that looks like another")],
    db: Annotated[str | None, DB_OPTION] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Approve a product model name confusable with another of the manufacturer's (admin; logged)."""
    from cybersafe.registry import admin

    engine = _engine(db)
    _show(admin.approve_model(engine, _signer(engine), manufacturer_id, model), fmt)


@registry_app.command("log-key")
@handle_errors
def log_key(db: Annotated[str | None, DB_OPTION] = None, fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Print the log's origin and C2SP verifier key, to publish out of band (readers pin it: verify --log-key)."""
    from cybersafe.registry import log

    signer = log.ensure_log_key(_engine(db))
    _show({"origin": signer.origin, "vkey": signer.verifier.vkey()}, fmt)


@registry_app.command("audit")
@handle_errors
def audit_log(db: Annotated[str | None, DB_OPTION] = None, fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Audit the whole log and every label, as a monitor would; exit 1 with one line per problem.

    Each entry must be filed under what its content names, the leaves must make the signed tree head, and each
    label's status and stored copy must be what ALL the entries naming it say."""
    from cybersafe.registry import audit

    engine = _engine(db)
    try:
        report = audit.audit(engine)
    finally:
        engine.dispose()
    if fmt is OutputFormat.JSON:
        emit_json(report.as_dict())
    elif report.ok:
        console.print(f"log audit: {report.entries} entries and {report.labels} labels agree with the log")
    else:
        for problem in report.problems:
            console.print(f"log audit: {problem}", markup=False, highlight=False)
    if not report.ok:
        raise typer.Exit(1)


# --- issuers -----------------------------------------------------------------------------------------


@issuer_app.command("add")
@handle_errors
def issuer_add(
    name: Annotated[str, typer.Argument(help="label administrator name")],
    public_key: Annotated[Path, typer.Option("--public-key", help="the issuer's Ed25519 public key (PEM)")],
    contact: Annotated[str | None, typer.Option("--contact", help="public contact")] = None,
    approve_confusable: Annotated[
        bool, typer.Option("--approve-confusable", help="register a name that looks like a registered issuer's")
    ] = False,
    db: Annotated[str | None, DB_OPTION] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Register an issuer and its signing key (runs against the database directly; logged)."""
    from cybersafe import safeio
    from cybersafe.attest.keys import MAX_KEY_BYTES, load_public_key
    from cybersafe.registry import admin

    load_public_key(public_key)  # one clear line for a bad key file
    pem = safeio.read_text(public_key, MAX_KEY_BYTES, what="a PEM key file", field="--public-key")
    engine = _engine(db)
    _show(admin.add_issuer(engine, _signer(engine), name, contact, pem, approve_confusable=approve_confusable), fmt)


def _set_status(
    issuer_id: int, status: str, reason: str, effective: str | None, db: str | None, fmt: OutputFormat
) -> None:
    from cybersafe.cli._common import parse_now
    from cybersafe.registry import admin
    from cybersafe.registry.interface import IssuerStatus

    on = parse_now(effective).date() if effective else None
    engine = _engine(db)
    _show(admin.set_issuer_status(engine, _signer(engine), issuer_id, IssuerStatus(status), reason, effective=on), fmt)


EFFECTIVE_OPTION = typer.Option("--effective", help="from this date (YYYY-MM-DD; default today)")


@issuer_app.command("revoke")
@handle_errors
def issuer_revoke(
    issuer_id: Annotated[int, typer.Argument(help="issuer id")],
    reason: Annotated[str, REASON_OPTION],
    effective: Annotated[str | None, EFFECTIVE_OPTION] = None,
    db: Annotated[str | None, DB_OPTION] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Revoke an issuer for good: its labels read "issuer revoked" from the effective date (logged)."""
    _set_status(issuer_id, "revoked", reason, effective, db, fmt)


@issuer_app.command("suspend")
@handle_errors
def issuer_suspend(
    issuer_id: Annotated[int, typer.Argument(help="issuer id")],
    reason: Annotated[str, REASON_OPTION],
    effective: Annotated[str | None, EFFECTIVE_OPTION] = None,
    db: Annotated[str | None, DB_OPTION] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Suspend an issuer: no new labels until reinstated; its labels stand (logged)."""
    _set_status(issuer_id, "suspended", reason, effective, db, fmt)


@issuer_app.command("reinstate")
@handle_errors
def issuer_reinstate(
    issuer_id: Annotated[int, typer.Argument(help="issuer id")],
    reason: Annotated[str, REASON_OPTION],
    db: Annotated[str | None, DB_OPTION] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """End a suspension (logged). A revoked issuer cannot be reinstated."""
    _set_status(issuer_id, "active", reason, None, db, fmt)


@issuer_app.command("rotate-key")
@handle_errors
def issuer_rotate_key(
    issuer_id: Annotated[int, typer.Argument(help="issuer id")],
    public_key: Annotated[Path, typer.Option("--public-key", help="the new Ed25519 public key (PEM)")],
    db: Annotated[str | None, DB_OPTION] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Make a new key the issuer's signing key; labels signed with the old one still verify (both logged)."""
    from cybersafe import safeio
    from cybersafe.attest.keys import MAX_KEY_BYTES, load_public_key
    from cybersafe.registry import admin

    load_public_key(public_key)
    pem = safeio.read_text(public_key, MAX_KEY_BYTES, what="a PEM key file", field="--public-key")
    engine = _engine(db)
    _show(admin.rotate_issuer_key(engine, _signer(engine), issuer_id, pem), fmt)


@issuer_app.command("administers")
@handle_errors
def issuer_administers(
    issuer_id: Annotated[int, typer.Argument(help="issuer id")],
    scheme: Annotated[str, typer.Option("--scheme", help="the scheme id, as its catalog names it")],
    end: Annotated[bool, typer.Option("--end", help="end the record instead")] = False,
    reason: Annotated[str, typer.Option("--reason", help="why (logged)")] = "",
    db: Annotated[str | None, DB_OPTION] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Record an issuer as a scheme's label administrator (or licensee): only such an issuer may publish labels in
    the scheme's own style (artwork scheme-mark); logged."""
    from cybersafe.registry import admin

    engine = _engine(db)
    _show(
        admin.set_scheme_administrator(engine, _signer(engine), issuer_id, scheme, administers=not end, reason=reason),
        fmt,
    )


# --- manufacturers and tokens ------------------------------------------------------------------------


@manufacturer_app.command("add")
@handle_errors
def manufacturer_add(
    name: Annotated[str, typer.Argument(help="manufacturer name, as labels name it")],
    contact: Annotated[str | None, typer.Option("--contact", help="public contact")] = None,
    approve_confusable: Annotated[
        bool, typer.Option("--approve-confusable", help="register it although it looks like a registered name")
    ] = False,
    db: Annotated[str | None, DB_OPTION] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Register a manufacturer (runs against the database directly; logged)."""
    from cybersafe.registry import admin

    engine = _engine(db)
    _show(admin.add_manufacturer(engine, _signer(engine), name, contact, approve_confusable=approve_confusable), fmt)


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
    from cybersafe.registry import admin
    from cybersafe.registry.interface import Role

    try:
        parsed = Role(role)
    except ValueError:
        raise InputError("must be admin, issuer or manufacturer", field="--role") from None
    _show(admin.create_token(_engine(db), parsed, name, issuer_id=issuer_id, manufacturer_id=manufacturer_id), fmt)


@token_app.command("revoke")
@handle_errors
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="token id (printed when it was created)")],
    db: Annotated[str | None, DB_OPTION] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Revoke an API token at once."""
    from cybersafe.registry import admin

    _show(admin.revoke_token(_engine(db), token_id), fmt)


# --- witnesses ---------------------------------------------------------------------------------------


@witness_app.command("add")
@handle_errors
def witness_add(
    vkey: Annotated[str, typer.Argument(help="the witness's verifier key, name+hexid+base64")],
    url: Annotated[str, typer.Option("--url", help="the witness's submission prefix (POST <url>/add-checkpoint)")],
    db: Annotated[str | None, DB_OPTION] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Put a witness on record: `witness collect` asks it to cosign every new checkpoint."""
    from cybersafe.registry import admin

    _show(admin.add_witness(_engine(db), vkey, url), fmt)


@witness_app.command("collect")
@handle_errors
def witness_collect(
    db: Annotated[str | None, DB_OPTION] = None,
    every: Annotated[float, typer.Option("--every", help="repeat every N seconds (0: once)")] = 0.0,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Send the newest checkpoint to every witness on record and store the cosignatures that verify."""
    import time

    from cybersafe.registry import witness

    engine = _engine(db)
    signer = _signer(engine)
    while True:
        results = witness.collect(engine, signer)
        rows = [
            {"witness": r.witness, "tree_size": r.tree_size, "outcome": r.outcome, "detail": r.detail} for r in results
        ]
        if fmt is OutputFormat.JSON and every > 0:  # repeated: one JSON array per line (JSON Lines)
            sys.stdout.write(json.dumps(rows) + "\n")
            sys.stdout.flush()
        elif fmt is OutputFormat.JSON:
            emit_json(rows)
        else:
            for row in rows:
                console.print(f"{row['witness']}: {row['outcome']} at {row['tree_size']} {row['detail']}".rstrip())
        if every <= 0:
            return
        time.sleep(every)


@witness_app.command("serve")
@handle_errors
def witness_serve(
    key: Annotated[Path, typer.Option("--key", help="the witness's Ed25519 private key (PEM)")],
    name: Annotated[str, typer.Option("--name", help="the witness's name, e.g. witness.example/w1")],
    log: Annotated[list[str], typer.Option("--log", help="verifier key of a log to witness (repeatable)")],
    state: Annotated[Path, typer.Option("--state", help="file keeping the latest checkpoint per log")],
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8010,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Run a C2SP witness: POST /add-checkpoint cosigns a checkpoint after checking it is consistent with the
    last one it cosigned for that log."""
    import uvicorn

    from cybersafe.attest.keys import load_private_key
    from cybersafe.errors import InputError
    from cybersafe.registry import note, witness

    _check_port(host, port)
    try:
        logs = {v.name: v for v in (note.parse_vkey(k) for k in log)}
    except note.NoteError as exc:
        raise InputError(str(exc), field="--log") from None
    config = witness.WitnessConfig(name, load_private_key(key), logs, state)
    if fmt is OutputFormat.JSON:
        emit_json({"witness": name, "listening": f"http://{host}:{port}", "vkey": config.verifier.vkey()})
    else:
        console.print(f"witness {name} on http://{host}:{port}; verifier key {config.verifier.vkey()}")
    uvicorn.run(witness.witness_app(config), host=host, port=port, log_level="warning", access_log=False)


@witness_app.command("vkey")
@handle_errors
def witness_vkey(
    public_key: Annotated[Path, typer.Option("--public-key", help="the witness's Ed25519 public key (PEM)")],
    name: Annotated[str, typer.Option("--name", help="the witness's name")],
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Print a witness's verifier key (what the registry and verifiers are configured with)."""
    from cybersafe.attest.keys import load_public_key
    from cybersafe.errors import InputError
    from cybersafe.registry import note

    try:
        vkey = note.verifier_for(name, load_public_key(public_key), note.COSIGNATURE).vkey()
    except note.NoteError as exc:
        raise InputError(str(exc), field="--name") from None
    if fmt is OutputFormat.JSON:
        emit_json({"name": name, "vkey": vkey})
    else:
        console.print(vkey, highlight=False)
