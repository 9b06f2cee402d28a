"""Talking to a registry over HTTP: publish and revoke for issuers, and the registry half of verification.

``verify_with_registry`` checks that the registry holds exactly this label, its status, that the log's tree
head is signed by the log key seen before, that every event of the label is included in the log, and that
the log is consistent with the tree head remembered in a small local state file (trust on first use).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import httpx

from cybersafe import safeio
from cybersafe.attest.dsse import decode_payload
from cybersafe.attest.keys import load_public_key
from cybersafe.errors import InputError, RegistryError, VerificationFailed
from cybersafe.label.verify import CheckResult, CheckStatus
from cybersafe.registry.log import canonical_json
from cybersafe.registry.verify import (
    LogCheckFailed,
    TreeHeadView,
    check_consistency,
    check_inclusion,
    check_tree_head,
    decode_path,
    parse_entry,
    parse_tree_head,
)

API = "/api/v1"
MAX_ENVELOPE_BYTES = 4 * safeio.MiB  # a signed label is a few KiB
MAX_STATE_BYTES = 64 * safeio.MiB


def _check(name: str, passed: bool, message: str) -> CheckResult:
    """One registry verification step, as the label verifier's ``CheckResult`` so the lists merge."""
    return CheckResult(name, CheckStatus.PASS if passed else CheckStatus.FAIL, message)


class RegistryClient:
    def __init__(self, base_url: str, token: str | None = None, timeout: float = 15.0) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        try:
            response = self.http.request(method, API + path, **kw)
        except httpx.HTTPError as exc:
            raise RegistryError(f"{self.base_url}: cannot reach the registry ({exc.__class__.__name__})") from None
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail")
            except (ValueError, AttributeError):
                detail = response.text[:200]
            raise RegistryError(f"{self.base_url}{API}{path}: HTTP {response.status_code}: {detail}")
        try:
            return response.json()
        except ValueError:
            raise RegistryError(f"{self.base_url}{API}{path}: the answer is not JSON") from None

    def get(self, path: str, **params: Any) -> Any:
        return self._call("GET", path, params=params or None)

    def publish(self, envelope: dict[str, Any]) -> dict[str, Any]:
        return dict(self._call("POST", "/labels", json=envelope))

    def revoke(self, label_id: str, reason: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/labels/{label_id}/revoke", json={"reason": reason}))

    def update_support(self, product_id: int, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self._call("PUT", f"/products/{product_id}/support", json=body))


def read_envelope(path: Path) -> dict[str, Any]:
    raw = safeio.read_text(path, MAX_ENVELOPE_BYTES, what="a label envelope")
    try:
        data = json.loads(raw)
    except (RecursionError, json.JSONDecodeError) as exc:
        raise InputError(f"not a JSON label envelope ({exc.__class__.__name__})", file=path) from None
    if not isinstance(data, dict):
        raise InputError("not a JSON label envelope", file=path)
    return data


def _load_state(state_file: Path) -> dict[str, Any]:
    if not os.path.lexists(state_file):
        return {"logs": {}}
    try:
        data = json.loads(safeio.read_text(state_file, MAX_STATE_BYTES, what="the registry state file"))
    except (InputError, RecursionError, json.JSONDecodeError):
        raise InputError("registry state file is unreadable; move it away to start afresh", file=state_file) from None
    if not isinstance(data, dict) or not isinstance(data.get("logs"), dict):
        raise InputError("registry state file has an unexpected shape", file=state_file)
    return data


def _save_state(state_file: Path, state: dict[str, Any]) -> None:
    state_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = state_file.with_name(state_file.name + ".tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")
    tmp.replace(state_file)


def verify_with_registry(
    envelope: dict[str, Any], registry_url: str, state_file: Path, *, client: RegistryClient | None = None
) -> list[CheckResult]:
    """The registry checks of a label, each passed or failed with a one-line message.

    Checks (stable names): registry.listed, registry.same-label, registry.status, registry.log-key,
    registry.tree-head, registry.log-inclusion, registry.log-consistency (registry.reachable when the
    registry cannot be reached). Never raises for a failed check; raises ``InputError`` only for an
    unreadable state file. The state file remembers, per registry URL, the log key and the last tree head
    that verified, so a later run proves the log only grew (trust on first use).
    """
    checks: list[CheckResult] = []
    own = client is None
    api = client or RegistryClient(registry_url)
    try:
        _verify(envelope, api, state_file, checks)
    except RegistryError as exc:
        checks.append(_check("registry.reachable", False, str(exc)))
    finally:
        if own:
            api.close()
    return checks


def _verify(envelope: dict[str, Any], api: RegistryClient, state_file: Path, checks: list[CheckResult]) -> None:
    def add(name: str, passed: bool, message: str) -> bool:
        checks.append(_check(name, passed, message))
        return passed

    try:
        _, statement = decode_payload(envelope)
        label_id = str(statement["predicate"]["label_id"])
    except (VerificationFailed, KeyError, TypeError) as exc:
        add("registry.listed", False, f"the envelope names no label id ({exc})")
        return
    state = _load_state(state_file)
    try:
        doc = api.get(f"/labels/{label_id}")
    except RegistryError as exc:
        add("registry.listed", False, f"{label_id}: not found in the registry ({exc})")
        return
    add("registry.listed", True, f"{label_id} is listed at {api.base_url}/l/{label_id}")
    digest = hashlib.sha256(canonical_json(envelope)).hexdigest()
    registered = hashlib.sha256(canonical_json(doc.get("envelope"))).hexdigest()
    add(
        "registry.same-label",
        digest == registered,
        "the registry holds exactly this signed label"
        if digest == registered
        else "the registry holds a DIFFERENT envelope under this label id",
    )
    status = doc.get("status")
    add("registry.status", status == "active", f"status {status}: {doc.get('status_text', '')}".strip())

    key_doc = api.get("/log/key")
    log_key = load_public_key(str(key_doc["public_key_pem"]))
    remembered = state["logs"].get(api.base_url, {})
    if remembered.get("key_id") and remembered["key_id"] != key_doc["key_id"]:
        add("registry.log-key", False, f"the log key changed (was {remembered['key_id'][:16]}…)")
        return
    try:
        head = parse_tree_head(api.get("/log/sth"))
        check_tree_head(head, log_key)
    except LogCheckFailed as exc:
        add("registry.tree-head", False, str(exc))
        return
    add(
        "registry.tree-head", True, f"tree head of size {head.tree_size} is signed by log key {key_doc['key_id'][:16]}…"
    )

    try:
        events = doc["log"]["events"]
        for event in events:
            index = int(event["log_index"])
            rows = api.get("/log/entries", start=index, end=index + 1)["entries"]
            entry = str(rows[0]["entry"]).encode()
            body = parse_entry(entry)
            if body.get("label_id") != label_id:
                raise LogCheckFailed(f"log entry {index} names another label")
            if body.get("kind") == "issued" and body.get("envelope_sha256") != digest:
                raise LogCheckFailed(f"log entry {index} records another envelope for this label")
            proof = api.get("/log/proof/inclusion", leaf_index=index, tree_size=head.tree_size)
            check_inclusion(entry, index, head, decode_path(proof["audit_path"]))
        if not any(e.get("kind") == "issued" for e in events):
            raise LogCheckFailed("the log has no 'issued' event for this label")
    except (LogCheckFailed, KeyError, IndexError, TypeError, ValueError) as exc:
        add("registry.log-inclusion", False, str(exc))
        return
    add("registry.log-inclusion", True, f"all {len(events)} event(s) of the label are in the log")

    if remembered.get("tree_size"):
        old = TreeHeadView(int(remembered["tree_size"]), bytes.fromhex(remembered["root_hash"]), 0, b"")
        try:
            if old.tree_size > head.tree_size:
                raise LogCheckFailed(f"the log shrank from {old.tree_size} to {head.tree_size} entries")
            proof_items: list[bytes] = []
            if old.tree_size < head.tree_size:
                answer = api.get("/log/proof/consistency", first=old.tree_size, second=head.tree_size)
                proof_items = decode_path(answer["consistency"])
            check_consistency(old, head, proof_items)
        except (LogCheckFailed, KeyError) as exc:
            add("registry.log-consistency", False, str(exc))
            return
        add("registry.log-consistency", True, f"the log grew consistently from {old.tree_size} to {head.tree_size}")
    else:
        add("registry.log-consistency", True, "first contact with this log: tree head remembered for next time")
    state["logs"][api.base_url] = {
        "key_id": key_doc["key_id"],
        "tree_size": head.tree_size,
        "root_hash": head.root_hash.hex(),
        "signature": base64.b64encode(head.signature).decode(),
        "timestamp": head.timestamp_ms,
    }
    _save_state(state_file, state)


def default_state_file() -> Path:
    from platformdirs import user_state_dir

    return Path(user_state_dir("cybersafe")) / "registry-heads.json"
