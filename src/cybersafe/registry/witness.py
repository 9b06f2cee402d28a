"""Witnessing the log: a C2SP witness, and the registry side that asks witnesses to cosign.

A witness (https://c2sp.org/tlog-witness) keeps, per log origin, the latest checkpoint it cosigned. On
``POST <prefix>/add-checkpoint`` (``old <size>``, consistency proof lines, a blank line, the checkpoint) it
checks the log's signature, that ``old`` is the size it last cosigned, and the RFC 9162 consistency proof
from that checkpoint to the new one; only then does it store the new checkpoint and return an Ed25519
cosignature (https://c2sp.org/tlog-cosignature). So no two cosigned checkpoints of one log can contradict
each other, and a registry that shows one history to some readers and another to others (a split view)
cannot get both cosigned. ``cybersafe registry witness serve`` runs one.

``collect`` is the log's side: for every witness on record it sends the newest checkpoint with a
consistency proof from the witness's last size, verifies the cosignature it gets back with the witness's
key, and stores it; readers then see it on ``/api/v1/log/checkpoint``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import fcntl
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, insert, select, update

from cybersafe import safeio
from cybersafe.errors import InputError
from cybersafe.registry import log, merkle, note
from cybersafe.registry.models import Cosignature, Witness

SIZE_TYPE = "text/x.tlog.size"
MAX_PROOF_LINES = 63


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class WitnessConfig:
    name: str
    key: Ed25519PrivateKey
    logs: dict[str, note.Verifier]  # origin -> the log's note key
    state_file: Path
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)

    @property
    def verifier(self) -> note.Verifier:
        return note.verifier_for(self.name, self.key, note.COSIGNATURE)


@contextlib.contextmanager
def _locked_state(path: Path) -> Iterator[dict[str, Any]]:
    """The witness's state, read and written under an exclusive lock: checking ``old`` and storing the new
    checkpoint happen atomically (tlog-witness: otherwise two requests could roll the log back)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.with_name(path.name + ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            raw = safeio.read_text(path, 64 * safeio.MiB, what="the witness state file") if path.exists() else None
            state = json.loads(raw) if raw is not None else {"logs": {}}
        except (InputError, OSError, ValueError, RecursionError):
            raise InputError("witness state file is unreadable", file=path) from None
        yield state
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")
        tmp.replace(path)


def _parse_request(body: bytes) -> tuple[int, list[bytes], str]:
    text = body.decode("utf-8")
    head, sep, checkpoint = text.partition("\n\n")
    if not sep:
        raise ValueError("no blank line before the checkpoint")
    lines = head.split("\n")
    if not lines[0].startswith("old "):
        raise ValueError("the first line must be 'old <size>'")
    old_text = lines[0][4:]
    if not old_text.isdigit() or (old_text != "0" and old_text.startswith("0")):
        raise ValueError("old size is not a decimal number")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise ValueError("too many consistency proof lines")
    proof = [base64.b64decode(line, validate=True) for line in lines[1:]]
    return int(old_text), proof, checkpoint


def add_checkpoint(config: WitnessConfig, body: bytes) -> Answer:
    """The tlog-witness ``add-checkpoint`` call: status codes and bodies as the specification gives them."""
    try:
        old, proof, text = _parse_request(body)
        signed = note.parse_note(text)
        checkpoint = note.parse_checkpoint(signed.text)
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        return Answer(400, f"bad request: {exc}\n")
    log_key = config.logs.get(checkpoint.origin)
    if log_key is None:
        return Answer(404, f"unknown log origin {checkpoint.origin}\n")
    try:
        if note.signed_by(signed, log_key) is not None:
            return Answer(403, "the checkpoint carries no signature of the log's key\n")
    except note.NoteError:
        return Answer(403, "the log's signature on the checkpoint does not verify\n")
    if old > checkpoint.tree_size:
        return Answer(400, "old size is larger than the checkpoint's size\n")
    with _locked_state(config.state_file) as state:
        latest = state["logs"].get(checkpoint.origin, {"size": 0, "root": base64.b64encode(merkle.EMPTY_ROOT).decode()})
        if old != latest["size"]:
            return Answer(409, f"{latest['size']}\n", SIZE_TYPE)
        problem = _inconsistency(old, base64.b64decode(latest["root"]), checkpoint, proof)
        if problem:
            return Answer(422, problem + "\n")
        state["logs"][checkpoint.origin] = {
            "size": checkpoint.tree_size,
            "root": base64.b64encode(checkpoint.root_hash).decode(),
        }
    timestamp = int(config.clock().timestamp())
    return Answer(200, note.cosign_line(signed.text, config.name, config.key, timestamp))


def _inconsistency(old: int, old_root: bytes, checkpoint: note.Checkpoint, proof: list[bytes]) -> str | None:
    if checkpoint.tree_size == 0 and checkpoint.root_hash != merkle.EMPTY_ROOT:
        return "an empty tree has the root hash of the empty string"
    if old == 0:
        return "a proof from the empty tree must be empty" if proof else None
    try:
        merkle.verify_consistency(old, checkpoint.tree_size, old_root, checkpoint.root_hash, proof)
    except merkle.ProofError as exc:
        return f"not consistent with the checkpoint of size {old} cosigned before: {exc}"
    return None


def witness_app(config: WitnessConfig) -> Any:
    """The witness as an ASGI app: ``POST /add-checkpoint``."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def endpoint(request: Request) -> Response:
        body = await request.body()
        if len(body) > note.MAX_NOTE_BYTES + 64 * (MAX_PROOF_LINES + 1):
            return Response("request too large\n", status_code=413)
        answer = add_checkpoint(config, body)
        return Response(answer.body, status_code=answer.status, media_type=answer.content_type)

    return Starlette(routes=[Route("/add-checkpoint", endpoint, methods=["POST"])])


# --- the log's side ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Collected:
    witness: str
    tree_size: int
    outcome: str  # cosigned | already | failed
    detail: str = ""


def collect(engine: Engine, signer: log.LogSigner, *, timeout: float = 10.0) -> list[Collected]:
    """Ask every witness on record to cosign the newest checkpoint; store what verifies."""
    with engine.connect() as conn:
        head = log.latest_tree_head(conn)
        witnesses = conn.execute(select(Witness)).all()
    if head is None:
        return []
    checkpoint = signer.checkpoint(head)
    out = []
    with httpx.Client(timeout=timeout) as http:
        for witness in witnesses:
            out.append(_ask(engine, http, witness, head, checkpoint))
    return out


def _ask(engine: Engine, http: httpx.Client, witness: Any, head: log.SignedTreeHead, checkpoint: str) -> Collected:
    verifier = note.parse_vkey(witness.vkey)
    old = int(witness.cosigned_size)
    for _attempt in range(2):
        if old == head.tree_size and _stored(engine, head.tree_size, witness.id):
            return Collected(witness.name, head.tree_size, "already")
        try:
            response = http.post(f"{witness.url}/add-checkpoint", content=_request_body(engine, old, head, checkpoint))
        except httpx.HTTPError as exc:
            return Collected(witness.name, head.tree_size, "failed", f"unreachable ({exc.__class__.__name__})")
        if response.status_code == 409 and response.text.strip().isdigit():
            old = int(response.text.strip())  # the witness knows a different size: start from its own
            continue
        if response.status_code != 200:
            return Collected(
                witness.name, head.tree_size, "failed", f"HTTP {response.status_code}: {response.text.strip()[:200]}"
            )
        return _store(engine, witness, verifier, head, checkpoint, response.text)
    return Collected(witness.name, head.tree_size, "failed", "the witness's size kept changing")


def _request_body(engine: Engine, old: int, head: log.SignedTreeHead, checkpoint: str) -> bytes:
    proof: list[bytes] = []
    if 0 < old < head.tree_size:
        with engine.connect() as conn:
            proof = log.consistency_proof(conn, old, head.tree_size)
    lines = [f"old {old}"] + [base64.b64encode(h).decode() for h in proof]
    return ("\n".join(lines) + "\n\n" + checkpoint).encode()


def _stored(engine: Engine, tree_size: int, witness_id: int) -> bool:
    with engine.connect() as conn:
        found = conn.execute(
            select(Cosignature.line).where(
                (Cosignature.tree_size == tree_size) & (Cosignature.witness_id == witness_id)
            )
        ).first()
    return found is not None


def _store(
    engine: Engine, witness: Any, verifier: note.Verifier, head: log.SignedTreeHead, checkpoint: str, answer: str
) -> Collected:
    signed = note.parse_note(checkpoint)
    for line in answer.splitlines():
        try:
            candidate = note.parse_signature_line(line)
            if candidate.name != verifier.name or candidate.key_id != verifier.key_id:
                continue
            timestamp = note.verify_signature(signed.text, candidate, verifier)
        except note.NoteError as exc:
            return Collected(witness.name, head.tree_size, "failed", f"bad cosignature: {exc}")
        with engine.begin() as conn:
            conn.execute(
                insert(Cosignature).values(
                    tree_size=head.tree_size,
                    witness_id=witness.id,
                    line=candidate.line(),
                    timestamp=int(timestamp or 0),
                )
            )
            conn.execute(update(Witness).where(Witness.id == witness.id).values(cosigned_size=head.tree_size))
        return Collected(witness.name, head.tree_size, "cosigned")
    return Collected(witness.name, head.tree_size, "failed", "no cosignature from the witness's key in its answer")
