"""Registry benchmark: bulk-load N labels, then measure lookups, log appends and proofs.

    .venv/bin/python bench/registry.py [--labels 1000000] [--backend postgres|sqlite|both] [--duration 10]

What it does, per backend:
1. starts a private PostgreSQL cluster (as the postgres user when run as root) or uses a SQLite file;
2. registers the issuer through the registry (its log entry comes first), then bulk-loads N signed labels
   (real DSSE envelopes, Ed25519), their products, one log entry each, every Merkle node and the final
   signed tree head, with COPY (PostgreSQL) or executemany (SQLite); each stored document is what the
   registry's own ``derive.derive_facts`` makes of the envelope and the entry;
3. starts ``cybersafe registry serve --workers 2`` and runs wrk on loopback against: the trivial hello
   endpoint of the same server, a static baseline (uvicorn, 2 workers, a raw ASGI app returning the same
   label JSON from memory), label JSON lookups and label page lookups at random ids among all N (each
   derived from the label's log entries and compared with the stored document), and the proof bundle the
   page's script fetches;
4. measures log appends (one event per transaction, each with a signed tree head, as a publish does) and
   inclusion / consistency proofs at N entries.
Figures go to stdout and to bench/results/registry.md.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import json
import multiprocessing
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from cybersafe.attest.dsse import PAYLOAD_TYPE, pae  # noqa: E402
from cybersafe.attest.keys import key_id  # noqa: E402
from cybersafe.registry import admin, db, derive, documents, log, merkle, names  # noqa: E402
from cybersafe.registry.models import LogEntry  # noqa: E402

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHUNK = 5000
ISSUER_NAME = "Bench Label Administrator"
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


# --- data generation (worker processes) ---------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _init_worker(pem: bytes, issuer_entries: list[tuple[int, bytes]], offset: int) -> None:
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, Ed25519PrivateKey)
    _WORKER["key"] = key
    leaves, _ = derive.parse_leaves(issuer_entries)
    _WORKER["issuer"] = derive.issuer_state(1, leaves)
    _WORKER["offset"] = offset


def _label_id(rng: random.Random) -> str:
    bits = rng.getrandbits(130)
    return "CSL-USCTM-" + "".join(CROCKFORD[(bits >> (5 * k)) & 31] for k in range(26))


def _canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _make_chunk(args: tuple[int, int, int]) -> list[dict[str, Any]]:
    """Rows for labels [start, end): label fields, envelope, document, log entry."""
    start, end, seed = args
    signer = _WORKER["key"]
    kid = key_id(signer.public_key())
    rng = random.Random(seed * 1_000_003 + start)
    out = []
    for i in range(start, end):
        label_id = _label_id(rng)
        maker = f"Maker {i % 997:03d}"
        model = f"M-{i:07d}"
        support_end = dt.date(2030 + i % 6, 1 + i % 12, 1 + i % 28).isoformat()
        issued = dt.date(2026, 1 + i % 5, 1 + i % 28)
        record = {
            "schema": "cybersafe/label/v1",
            "label_id": label_id,
            "scheme": "us-ctm",
            "scheme_version": "ir8425-2022",
            "level": None,
            "product": {"manufacturer": maker, "name": f"Device {i}", "model": model,
                        "hardware_version": "1.0", "firmware_version": "2.0.1"},
            "subjects": [{"name": "firmware:fw.bin", "sha256": hashlib.sha256(label_id.encode()).hexdigest()}],
            "assessment_sha256": hashlib.sha256(model.encode()).hexdigest(),
            "verdict_summary": {"status": "meets", "highest_level": None, "counts": {"pass": 38, "fail": 0}},
            "issued": issued.isoformat(),
            "valid_until": support_end,
            "support_end": support_end,
            "issuer": {"name": ISSUER_NAME, "key_id": kid, "contact": "cla@bench.test"},
            "lab": "Bench CyberLAB",
            "registry_url": f"http://127.0.0.1/l/{label_id}",
            "disclosures": {
                "manufacturer": maker, "product": f"Device {i}", "authorised_on": issued.isoformat(),
                "administrator": ISSUER_NAME, "lab": "Bench CyberLAB",
                "default_password": "Unique per device, printed on the label; change it in the app.",
                "secure_configuration": "https://maker.test/secure", "updates_automatic": True,
                "update_instructions": "Automatic.", "support_end": support_end, "sbom_maintained": True,
                "hbom_maintained": False, "contact": "psirt@maker.test",
            },
        }  # fmt: skip
        statement = {
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "firmware:fw.bin", "digest": {"sha256": record["subjects"][0]["sha256"]}}],
            "predicateType": "https://cybersafe.dev/attestation/label/v1",
            "predicate": record,
        }
        body = _canonical(statement)
        envelope = {
            "payloadType": PAYLOAD_TYPE,
            "payload": base64.b64encode(body).decode(),
            "signatures": [{"keyid": kid, "sig": base64.b64encode(signer.sign(pae(PAYLOAD_TYPE, body))).decode()}],
        }
        envelope_json = derive.document_json(envelope)
        digest = hashlib.sha256(envelope_json.encode()).hexdigest()
        at = NOW.isoformat().replace("+00:00", "Z")
        index = _WORKER["offset"] + i
        entry = _canonical({"v": 1, "kind": "issued", "label_id": label_id, "at": at, "envelope_sha256": digest,
                            "issuer_key_id": kid, "status": "active", "support_end": support_end,
                            "product_id": i + 1})  # fmt: skip
        # The stored document is what the registry derives from the envelope and the log entry.
        derived = derive.derive_facts(
            label_id, envelope, [derive.Leaf(index, entry, json.loads(entry))], _WORKER["issuer"], product_id=i + 1
        )
        assert derived.ok, derived.problems
        out.append(
            {
                "i": i, "label_id": label_id, "maker": i % 997 + 1, "model": model, "support_end": support_end,
                "issued": issued, "envelope": envelope_json, "digest": digest, "entry": entry, "index": index,
                "document": derive.document_json(derived.facts),
                "search": f"{label_id} {maker} device {i} {model} us-ctm {ISSUER_NAME}".casefold(),
            }
        )  # fmt: skip
    return out


# --- loading --------------------------------------------------------------------------------------------


def load(url: str, n: int, key: Ed25519PrivateKey, workers: int) -> dict[str, float]:
    engine = db.make_engine(url)
    db.migrate(engine)
    log_key = log.ensure_log_key(engine)
    pub = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    issuer = admin.add_issuer(engine, log_key, ISSUER_NAME, "cla@bench.test", pub.decode())
    token = admin.create_token(engine, admin.Role.ISSUER, "bench", issuer_id=issuer["id"])["token"]
    with engine.connect() as conn:
        offset = log.log_size(conn)  # the issuer's registration is the first entry
        nodes_peaks = log.peak_nodes(conn, offset)
        issuer_entries = log.entries_about(conn, [log.issuer_subject(issuer["id"])])[log.issuer_subject(issuer["id"])]
    engine.dispose()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    postgres = not db.is_sqlite(url)
    t0 = time.perf_counter()
    size = offset
    ids: list[str] = []
    conn: Any
    if postgres:
        import psycopg

        conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
        cur = conn.cursor()
    else:
        import sqlite3

        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        cur = conn.cursor()
    makers = [(m, f"Maker {m - 1:03d}", f"maker {m - 1:03d}", names.skeleton(f"Maker {m - 1:03d}"), NOW)
              for m in range(1, 998)]  # fmt: skip
    _rows(cur, postgres, "manufacturers", ["id", "name", "name_key", "skeleton", "created"], makers)
    chunks = [(s, min(s + CHUNK, n), 1) for s in range(0, n, CHUNK)]
    with multiprocessing.get_context("fork").Pool(workers, _init_worker, (pem, issuer_entries, offset)) as pool:
        for rows in pool.imap(_make_chunk, chunks):
            _rows(cur, postgres, "products",
                  ["id", "manufacturer_id", "name", "model", "model_key", "model_skeleton", "support_end",
                   "update_instructions", "updates_automatic", "support_updated"],
                  [(r["i"] + 1, r["maker"], f"Device {r['i']}", r["model"], r["model"].casefold() + "|1.0",
                    r["model"].casefold(), r["support_end"], "Automatic.", True, NOW) for r in rows])  # fmt: skip
            _rows(cur, postgres, "labels",
                  ["label_id", "product_id", "issuer_id", "scheme", "scheme_version", "level", "status", "issued",
                   "valid_until", "support_end_signed", "lab", "envelope", "envelope_sha256", "search_text",
                   "published", "last_event_index", "document"],
                  [(r["label_id"], r["i"] + 1, issuer["id"], "us-ctm", "ir8425-2022", None, "active", r["issued"],
                    dt.date.fromisoformat(r["support_end"]), r["support_end"], "Bench CyberLAB", r["envelope"],
                    r["digest"], r["search"], NOW, r["index"], r["document"]) for r in rows])  # fmt: skip
            _rows(cur, postgres, "log_entries", ["log_index", "subject", "kind", "at", "entry"],
                  [(r["index"], r["label_id"], "issued", NOW, r["entry"]) for r in rows])  # fmt: skip
            created = merkle.new_nodes(size, [merkle.leaf_hash(r["entry"]) for r in rows], nodes_peaks)
            size += len(rows)
            known = {**nodes_peaks, **created}
            nodes_peaks = {k: known[k] for k in merkle.peaks(size)}
            _rows(cur, postgres, "log_nodes", ["pos", "hash"], [(log.node_pos(*k), h) for k, h in created.items()])
            ids += [r["label_id"] for r in rows]
            if postgres:
                conn.commit()
            print(f"\r  loaded {size:,}/{n:,} labels ({time.perf_counter() - t0:.0f} s)", end="", flush=True)
    print()
    root = merkle.root(size, merkle.getter_from(nodes_peaks))
    ts = int(NOW.timestamp() * 1000)
    sig = log_key.key.sign(log.sth_message(size, ts, root))
    _rows(cur, postgres, "tree_heads", ["tree_size", "root_hash", "timestamp_ms", "signature"], [(size, root, ts, sig)])
    cur.execute(
        "UPDATE log_state SET size = %s, documents_version = %s WHERE id = 1"
        if postgres
        else "UPDATE log_state SET size = ?, documents_version = ? WHERE id = 1",
        (size, documents.DOCUMENTS_VERSION),
    )
    if postgres:
        cur.execute("SELECT setval('products_id_seq', %s)", (n + 1,))
        cur.execute("SELECT setval('manufacturers_id_seq', 1000)")
        conn.commit()
        conn.autocommit = True
        cur.execute("VACUUM ANALYZE")
        # A registry that has been serving for a while has its label rows and indexes in shared_buffers;
        # pg_prewarm puts them there now instead of letting the first minutes of lookups do it.
        cur.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        for relation in (
            "labels",
            "labels_pkey",
            "ix_labels_product_scheme",
            "log_entries",
            "log_entries_pkey",
            "ix_log_entries_subject",
            "log_nodes",
            "log_nodes_pkey",
        ):
            cur.execute("SELECT pg_prewarm(%s)", (relation,))
    else:
        conn.commit()
        conn.execute("ANALYZE")
    load_s = time.perf_counter() - t0
    conn.close()
    return {"load_s": load_s, "token": token, "ids": ids}  # type: ignore[dict-item]


def _rows(cur: Any, postgres: bool, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    if postgres:
        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" for _ in columns)
        cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", [_sqlite_row(r) for r in rows])


def _sqlite_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    out = []
    for v in row:
        if isinstance(v, dt.datetime):
            out.append(v.replace(tzinfo=None).isoformat(sep=" "))
        elif isinstance(v, dt.date):
            out.append(v.isoformat())
        else:
            out.append(v)
    return tuple(out)


# --- servers and load -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


STATIC_APP = """
import os
BODY = open(os.environ["BENCH_STATIC_FILE"], "rb").read()
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]
async def app(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
"""

LUA = """
local ids = {}
local prefix = "/"
local suffix = ""
init = function(args)
  prefix = args[2]
  suffix = args[3] or ""
  for line in io.lines(args[1]) do ids[#ids + 1] = line end
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end
request = function()
  return wrk.format("GET", prefix .. ids[math.random(#ids)] .. suffix)
end
"""


def wrk(
    url: str, duration: int, connections: int, script: Path | None = None, args: list[str] | None = None
) -> dict[str, float]:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency"]
    if script is not None:
        cmd += ["-s", str(script)]
    cmd.append(url)
    if args:
        cmd += ["--", *args]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat = {p: _ms(v) for p, v in re.findall(r"^\s+(50|99)(?:\.000)?%\s+([\d.]+\w+)", out, re.M)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": rps,
        "p50": lat.get("50", float("nan")),
        "p99": lat.get("99", float("nan")),
        "non2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",  # type: ignore[dict-item]
    }


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def measure_http(url: str, ids: list[str], duration: int, connections: int, work: Path) -> dict[str, dict[str, float]]:
    port = free_port()
    env = {**os.environ, db.ENV_VAR: url}
    exe = str(Path(sys.executable).parent / "cybersafe")
    server = subprocess.Popen(
        [exe, "registry", "serve", "--db", url, "--port", str(port), "--workers", "2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    static_port = free_port()
    static_file = work / "label.json"
    try:
        wait_http(base + "/api/v1/hello", server)
        static_file.write_bytes(httpx.get(f"{base}/api/v1/labels/{ids[0]}").content)
        (work / "static_app.py").write_text(STATIC_APP)
        static = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "static_app:app", "--port", str(static_port), "--workers", "2",
             "--log-level", "warning", "--no-access-log"],
            cwd=work, env={**os.environ, "BENCH_STATIC_FILE": str(static_file)},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        try:
            wait_http(f"http://127.0.0.1:{static_port}/", static)
            ids_file = work / "ids.txt"
            ids_file.write_text("\n".join(ids) + "\n")
            script = work / "random.lua"
            script.write_text(LUA)
            # QR scans are skewed towards popular products: Zipf (s = 1.1) over the same ids, as a line list
            # that wrk samples uniformly.
            ranked = random.Random(3).sample(ids, len(ids))
            weights = [1 / (rank + 1) ** 1.1 for rank in range(len(ranked))]
            zipf_file = work / "zipf.txt"
            zipf_file.write_text("\n".join(random.Random(4).choices(ranked, weights, k=200_000)) + "\n")
            # Warm both servers' workers and the registry's read path (database connections, prepared
            # statements, the log's upper nodes): the targets are about a registry that is up and serving.
            wrk(base + "/api/v1/hello", 2, connections)
            wrk(f"http://127.0.0.1:{static_port}/", 2, connections)
            for prefix in ("/api/v1/labels/", "/l/"):
                wrk(base, 3, connections, script, [str(ids_file), prefix])
            results = {
                "hello (same server)": wrk(base + "/api/v1/hello", duration, connections),
                "static JSON (uvicorn, raw ASGI)": wrk(f"http://127.0.0.1:{static_port}/", duration, connections),
                "label JSON, uniform random id": wrk(
                    base, duration, connections, script, [str(ids_file), "/api/v1/labels/"]
                ),
                "label page, uniform random id": wrk(base, duration, connections, script, [str(ids_file), "/l/"]),
                "label JSON, Zipf-skewed id": wrk(
                    base, duration, connections, script, [str(zipf_file), "/api/v1/labels/"]
                ),
                "label page, Zipf-skewed id": wrk(base, duration, connections, script, [str(zipf_file), "/l/"]),
                "proof bundle (the page script's fetch), uniform id": wrk(
                    base, duration, connections, script, [str(ids_file), "/api/v1/labels/", "/proof"]
                ),
            }
            proof_ids = work / "leaves.txt"
            size = httpx.get(base + "/api/v1/log/sth").json()["tree_size"]
            proof_ids.write_text("\n".join(f"{random.randrange(size)}&tree_size={size}" for _ in range(20000)) + "\n")
            results["inclusion proof API, random leaf"] = wrk(
                base, duration, connections, script, [str(proof_ids), "/api/v1/log/proof/inclusion?leaf_index="]
            )
            return results
        finally:
            os.killpg(static.pid, signal.SIGTERM)
            static.wait(timeout=30)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def measure_log(url: str, samples: int = 2000) -> dict[str, float]:
    engine = db.make_engine(url)
    key = log.ensure_log_key(engine)
    out: dict[str, float] = {}
    with engine.connect() as conn:
        size = log.log_size(conn)
        head = log.latest_tree_head(conn)
        assert head is not None
        idx = [random.randrange(size) for _ in range(samples)]
        # warm the index pages
        for i in idx[:200]:
            log.inclusion_proof(conn, i, size)
        t0 = time.perf_counter()
        for i in idx:
            path = log.inclusion_proof(conn, i, size)
        out["inclusion_ms"] = (time.perf_counter() - t0) * 1000 / samples
        entry = conn.execute(select(LogEntry.entry).where(LogEntry.log_index == idx[-1])).scalar_one()
        merkle.verify_inclusion(idx[-1], size, merkle.leaf_hash(bytes(entry)), path, head.root_hash)
        firsts = [random.randrange(1, size) for _ in range(samples)]
        t0 = time.perf_counter()
        for f in firsts:
            log.consistency_proof(conn, f, size)
        out["consistency_ms"] = (time.perf_counter() - t0) * 1000 / samples
        t0 = time.perf_counter()
        for _ in range(200):
            log.root_at(conn, size)
        out["root_ms"] = (time.perf_counter() - t0) * 1000 / 200
    out["size"] = size
    appends = 500
    t0 = time.perf_counter()
    for j in range(appends):
        with engine.begin() as conn:
            event = log.NewEvent(f"BENCH-{j}", "updated", NOW, _canonical({"bench": j, "r": secrets.token_hex(4)}))
            log.append(conn, [event], key, dt.datetime.now(dt.UTC))
    out["append_per_s"] = appends / (time.perf_counter() - t0)
    batch = [log.NewEvent(f"BATCH-{j}", "updated", NOW, _canonical({"batch": j})) for j in range(10000)]
    t0 = time.perf_counter()
    with engine.begin() as conn:
        log.append(conn, batch, key, dt.datetime.now(dt.UTC))
    out["batch_append_per_s"] = len(batch) / (time.perf_counter() - t0)
    engine.dispose()
    return out


# --- PostgreSQL ------------------------------------------------------------------------------------------


class Cluster:
    def __init__(self) -> None:
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if not found:
            raise SystemExit("PostgreSQL server binaries are missing (apt-get install postgresql)")
        self.bin = Path(found[-1]).parent
        self.parent = Path(tempfile.mkdtemp(prefix="cybersafe-bench-pg-", dir="/var/tmp"))
        self.port = free_port()
        self.sudo: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.parent, "postgres", "postgres")
            self.sudo = ["runuser", "-u", "postgres", "--"]

    def start(self) -> str:
        data = self.parent / "data"
        subprocess.run([*self.sudo, str(self.bin / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                        "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True)  # fmt: skip
        # shared_buffers at a quarter of the memory, PostgreSQL's own starting advice for a dedicated server.
        shared_mb = max(128, os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 4 // 2**20)
        opts = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.parent} -c fsync=off "
                f"-c synchronous_commit=off -c full_page_writes=off -c shared_buffers={shared_mb}MB "
                "-c max_wal_size=8GB -c maintenance_work_mem=512MB -c max_connections=100")  # fmt: skip
        subprocess.run([*self.sudo, str(self.bin / "pg_ctl"), "-D", str(data), "-l", str(self.parent / "log"), "-w",
                        "-o", opts, "start"], check=True, capture_output=True)  # fmt: skip
        subprocess.run([*self.sudo, str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U",
                        "postgres", "registry"], check=True, capture_output=True)  # fmt: skip
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/registry"

    def stop(self) -> None:
        subprocess.run([*self.sudo, str(self.bin / "pg_ctl"), "-D", str(self.parent / "data"), "-m", "fast", "-w",
                        "stop"], capture_output=True, check=False)  # fmt: skip
        shutil.rmtree(self.parent, ignore_errors=True)


# --- main -------------------------------------------------------------------------------------------------


def run_backend(backend: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    cluster = None
    if backend == "postgres":
        cluster = Cluster()
        url = cluster.start()
    else:
        url = f"sqlite:///{work / 'registry.sqlite3'}"
    try:
        print(f"[{backend}] loading {args.labels:,} labels ...")
        loaded = load(url, args.labels, Ed25519PrivateKey.generate(), args.workers)
        print(f"[{backend}] loaded in {loaded['load_s']:.0f} s; measuring HTTP ...")
        http = measure_http(url, loaded["ids"], args.duration, args.connections, work)
        print(f"[{backend}] measuring the log ...")
        log_figures = measure_log(url)
        return {"load_s": loaded["load_s"], "http": http, "log": log_figures}
    finally:
        if cluster is not None:
            cluster.stop()


def report(n: int, results: dict[str, dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [
        "# Registry benchmark",
        "",
        f"`bench/registry.py --labels {n} --duration {args.duration} --connections {args.connections}` on "
        f"{os.cpu_count()} shared cores, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. wrk (`-t2 -c"
        f"{args.connections}`) runs on the same cores as the servers, so figures are conservative. Registry: "
        "`cybersafe registry serve --workers 2`. Uniform ids are drawn from all loaded labels, so the per-worker "
        "label cache (20,000 entries) rarely helps; Zipf-skewed ids model QR scans of popular products. PostgreSQL: "
        "shared_buffers at a quarter of the memory, fsync off (the load is a bulk import, not the durability test).",
        "",
    ]
    for backend, r in results.items():
        http = r["http"]
        hello = http["hello (same server)"]["rps"]
        static = http["static JSON (uvicorn, raw ASGI)"]["rps"]
        lines += [
            f"## {backend}: {n:,} labels (bulk load {r['load_s']:.0f} s)",
            "",
            "| endpoint | req/s | p50 ms | p99 ms | vs hello | vs static JSON | non-2xx |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for name, f in http.items():
            lines.append(
                f"| {name} | {f['rps']:,.0f} | {f['p50']:.2f} | {f['p99']:.2f} | {f['rps'] / hello:.2f}x | "
                f"{f['rps'] / static:.2f}x | {f['non2xx']} |"
            )
        lg = r["log"]
        lines += [
            "",
            f"Transparency log at {int(lg['size']):,} entries (in-process, one indexed query per proof):",
            "",
            f"- inclusion proof: **{lg['inclusion_ms']:.3f} ms** per proof (target <= 1 ms)",
            f"- consistency proof: {lg['consistency_ms']:.3f} ms; root recomputation: {lg['root_ms']:.3f} ms",
            f"- appends, one event per transaction with a signed tree head (as a publish does): "
            f"**{lg['append_per_s']:,.0f}/s**; batched (10,000 events in one transaction): "
            f"{lg['batch_append_per_s']:,.0f}/s",
            "",
        ]
        for kind in ("uniform random id", "Zipf-skewed id"):
            label = http[f"label JSON, {kind}"]
            lines.append(
                f"Targets, label JSON with {kind}s: >= 2,000 lookups/s -> {label['rps']:,.0f}; p99 <= 50 ms -> "
                f"{label['p99']:.1f} ms; >= 0.35x hello -> {label['rps'] / hello:.2f}x."
            )
            lines.append("")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["postgres", "sqlite", "both"], default="both")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="processes generating signed labels")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "registry.md")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    backends = ["postgres", "sqlite"] if args.backend == "both" else [args.backend]
    results = {}
    with tempfile.TemporaryDirectory(prefix="cybersafe-bench-", dir="/var/tmp") as tmp:
        for backend in backends:
            work = Path(tmp) / backend
            work.mkdir()
            results[backend] = run_backend(backend, args, work)
    text = report(args.labels, results, args)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
