"""What a label page, the label JSON and ``cybersafe verify --registry`` show, computed from the log.

Everything shown about a label comes from two things the registry cannot quietly change: the signed
envelope (product, scheme, dates, disclosures) and the label's transparency-log entries (its status,
revocation, replacement, support extensions, and its issuer's registration, keys and revocation). The
stored ``labels.document`` is only a cache of these *facts*; readers compare it with what they derive here
and show an integrity error when they differ.

Two layers:
- ``derive_facts``: what the envelope and the entries say, independent of the date. This is what the
  registry stores and what readers compare.
- ``shown``: the facts as of a date: ``status`` (expired, issuer revoked from its effective date, ...) and
  its plain-words text.

Pure functions, no I/O; the page's script (``static/verify.js``) applies the same status rules.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cybersafe import jsonio
from cybersafe.label.qr import envelope_digest
from cybersafe.registry.interface import STATUS_TEXT, IssuerStatus, LabelStatus

ENTRY_VERSION = 1


def document_json(doc: Mapping[str, Any]) -> str:
    """A label document as compact JSON with sorted keys: what the registry stores and serves (jsonio: orjson's
    speed on the QR-code read path, the json module's bytes)."""
    return jsonio.canonical(doc).decode()


def iso_time(value: dt.datetime) -> str:
    if value.tzinfo is None:  # SQLite drops the zone; everything is stored in UTC
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Leaf:
    """One log entry: its index, its exact bytes (the leaf hash covers them) and their JSON."""

    index: int
    raw: bytes
    body: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.body.get("kind", ""))


def parse_leaves(pairs: Iterable[tuple[int, bytes | str]]) -> tuple[list[Leaf], list[str]]:
    """Leaves from (index, entry) pairs, in log order; entries that are not JSON objects are problems."""
    leaves: list[Leaf] = []
    problems: list[str] = []
    for index, entry in sorted(pairs, key=lambda pair: pair[0]):
        raw = entry.encode() if isinstance(entry, str) else bytes(entry)
        try:
            body = jsonio.loads(raw)
        except (UnicodeDecodeError, ValueError, RecursionError):
            body = None
        if not isinstance(body, dict):
            problems.append(f"log entry {index} is not a JSON object")
            continue
        leaves.append(Leaf(int(index), raw, body))
    return leaves, problems


# --- issuers -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuerState:
    """A label administrator as its log entries describe it."""

    issuer_id: int
    name: str
    contact: str | None
    keys: dict[str, str]  # key id -> base64 of the raw Ed25519 public key
    current_key_id: str
    status: str = IssuerStatus.ACTIVE.value
    status_reason: str | None = None
    status_effective: str | None = None  # YYYY-MM-DD
    indices: tuple[int, ...] = ()

    def facts(self, label_key_id: str) -> dict[str, Any]:
        return {"name": self.name, "contact": self.contact, "key_id": label_key_id}

    def standing(self) -> dict[str, Any]:
        """The issuer's status, kept out of the stored facts so that suspending or revoking an issuer changes
        no stored document: readers add it (``shown``)."""
        return {"status": self.status, "reason": self.status_reason, "effective": self.status_effective}


ACTIVE_STANDING: dict[str, Any] = {"status": IssuerStatus.ACTIVE.value, "reason": None, "effective": None}


class IssuerLogError(ValueError):
    """The issuer's log entries do not describe an issuer (none registers it, or they contradict)."""


def issuer_state(issuer_id: int, leaves: Sequence[Leaf]) -> IssuerState:
    """Fold the issuer's entries (registration, key rotations, status changes) in log order."""
    state: IssuerState | None = None
    for leaf in leaves:
        body = leaf.body
        if body.get("issuer_id") != issuer_id:
            raise IssuerLogError(f"log entry {leaf.index} names another issuer")
        if leaf.kind == "issuer":
            key_id = _key_id_of(body, leaf.index)
            state = IssuerState(
                issuer_id, str(body.get("name")), body.get("contact"), {key_id: body["public_key"]}, key_id
            )
        elif state is None:
            raise IssuerLogError(f"log entry {leaf.index} comes before the issuer's registration")
        elif leaf.kind == "issuer-key":
            key_id = _key_id_of(body, leaf.index)
            state = _replace(state, keys={**state.keys, key_id: body["public_key"]}, current_key_id=key_id)
        elif leaf.kind == "issuer-status":
            state = _replace(
                state,
                status=str(body.get("status")),
                status_reason=body.get("reason"),
                status_effective=body.get("effective"),
            )
        state = _replace(state, indices=(*state.indices, leaf.index))
    if state is None:
        raise IssuerLogError(f"no log entry registers issuer {issuer_id}")
    return state


def _key_id_of(body: Mapping[str, Any], index: int) -> str:
    """The key id an issuer entry claims, checked against the key it carries (SHA-256 of the raw key)."""
    try:
        raw = base64.b64decode(str(body["public_key"]), validate=True)
    except (KeyError, binascii.Error):
        raise IssuerLogError(f"log entry {index} carries no readable public key") from None
    key_id = hashlib.sha256(raw).hexdigest()
    if len(raw) != 32 or body.get("key_id") != key_id:
        raise IssuerLogError(f"log entry {index}: key id does not match its public key")
    return key_id


def _replace(state: IssuerState, **changes: Any) -> IssuerState:
    return IssuerState(**{**state.__dict__, **changes})


# --- labels ------------------------------------------------------------------------------------------


@dataclass
class Derived:
    """A label's facts (the stored document's content) and the integrity problems met deriving them."""

    facts: dict[str, Any]
    problems: list[str] = field(default_factory=list)
    issuer_standing: dict[str, Any] = field(default_factory=lambda: dict(ACTIVE_STANDING))
    _json: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def facts_json(self) -> str:
        """The facts as canonical JSON (what the registry stores), serialised once."""
        if self._json is None:
            self._json = document_json(self.facts)
        return self._json


def derive_facts(
    label_id: str,
    envelope: Mapping[str, Any] | None,
    leaves: Sequence[Leaf],
    issuer: IssuerState | None,
    *,
    product_id: int | None = None,
    issuer_problem: str | None = None,
    envelope_sha256: str | None = None,
) -> Derived:
    """A label's facts from its envelope and its own log entries (in log order), plus its issuer's state.

    ``product_id`` is the registry's product number, used only when the ``issued`` entry does not carry it
    (labels logged before it did). ``envelope_sha256`` may give the digest of the envelope's stored text
    (it is canonical JSON), which spares serialising it again. Never raises: a contradiction becomes a
    problem, and whatever can be derived is still returned.
    """
    problems: list[str] = []
    record = _record(envelope, problems)
    events = _label_events(label_id, leaves, problems)
    issued = _issued_entry(leaves, envelope, problems, envelope_sha256)
    key_id = str(issued.get("issuer_key_id", "")) if issued else ""
    if record and key_id and record.get("issuer", {}).get("key_id") != key_id:
        problems.append("the label names another issuer key than its log entry")
    if issuer_problem:
        problems.append(issuer_problem)
    elif issuer is None:
        problems.append("no log entry registers the label's issuer")
    elif key_id and key_id not in issuer.keys:
        problems.append(f"the issuer's log entries do not list key {key_id[:16]}…")
    elif record and (record.get("issuer") or {}).get("name") != issuer.name:
        problems.append(f"the label names another issuer than the one its log entries register ({issuer.name})")
    facts = _facts(label_id, record, leaves, issued, issuer, key_id, product_id)
    facts["log"] = {"events": events}
    return Derived(facts, problems, issuer.standing() if issuer else dict(ACTIVE_STANDING))


def _record(envelope: Mapping[str, Any] | None, problems: list[str]) -> dict[str, Any]:
    """The label record inside the envelope. The envelope was fully checked when published; here it only
    has to be read (whether it is still the one published is the digest check, ``_issued_entry``)."""
    if envelope is None:
        problems.append("the registry holds no envelope for this label")
        return {}
    try:
        statement = jsonio.loads(base64.b64decode(str(envelope.get("payload"))))
    except (ValueError, TypeError, RecursionError, binascii.Error):
        problems.append("the stored envelope's payload is unreadable")
        return {}
    predicate = statement.get("predicate") if isinstance(statement, dict) else None
    if not isinstance(predicate, dict):
        problems.append("the stored envelope holds no label record")
        return {}
    return predicate


def _label_events(label_id: str, leaves: Sequence[Leaf], problems: list[str]) -> list[dict[str, Any]]:
    events = []
    for leaf in leaves:
        if leaf.body.get("label_id") != label_id:
            problems.append(f"log entry {leaf.index} names another label")
            continue
        events.append({"log_index": leaf.index, "kind": leaf.kind, "at": str(leaf.body.get("at", ""))})
    return events


def _issued_entry(
    leaves: Sequence[Leaf], envelope: Mapping[str, Any] | None, problems: list[str], digest: str | None = None
) -> dict[str, Any] | None:
    issued = [leaf for leaf in leaves if leaf.kind == "issued"]
    if len(issued) != 1:
        problems.append("the log has no 'issued' entry for this label" if not issued else "the label is issued twice")
        return issued[0].body if issued else None
    body = issued[0].body
    logged = body.get("envelope_sha256")
    if envelope is not None and logged != digest and logged != envelope_digest(dict(envelope)):
        problems.append(f"the envelope differs from the one logged in entry {issued[0].index}")
    return body


def _facts(
    label_id: str,
    record: Mapping[str, Any],
    leaves: Sequence[Leaf],
    issued: Mapping[str, Any] | None,
    issuer: IssuerState | None,
    key_id: str,
    product_id: int | None,
) -> dict[str, Any]:
    product = record.get("product") or {}
    disclosures = record.get("disclosures") or {}
    logged = _logged_status(leaves, issued)
    return {
        "label_id": label_id,
        "logged_status": logged["status"],
        "scheme": record.get("scheme"),
        "scheme_version": record.get("scheme_version"),
        "level": record.get("level"),
        "product": {
            "id": (issued or {}).get("product_id", product_id),
            "manufacturer": product.get("manufacturer"),
            "name": product.get("name"),
            "model": product.get("model"),
            "hardware_version": product.get("hardware_version"),
            "firmware_version": product.get("firmware_version"),
        },
        "issuer": issuer.facts(key_id) if issuer else {"name": None, "contact": None, "key_id": key_id},
        "lab": record.get("lab") or disclosures.get("lab"),
        "issued": record.get("issued"),
        "valid_until": record.get("valid_until"),
        "support": _support(disclosures, leaves),
        "disclosures": disclosures,
        "verdict_summary": record.get("verdict_summary"),
        "revocation": logged["revocation"],
        "superseded_by": logged["superseded_by"],
    }


def _logged_status(leaves: Sequence[Leaf], issued: Mapping[str, Any] | None) -> dict[str, Any]:
    """active / superseded / revoked as the label's own entries record it (dates do not matter here)."""
    status = str((issued or {}).get("status", LabelStatus.ACTIVE.value))
    revocation = None
    superseded_by = None
    for leaf in leaves:
        body = leaf.body
        if leaf.kind == "revoked":
            status = LabelStatus.REVOKED.value
            revocation = {"reason": body.get("reason"), "at": body.get("at")}
        elif leaf.kind == "updated" and body.get("change") == "superseded":
            superseded_by = body.get("superseded_by")
            if status != LabelStatus.REVOKED.value:
                status = LabelStatus.SUPERSEDED.value
    if status == LabelStatus.SUPERSEDED.value and superseded_by is None:
        superseded_by = (issued or {}).get("superseded_by")
    return {"status": status, "revocation": revocation, "superseded_by": superseded_by}


def _support(disclosures: Mapping[str, Any], leaves: Sequence[Leaf]) -> dict[str, Any]:
    """The signed support end, extended (never shortened) by the manufacturer's logged updates."""
    signed = str(disclosures.get("support_end"))
    current = signed
    automatic = disclosures.get("updates_automatic")
    instructions = disclosures.get("update_instructions")
    for leaf in leaves:
        body = leaf.body
        if leaf.kind != "updated" or body.get("change") != "support":
            continue
        if later(str(body.get("support_end")), current):
            current = str(body.get("support_end"))
        if "updates_automatic" in body:
            automatic = body["updates_automatic"]
        if "update_instructions" in body:
            instructions = body["update_instructions"]
    return {
        "support_end": current,
        "support_end_signed": signed,
        "extended": current != signed,
        "updates_automatic": automatic,
        "update_instructions": instructions,
    }


def later(candidate: str, current: str) -> bool:
    """True when support end ``candidate`` is later than ``current`` ("unsupported" is the earliest)."""
    if candidate == "unsupported":
        return False
    if current == "unsupported":
        return True
    return candidate > current  # ISO dates compare as strings


# --- as of a date ------------------------------------------------------------------------------------


def shown_status(
    facts: Mapping[str, Any], today: dt.date, *, integrity_ok: bool = True, issuer: Mapping[str, Any] | None = None
) -> str:
    """The status a reader sees on ``today``. Order: integrity error, revoked, issuer revoked (from its
    effective date), replaced, expired, valid."""
    if not integrity_ok:
        return LabelStatus.INTEGRITY_ERROR.value
    logged = str(facts.get("logged_status"))
    if logged == LabelStatus.REVOKED.value:
        return logged
    standing = issuer or ACTIVE_STANDING
    if standing.get("status") == IssuerStatus.REVOKED.value and _on_or_before(standing.get("effective"), today):
        return LabelStatus.ISSUER_REVOKED.value
    if logged == LabelStatus.SUPERSEDED.value:
        return logged
    valid_until = facts.get("valid_until")
    if isinstance(valid_until, str) and _before(valid_until, today):
        return LabelStatus.EXPIRED.value
    return LabelStatus.ACTIVE.value


def _on_or_before(value: Any, today: dt.date) -> bool:
    try:
        return dt.date.fromisoformat(str(value)) <= today
    except ValueError:
        return True  # an unreadable date must not keep a revocation from showing


def _before(value: str, today: dt.date) -> bool:
    try:
        return dt.date.fromisoformat(value) < today
    except ValueError:
        return False


def status_text(status: str, issuer: Mapping[str, Any] | None = None) -> str:
    text = STATUS_TEXT[status]
    if status == LabelStatus.ISSUER_REVOKED.value and issuer:
        text += f" Revoked from {issuer.get('effective')}: {issuer.get('reason') or 'no reason given'}."
    return text


def support_ended(facts: Mapping[str, Any], today: dt.date) -> bool:
    """True when the product gets no security updates on ``today``: its support end (the signed one, extended
    by the manufacturer's logged updates) is "unsupported" or has passed."""
    end = str((facts.get("support") or {}).get("support_end"))
    return end == "unsupported" or _before(end, today)


def support_text(facts: Mapping[str, Any]) -> str:
    end = str((facts.get("support") or {}).get("support_end"))
    if end == "unsupported":
        return "Valid label, but it says the product gets no security updates. Do not rely on it for security."
    return f"Valid label, but the product's security updates ended on {end}. Do not rely on it for security."


def shown(derived: Derived, today: dt.date) -> dict[str, Any]:
    """The fields added to the facts for a reader on ``today``: status, its text, whether the product's
    support has ended, the issuer's standing and the integrity verdict. A valid label of a product that gets
    no security updates says so in its status text (and the page's check gives it no green tick)."""
    standing = derived.issuer_standing
    status = shown_status(derived.facts, today, integrity_ok=derived.ok, issuer=standing)
    ended = support_ended(derived.facts, today)
    text = support_text(derived.facts) if status == LabelStatus.ACTIVE.value and ended else None
    return {
        "status": status,
        "status_text": text or status_text(status, standing),
        "support_ended": ended,
        "issuer_standing": standing,
        "integrity": {"ok": derived.ok, "problems": list(derived.problems)},
    }
