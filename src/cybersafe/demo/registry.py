"""The registry step of `cybersafe demo`: an embedded SQLite registry, labels published over its API, verified.

The registry runs for the duration of the step under uvicorn on a free loopback port, exactly as
`cybersafe registry serve` would; labels are published with an issuer token through the HTTP API, then
each is verified the way a consumer's `cybersafe verify --registry` does: listed, the same signed envelope,
status, signed tree head, inclusion in the log and consistency with the tree head seen before.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from cybersafe.errors import RegistryError

_STARTUP_SECONDS = 20.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running_registry(database: Path, public_url: str) -> Iterator[str]:
    """Serve the registry on ``database`` at a free loopback port; yields its base URL."""
    import uvicorn

    from cybersafe.registry.app import create_app

    port = _free_port()
    app = create_app(f"sqlite:///{database}", base_url=public_url)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="demo-registry", daemon=True)
    thread.start()
    deadline = time.monotonic() + _STARTUP_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RegistryError(f"the demo registry did not start on 127.0.0.1:{port}")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def publish_and_verify_locally(
    database: Path,
    envelopes: Sequence[Path],
    issuer_public_key: Path,
    issuer_name: str,
    public_url: str,
) -> list[str]:
    """Register the issuer and each labelled product's manufacturer, let the manufacturer authorise the issuer
    for every scheme it is labelled for (logged, as a manufacturer's token would), publish every envelope, and
    verify each against the log; one line per label."""
    from cybersafe.label.issue import label_from_envelope
    from cybersafe.label.verify import CheckStatus
    from cybersafe.registry import admin, db, log
    from cybersafe.registry.client import RegistryClient, read_envelope, verify_with_registry
    from cybersafe.registry.interface import Principal, Role

    url = f"sqlite:///{database}"
    engine = db.make_engine(url)
    db.migrate(engine)
    signer = log.ensure_log_key(engine, public_url, fix_origin=True)
    issuer = admin.add_issuer(engine, signer, issuer_name, None, issuer_public_key.read_text(encoding="utf-8"))
    token = admin.create_token(engine, Role.ISSUER, f"{issuer_name} (demo)", issuer_id=issuer["id"])["token"]
    makers: dict[str, int] = {}
    for path in envelopes:
        record = label_from_envelope(read_envelope(path))
        name = record.product.manufacturer
        if name not in makers:
            makers[name] = admin.add_manufacturer(engine, signer, name, record.disclosures.contact)["id"]
        maker = Principal(Role.MANUFACTURER, 0, manufacturer_id=makers[name])
        admin.add_grant(engine, signer, maker, issuer["id"], scheme=record.scheme, model=None)
    engine.dispose()
    lines: list[str] = []
    state_file = database.parent / "registry-state.json"
    state_file.unlink(missing_ok=True)
    with running_registry(database, public_url) as base, RegistryClient(base, token) as client:
        for path in envelopes:
            envelope = read_envelope(path)
            published = client.publish(envelope)
            checks = verify_with_registry(envelope, base, state_file, home=public_url)
            failed = [c for c in checks if c.status is not CheckStatus.PASS]
            verdict = "verified" if not failed else "NOT verified: " + "; ".join(c.message for c in failed)
            lines.append(f"{published['label_id']}: published and {verdict} ({len(checks)} registry checks)")
    return lines
