"""Label operations behind the HTTP routes: publish, revoke, support updates, search. No HTTP here.

Every write runs in one database transaction that also appends its log entries and signs the new tree
head, so a label change is never visible without its log entry, nor the reverse.

Publishing is refused unless all of these hold (each refusal is one line):
- the token's issuer is active (403 when suspended or revoked) and signed the envelope with its current
  key (403), the record names that key (403) and that issuer's registered name and contact (403), and the
  record is well formed and passes the checks of ``cybersafe verify`` and of the page's own check: one
  signature, a registry link to this registry (422);
- names are plain (``names.check_name``: NFKC, no bidi controls, invisible characters or mixed scripts;
  422 naming the character);
- ``issued`` is not in the future beyond the clock skew, and ``valid_until`` is neither before ``issued``
  nor after the support end (422);
- the manufacturer is registered and has authorised this issuer for this product or scheme (403); a new
  model confusable with one of the manufacturer's models needs an admin's approval (409).
A newer label supersedes only the same issuer's active labels of the same product and scheme; the signed
``supersedes`` link says which is newer, the issue date only where no link does.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Engine, and_, insert, select, update

from cybersafe.attest.dsse import decode_payload
from cybersafe.attest.keys import load_public_key
from cybersafe.errors import VerificationFailed
from cybersafe.jsonio import loads
from cybersafe.label.model import PREDICATE_TYPE, LabelRecord
from cybersafe.label.qr import canonical_envelope, envelope_digest
from cybersafe.label.verify import CheckStatus, check_label
from cybersafe.registry import admin, documents, log, names
from cybersafe.registry.derive import later, parse_leaves
from cybersafe.registry.interface import (
    Conflict,
    Forbidden,
    IssuerStatus,
    LabelStatus,
    NotFound,
    Principal,
    Rejected,
    Role,
)
from cybersafe.registry.models import Issuer, Label, LogEntry, Manufacturer, Product
from cybersafe.registry.security import strict_json_problem

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
CLOCK_SKEW = dt.timedelta(minutes=5)
# The record's text a reader sees as names: each is checked by ``names.check_name``.
_NAME_FIELDS = (
    ("product", "manufacturer"), ("product", "name"), ("product", "model"), ("product", "hardware_version"),
    ("product", "firmware_version"), ("disclosures", "manufacturer"), ("disclosures", "product"),
    ("issuer", "name"), ("issuer", "contact"), (None, "lab"), ("disclosures", "lab"), ("disclosures", "contact"),
    ("disclosures", "administrator"),
)  # fmt: skip
# The record's free text a reader sees on the page: no bidi controls or invisible characters (``names.check_text``).
_TEXT_FIELDS = ("update_instructions", "default_password", "secure_configuration")


# --- publish ----------------------------------------------------------------------------------------


def check_envelope(
    envelope: dict[str, Any],
    issuer: Any,
    administers: Callable[[str], bool] = lambda scheme: False,
    *,
    base_url: str = "",
    now: dt.datetime | None = None,
) -> LabelRecord:
    """Verify a label envelope against ONE issuer (its registered key, name and contact) and return its record;
    raises Forbidden/Rejected.

    The checks are those of ``cybersafe verify`` (``label.verify.check_label``: envelope, signature, statement,
    subjects, issuer key; exactly one signature, by the key the record names) and of the page's own check
    (``static/verify.js``: that one signature's key id, and a registry link to this registry), so the registry
    never accepts a label that a verifier it documents would call not genuine. ``administers(scheme)`` says
    whether the registry records the issuer as that scheme's label administrator: a label drawn in the scheme's
    own style (``artwork: scheme-mark``) needs it."""
    try:
        body, statement = decode_payload(envelope)
    except VerificationFailed as exc:
        raise Rejected(str(exc)) from None
    problem = strict_json_problem(body)
    if problem is not None:
        raise Rejected(problem.replace("request body", "envelope: payload", 1))
    signatures = envelope.get("signatures")
    keyids = [s.get("keyid") for s in signatures if isinstance(s, dict)] if isinstance(signatures, list) else []
    if issuer.key_id not in keyids:
        raise Forbidden("the label is not signed with your registered issuer key")
    if len(keyids) != 1:
        raise Rejected(f"envelope: {len(keyids)} signatures; a label carries exactly one, by its issuer's key")
    predicate = statement.get("predicate")
    claimed = (predicate.get("issuer") or {}) if isinstance(predicate, dict) else {}
    if isinstance(claimed, dict) and "key_id" in claimed and claimed["key_id"] != issuer.key_id:
        raise Forbidden("the label names another issuer key than yours")
    _check_artwork(predicate, administers)
    _check_statement(statement)
    report = check_label(envelope, load_public_key(issuer.public_key_pem), now=now or admin.now_utc())
    failed = next((c for c in report.checks if c.name in _SHARED_CHECKS and c.status is CheckStatus.FAIL), None)
    if failed is not None:
        if failed.name == "issuer":
            raise Forbidden(failed.message)
        message = failed.message
        raise Rejected(message if message.startswith(("predicate", "envelope")) else f"{failed.name}: {message}")
    record = report.record
    if record is None:
        raise Rejected("predicate: the label record is unreadable")
    if "\\u0000" in json.dumps(statement.get("predicate")):
        raise Rejected("predicate: text must not contain NUL characters")
    expected = [{"name": s.name, "digest": {"sha256": s.sha256}} for s in record.subjects]
    if statement.get("subject") != expected:
        raise Rejected("statement: subject does not match the label record's subjects")
    home = f"{base_url}/l/{record.label_id}"
    if base_url and record.registry_url != home:
        raise Rejected(f"predicate.registry_url: {record.registry_url} is not this registry's link {home}")
    _check_names(statement["predicate"])
    for key in _TEXT_FIELDS:
        value = record.disclosures.model_dump().get(key)
        if isinstance(value, str):
            names.check_text(f"predicate.disclosures.{key}", value)
    _check_issuer_identity(record, issuer)
    return record


def _check_statement(statement: dict[str, Any]) -> None:
    """The statement's type and record, refused with the registry's one-line wording (``predicate.<field>``)
    before the shared checks run."""
    if statement.get("_type") != STATEMENT_TYPE:
        raise Rejected(f"statement: _type must be {STATEMENT_TYPE}")
    if statement.get("predicateType") != PREDICATE_TYPE:
        raise Rejected(f"statement: predicateType must be {PREDICATE_TYPE}")
    try:
        LabelRecord.model_validate(statement.get("predicate"))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = "".join(f".{p}" for p in first["loc"])
        raise Rejected(f"predicate{where}: {first['msg']}") from None


# The checks of ``cybersafe verify`` that say whether a label is genuine (the rest: artefacts and dates).
_SHARED_CHECKS = ("envelope", "signature", "statement", "subjects", "issuer")


def _check_issuer_identity(record: LabelRecord, issuer: Any) -> None:
    """The record names its issuer as the registry registered it: the same name, the same contact (when the
    record states one), and a 47 CFR 8.222(b) administrator line made of them; an issuer never signs in the
    name of another (403)."""
    if record.issuer.name != issuer.name:
        raise Forbidden(
            f"predicate.issuer.name: the label names {record.issuer.name!r}, but you are registered as {issuer.name!r}"
        )
    contact = record.issuer.contact
    if contact is not None and contact != issuer.contact:
        raise Forbidden(
            f"predicate.issuer.contact: the label names {contact!r}, but your registered contact is {issuer.contact!r}"
        )
    allowed = {issuer.name} | ({f"{issuer.name} <{contact}>"} if contact else set())
    if record.disclosures.administrator not in allowed:
        raise Forbidden(
            f"predicate.disclosures.administrator: {record.disclosures.administrator!r} is not you "
            f"({' or '.join(repr(a) for a in sorted(allowed))})"
        )


def _check_artwork(predicate: Any, administers: Callable[[str], bool]) -> None:
    """Only an issuer the registry admin records as the scheme's label administrator (or licensee) may publish a
    label in the scheme's own style; any issuer may publish an attestation card. Checked before the record's
    model, so the refusal names the reason whatever the model's version."""
    if not isinstance(predicate, dict) or predicate.get("artwork") != "scheme-mark":
        return
    scheme = str(predicate.get("scheme"))
    if not administers(scheme):
        raise Forbidden(
            f"predicate.artwork: scheme-mark is for {scheme}'s label administrator, and the registry does not record "
            f"this issuer as one (the registry admin records it: cybersafe registry issuer administers)"
        )


def _check_names(predicate: dict[str, Any]) -> None:
    for group, key in _NAME_FIELDS:
        value = (predicate if group is None else (predicate.get(group) or {})).get(key)
        if isinstance(value, str):
            names.check_name("predicate." + (f"{group}.{key}" if group else key), value, signed=True)


def check_dates(record: LabelRecord, now: dt.datetime, skew: dt.timedelta = CLOCK_SKEW) -> None:
    """Refuse a label dated in the future (beyond ``skew``), valid past its support end, or of a product that
    gets no security updates (``unsupported``, or a disclosed support end other than the record's)."""
    latest = (now + skew).astimezone(dt.UTC).date()
    if record.issued > latest:
        raise Rejected(f"predicate.issued: {record.issued} is in the future (the registry's date is {now.date()})")
    if record.valid_until < record.issued:
        raise Rejected("predicate.valid_until: before the issue date")
    disclosed = record.disclosures.support_end
    if disclosed == "unsupported":
        raise Rejected(
            "predicate.disclosures.support_end: unsupported: a product that gets no security updates gets no label"
        )
    if disclosed != record.support_end:
        raise Rejected(
            f"predicate.disclosures.support_end: {disclosed} differs from predicate.support_end {record.support_end}"
        )
    if record.valid_until > record.support_end:
        raise Rejected(f"predicate.valid_until: {record.valid_until} is after the support end {record.support_end}")


def publish(
    engine: Engine,
    signer: log.LogSigner,
    principal: Principal,
    envelope: dict[str, Any],
    *,
    now: dt.datetime | None = None,
    skew: dt.timedelta = CLOCK_SKEW,
    base_url: str = "",
) -> dict[str, Any]:
    """Publish a label; ``base_url`` (the registry's public URL, when configured) is what the label's
    ``registry_url`` must start with."""
    if principal.role is not Role.ISSUER or principal.issuer_id is None:
        raise Forbidden("only an issuer may publish labels")
    at = now or admin.now_utc()
    digest = envelope_digest(envelope)
    with engine.begin() as conn:
        issuer = _issuer_that_may_act(conn, principal.issuer_id, publishing=True)
        record = check_envelope(
            envelope,
            issuer,
            lambda scheme: admin.administers_scheme(conn, issuer.id, scheme),
            base_url=base_url,
            now=at,
        )
        check_dates(record, at, skew)
        existing = conn.execute(select(Label.envelope_sha256).where(Label.label_id == record.label_id)).first()
        if existing is not None:
            if existing.envelope_sha256 == digest:  # an idempotent retry of the same publish
                return {"label_id": record.label_id, "status": "already-published", "created": False}
            raise Conflict(f"label {record.label_id} is already published with different content")
        manufacturer_id = _registered_manufacturer(conn, record)
        product_id = _product_for(conn, record, manufacturer_id, at)
        grant = admin.find_grant(conn, manufacturer_id, issuer.id, record.scheme, names.name_key(record.product.model))
        if grant is None:
            raise Forbidden(
                f"{record.product.manufacturer} has not authorised {issuer.name} to label {record.product.model} "
                f"for {record.scheme}: the manufacturer grants it (POST /api/v1/grants)"
            )
        status, superseded, newer = _supersession(conn, product_id, record, issuer.id)
        _insert_label(conn, record, envelope, digest, product_id, issuer, status, newer, at)
        issued = _label_event(
            record.label_id, "issued", at,
            envelope_sha256=digest, issuer_key_id=issuer.key_id, status=status,
            support_end=str(record.disclosures.support_end), product_id=product_id, grant=grant,
            **({"superseded_by": newer} if newer else {}),
        )  # fmt: skip
        events = [issued] + [
            _label_event(old, "updated", at, change="superseded", superseded_by=record.label_id) for old in superseded
        ]
        carried = _logged_support(conn, manufacturer_id, product_id)
        if carried is not None:  # the manufacturer's logged support applies to every label of the product
            events.insert(1, _label_event(record.label_id, "updated", at, **carried))
        for old in superseded:
            conn.execute(
                update(Label).where(Label.label_id == old).values(status="superseded", superseded_by=record.label_id)
            )
        first, head = _append(conn, signer, events, at)
        documents.rebuild(conn, [record.label_id, *superseded])
    return {
        "label_id": record.label_id,
        "status": status,
        "created": True,
        "log_index": first,
        "tree_head": head.as_json(),
        "superseded": superseded,
    }


def _issuer_that_may_act(conn: Connection, issuer_id: int, *, publishing: bool) -> Any:
    issuer = conn.execute(select(Issuer).where(Issuer.id == issuer_id)).one()
    if issuer.status == IssuerStatus.REVOKED.value or (publishing and issuer.status != IssuerStatus.ACTIVE.value):
        raise Forbidden(f"issuer {issuer.name} is {issuer.status} ({issuer.status_reason})")
    return issuer


def _registered_manufacturer(conn: Connection, record: LabelRecord) -> int:
    name = record.product.manufacturer
    found = conn.execute(select(Manufacturer.id).where(Manufacturer.name_key == names.name_key(name))).scalar()
    if found is None:
        raise Forbidden(
            f"manufacturer {name!r} is not registered: an admin registers it, and it authorises its label administrators"
        )
    return int(found)


def _product_for(conn: Connection, record: LabelRecord, manufacturer_id: int, at: dt.datetime) -> int:
    """The product (manufacturer + model + hardware version); a new model that looks like another of the
    same manufacturer's models needs an admin's approval (409)."""
    product = record.product
    model_key = names.name_key(product.model + "|" + (product.hardware_version or ""))
    row = conn.execute(
        select(Product.id).where(and_(Product.manufacturer_id == manufacturer_id, Product.model_key == model_key))
    ).first()
    if row is not None:  # a label's support end is its issuer's claim: it never changes the product's
        return int(row.id)
    skeleton = names.skeleton(product.model)
    look_alikes = conn.execute(
        select(Product.model).where(
            and_(Product.manufacturer_id == manufacturer_id, Product.model_skeleton == skeleton)
        )
    ).scalars()
    key = names.name_key(product.model)
    other = next((m for m in look_alikes if names.name_key(m) != key), None)
    if other is not None and not admin.is_approved(conn, manufacturer_id, key):
        raise Conflict(
            f"predicate.product.model: {product.model!r} looks like the model {other!r} of the same "
            "manufacturer; an admin must approve it (POST /api/v1/approvals)"
        )
    d = record.disclosures
    return int(
        conn.execute(
            insert(Product)
            .values(
                manufacturer_id=manufacturer_id,
                name=product.name,
                model=product.model,
                model_key=model_key,
                model_skeleton=skeleton,
                support_end=NO_SUPPORT_UPDATE,
                update_instructions=d.update_instructions,
                updates_automatic=d.updates_automatic,
                support_updated=None,
            )
            .returning(Product.id)
        ).scalar_one()
    )


def _supersession(
    conn: Connection, product_id: int, record: LabelRecord, issuer_id: int
) -> tuple[str, list[str], str | None]:
    """(status of the new label, labels it supersedes, the newer label that supersedes it): only the same
    issuer's labels of the same product and scheme take part. Which of two labels is the newer: the signed
    ``supersedes`` links decide (directly or along a chain of them), whatever the dates and the order of
    arrival; without a link, the later issue date; on the same date without a link, the one published later.
    A newer one, whatever its status (a revoked one too), makes the new label superseded; the new label
    supersedes the older ones that are active."""
    rivals = conn.execute(
        select(Label.label_id, Label.issued, Label.status, Label.envelope)
        .where(
            and_(
                Label.product_id == product_id,
                Label.scheme == record.scheme,
                Label.issuer_id == issuer_id,
            )
        )
        .order_by(Label.issued.desc(), Label.label_id)
    ).all()
    links = {r.label_id: _supersedes_of(r.envelope) for r in rivals}
    links[record.label_id] = record.supersedes.label_id if record.supersedes else None

    def replaces(newer: str, older: str) -> bool:  # ``newer`` supersedes ``older`` along signed links
        seen: set[str] = set()
        current = links.get(newer)
        while current is not None and current not in seen:
            if current == older:
                return True
            seen.add(current)
            current = links.get(current)
        return False

    def is_newer(rival: Any) -> bool:
        if replaces(rival.label_id, record.label_id):
            return True
        if replaces(record.label_id, rival.label_id):
            return False
        return bool(rival.issued > record.issued)

    newer_rivals = [r.label_id for r in rivals if is_newer(r)]
    if newer_rivals:
        direct = next((lid for lid in newer_rivals if links[lid] == record.label_id), newer_rivals[0])
        return LabelStatus.SUPERSEDED.value, [], direct
    active = [r.label_id for r in rivals if r.status == LabelStatus.ACTIVE.value]
    return LabelStatus.ACTIVE.value, sorted(active), None


def _supersedes_of(envelope_text: str) -> str | None:
    """The label id a stored (already verified) envelope's record names in ``supersedes``, if any."""
    try:
        _, statement = decode_payload(loads(envelope_text))
    except (VerificationFailed, ValueError, TypeError):
        return None
    link = (statement.get("predicate") or {}).get("supersedes")
    return str(link["label_id"]) if isinstance(link, dict) and "label_id" in link else None


def _insert_label(
    conn: Connection,
    record: LabelRecord,
    envelope: dict[str, Any],
    digest: str,
    product_id: int,
    issuer: Any,
    status: str,
    newer: str | None,
    at: dt.datetime,
) -> None:
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
            envelope=canonical_envelope(envelope).decode(),
            envelope_sha256=digest,
            search_text=_search_text(record, issuer.name)[:700],
            superseded_by=newer,
            published=at,
            last_event_index=-1,
            document="{}",
        )
    )


def _label_event(label_id: str, kind: str, at: dt.datetime, **detail: Any) -> log.NewEvent:
    return log.new_event(label_id, kind, at, label_id=label_id, **detail)


def _append(
    conn: Connection, signer: log.LogSigner, events: list[log.NewEvent], at: dt.datetime
) -> tuple[int, log.SignedTreeHead]:
    first, head = log.append(conn, events, signer, at)
    for offset, event in enumerate(events):
        conn.execute(update(Label).where(Label.label_id == event.subject).values(last_event_index=first + offset))
    return first, head


def _search_text(record: LabelRecord, issuer_name: str) -> str:
    p = record.product
    parts = [record.label_id, p.manufacturer, p.name, p.model, record.scheme, issuer_name]
    return names.name_key(" ".join(parts))


# --- revoke and support updates ---------------------------------------------------------------------


def revoke(
    engine: Engine,
    signer: log.LogSigner,
    principal: Principal,
    label_id: str,
    reason: str,
    *,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    if principal.role is not Role.ISSUER or principal.issuer_id is None:
        raise Forbidden("only the issuing label administrator may revoke a label")
    at = now or admin.now_utc()
    names.check_text("reason", reason)
    with engine.begin() as conn:
        row = conn.execute(select(Label.issuer_id, Label.status).where(Label.label_id == label_id)).first()
        if row is None:
            raise NotFound(f"no label {label_id}")
        if row.issuer_id != principal.issuer_id:
            raise Forbidden("you may revoke only the labels you issued")
        _issuer_that_may_act(conn, principal.issuer_id, publishing=False)
        if row.status == LabelStatus.REVOKED.value:
            raise Conflict(f"label {label_id} is already revoked")
        conn.execute(
            update(Label)
            .where(Label.label_id == label_id)
            .values(status="revoked", revocation_reason=reason, revoked_at=at)
        )
        first, head = _append(conn, signer, [_label_event(label_id, "revoked", at, reason=reason)], at)
        documents.rebuild(conn, [label_id])
    return {"label_id": label_id, "status": "revoked", "log_index": first, "tree_head": head.as_json()}


def update_support(
    engine: Engine,
    signer: log.LogSigner,
    principal: Principal,
    product_id: int,
    support_end: dt.date,
    update_instructions: str | None,
    updates_automatic: bool | None,
    *,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The manufacturer extends (never shortens) a product's support: the new end is not before one it logged
    earlier, nor before the support end of every active label of the product (it must extend at least one).
    A label's support end is its issuer's claim and never moves the product's. The change is one ``support``
    entry on the manufacturer, always, and an ``updated`` entry on every active label of the product with the
    new end and, when given, the new update information (a label shows the later of its signed end and these).
    A label of the product published later gets the same from ``publish`` (``_logged_support``)."""
    if principal.role is not Role.MANUFACTURER or principal.manufacturer_id is None:
        raise Forbidden("only the product's manufacturer may update its support information")
    at = now or admin.now_utc()
    new_end = support_end.isoformat()
    if update_instructions is not None:
        names.check_text("update_instructions", update_instructions)
    if support_end < at.astimezone(dt.UTC).date():
        raise Rejected(
            f"support_end: {new_end} is in the past (the registry's date is {at.date()}); support ends later"
        )
    with engine.begin() as conn:
        row = conn.execute(select(Product).where(Product.id == product_id)).first()
        if row is None:
            raise NotFound(f"no product {product_id}")
        if row.manufacturer_id != principal.manufacturer_id:
            raise Forbidden("you may update only your own products")
        before = _logged_support_end(conn, principal.manufacturer_id, product_id)
        if before is not None and new_end < before:
            raise Rejected(f"support_end: may be extended, never shortened (you logged {before})")
        labels = list(
            conn.execute(
                select(Label.label_id)
                .where(and_(Label.product_id == product_id, Label.status == "active"))
                .order_by(Label.label_id)
            ).scalars()
        )
        runs_to = [
            d.facts["support"]["support_end"]
            for d in documents.derive_many(conn, documents.sources(conn, labels)).values()
        ]
        if runs_to and all(later(end, new_end) for end in runs_to):
            raise Rejected(
                f"support_end: may be extended, never shortened (the product's labels run to {min(runs_to)})"
            )
        detail: dict[str, Any] = {"change": "support", "support_end": new_end}
        if update_instructions is not None:
            detail["update_instructions"] = update_instructions
        if updates_automatic is not None:
            detail["updates_automatic"] = updates_automatic
        conn.execute(
            update(Product)
            .where(Product.id == product_id)
            .values(support_end=new_end, support_updated=at, **{k: v for k, v in detail.items() if k.startswith("upd")})
        )
        product_event = log.new_event(
            log.manufacturer_subject(principal.manufacturer_id), "support", at,
            manufacturer_id=principal.manufacturer_id, product_id=product_id, **detail,
        )  # fmt: skip
        _, head = _append(
            conn, signer, [product_event] + [_label_event(lid, "updated", at, **detail) for lid in labels], at
        )
        documents.rebuild(conn, labels)
    return {"product_id": product_id, "support_end": new_end, "labels_updated": labels, "tree_head": head.as_json()}


# ``products.support_end`` before the manufacturer logged any support update for the product.
NO_SUPPORT_UPDATE = ""


def _logged_support_end(conn: Connection, manufacturer_id: int, product_id: int) -> str | None:
    """The latest support end the manufacturer logged for the product."""
    logged = _logged_support(conn, manufacturer_id, product_id)
    return None if logged is None else str(logged["support_end"])


def _logged_support(conn: Connection, manufacturer_id: int, product_id: int) -> dict[str, Any] | None:
    """What the manufacturer logged for the product, read from the log (its ``support`` entries, and the
    ``updated`` entries of the product's labels written before those existed), in log order: the latest
    support end, and the update method and instructions as last given; None when it logged nothing."""
    labels = list(conn.execute(select(Label.label_id).where(Label.product_id == product_id)).scalars())
    subject = log.manufacturer_subject(manufacturer_id)
    found: list[Any] = []
    for key, pairs in log.entries_about(conn, [subject, *labels]).items():
        leaves, _ = parse_leaves(pairs)
        for leaf in leaves:
            body = leaf.body
            if key == subject and (leaf.kind != "support" or body.get("product_id") != product_id):
                continue
            if key != subject and (leaf.kind != "updated" or body.get("change") != "support"):
                continue
            if isinstance(body.get("support_end"), str):
                found.append(leaf)
    if not found:
        return None
    logged: dict[str, Any] = {"change": "support"}
    for leaf in sorted(found, key=lambda leaf: leaf.index):
        body = leaf.body
        if "support_end" not in logged or later(body["support_end"], logged["support_end"]):
            logged["support_end"] = body["support_end"]
        logged |= {k: body[k] for k in ("update_instructions", "updates_automatic") if k in body}
    return logged


# --- reads ------------------------------------------------------------------------------------------

_SAFE_LIKE = re.compile(r"([%_\\])")


def search(
    conn: Connection, query: str, limit: int, offset: int, today: dt.date, base_url: str
) -> list[dict[str, Any]]:
    """Labels whose product, manufacturer, model, scheme, issuer or id contain ``query`` (NFKC, case-blind),
    newest first, each derived from the log."""
    stmt = select(Label.label_id).order_by(Label.published.desc(), Label.label_id)
    for word in names.name_key(query).split()[:6]:
        stmt = stmt.where(Label.search_text.like("%" + _SAFE_LIKE.sub(r"\\\1", word) + "%", escape="\\"))
    ids = list(conn.execute(stmt.limit(limit).offset(offset)).scalars())
    docs = documents.read_documents(conn, ids, today, base_url, with_envelope=False)
    keys = ("label_id", "status", "scheme", "scheme_version", "level", "product", "issued")
    return [
        {k: d[k] for k in keys} | {"support_end": d["support"]["support_end"], "issuer": d["issuer"]["name"]}
        for d in docs
    ]


def product_labels(conn: Connection, product_id: int, today: dt.date, base_url: str) -> list[dict[str, Any]]:
    ids = list(
        conn.execute(
            select(Label.label_id).where(Label.product_id == product_id).order_by(Label.scheme, Label.issued.desc())
        ).scalars()
    )
    return documents.read_documents(conn, ids[:200], today, base_url)


def product_exists(conn: Connection, product_id: int) -> bool:
    return conn.execute(select(Product.id).where(Product.id == product_id)).first() is not None


def log_entries(conn: Connection, start: int, end: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(LogEntry.log_index, LogEntry.entry)
        .where(and_(LogEntry.log_index >= start, LogEntry.log_index < end))
        .order_by(LogEntry.log_index)
    ).all()
    return [{"index": r.log_index, "entry": bytes(r.entry).decode()} for r in rows]
