"""Talking to a registry over HTTP: publish and revoke for issuers, and the registry half of verification.

``verify_with_registry`` trusts nothing the registry says about a label's status. It fetches the log's
C2SP checkpoint, checks its signature with the log key (pinned with ``log_key``, or remembered from the
first contact), counts the cosignatures of the witnesses it knows (a quorum when configured), checks the
log only grew since the checkpoint it saw last, then fetches the label's log entries and its issuer's, each
with an inclusion proof against that checkpoint, and recomputes the status from those entries and the
label file it holds. The registry's own JSON is compared with the result: a difference fails.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from cybersafe import safeio
from cybersafe.attest.dsse import decode_payload
from cybersafe.errors import InputError, RegistryError, VerificationFailed
from cybersafe.label.qr import envelope_digest
from cybersafe.label.verify import CheckResult, CheckStatus
from cybersafe.registry import derive, merkle, note
from cybersafe.registry.interface import public_base_url
from cybersafe.registry.verify import LogCheckFailed, TreeHeadView, check_consistency, decode_path

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

    def _request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            response = self.http.request(method, API + path, **kw)
        except httpx.HTTPError as exc:
            raise RegistryError(f"{self.base_url}: cannot reach the registry ({exc.__class__.__name__})") from None
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail")
            except (ValueError, AttributeError):
                detail = response.text[:200]
            raise RegistryError(f"{self.base_url}{API}{path}: HTTP {response.status_code}: {detail_line(detail)}")
        return response

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        response = self._request(method, path, **kw)
        try:
            return response.json()
        except ValueError:
            raise RegistryError(f"{self.base_url}{API}{path}: the answer is not JSON") from None

    def get(self, path: str, **params: Any) -> Any:
        return self._call("GET", path, params=params or None)

    def get_text(self, path: str, **params: Any) -> str:
        return self._request("GET", path, params=params or None).text

    def publish(self, envelope: dict[str, Any]) -> dict[str, Any]:
        return dict(self._call("POST", "/labels", json=envelope))

    def revoke(self, label_id: str, reason: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/labels/{label_id}/revoke", json={"reason": reason}))

    def update_support(self, product_id: int, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self._call("PUT", f"/products/{product_id}/support", json=body))

    def grant(self, issuer_id: int, scheme: str | None, model: str | None) -> dict[str, Any]:
        return dict(self._call("POST", "/grants", json={"issuer_id": issuer_id, "scheme": scheme, "model": model}))


def detail_line(detail: Any) -> str:
    """A server's error ``detail`` in one line: FastAPI's list of validation errors becomes the first error's
    field and message (``support_end: Input should be a valid date ...``), never the raw list."""
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        first = detail[0]
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "request"
        more = f" (and {len(detail) - 1} more)" if len(detail) > 1 else ""
        return f"{where}: {first.get('msg', 'invalid')}{more}"
    return " ".join(str(detail).split())


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


@dataclass(frozen=True)
class Trust:
    """What the verifier trusts beyond the registry: a pinned log key, known witnesses, a quorum."""

    log_key: note.Verifier | None = None
    witnesses: tuple[note.Verifier, ...] = ()
    quorum: int = 0
    today: dt.date | None = None
    full_log: bool = False  # read the whole log: catches an entry the registry leaves out of a label's list

    @classmethod
    def of(
        cls,
        log_key: str | None = None,
        witnesses: Sequence[str] = (),
        quorum: int | None = None,
        today: dt.date | None = None,
        full_log: bool = False,
    ) -> Trust:
        """From verifier-key strings (``name+hexid+base64``); raises InputError naming the bad one."""
        try:
            pinned = note.parse_vkey(log_key) if log_key else None
            known = tuple(note.parse_vkey(w) for w in witnesses)
        except note.NoteError as exc:
            raise InputError(str(exc), field="--log-key/--witness") from None
        if pinned is not None and pinned.sig_type != note.ED25519:
            raise InputError("the log key is an Ed25519 note key (type 0x01)", field="--log-key")
        if any(w.sig_type != note.COSIGNATURE for w in known):
            raise InputError("a witness key is an Ed25519 cosignature key (type 0x04)", field="--witness")
        need = len(known) if quorum is None else quorum
        if need > len(known):
            raise InputError(f"a quorum of {need} needs at least {need} --witness keys", field="--witness-quorum")
        return cls(pinned, known, need, today, full_log)


@dataclass
class _Run:
    envelope: dict[str, Any]
    api: RegistryClient
    trust: Trust
    checks: list[CheckResult] = field(default_factory=list)

    def add(self, name: str, passed: bool, message: str) -> bool:
        self.checks.append(_check(name, passed, message))
        return passed


def verify_with_registry(
    envelope: dict[str, Any],
    registry_url: str,
    state_file: Path,
    *,
    client: RegistryClient | None = None,
    trust: Trust | None = None,
    home: str | None = None,
) -> list[CheckResult]:
    """The registry checks of a label, each passed or failed with a one-line message. ``home`` is the
    registry's public URL when it is reached at another address (the demo's local server); by default
    ``registry_url`` is both.

    Checks (stable names): registry.listed, registry.home, registry.log-key, registry.tree-head,
    registry.witnesses (when witnesses are configured), registry.log-consistency, registry.log-inclusion,
    registry.same-label,
    registry.status (recomputed from the proven entries), registry.integrity (the registry's JSON agrees);
    registry.reachable when the registry cannot be reached. Never raises for a failed check; raises
    ``InputError`` only for an unreadable state file.
    """
    own = client is None
    run = _Run(envelope, client or RegistryClient(registry_url), trust or Trust())
    try:
        _verify(run, state_file, home)
    except RegistryError as exc:
        run.add("registry.reachable", False, str(exc))
    finally:
        if own:
            run.api.close()
    return run.checks


def _verify(run: _Run, state_file: Path, home: str | None = None) -> None:
    try:
        _, statement = decode_payload(run.envelope)
        label_id = str(statement["predicate"]["label_id"])
    except (VerificationFailed, KeyError, TypeError) as exc:
        run.add("registry.listed", False, f"the envelope names no label id ({exc})")
        return
    state = _load_state(state_file)
    remembered = state["logs"].get(run.api.base_url, {})
    try:
        doc = run.api.get(f"/labels/{label_id}")
    except RegistryError as exc:
        run.add("registry.listed", False, f"{label_id}: not found in the registry ({exc})")
        return
    run.add("registry.listed", True, f"{label_id} is listed at {run.api.base_url}/l/{label_id}")
    _home(run, statement["predicate"], label_id, home or run.api.base_url)
    verifier = _log_key(run, remembered)
    if verifier is None:
        return
    checkpoint = _checkpoint(run, verifier)
    if checkpoint is None or not _consistent(run, remembered, checkpoint):
        return
    derived = _proven_facts(run, label_id, checkpoint)
    if derived is None:
        return
    if run.trust.full_log:
        derived = _full_log(run, label_id, checkpoint, derived)
        if derived is None:
            return
    standing = derived.issuer_standing
    status = derive.shown_status(derived.facts, run.trust.today or dt.datetime.now(dt.UTC).date(), issuer=standing)
    message = f"{status} (recomputed from the log): {derive.status_text(status, standing)}"
    run.add("registry.status", status == "active", message)
    _compare_with_registry(run, doc, derived.facts, status, checkpoint)
    state["logs"][run.api.base_url] = {
        "vkey": verifier.vkey(),
        "key_id": verifier.key_id.hex(),
        "tree_size": checkpoint.tree_size,
        "root_hash": checkpoint.root_hash.hex(),
    }
    _save_state(state_file, state)


def _home(run: _Run, predicate: Any, label_id: str, url: str) -> None:
    """registry.home: the label names this registry as its home (its signed ``registry_url`` is
    ``<URL>/l/<label id>``, the URL written as a browser writes an origin), as the page's own check requires;
    another registry listing a label it is not the home of proves nothing about the label's status."""
    try:
        base = public_base_url(url)
    except ValueError:
        base = url.rstrip("/")
    home = f"{base}/l/{label_id}"
    named = predicate.get("registry_url") if isinstance(predicate, dict) else None
    if named == home:
        run.add("registry.home", True, f"the label names this registry as its home ({home})")
    else:
        run.add("registry.home", False, f"the label names another registry than {base} as its home: {named}")


def _log_key(run: _Run, remembered: dict[str, Any]) -> note.Verifier | None:
    """The log key to trust: the pinned one (and the registry must serve it), else the one seen before."""
    try:
        served = note.parse_vkey(str(run.api.get("/log/key")["vkey"]))
    except (KeyError, TypeError, note.NoteError) as exc:
        run.add("registry.log-key", False, f"the registry serves no usable log key ({exc})")
        return None
    pinned = run.trust.log_key
    if pinned is not None:
        same = (pinned.name, pinned.public) == (served.name, served.public)
        run.add("registry.log-key", same, f"the log key is the pinned {pinned.vkey()}" if same
                else f"the registry's log key {served.vkey()} is not the pinned {pinned.vkey()}")  # fmt: skip
        return pinned if same else None
    known = remembered.get("vkey")
    if known and known != served.vkey():
        run.add("registry.log-key", False, f"the log key changed (was {known}); pin the right one with --log-key")
        return None
    run.add(
        "registry.log-key",
        True,
        f"log key {served.vkey()} "
        + ("as seen before" if known else "seen for the first time (pin it with --log-key)"),
    )
    return served


def _checkpoint(run: _Run, verifier: note.Verifier) -> note.Checkpoint | None:
    quorum = run.trust.quorum
    try:
        text = run.api.get_text("/log/checkpoint", **({"min_cosignatures": quorum} if quorum else {}))
        signed = note.parse_note(text)
        checkpoint = note.parse_checkpoint(signed.text)
        if checkpoint.origin != verifier.name or note.signed_by(signed, verifier) is not None:
            raise note.NoteError(f"the checkpoint is not signed by log key {verifier.name}")
    except (RegistryError, note.NoteError) as exc:
        run.add("registry.tree-head", False, str(exc))
        return None
    run.add("registry.tree-head", True, f"checkpoint of {checkpoint.tree_size} entries signed by {verifier.name}")
    if run.trust.witnesses and not _witnessed(run, signed, checkpoint):
        return None
    return checkpoint


def _witnessed(run: _Run, signed: note.Note, checkpoint: note.Checkpoint) -> bool:
    cosigned: list[str] = []
    problems: list[str] = []
    for witness in run.trust.witnesses:
        try:
            timestamp = note.signed_by(signed, witness)
        except note.NoteError as exc:
            problems.append(str(exc))
            continue
        if isinstance(timestamp, int) and not isinstance(timestamp, bool):
            cosigned.append(f"{witness.name} at {dt.datetime.fromtimestamp(timestamp, dt.UTC):%Y-%m-%d %H:%M}Z")
    ok = len(cosigned) >= run.trust.quorum and not problems
    detail = "; ".join(cosigned) or "none of the known witnesses"
    return run.add(
        "registry.witnesses",
        ok,
        f"checkpoint {checkpoint.tree_size} cosigned by {len(cosigned)} of {len(run.trust.witnesses)} known "
        f"witnesses (quorum {run.trust.quorum}): {detail}" + (f"; {'; '.join(problems)}" if problems else ""),
    )


def _consistent(run: _Run, remembered: dict[str, Any], checkpoint: note.Checkpoint) -> bool:
    head = TreeHeadView(checkpoint.tree_size, checkpoint.root_hash, 0, b"")
    if not remembered.get("tree_size"):
        return run.add(
            "registry.log-consistency", True, "first contact with this log: checkpoint remembered for next time"
        )
    try:
        old = TreeHeadView(int(remembered["tree_size"]), bytes.fromhex(remembered["root_hash"]), 0, b"")
        if old.tree_size > head.tree_size:
            raise LogCheckFailed(f"the log shrank from {old.tree_size} to {head.tree_size} entries")
        proof: list[bytes] = []
        if old.tree_size < head.tree_size:
            answer = run.api.get("/log/proof/consistency", first=old.tree_size, second=head.tree_size)
            proof = decode_path(answer["consistency"])
        check_consistency(old, head, proof)
    except (LogCheckFailed, KeyError, ValueError, RegistryError) as exc:
        return run.add("registry.log-consistency", False, str(exc))
    return run.add(
        "registry.log-consistency", True, f"the log grew consistently from {old.tree_size} to {head.tree_size}"
    )


def _proven_facts(run: _Run, label_id: str, checkpoint: note.Checkpoint) -> derive.Derived | None:
    """The label's facts from entries proven to be in the checkpoint's tree, and the label file held here."""
    try:
        bundle = run.api.get(f"/labels/{label_id}/proof", tree_size=checkpoint.tree_size)
        label_pairs = _included(bundle["entries"], checkpoint)
        issuer_pairs = _included(bundle["issuer_entries"], checkpoint)
    except (RegistryError, LogCheckFailed, KeyError, TypeError, ValueError) as exc:
        run.add("registry.log-inclusion", False, str(exc))
        return None
    run.add(
        "registry.log-inclusion",
        True,
        f"all {len(label_pairs)} entries of the label and {len(issuer_pairs)} of its issuer are in checkpoint "
        f"{checkpoint.tree_size}",
    )
    leaves, problems = derive.parse_leaves(label_pairs)
    issuer_leaves, issuer_problems = derive.parse_leaves(issuer_pairs)
    issuer = None
    issuer_problem = None
    try:
        issuer = derive.issuer_state(_issuer_id(issuer_leaves), issuer_leaves)
    except (derive.IssuerLogError, ValueError) as exc:
        issuer_problem = str(exc)
    derived = derive.derive_facts(label_id, run.envelope, leaves, issuer, issuer_problem=issuer_problem)
    problems += issuer_problems + derived.problems
    digest = envelope_digest(run.envelope)
    same = not any("envelope differs" in p for p in problems)
    run.add("registry.same-label", same, f"the log records exactly this label (envelope sha256 {digest[:16]}…)"
            if same else "the log records a DIFFERENT envelope under this label id")  # fmt: skip
    if problems and same:
        run.add("registry.log-entries", False, "; ".join(problems))
        return None
    return derived if same else None


LOG_PAGE = 1000  # the most entries /log/entries serves at once


def _full_log(run: _Run, label_id: str, checkpoint: note.Checkpoint, proven: derive.Derived) -> derive.Derived | None:
    """Read every entry of the checkpoint's tree (it must make the checkpoint's root), take every entry that
    names the label or its issuer, whatever the registry files it under, and derive the label from those:
    an entry the registry left out of the label's list (a hidden revocation) fails ``registry.log-complete``."""
    from cybersafe.registry import audit

    entries: list[bytes] = []
    try:
        for start in range(0, checkpoint.tree_size, LOG_PAGE):
            end = min(start + LOG_PAGE, checkpoint.tree_size)
            page = run.api.get("/log/entries", start=start, end=end)["entries"]
            if [int(item["index"]) for item in page] != list(range(start, end)):
                raise LogCheckFailed(f"the registry served other entries than {start}..{end - 1}")
            entries += [str(item["entry"]).encode() for item in page]
    except (RegistryError, LogCheckFailed, KeyError, TypeError, ValueError) as exc:
        run.add("registry.log-complete", False, f"the whole log could not be read: {exc}")
        return None
    if audit.root_of(entries) != checkpoint.root_hash:
        run.add("registry.log-complete", False, f"the {len(entries)} entries served do not make the checkpoint's root")
        return None
    grouped = audit.by_subject(enumerate(entries))
    leaves, _ = derive.parse_leaves(grouped.get(label_id, []))
    issued = next((leaf.body for leaf in leaves if leaf.kind == "issued"), {})
    issuer = None
    for subject, pairs in grouped.items():
        issuer_leaves, _ = derive.parse_leaves(pairs)
        if subject.startswith("issuer/") and any(
            leaf.body.get("key_id") == issued.get("issuer_key_id") for leaf in issuer_leaves
        ):
            try:
                issuer = derive.issuer_state(int(subject.split("/", 1)[1]), issuer_leaves)
            except derive.IssuerLogError:
                issuer = None
    full = derive.derive_facts(label_id, run.envelope, leaves, issuer)
    listed = {e["log_index"] for e in proven.facts["log"]["events"]}
    hidden = [leaf.index for leaf in leaves if leaf.index not in listed]
    problems = []
    if hidden:
        problems.append(f"log entries {hidden} name this label, but the registry does not list them")
    if full.issuer_standing != proven.issuer_standing:
        problems.append("its issuer's entries in the log say more than the registry listed")
    run.add(
        "registry.log-complete",
        not problems,
        f"all {len(entries)} log entries read: the registry lists every entry of the label and its issuer"
        if not problems
        else "; ".join(problems),
    )
    return full


def _issuer_id(leaves: Sequence[derive.Leaf]) -> int:
    if not leaves:
        raise ValueError("the registry proved no entry about the label's issuer")
    return int(leaves[0].body.get("issuer_id", -1))


def _included(items: Sequence[dict[str, Any]], checkpoint: note.Checkpoint) -> list[tuple[int, bytes]]:
    pairs = []
    for item in items:
        entry = str(item["entry"]).encode()
        index = int(item["index"])
        try:
            merkle.verify_inclusion(
                index,
                checkpoint.tree_size,
                merkle.leaf_hash(entry),
                decode_path(item["audit_path"]),
                checkpoint.root_hash,
            )
        except merkle.ProofError as exc:
            raise LogCheckFailed(f"log entry {index}: {exc}") from None
        pairs.append((index, entry))
    return pairs


def _compare_with_registry(
    run: _Run, doc: dict[str, Any], facts: dict[str, Any], status: str, checkpoint: note.Checkpoint
) -> None:
    """The registry's JSON must tell what its log proves: same status and events (up to the checkpoint)."""
    problems = []
    integrity = doc.get("integrity") or {}
    if integrity.get("ok") is not True:
        problems.append(
            "the registry reports an integrity error: " + "; ".join(map(str, integrity.get("problems", [])))
        )
    served = [e for e in (doc.get("log") or {}).get("events", []) if int(e.get("log_index", -1)) < checkpoint.tree_size]
    proven = facts["log"]["events"]
    if [e.get("log_index") for e in served] != [e["log_index"] for e in proven]:
        problems.append("its JSON lists other log entries than it proved")
    newer = len((doc.get("log") or {}).get("events", [])) != len(served)
    if not newer and doc.get("status") != status:
        problems.append(f"its JSON says {doc.get('status')!r}, its log says {status!r}")
    run.add(
        "registry.integrity",
        not problems,
        "the registry's JSON agrees with its log" if not problems else "; ".join(problems),
    )


def default_state_file() -> Path:
    from platformdirs import user_state_dir

    return Path(user_state_dir("cybersafe")) / "registry-heads.json"
