"""Registry test harness: a private PostgreSQL cluster for the session, fresh databases, role tokens, servers.

Imported by a unique name (not `conftest`: several test directories have one, and a plain `from conftest
import ...` would pick whichever pytest loaded last)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from registry_support import Actors, public_pem
from tests.support import free_port

from cybersafe.registry import admin, log
from cybersafe.registry.app import create_app
from cybersafe.registry.interface import Principal, Role
from cybersafe.registry.security import Rate, RateLimits

with warnings.catch_warnings():
    # starlette warns that its httpx-based TestClient will move to httpx2; nothing to fix on our side.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


class PgCluster:
    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.parent = Path(tempfile.mkdtemp(prefix="cybersafe-pg-", dir="/tmp"))
        self.data = self.parent / "data"
        self.sock = self.parent / "sock"
        self.port = free_port()
        self.as_postgres: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root (feasibility.md section 8)
            shutil.chown(self.parent, "postgres", "postgres")
            self.as_postgres = ["runuser", "-u", "postgres", "--"]
        self.sock.mkdir()
        if self.as_postgres:
            shutil.chown(self.sock, "postgres", "postgres")

    def run(self, *args: str) -> None:
        subprocess.run([*self.as_postgres, *args], check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        self.run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
            "--no-sync", "-E", "UTF8", "--locale=C.UTF-8",
        )  # fmt: skip
        self.run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.parent / "pg.log"), "-w", "-o",
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.sock} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
            "start",
        )  # fmt: skip

    def stop(self) -> None:
        subprocess.run(
            [*self.as_postgres, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(self.parent, ignore_errors=True)

    def create_database(self) -> str:
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(f"CREATE DATABASE {name}")
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    bindir = _pg_bin()
    if bindir is None or shutil.which("runuser") is None:
        pytest.skip("PostgreSQL server binaries are not installed (make installs postgresql)")
    cluster = PgCluster(bindir)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def make_database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], str]:
    def make(backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp('registry') / 'registry.sqlite3'}"
        cluster: PgCluster = request.getfixturevalue("pg_cluster")
        return cluster.create_database()

    return make


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=[pytest.mark.postgres, pytest.mark.slow]),
]


GRANTED_SCHEMES = ("us-ctm", "sg-cls", "uk-psti", "eu-cra")
# Functional tests make hundreds of writes a minute with one token; the limits get tests of their own.
GENEROUS = RateLimits(Rate(100_000, 60), Rate(100_000, 60), Rate(100_000, 60))


def setup_actors(engine: Any) -> Actors:
    """An admin, two issuers with keys, two manufacturers, each with a token. Widget Co authorises Acme Labels
    for every product under the schemes the tests use; Gadget Ltd authorises Other Labels for us-ctm."""
    signer = log.ensure_log_key(engine)
    admin_token = admin.create_token(engine, Role.ADMIN, "root")["token"]
    key_a, key_b = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    issuer_a = admin.add_issuer(engine, signer, "Acme Labels", "labels@acme.test", public_pem(key_a))
    issuer_b = admin.add_issuer(engine, signer, "Other Labels", "x@other.test", public_pem(key_b))
    maker_a = admin.add_manufacturer(engine, signer, "Widget Co", "security@widget.test")
    maker_b = admin.add_manufacturer(engine, signer, "Gadget Ltd", None)
    for scheme in GRANTED_SCHEMES:
        grant(engine, maker_a["id"], issuer_a["id"], scheme=scheme)
    grant(engine, maker_b["id"], issuer_b["id"], scheme="us-ctm")
    tok = admin.create_token
    actors = Actors(
        admin=admin_token,
        issuer=tok(engine, Role.ISSUER, "a", issuer_id=issuer_a["id"])["token"],
        issuer_key=key_a,
        issuer_name="Acme Labels",
        other_issuer=tok(engine, Role.ISSUER, "b", issuer_id=issuer_b["id"])["token"],
        other_issuer_key=key_b,
        other_issuer_name="Other Labels",
        manufacturer=tok(engine, Role.MANUFACTURER, "m", manufacturer_id=maker_a["id"])["token"],
        manufacturer_name="Widget Co",
        other_manufacturer=tok(engine, Role.MANUFACTURER, "n", manufacturer_id=maker_b["id"])["token"],
        ids={
            "issuer": issuer_a["id"],
            "other_issuer": issuer_b["id"],
            "manufacturer": maker_a["id"],
            "other_manufacturer": maker_b["id"],
        },
    )
    actors.tokens = {
        "anonymous": None,
        "admin": actors.admin,
        "issuer": actors.issuer,
        "other_issuer": actors.other_issuer,
        "manufacturer": actors.manufacturer,
        "other_manufacturer": actors.other_manufacturer,
    }
    return actors


def grant(
    engine: Any, manufacturer_id: int, issuer_id: int, *, scheme: str | None = None, model: str | None = None
) -> None:
    """The manufacturer's grant, as its token would make it through POST /api/v1/grants."""
    maker = Principal(Role.MANUFACTURER, 0, manufacturer_id=manufacturer_id)
    admin.add_grant(engine, log.ensure_log_key(engine), maker, issuer_id, scheme=scheme, model=model)


def _registry(
    request: pytest.FixtureRequest, make_database_url: Callable[[str], str]
) -> Iterator[tuple[TestClient, Actors]]:
    url = make_database_url(request.param)
    app = create_app(url, base_url="http://testserver", rate_limits=GENEROUS)
    actors = setup_actors(app.state.engine)
    with TestClient(app) as client:
        yield client, actors
    app.state.shutdown()


shared_registry = pytest.fixture(scope="module", params=BACKENDS)(_registry)


@pytest.fixture(params=BACKENDS)
def registry(
    request: pytest.FixtureRequest, make_database_url: Callable[[str], str]
) -> Iterator[tuple[TestClient, Actors]]:
    url = make_database_url(request.param)
    app = create_app(url, base_url="http://testserver", rate_limits=GENEROUS)
    actors = setup_actors(app.state.engine)
    with TestClient(app) as client:
        yield client, actors
    app.state.shutdown()


class Server:
    """``cybersafe registry serve`` in a subprocess on 127.0.0.1 and a free port."""

    def __init__(self, database_url: str, workers: int = 1, limits: tuple[str, str, str] = ("0/min",) * 3) -> None:
        self.database_url = database_url
        self.workers = workers
        self.limits = limits
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        import sys
        import time

        import httpx

        exe = str(Path(sys.executable).parent / "cybersafe")
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server process
        self.proc = subprocess.Popen(
            [exe, "registry", "serve", "--db", self.database_url, "--port", str(self.port),
             "--workers", str(self.workers), "--base-url", self.url, "--writes-per-token", self.limits[0],
             "--writes-per-address", self.limits[1], "--failed-auth-per-address", self.limits[2]],
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"registry exited: {self.log.read().decode(errors='replace')}")
            try:
                if httpx.get(self.url + "/api/v1/hello", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("registry did not start within 60 s")

    def kill(self) -> None:
        import signal

        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)
        self.log.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()
