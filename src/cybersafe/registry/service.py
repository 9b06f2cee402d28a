"""Registry operations: the core behind the HTTP routes and the admin CLI. No HTTP here.

Every write runs in one database transaction that also appends its label events to the transparency log
and signs the new tree head, so a label change is never visible without its log entry, nor the reverse.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError
from sqlalchemy import Connection, Engine, and_, func, insert, select, update

from cybersafe.attest.dsse import decode_payload, verify_envelope
from cybersafe.attest.keys import key_id as public_key_id
from cybersafe.attest.keys import load_public_key
from cybersafe.errors import InputError, VerificationFailed
from cybersafe.label.model import PREDICATE_TYPE, LabelRecord
from cybersafe.registry import log
from cybersafe.registry.interface import (
    STATUS_TEXT,
    Conflict,
    Forbidden,
    LabelStatus,
    NotFound,
    Principal,
    Rejected,
    Role,
)
from cybersafe.registry.models import ApiToken, Issuer, Label, LabelEvent, Manufacturer, Product

TOKEN_PREFIX = "cst_"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"


def _key(text: str) -> str:
    return " ".join(text.casefold().split())


def envelope_digest(envelope: dict[str, Any]) -> str:
    """SHA-256 of the envelope's canonical JSON: what the log entry of an ``issued`` event names."""
    return hashlib.sha256(log.canonical_json(envelope)).hexdigest()


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- admin ------------------------------------------------------------------------------------------


def add_issuer(engine: Engine, name: str, contact: str | None, public_key_pem: str) -> dict[str, Any]:
    try:
        key = load_public_key(public_key_pem)
    except InputError as exc:
        raise Rejected(f"public_key_pem: {exc.message}") from None
    kid = public_key_id(key)
    with engine.begin() as conn:
        clash = conn.execute(select(Issuer.id).where((Issuer.name == name) | (Issuer.key_id == kid))).first()
        if clash is not None:
            raise Conflict("an issuer with this name or key is already registered")
        issuer_id = conn.execute(
            insert(Issuer)
            .values(name=name, contact=contact, key_id=kid, public_key_pem=public_key_pem, created=_now())
            .returning(Issuer.id)
        ).scalar_one()
    return {"id": issuer_id, "name": name, "contact": contact, "key_id": kid}


def add_manufacturer(engine: Engine, name: str, contact: str | None) -> dict[str, Any]:
    with engine.begin() as conn:
        existing = conn.execute(select(Manufacturer).where(Manufacturer.name_key == _key(name))).first()
        if existing is not None:
            raise Conflict("a manufacturer with this name is already registered")
        mid = _create_manufacturer(conn, name, contact)
    return {"id": mid, "name": name, "contact": contact}


def _create_manufacturer(conn: Connection, name: str, contact: str | None) -> int:
    return int(
        conn.execute(
            insert(Manufacturer)
            .values(name=name, name_key=_key(name), contact=contact, created=_now())
            .returning(Manufacturer.id)
        ).scalar_one()
    )


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
    if role is not Role.ISSUER:
        issuer_id = None if role is Role.ADMIN else issuer_id
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
                created=_now(),
                revoked=False,
            )
            .returning(ApiToken.id)
        ).scalar_one()
    return {"id": token_id, "role": role.value, "name": name, "token": secret}


def authenticate(conn: Connection, token: str) -> Principal | None:
    row = conn.execute(
        select(ApiToken.id, ApiToken.role, ApiToken.issuer_id, ApiToken.manufacturer_id, ApiToken.revoked).where(
            ApiToken.token_sha256 == token_digest(token)
        )
    ).first()
    if row is None or row.revoked:
        return None
    return Principal(Role(row.role), row.id, row.issuer_id, row.manufacturer_id)


def list_issuers(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(select(Issuer.id, Issuer.name, Issuer.contact, Issuer.key_id).order_by(Issuer.id)).all()
    return [{"id": r.id, "name": r.name, "contact": r.contact, "key_id": r.key_id} for r in rows]


# --- publish ----------------------------------------------------------------------------------------


def check_envelope(envelope: dict[str, Any], issuer_key_id: str, public_key_pem: str) -> LabelRecord:
    """Verify a label envelope against ONE issuer's key and return its record; raises Forbidden/Rejected."""
    try:
        _, unverified = decode_payload(envelope)
    except VerificationFailed as exc:
        raise Rejected(str(exc)) from None
    keyids = {s.get("keyid") for s in envelope.get("signatures", []) if isinstance(s, dict)}
    if issuer_key_id not in keyids and "" not in keyids:
        raise Forbidden("the label is not signed with your registered issuer key")
    try:
        statement = verify_envelope(envelope, {issuer_key_id: load_public_key(public_key_pem)})
    except VerificationFailed as exc:
        raise Rejected(str(exc)) from None
    del unverified
    if statement.get("_type") != STATEMENT_TYPE:
        raise Rejected(f"statement: _type must be {STATEMENT_TYPE}")
    if statement.get("predicateType") != PREDICATE_TYPE:
        raise Rejected(f"statement: predicateType must be {PREDICATE_TYPE}")
    try:
        record = LabelRecord.model_validate(statement.get("predicate"))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise Rejected(f"predicate.{where}: {first['msg']}") from None
    if "\\u0000" in json.dumps(statement.get("predicate")):
        raise Rejected("predicate: text must not contain NUL characters")
    if record.issuer.key_id != issuer_key_id:
        raise Forbidden("the label names another issuer key than yours")
    subjects = statement.get("subject")
    expected = [{"name": s.name, "digest": {"sha256": s.sha256}} for s in record.subjects]
    if subjects != expected:
        raise Rejected("statement: subject does not match the label record's subjects")
    if record.valid_until < record.issued:
        raise Rejected("predicate.valid_until: before the issue date")
    return record


def publish(
    engine: Engine, key: Ed25519PrivateKey, principal: Principal, envelope: dict[str, Any], base_url: str = ""
) -> dict[str, Any]:
    if principal.role is not Role.ISSUER or principal.issuer_id is None:
        raise Forbidden("only an issuer may publish labels")
    digest = envelope_digest(envelope)
    with engine.begin() as conn:
        issuer = conn.execute(select(Issuer).where(Issuer.id == principal.issuer_id)).one()
        record = check_envelope(envelope, issuer.key_id, issuer.public_key_pem)
        existing = conn.execute(
            select(Label.envelope_sha256, Label.last_event_index).where(Label.label_id == record.label_id)
        ).first()
        if existing is not None:
            if existing.envelope_sha256 == digest:  # an idempotent retry of the same publish
                return {"label_id": record.label_id, "status": "already-published", "created": False}
            raise Conflict(f"label {record.label_id} is already published with different content")
        now = _now()
        product_id = _product_for(conn, record, now)
        status = LabelStatus.ACTIVE.value
        superseded: list[str] = []
        newer: str | None = None
        rivals = conn.execute(
            select(Label.label_id, Label.issued).where(
                and_(Label.product_id == product_id, Label.scheme == record.scheme, Label.status == "active")
            )
        ).all()
        for rival in rivals:
            if rival.issued <= record.issued:
                superseded.append(rival.label_id)
            else:
                newer = rival.label_id if newer is None else newer
        if newer is not None:
            status = LabelStatus.SUPERSEDED.value
            superseded = []
        disclosures = record.disclosures
        conn.execute(
            insert(Label).values(
                label_id=record.label_id,
                product_id=product_id,
                issuer_id=issuer.id,
                scheme=record.scheme,
                scheme_version=record.scheme_version,
                level=record.level,
                status=status,
                issued=record.issued,
                valid_until=record.valid_until,
                support_end_signed=str(disclosures.support_end),
                lab=record.lab or disclosures.lab,
                envelope=document_json(envelope),
                envelope_sha256=digest,
                search_text=_search_text(record, issuer.name)[:700],
                superseded_by=newer,
                published=now,
                last_event_index=-1,
                document="{}",
            )
        )
        events = [
            _event(
                record.label_id,
                "issued",
                now,
                envelope_sha256=digest,
                issuer_key_id=issuer.key_id,
                status=status,
                support_end=str(disclosures.support_end),
            )
        ]
        for old in superseded:
            conn.execute(
                update(Label).where(Label.label_id == old).values(status="superseded", superseded_by=record.label_id)
            )
            events.append(_event(old, "updated", now, change="superseded", superseded_by=record.label_id))
        first, head = log.append(conn, events, key, now)
        for offset, event in enumerate(events):
            conn.execute(update(Label).where(Label.label_id == event.label_id).values(last_event_index=first + offset))
        for label_id in [record.label_id, *superseded]:
            _rebuild_document(conn, label_id, base_url)
    return {
        "label_id": record.label_id,
        "status": status,
        "created": True,
        "log_index": first,
        "tree_head": head.as_json(),
        "superseded": superseded,
    }


def _product_for(conn: Connection, record: LabelRecord, now: dt.datetime) -> int:
    product = record.product
    manufacturer_id = conn.execute(
        select(Manufacturer.id).where(Manufacturer.name_key == _key(product.manufacturer))
    ).scalar_one_or_none()
    if manufacturer_id is None:
        manufacturer_id = _create_manufacturer(conn, product.manufacturer, record.disclosures.contact)
    model_key = _key(product.model + "|" + (product.hardware_version or ""))
    row = conn.execute(
        select(Product.id, Product.support_end).where(
            and_(Product.manufacturer_id == manufacturer_id, Product.model_key == model_key)
        )
    ).first()
    support_end = str(record.disclosures.support_end)
    d = record.disclosures
    if row is None:
        return int(
            conn.execute(
                insert(Product)
                .values(
                    manufacturer_id=manufacturer_id,
                    name=product.name,
                    model=product.model,
                    model_key=model_key,
                    support_end=support_end,
                    update_instructions=d.update_instructions,
                    updates_automatic=d.updates_automatic,
                    support_updated=now,
                )
                .returning(Product.id)
            ).scalar_one()
        )
    values: dict[str, Any] = {"name": product.name}
    if _later(support_end, row.support_end):
        values.update(
            support_end=support_end,
            update_instructions=d.update_instructions,
            updates_automatic=d.updates_automatic,
            support_updated=now,
        )
    conn.execute(update(Product).where(Product.id == row.id).values(**values))
    return int(row.id)


def _later(candidate: str, current: str) -> bool:
    """True when support end ``candidate`` is later than ``current`` ("unsupported" is the earliest)."""
    if candidate == "unsupported":
        return False
    if current == "unsupported":
        return True
    return candidate > current  # ISO dates compare as strings


def _search_text(record: LabelRecord, issuer_name: str) -> str:
    p = record.product
    parts = [record.label_id, p.manufacturer, p.name, p.model, record.scheme, issuer_name]
    return _key(" ".join(parts))


def _event(label_id: str, kind: str, at: dt.datetime, **detail: Any) -> log.NewEvent:
    body = {"v": 1, "kind": kind, "label_id": label_id, "at": at.isoformat().replace("+00:00", "Z"), **detail}
    return log.NewEvent(label_id, kind, at, log.canonical_json(body))


# --- revoke and support updates ---------------------------------------------------------------------


def revoke(
    engine: Engine, key: Ed25519PrivateKey, principal: Principal, label_id: str, reason: str, base_url: str = ""
) -> dict[str, Any]:
    if principal.role is not Role.ISSUER:
        raise Forbidden("only the issuing label administrator may revoke a label")
    with engine.begin() as conn:
        row = conn.execute(select(Label.issuer_id, Label.status).where(Label.label_id == label_id)).first()
        if row is None:
            raise NotFound(f"no label {label_id}")
        if row.issuer_id != principal.issuer_id:
            raise Forbidden("you may revoke only the labels you issued")
        if row.status == "revoked":
            raise Conflict(f"label {label_id} is already revoked")
        now = _now()
        conn.execute(
            update(Label)
            .where(Label.label_id == label_id)
            .values(status="revoked", revocation_reason=reason, revoked_at=now)
        )
        first, head = log.append(conn, [_event(label_id, "revoked", now, reason=reason)], key, now)
        conn.execute(update(Label).where(Label.label_id == label_id).values(last_event_index=first))
        _rebuild_document(conn, label_id, base_url)
    return {"label_id": label_id, "status": "revoked", "log_index": first, "tree_head": head.as_json()}


def update_support(
    engine: Engine,
    key: Ed25519PrivateKey,
    principal: Principal,
    product_id: int,
    support_end: dt.date,
    update_instructions: str | None,
    updates_automatic: bool | None,
    base_url: str = "",
) -> dict[str, Any]:
    if principal.role is not Role.MANUFACTURER:
        raise Forbidden("only the product's manufacturer may update its support information")
    with engine.begin() as conn:
        row = conn.execute(select(Product).where(Product.id == product_id)).first()
        if row is None:
            raise NotFound(f"no product {product_id}")
        if row.manufacturer_id != principal.manufacturer_id:
            raise Forbidden("you may update only your own products")
        new_end = support_end.isoformat()
        if row.support_end != "unsupported" and new_end < row.support_end:
            raise Rejected(f"support_end: may be extended, never shortened (now {row.support_end})")
        now = _now()
        values: dict[str, Any] = {"support_end": new_end, "support_updated": now}
        if update_instructions is not None:
            values["update_instructions"] = update_instructions
        if updates_automatic is not None:
            values["updates_automatic"] = updates_automatic
        conn.execute(update(Product).where(Product.id == product_id).values(**values))
        labels = list(
            conn.execute(
                select(Label.label_id).where(and_(Label.product_id == product_id, Label.status == "active"))
            ).scalars()
        )
        events = [_event(lid, "updated", now, change="support", support_end=new_end) for lid in labels]
        head = None
        if events:
            first, head = log.append(conn, events, key, now)
            for offset, lid in enumerate(labels):
                conn.execute(update(Label).where(Label.label_id == lid).values(last_event_index=first + offset))
        for lid in conn.execute(select(Label.label_id).where(Label.product_id == product_id)).scalars():
            _rebuild_document(conn, lid, base_url)
    return {
        "product_id": product_id,
        "support_end": new_end,
        "labels_updated": labels,
        "tree_head": None if head is None else head.as_json(),
    }


# --- reads ------------------------------------------------------------------------------------------


def _rebuild_document(conn: Connection, label_id: str, base_url: str) -> None:
    """Store the public JSON of a label, so the hot read path is one primary-key lookup."""
    label = conn.execute(select(Label).where(Label.label_id == label_id)).one()
    product = conn.execute(select(Product).where(Product.id == label.product_id)).one()
    maker = conn.execute(select(Manufacturer.name).where(Manufacturer.id == product.manufacturer_id)).scalar_one()
    issuer = conn.execute(select(Issuer.name, Issuer.contact, Issuer.key_id).where(Issuer.id == label.issuer_id)).one()
    events = conn.execute(
        select(LabelEvent.log_index, LabelEvent.kind, LabelEvent.at)
        .where(LabelEvent.label_id == label_id)
        .order_by(LabelEvent.log_index)
    ).all()
    doc = build_document(
        dict(label._mapping),
        dict(product._mapping),
        maker,
        dict(issuer._mapping),
        [{"log_index": e.log_index, "kind": e.kind, "at": _iso(e.at)} for e in events],
        base_url,
    )
    conn.execute(update(Label).where(Label.label_id == label_id).values(document=document_json(doc)))


def record_of(envelope_json: str) -> dict[str, Any]:
    """The label record inside a stored (already verified) envelope."""
    _, statement = decode_payload(json.loads(envelope_json))
    return dict(statement["predicate"])


def document_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def build_document(
    label: Mapping[str, Any],
    product: Mapping[str, Any],
    manufacturer_name: str,
    issuer: Mapping[str, Any],
    events: list[dict[str, Any]],
    base_url: str,
) -> dict[str, Any]:
    """The public JSON of a label (without its envelope): FCC registry fields, status, support, log events."""
    record = record_of(label["envelope"])
    revoked_at = label["revoked_at"]
    return {
        "label_id": label["label_id"],
        "status": label["status"],
        "status_text": STATUS_TEXT[label["status"]],
        "scheme": label["scheme"],
        "scheme_version": label["scheme_version"],
        "level": label["level"],
        "product": {
            "id": product["id"],
            "manufacturer": manufacturer_name,
            "name": product["name"],
            "model": product["model"],
            "hardware_version": record["product"].get("hardware_version"),
            "firmware_version": record["product"].get("firmware_version"),
        },
        "issuer": {"name": issuer["name"], "contact": issuer["contact"], "key_id": issuer["key_id"]},
        "lab": label["lab"],
        "issued": label["issued"].isoformat(),
        "valid_until": label["valid_until"].isoformat(),
        "support": {
            "support_end": product["support_end"],
            "support_end_signed": label["support_end_signed"],
            "extended": product["support_end"] != label["support_end_signed"],
            "updates_automatic": product["updates_automatic"],
            "update_instructions": product["update_instructions"],
        },
        "disclosures": record["disclosures"],
        "verdict_summary": record["verdict_summary"],
        "revocation": None if revoked_at is None else {"reason": label["revocation_reason"], "at": _iso(revoked_at)},
        "superseded_by": label["superseded_by"],
        "registry_url": f"{base_url}/l/{label['label_id']}",
        "log": {"events": events},
    }


def _iso(value: dt.datetime) -> str:
    if value.tzinfo is None:  # SQLite drops the zone; everything is stored in UTC
        value = value.replace(tzinfo=dt.UTC)
    return value.isoformat()


def shown_status(status: str, valid_until: dt.date, today: dt.date) -> str:
    """The stored status, or ``expired`` for an active label whose validity has ended (computed per day)."""
    return "expired" if status == "active" and valid_until < today else status


def effective_document(document: str, status: str, valid_until: dt.date, today: dt.date) -> str:
    """The stored JSON, with ``expired`` applied when an active label's validity has ended."""
    if shown_status(status, valid_until, today) != status:
        doc = json.loads(document)
        doc["status"] = "expired"
        doc["status_text"] = STATUS_TEXT["expired"]
        return document_json(doc)
    return document


def splice_envelope(document: str, envelope: str) -> str:
    """Add the stored envelope to the stored document without parsing either (both are JSON objects)."""
    return document[:-1] + ',"envelope":' + envelope + "}"


_SAFE_LIKE = re.compile(r"([%_\\])")


def search(conn: Connection, query: str, limit: int, offset: int, today: dt.date) -> list[dict[str, Any]]:
    """Labels whose product, manufacturer, model, scheme, issuer or id contain ``query`` (case-insensitive)."""
    stmt = select(Label.document, Label.status, Label.valid_until).order_by(Label.published.desc(), Label.label_id)
    words = _key(query).split()
    for word in words[:6]:
        stmt = stmt.where(Label.search_text.like("%" + _SAFE_LIKE.sub(r"\\\1", word) + "%", escape="\\"))
    rows = conn.execute(stmt.limit(limit).offset(offset)).all()
    out = []
    for row in rows:
        doc = json.loads(effective_document(row.document, row.status, row.valid_until, today))
        out.append(
            {k: doc[k] for k in ("label_id", "status", "scheme", "scheme_version", "level", "product", "issued")}
            | {"support_end": doc["support"]["support_end"], "issuer": doc["issuer"]["name"]}
        )
    return out


def product_labels(conn: Connection, product_id: int, today: dt.date) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(Label.document, Label.status, Label.valid_until)
        .where(Label.product_id == product_id)
        .order_by(Label.scheme, Label.issued.desc())
    ).all()
    return [json.loads(effective_document(r.document, r.status, r.valid_until, today)) for r in rows]


def product_exists(conn: Connection, product_id: int) -> bool:
    return conn.execute(select(Product.id).where(Product.id == product_id)).first() is not None


def log_entries(conn: Connection, start: int, end: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(LabelEvent.log_index, LabelEvent.entry)
        .where(and_(LabelEvent.log_index >= start, LabelEvent.log_index < end))
        .order_by(LabelEvent.log_index)
    ).all()
    return [{"index": r.log_index, "entry": bytes(r.entry).decode()} for r in rows]


def count_labels(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(Label)).scalar_one())


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
