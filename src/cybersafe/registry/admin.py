"""Who may do what: issuers and their keys and status, manufacturers and their grants, name approvals,
tokens, witnesses, and the start-up step that brings an older database's log and cache up to date.

Everything a reader relies on is also a log entry, written in the same transaction as the row: an issuer's
registration (name and public key), each key rotation (old and new key), each suspension, reinstatement
or revocation (reason and effective date), each manufacturer, each grant and its withdrawal, and each
approval of a confusable name. Tokens and witness addresses are configuration, not logged.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import secrets
from typing import Any

from sqlalchemy import Connection, Engine, and_, insert, select, update

from cybersafe.attest.keys import key_id as public_key_id
from cybersafe.attest.keys import load_public_key
from cybersafe.errors import InputError
from cybersafe.registry import documents, log, names, note
from cybersafe.registry.interface import Conflict, Forbidden, IssuerStatus, NotFound, Principal, Rejected, Role
from cybersafe.registry.models import (
    ApiToken,
    Grant,
    Issuer,
    IssuerKey,
    Label,
    LogEntry,
    LogState,
    Manufacturer,
    NameApproval,
    Witness,
)
from cybersafe.registry.tokens import TOKEN_PREFIX, token_digest

Signer = log.LogSigner


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _raw_key_b64(public_key_pem: str) -> tuple[str, str]:
    """(key id, base64 raw key) of an Ed25519 public key in PEM; Rejected when it is not one."""
    try:
        key = load_public_key(public_key_pem)
    except InputError as exc:
        raise Rejected(f"public_key_pem: {exc.message}") from None
    return public_key_id(key), base64.b64encode(note.raw_public(key)).decode()


# --- issuers -----------------------------------------------------------------------------------------


def add_issuer(
    engine: Engine,
    signer: Signer,
    name: str,
    contact: str | None,
    public_key_pem: str,
    *,
    approve_confusable: bool = False,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Register an issuer (name and contact checked as names are: NFKC as typed, whitespace collapsed). A name confusable with a
    registered issuer's (same UTS #39 skeleton: ``AIpha Labels`` against ``Alpha Labels``) is refused (409)
    unless the admin approves it, and the approval is logged."""
    name = names.normalise(name)
    names.check_name("name", name, signed=False)
    if contact is not None:
        contact = names.normalise(contact)
        names.check_name("contact", contact, signed=False)
    kid, _ = _raw_key_b64(public_key_pem)
    at = now or now_utc()
    with engine.begin() as conn:
        clash = conn.execute(select(Issuer.id).where((Issuer.name == name) | (Issuer.key_id == kid))).first()
        if clash is not None or conn.execute(select(IssuerKey.key_id).where(IssuerKey.key_id == kid)).first():
            raise Conflict("an issuer with this name or key is already registered")
        skeleton = names.skeleton(name)
        look_alike = next(
            (n for n in conn.execute(select(Issuer.name)).scalars() if names.skeleton(n) == skeleton), None
        )
        if look_alike is not None and not approve_confusable:
            raise Conflict(
                f"name: {name!r} looks like the registered issuer {look_alike!r}; "
                "an admin must approve it (approve_confusable)"
            )
        issuer_id = int(
            conn.execute(
                insert(Issuer)
                .values(
                    name=name, contact=contact, key_id=kid, public_key_pem=public_key_pem, created=at, status="active"
                )
                .returning(Issuer.id)
            ).scalar_one()
        )
        conn.execute(insert(IssuerKey).values(key_id=kid, issuer_id=issuer_id, public_key_pem=public_key_pem, added=at))
        _log_issuer(conn, signer, issuer_id, at, look_alike)
    return {
        "id": issuer_id, "name": name, "contact": contact, "key_id": kid, "status": "active",
        "approved_confusable_with": look_alike,
    }  # fmt: skip


def _log_issuer(
    conn: Connection, signer: Signer, issuer_id: int, at: dt.datetime, look_alike: str | None = None
) -> None:
    row = conn.execute(select(Issuer).where(Issuer.id == issuer_id)).one()
    kid, raw = _raw_key_b64(row.public_key_pem)
    detail = {"approved_confusable_with": look_alike} if look_alike is not None else {}
    event = log.new_event(
        log.issuer_subject(issuer_id), "issuer", at,
        issuer_id=issuer_id, name=row.name, contact=row.contact, key_id=kid, public_key=raw, **detail,
    )  # fmt: skip
    log.append(conn, [event], signer, at)


def set_issuer_status(
    engine: Engine,
    signer: Signer,
    issuer_id: int,
    status: IssuerStatus,
    reason: str,
    *,
    effective: dt.date | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Suspend, reinstate or revoke an issuer. A revocation is final and counts from ``effective`` (default
    today): from then on every label of the issuer reads "issuer revoked"."""
    at = now or now_utc()
    on = effective or at.date()
    if not reason.strip():
        raise Rejected("reason: say why (it is shown on every label page of the issuer)")
    names.check_text("reason", reason)
    with engine.begin() as conn:
        row = conn.execute(select(Issuer.status).where(Issuer.id == issuer_id)).first()
        if row is None:
            raise NotFound(f"no issuer {issuer_id}")
        if row.status == IssuerStatus.REVOKED.value:
            raise Conflict(f"issuer {issuer_id} is revoked; a revocation is final")
        conn.execute(
            update(Issuer)
            .where(Issuer.id == issuer_id)
            .values(status=status.value, status_reason=reason, status_effective=on)
        )
        event = log.new_event(
            log.issuer_subject(issuer_id), "issuer-status", at,
            issuer_id=issuer_id, status=status.value, reason=reason, effective=on.isoformat(),
        )  # fmt: skip
        first, _ = log.append(conn, [event], signer, at)
    return {"id": issuer_id, "status": status.value, "reason": reason, "effective": on.isoformat(), "log_index": first}


def rotate_issuer_key(
    engine: Engine, signer: Signer, issuer_id: int, public_key_pem: str, *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Make a new key the issuer's signing key; the old one stays on record for the labels it signed.
    Both keys are in the log entry."""
    kid, raw = _raw_key_b64(public_key_pem)
    at = now or now_utc()
    with engine.begin() as conn:
        row = conn.execute(select(Issuer.key_id, Issuer.status).where(Issuer.id == issuer_id)).first()
        if row is None:
            raise NotFound(f"no issuer {issuer_id}")
        if row.status == IssuerStatus.REVOKED.value:
            raise Conflict(f"issuer {issuer_id} is revoked")
        if conn.execute(select(IssuerKey.key_id).where(IssuerKey.key_id == kid)).first() is not None:
            raise Conflict("this key is already on record")
        conn.execute(update(IssuerKey).where(IssuerKey.key_id == row.key_id).values(retired=at))
        conn.execute(insert(IssuerKey).values(key_id=kid, issuer_id=issuer_id, public_key_pem=public_key_pem, added=at))
        conn.execute(update(Issuer).where(Issuer.id == issuer_id).values(key_id=kid, public_key_pem=public_key_pem))
        event = log.new_event(
            log.issuer_subject(issuer_id), "issuer-key", at,
            issuer_id=issuer_id, key_id=kid, public_key=raw, previous_key_id=row.key_id,
        )  # fmt: skip
        first, _ = log.append(conn, [event], signer, at)
    return {"id": issuer_id, "key_id": kid, "previous_key_id": row.key_id, "log_index": first}


# The registry admin's record that an issuer is a scheme's label administrator (or licensee): only such an
# issuer may publish a label drawn in the scheme's own style (``artwork: scheme-mark``). The record is the
# log itself: entries on the issuer's subject, folded in log order.
SCHEME_ADMIN = "scheme-administrator"
SCHEME_ADMIN_ENDED = "scheme-admin-ended"
_SCHEME_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,59}")


def set_scheme_administrator(
    engine: Engine,
    signer: Signer,
    issuer_id: int,
    scheme: str,
    *,
    administers: bool = True,
    reason: str = "",
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Record (or end) that an issuer administers ``scheme``'s consumer label; logged."""
    if not _SCHEME_ID.fullmatch(scheme):
        raise Rejected(f"scheme: {scheme!r} is not a scheme id (lower-case letters, digits, '.', '_', '-')")
    at = now or now_utc()
    with engine.begin() as conn:
        row = conn.execute(select(Issuer.status, Issuer.name).where(Issuer.id == issuer_id)).first()
        if row is None:
            raise NotFound(f"no issuer {issuer_id}")
        if administers and row.status != IssuerStatus.ACTIVE.value:
            raise Conflict(f"issuer {issuer_id} is {row.status}")
        if administers_scheme(conn, issuer_id, scheme) == administers:
            state = "already" if administers else "not"
            raise Conflict(f"issuer {issuer_id} is {state} recorded as {scheme}'s label administrator")
        kind = SCHEME_ADMIN if administers else SCHEME_ADMIN_ENDED
        detail = {"issuer_id": issuer_id, "scheme": scheme, **({"reason": reason} if reason else {})}
        first, _ = log.append(conn, [log.new_event(log.issuer_subject(issuer_id), kind, at, **detail)], signer, at)
    return {"issuer_id": issuer_id, "issuer": row.name, "scheme": scheme, "administers": administers,
            "log_index": first}  # fmt: skip


def administered_schemes(conn: Connection, issuer_id: int) -> list[str]:
    """The schemes the registry admin records the issuer as label administrator of, from its log entries."""
    rows = conn.execute(
        select(LogEntry.kind, LogEntry.entry)
        .where(
            and_(
                LogEntry.subject == log.issuer_subject(issuer_id),
                LogEntry.kind.in_((SCHEME_ADMIN, SCHEME_ADMIN_ENDED)),
            )
        )
        .order_by(LogEntry.log_index)
    ).all()
    schemes: dict[str, bool] = {}
    for row in rows:
        schemes[str(json.loads(bytes(row.entry)).get("scheme"))] = row.kind == SCHEME_ADMIN
    return sorted(s for s, on in schemes.items() if on)


def administers_scheme(conn: Connection, issuer_id: int, scheme: str) -> bool:
    return scheme in administered_schemes(conn, issuer_id)


def list_issuers(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(Issuer.id, Issuer.name, Issuer.contact, Issuer.key_id, Issuer.status, Issuer.status_effective).order_by(
            Issuer.id
        )
    ).all()
    keys = conn.execute(select(IssuerKey.issuer_id, IssuerKey.key_id, IssuerKey.retired).order_by(IssuerKey.added))
    by_issuer: dict[int, list[dict[str, Any]]] = {}
    for k in keys:
        by_issuer.setdefault(int(k.issuer_id), []).append({"key_id": k.key_id, "retired": k.retired is not None})
    return [
        {
            "id": r.id,
            "name": r.name,
            "contact": r.contact,
            "key_id": r.key_id,
            "keys": by_issuer.get(int(r.id), []),
            "status": r.status,
            "status_effective": r.status_effective.isoformat() if r.status_effective else None,
            "administrator_of": administered_schemes(conn, int(r.id)),
        }
        for r in rows
    ]


# --- manufacturers, grants and names -----------------------------------------------------------------


def add_manufacturer(
    engine: Engine,
    signer: Signer,
    name: str,
    contact: str | None,
    *,
    approve_confusable: bool = False,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Register a manufacturer (its name checked as names are: NFKC as typed, whitespace collapsed). A name confusable with one on record (same UTS #39
    skeleton) is refused unless the admin approves it, and the approval is logged."""
    name = names.normalise(name)
    names.check_name("name", name, signed=False)
    key, skeleton = names.name_key(name), names.skeleton(name)
    at = now or now_utc()
    with engine.begin() as conn:
        if conn.execute(select(Manufacturer.id).where(Manufacturer.name_key == key)).first() is not None:
            raise Conflict("a manufacturer with this name is already registered")
        look_alike = conn.execute(select(Manufacturer.name).where(Manufacturer.skeleton == skeleton)).scalars().first()
        if look_alike is not None and not approve_confusable:
            raise Conflict(
                f"name: {name!r} looks like the registered manufacturer {look_alike!r}; "
                "an admin must approve it (approve_confusable)"
            )
        mid = int(
            conn.execute(
                insert(Manufacturer)
                .values(name=name, name_key=key, skeleton=skeleton, contact=contact, created=at)
                .returning(Manufacturer.id)
            ).scalar_one()
        )
        detail: dict[str, Any] = {"manufacturer_id": mid, "name": name, "contact": contact}
        if look_alike is not None:
            detail["approved_confusable_with"] = look_alike
        log.append(conn, [log.new_event(log.manufacturer_subject(mid), "manufacturer", at, **detail)], signer, at)
    return {"id": mid, "name": name, "contact": contact, "approved_confusable_with": look_alike}


def add_grant(
    engine: Engine,
    signer: Signer,
    principal: Principal,
    issuer_id: int,
    *,
    scheme: str | None,
    model: str | None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The manufacturer authorises an issuer to label its product ``model`` (any scheme), or every product
    for ``scheme``, or ``model`` for ``scheme``."""
    if principal.role is not Role.MANUFACTURER or principal.manufacturer_id is None:
        raise Forbidden("only a manufacturer may authorise issuers for its products")
    if not (scheme or model):
        raise Rejected("name a scheme, a model, or both")
    at = now or now_utc()
    model_key = names.name_key(model) if model else None
    with engine.begin() as conn:
        issuer = conn.execute(select(Issuer.status, Issuer.name).where(Issuer.id == issuer_id)).first()
        if issuer is None:
            raise NotFound(f"no issuer {issuer_id}")
        if issuer.status != IssuerStatus.ACTIVE.value:
            raise Conflict(f"issuer {issuer_id} is {issuer.status}")
        mid = principal.manufacturer_id
        event = log.new_event(
            log.manufacturer_subject(mid), "grant", at,
            manufacturer_id=mid, issuer_id=issuer_id, scheme=scheme, model=model_key,
        )  # fmt: skip
        first, _ = log.append(conn, [event], signer, at)
        grant_id = int(
            conn.execute(
                insert(Grant)
                .values(
                    manufacturer_id=mid,
                    issuer_id=issuer_id,
                    scheme=scheme,
                    model_key=model_key,
                    created=at,
                    log_index=first,
                )
                .returning(Grant.id)
            ).scalar_one()
        )
    return {"id": grant_id, "issuer_id": issuer_id, "issuer": issuer.name, "scheme": scheme, "model": model_key,
            "log_index": first}  # fmt: skip


def withdraw_grant(
    engine: Engine, signer: Signer, principal: Principal, grant_id: int, *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """New labels under the grant are refused from now on; labels already published stand."""
    at = now or now_utc()
    with engine.begin() as conn:
        row = conn.execute(select(Grant).where(Grant.id == grant_id)).first()
        if row is None:
            raise NotFound(f"no grant {grant_id}")
        if principal.role is not Role.MANUFACTURER or row.manufacturer_id != principal.manufacturer_id:
            raise Forbidden("you may withdraw only your own grants")
        if row.withdrawn is not None:
            raise Conflict(f"grant {grant_id} is already withdrawn")
        conn.execute(update(Grant).where(Grant.id == grant_id).values(withdrawn=at))
        event = log.new_event(
            log.manufacturer_subject(row.manufacturer_id), "grant-withdrawn", at,
            manufacturer_id=row.manufacturer_id, grant_log_index=row.log_index,
        )  # fmt: skip
        first, _ = log.append(conn, [event], signer, at)
    return {"id": grant_id, "withdrawn": True, "log_index": first}


def list_grants(conn: Connection, manufacturer_id: int | None = None) -> list[dict[str, Any]]:
    stmt = select(Grant).order_by(Grant.id)
    if manufacturer_id is not None:
        stmt = stmt.where(Grant.manufacturer_id == manufacturer_id)
    return [
        {
            "id": g.id,
            "manufacturer_id": g.manufacturer_id,
            "issuer_id": g.issuer_id,
            "scheme": g.scheme,
            "model": g.model_key,
            "log_index": g.log_index,
            "withdrawn": g.withdrawn is not None,
        }
        for g in conn.execute(stmt.limit(1000)).all()
    ]


def find_grant(conn: Connection, manufacturer_id: int, issuer_id: int, scheme: str, model_key: str) -> int | None:
    """The log index of a grant that lets the issuer label this model for this scheme, or None."""
    rows = conn.execute(
        select(Grant.log_index, Grant.scheme, Grant.model_key).where(
            and_(Grant.manufacturer_id == manufacturer_id, Grant.issuer_id == issuer_id, Grant.withdrawn.is_(None))
        )
    ).all()
    for row in rows:
        if row.scheme in (None, scheme) and row.model_key in (None, model_key):
            return int(row.log_index)
    return None


def approve_model(
    engine: Engine, signer: Signer, manufacturer_id: int, model: str, *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Let a product model that looks like another model of the same manufacturer be published."""
    names.check_name("model", model, signed=True)
    at = now or now_utc()
    model_key = names.name_key(model)
    with engine.begin() as conn:
        if conn.execute(select(Manufacturer.id).where(Manufacturer.id == manufacturer_id)).first() is None:
            raise NotFound(f"no manufacturer {manufacturer_id}")
        if is_approved(conn, manufacturer_id, model_key):
            raise Conflict(f"model {model_key!r} of manufacturer {manufacturer_id} is already approved")
        event = log.new_event(
            log.manufacturer_subject(manufacturer_id), "name-approved", at, manufacturer_id=manufacturer_id,
            model=model_key,
        )  # fmt: skip
        first, _ = log.append(conn, [event], signer, at)
        conn.execute(
            insert(NameApproval).values(
                manufacturer_id=manufacturer_id, model_key=model_key, approved=at, log_index=first
            )
        )
    return {"manufacturer_id": manufacturer_id, "model": model_key, "log_index": first}


def is_approved(conn: Connection, manufacturer_id: int, model_key: str) -> bool:
    found = conn.execute(
        select(NameApproval.id).where(
            and_(NameApproval.manufacturer_id == manufacturer_id, NameApproval.model_key == model_key)
        )
    ).first()
    return found is not None


# --- tokens ------------------------------------------------------------------------------------------


def create_token(
    engine: Engine, role: Role, name: str, *, issuer_id: int | None = None, manufacturer_id: int | None = None
) -> dict[str, Any]:
    """A new API token; the secret is returned once and only its SHA-256 is stored."""
    if role is Role.ISSUER and issuer_id is None:
        raise Rejected("an issuer token needs issuer_id")
    if role is Role.MANUFACTURER and manufacturer_id is None:
        raise Rejected("a manufacturer token needs manufacturer_id")
    if role is Role.ADMIN and (issuer_id is not None or manufacturer_id is not None):
        raise Rejected("an admin token belongs to no issuer or manufacturer")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        if issuer_id is not None and conn.execute(select(Issuer.id).where(Issuer.id == issuer_id)).first() is None:
            raise NotFound(f"issuer {issuer_id} does not exist")
        if (
            manufacturer_id is not None
            and conn.execute(select(Manufacturer.id).where(Manufacturer.id == manufacturer_id)).first() is None
        ):
            raise NotFound(f"manufacturer {manufacturer_id} does not exist")
        token_id = conn.execute(
            insert(ApiToken)
            .values(
                token_sha256=token_digest(secret),
                role=role.value,
                name=name,
                issuer_id=issuer_id if role is Role.ISSUER else None,
                manufacturer_id=manufacturer_id if role is Role.MANUFACTURER else None,
                created=now_utc(),
                revoked=False,
            )
            .returning(ApiToken.id)
        ).scalar_one()
    return {"id": token_id, "role": role.value, "name": name, "token": secret}


def revoke_token(engine: Engine, token_id: int) -> dict[str, Any]:
    with engine.begin() as conn:
        done = conn.execute(update(ApiToken).where(ApiToken.id == token_id).values(revoked=True)).rowcount
    if not done:
        raise NotFound(f"no token {token_id}")
    return {"id": token_id, "revoked": True}


# --- witnesses ---------------------------------------------------------------------------------------


def add_witness(engine: Engine, vkey: str, url: str) -> dict[str, Any]:
    """A witness the log asks to cosign its checkpoints: its verifier key and add-checkpoint URL prefix."""
    try:
        verifier = note.parse_vkey(vkey)
    except note.NoteError as exc:
        raise Rejected(f"vkey: {exc}") from None
    if verifier.sig_type != note.COSIGNATURE:
        raise Rejected("vkey: a witness key has signature type 0x04 (Ed25519 cosignature)")
    if not url.startswith(("http://", "https://")):
        raise Rejected("url: the witness's submission prefix, http(s)://...")
    with engine.begin() as conn:
        if conn.execute(select(Witness.id).where(Witness.name == verifier.name)).first() is not None:
            raise Conflict(f"a witness named {verifier.name} is already on record")
        wid = conn.execute(
            insert(Witness)
            .values(name=verifier.name, vkey=verifier.vkey(), url=url.rstrip("/"), cosigned_size=0, added=now_utc())
            .returning(Witness.id)
        ).scalar_one()
    return {"id": wid, "name": verifier.name, "vkey": verifier.vkey(), "url": url.rstrip("/")}


def list_witnesses(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(select(Witness.name, Witness.vkey, Witness.cosigned_size).order_by(Witness.id)).all()
    return [{"name": r.name, "vkey": r.vkey, "cosigned_size": int(r.cosigned_size)} for r in rows]


# --- start-up ----------------------------------------------------------------------------------------


def prepare(engine: Engine, signer: Signer, *, now: dt.datetime | None = None) -> dict[str, int]:
    """Bring an older database up to date: log the registration of issuers registered before issuers were
    logged, then rebuild the stored label documents when their rules changed. Safe to run repeatedly."""
    at = now or now_utc()
    logged = 0
    with engine.begin() as conn:
        conn.execute(select(LogState.size).where(LogState.id == 1).with_for_update())
        ids = list(conn.execute(select(Issuer.id).order_by(Issuer.id)).scalars())
        present = log.entries_about(conn, [log.issuer_subject(i) for i in ids])
        for issuer_id in ids:
            if not present[log.issuer_subject(issuer_id)]:
                _log_issuer(conn, signer, issuer_id, at)
                logged += 1
        version = conn.execute(select(LogState.documents_version).where(LogState.id == 1)).scalar_one()
    rebuilt = 0
    if logged or version < documents.DOCUMENTS_VERSION:
        rebuilt = _rebuild_all(engine)
    return {"issuers_logged": logged, "documents_rebuilt": rebuilt}


def _rebuild_all(engine: Engine, batch: int = 2000) -> int:
    done = 0
    last = ""
    while True:
        with engine.begin() as conn:
            ids = list(
                conn.execute(
                    select(Label.label_id).where(Label.label_id > last).order_by(Label.label_id).limit(batch)
                ).scalars()
            )
            if not ids:
                conn.execute(
                    update(LogState).where(LogState.id == 1).values(documents_version=documents.DOCUMENTS_VERSION)
                )
                return done
            documents.rebuild(conn, ids)
        done += len(ids)
        last = ids[-1]
