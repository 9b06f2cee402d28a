"""The witnessable log: C2SP checkpoints, a witness that cosigns only consistent checkpoints, verification with
a pinned log key and a quorum of witnesses, and the migration of a registry made before any of this; on
SQLite and on PostgreSQL."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from registry_harness import BACKENDS, GENEROUS, free_port, setup_actors
from registry_support import Actors, make_envelope, make_record, public_pem
from sqlalchemy import text

from cybersafe import jsonio
from cybersafe.errors import InputError
from cybersafe.registry import admin, db, log, merkle, note, witness
from cybersafe.registry.app import create_app
from cybersafe.registry.client import RegistryClient, Trust, verify_with_registry

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

Client = Any


def _verify(client: Client, envelope: dict[str, Any], state: Path, trust: Trust | None = None) -> dict[str, Any]:
    api = RegistryClient("http://testserver")
    api.http = client
    return {c.name: c for c in verify_with_registry(envelope, "http://testserver", state, client=api, trust=trust)}


def test_the_checkpoint_is_a_c2sp_signed_note(registry: tuple[Client, Actors]) -> None:
    # Given a registry with a label, its checkpoint is origin / size / base64 root, signed by a note key
    # named by the origin whose id is SHA-256(origin || 0x0A || 0x01 || key)[:4]; it matches the tree head.
    client, actors = registry
    client.post("/api/v1/labels", json=actors.envelope(), headers=actors.headers("issuer"))
    key = client.get("/api/v1/log/key").json()
    text_ = client.get("/api/v1/log/checkpoint")
    assert text_.headers["content-type"].startswith("text/plain")
    signed = note.parse_note(text_.text)
    origin, size, root = signed.text.splitlines()
    head = client.get("/api/v1/log/sth").json()
    assert (origin, int(size), base64.b64decode(root).hex()) == (key["origin"], head["tree_size"], head["root_hash"])
    verifier = note.parse_vkey(key["vkey"])
    assert note.signed_by(signed, verifier) is None  # verified (a cosignature would return its time)
    raw = base64.b64decode(key["vkey"].split("+", 2)[2])[1:]
    assert verifier.key_id == hashlib.sha256(origin.encode() + b"\n\x01" + raw).digest()[:4]
    line = text_.text.splitlines()[-1]
    assert line.startswith(f"\u2014 {origin} ")
    older = client.get(f"/api/v1/log/checkpoint?tree_size={head['tree_size'] - 1}")
    assert (
        older.status_code == 200
        and note.parse_checkpoint(note.parse_note(older.text).text).tree_size == head["tree_size"] - 1
    )
    assert client.get("/api/v1/log/checkpoint?min_cosignatures=1").status_code == 404


def test_the_signed_note_example_of_the_c2sp_specification_verifies() -> None:
    # The verifier key and note of https://c2sp.org/signed-note ("Verifier keys", "Example").
    verifier = note.parse_vkey("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")
    signed = note.parse_note(
        "This is an example message.\n\n\u2014 example.com/foo "
        "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
    )
    assert note.signed_by(signed, verifier) is None
    tampered = note.Note("This is an example massage.\n", signed.signatures)
    with pytest.raises(note.NoteError, match="does not verify"):
        note.signed_by(tampered, verifier)
    with pytest.raises(note.NoteError, match="does not match the key"):
        note.parse_vkey("example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")


# --- a witness, by the specification (no database) ---------------------------------------------------


class FakeLog:
    """A log of n entries with its own key, producing signed checkpoints and consistency proofs."""

    def __init__(self, origin: str = "example.test/log") -> None:
        self.origin = origin
        self.key = Ed25519PrivateKey.generate()
        self.entries: list[bytes] = []

    def grow(self, n: int) -> None:
        self.entries += [f"entry-{len(self.entries) + i}".encode() for i in range(n)]

    def _nodes(self) -> Callable[[int, int], bytes]:
        return merkle.getter_from(merkle.new_nodes(0, [merkle.leaf_hash(e) for e in self.entries], {}))

    def checkpoint(
        self, size: int | None = None, root: bytes | None = None, key: Ed25519PrivateKey | None = None
    ) -> str:
        size = len(self.entries) if size is None else size
        root = root if root is not None else merkle.root(size, self._nodes())
        text = note.checkpoint_text(self.origin, size, root)
        return text + "\n" + note.sign_line(text, self.origin, key or self.key)

    def proof(self, old: int, new: int) -> list[bytes]:
        return merkle.consistency_path(old, new, self._nodes()) if 0 < old < new else []

    @property
    def vkey(self) -> note.Verifier:
        return note.verifier_for(self.origin, self.key)


def _request(old: int, proof: list[bytes], checkpoint: str) -> bytes:
    return ("\n".join([f"old {old}", *(base64.b64encode(p).decode() for p in proof)]) + "\n\n" + checkpoint).encode()


@pytest.fixture
def a_witness(tmp_path: Path) -> tuple[witness.WitnessConfig, FakeLog]:
    fake = FakeLog()
    config = witness.WitnessConfig(
        "witness.test/w1", Ed25519PrivateKey.generate(), {fake.origin: fake.vkey}, tmp_path / "witness.json",
        clock=lambda: dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
    )  # fmt: skip
    return config, fake


def test_a_witness_cosigns_only_checkpoints_consistent_with_what_it_cosigned(
    a_witness: tuple[witness.WitnessConfig, FakeLog],
) -> None:
    config, fake = a_witness
    fake.grow(5)
    first = witness.add_checkpoint(config, _request(0, [], fake.checkpoint()))
    assert first.status == 200
    signed = note.parse_note(fake.checkpoint() + first.body)
    assert note.signed_by(signed, config.verifier) == int(dt.datetime(2026, 12, 1, tzinfo=dt.UTC).timestamp())
    # The old size must be the one the witness cosigned last (409 tells it, as text/x.tlog.size).
    stale = witness.add_checkpoint(config, _request(0, [], fake.checkpoint()))
    assert (stale.status, stale.body, stale.content_type) == (409, "5\n", "text/x.tlog.size")
    fake.grow(8)
    grown = witness.add_checkpoint(config, _request(5, fake.proof(5, 13), fake.checkpoint()))
    assert grown.status == 200
    # A forked history at size 20 (another root), even with a proof from the real tree, is refused.
    fake.grow(7)
    forked = fake.checkpoint(root=hashlib.sha256(b"fork").digest())
    assert witness.add_checkpoint(config, _request(13, fake.proof(13, 20), forked)).status == 422
    # A checkpoint the log's key did not sign, an unknown log, nonsense, and going backwards.
    stranger = fake.checkpoint(key=Ed25519PrivateKey.generate())
    assert witness.add_checkpoint(config, _request(13, fake.proof(13, 20), stranger)).status == 403
    other = FakeLog("other.test/log")
    other.grow(1)
    assert witness.add_checkpoint(config, _request(0, [], other.checkpoint())).status == 404
    assert witness.add_checkpoint(config, b"hello").status == 400
    assert witness.add_checkpoint(config, _request(30, [], fake.checkpoint())).status == 400
    assert json.loads(config.state_file.read_text())["logs"][fake.origin]["size"] == 13


def test_the_witness_speaks_http(a_witness: tuple[witness.WitnessConfig, FakeLog]) -> None:
    config, fake = a_witness
    fake.grow(3)
    with TestClient(witness.witness_app(config)) as client:
        answer = client.post("/add-checkpoint", content=_request(0, [], fake.checkpoint()))
        assert answer.status_code == 200 and answer.text.startswith("\u2014 witness.test/w1 ")
        assert client.post("/add-checkpoint", content=_request(0, [], fake.checkpoint())).status_code == 409


# --- witnesses for a registry, on both databases ------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def witnessed(
    request: pytest.FixtureRequest, make_database_url: Callable[[str], str], tmp_path: Path
) -> Iterator[tuple[Client, Actors, list[witness.WitnessConfig]]]:
    """A registry with two witnesses on record, each a real HTTP server on loopback."""
    import uvicorn

    app = create_app(make_database_url(request.param), base_url="http://testserver", rate_limits=GENEROUS)
    actors = setup_actors(app.state.engine)
    signer = app.state.registry.signer
    configs, servers, threads = [], [], []
    for n in (1, 2):
        config = witness.WitnessConfig(f"witness.test/w{n}", Ed25519PrivateKey.generate(), {signer.origin: signer.verifier},
                                       tmp_path / f"w{n}.json")  # fmt: skip
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(witness.witness_app(config), host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.02)
        admin.add_witness(app.state.engine, config.verifier.vkey(), f"http://127.0.0.1:{port}")
        configs.append(config)
        servers.append(server)
        threads.append(thread)
    with TestClient(app) as client:
        yield client, actors, configs
    for server, thread in zip(servers, threads, strict=True):
        server.should_exit = True
        thread.join(timeout=10)
    app.state.shutdown()


def test_witnesses_cosign_and_verify_requires_a_quorum(
    witnessed: tuple[Client, Actors, list[witness.WitnessConfig]], tmp_path: Path
) -> None:
    client, actors, configs = witnessed
    engine, signer = client.app.state.engine, client.app.state.registry.signer
    envelope = actors.envelope(model="WIT-1")
    assert client.post("/api/v1/labels", json=envelope, headers=actors.headers("issuer")).status_code == 201
    outcomes = witness.collect(engine, signer)
    assert [o.outcome for o in outcomes] == ["cosigned", "cosigned"], outcomes
    assert [o.outcome for o in witness.collect(engine, signer)] == ["already", "already"]
    checkpoint = client.get("/api/v1/log/checkpoint").text
    assert checkpoint.count("\u2014 ") == 3  # the log, then both witnesses
    vkeys = [c.verifier.vkey() for c in configs]
    log_vkey = client.get("/api/v1/log/key").json()["vkey"]
    checks = _verify(client, envelope, tmp_path / "a.json", Trust.of(log_vkey, vkeys, 2))
    assert all(c.status == "pass" for c in checks.values()), checks
    assert "cosigned by 2 of 2" in checks["registry.witnesses"].message
    # A witness the registry never asked cannot make up a quorum of three.
    stranger = note.verifier_for("witness.test/w3", Ed25519PrivateKey.generate(), note.COSIGNATURE).vkey()
    short = _verify(client, envelope, tmp_path / "b.json", Trust.of(log_vkey, [*vkeys, stranger], 3))
    assert short["registry.tree-head"].status == "fail"  # no checkpoint carries 3 cosignatures
    # A label published after the last cosigned checkpoint is not witnessed yet: a quorum client says so.
    late = actors.envelope(model="WIT-2")
    client.post("/api/v1/labels", json=late, headers=actors.headers("issuer"))
    pending = _verify(client, late, tmp_path / "c.json", Trust.of(log_vkey, vkeys, 2))
    assert any(c.status == "fail" and "issued" in c.message for c in pending.values()), pending
    witness.collect(engine, signer)
    assert all(
        c.status == "pass" for c in _verify(client, late, tmp_path / "c.json", Trust.of(log_vkey, vkeys, 2)).values()
    )


def test_a_pinned_log_key_must_be_the_one_that_signs(registry: tuple[Client, Actors], tmp_path: Path) -> None:
    client, actors = registry
    envelope = actors.envelope(model="PIN-1")
    client.post("/api/v1/labels", json=envelope, headers=actors.headers("issuer"))
    key = client.get("/api/v1/log/key").json()
    good = _verify(client, envelope, tmp_path / "a.json", Trust.of(key["vkey"]))
    assert all(c.status == "pass" for c in good.values()), good
    impostor = note.verifier_for(key["origin"], Ed25519PrivateKey.generate()).vkey()
    bad = _verify(client, envelope, tmp_path / "b.json", Trust.of(impostor))
    assert bad["registry.log-key"].status == "fail" and "not the pinned" in bad["registry.log-key"].message
    assert "registry.status" not in bad
    with pytest.raises(InputError, match="verifier key"):
        Trust.of("not-a-key")


# --- a registry made before this revision -------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_registry_from_revision_0001_is_migrated_and_its_labels_derive_cleanly(
    backend: str, make_database_url: Callable[[str], str], tmp_path: Path
) -> None:
    # Given a database at revision 0001 holding one issuer, one label, its log entry, nodes and tree head as
    # the earlier registry wrote them, when the registry starts on it, then the schema is migrated, the
    # issuer's registration is logged, the stored document is rebuilt, and the label reads active with no
    # integrity error and verifies.
    from alembic import command
    from alembic.config import Config

    url = make_database_url(backend)
    engine = db.make_engine(url)
    config = Config()
    config.set_main_option("script_location", str(db.MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
    key = Ed25519PrivateKey.generate()
    envelope = _legacy_registry(engine, key)
    engine.dispose()
    app = create_app(url, base_url="http://testserver", rate_limits=GENEROUS)
    with TestClient(app) as client:
        label_id = json.loads(base64.b64decode(envelope["payload"]))["predicate"]["label_id"]
        doc = client.get(f"/api/v1/labels/{label_id}").json()
        assert doc["status"] == "active" and doc["integrity"]["ok"], doc["integrity"]
        assert doc["issuer"]["name"] == "Old Labels" and [e["kind"] for e in doc["log"]["events"]] == ["issued"]
        checks = _verify(client, envelope, tmp_path / "s.json")
        assert all(c.status == "pass" for c in checks.values()), checks
    with app.state.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM log_entries")).scalar_one() == 2
        assert conn.execute(text("SELECT documents_version FROM log_state")).scalar_one() >= 2
    app.state.shutdown()


def _legacy_registry(engine: Any, issuer_key: Ed25519PrivateKey) -> dict[str, Any]:
    """Rows exactly as revision 0001 and the earlier registry code wrote them (label_events, no subject)."""
    from cybersafe.attest.keys import key_id
    from cybersafe.label.qr import canonical_envelope, envelope_digest

    record = make_record(issuer_key, issuer_name="Old Labels", manufacturer="Legacy Maker")
    envelope = make_envelope(record, issuer_key)
    now = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    entry = jsonio.canonical({
        "v": 1, "kind": "issued", "label_id": record["label_id"], "at": "2026-02-01T00:00:00Z",
        "envelope_sha256": envelope_digest(envelope), "issuer_key_id": key_id(issuer_key.public_key()),
        "status": "active", "support_end": record["support_end"],
    })  # fmt: skip
    log_key = Ed25519PrivateKey.generate()
    signer = log.LogSigner(log_key, "legacy.test/log")
    nodes = merkle.new_nodes(0, [merkle.leaf_hash(entry)], {})
    head_root = merkle.root(1, merkle.getter_from(nodes))
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO issuers (id, name, contact, key_id, public_key_pem, created) "
                "VALUES (1, 'Old Labels', 'x@old.test', :k, :p, :t)"
            ),
            {"k": key_id(issuer_key.public_key()), "p": public_pem(issuer_key), "t": now},
        )
        conn.execute(
            text(
                "INSERT INTO manufacturers (id, name, name_key, contact, created) VALUES (1, 'Legacy Maker', 'legacy maker', NULL, :t)"
            ),
            {"t": now},
        )
        conn.execute(
            text(
                "INSERT INTO products (id, manufacturer_id, name, model, model_key, support_end) "
                "VALUES (1, 1, 'Smart Plug', 'SP-1', 'sp-1|1.0', '2031-12-31')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO labels (label_id, product_id, issuer_id, scheme, scheme_version, status, issued, "
                "valid_until, support_end_signed, envelope, envelope_sha256, search_text, published, "
                "last_event_index, document) VALUES (:i, 1, 1, 'us-ctm', 'ir8425-2022', 'active', :d1, :d2, "
                "'2031-12-31', :e, :h, 'x', :t, 0, '{\"status\": \"active\"}')"
            ),
            {
                "i": record["label_id"],
                "d1": dt.date(2026, 1, 10),
                "d2": dt.date(2030, 1, 10),
                "e": canonical_envelope(envelope).decode(),
                "h": envelope_digest(envelope),
                "t": now,
            },
        )
        conn.execute(
            text("INSERT INTO label_events (log_index, label_id, kind, at, entry) VALUES (0, :i, 'issued', :t, :e)"),
            {"i": record["label_id"], "t": now, "e": entry},
        )
        for (level, index), digest in nodes.items():
            conn.execute(
                text("INSERT INTO log_nodes (pos, hash) VALUES (:p, :h)"),
                {"p": log.node_pos(level, index), "h": digest},
            )
        conn.execute(text("UPDATE log_state SET size = 1"))
        head = log.SignedTreeHead(1, head_root, 1, log_key.sign(log.sth_message(1, 1, head_root)))
        conn.execute(
            text("INSERT INTO tree_heads (tree_size, root_hash, timestamp_ms, signature) VALUES (1, :r, 1, :s)"),
            {"r": head.root_hash, "s": head.signature},
        )
        pem = log_key.private_bytes(*_pkcs8()).decode()
        conn.execute(
            text(
                "INSERT INTO log_keys (id, key_id, private_key_pem, public_key_pem, created) VALUES (1, 'k', :p, :q, :t)"
            ),
            {"p": pem, "q": public_pem(log_key), "t": now},
        )
    del signer
    return envelope


def _pkcs8() -> tuple[Any, Any, Any]:
    from cryptography.hazmat.primitives import serialization

    return serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
