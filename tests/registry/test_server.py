"""The registry as users meet it: a real uvicorn process, a browser, a crash, the CLI and `verify`."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from registry_harness import BACKENDS, Server, setup_actors
from registry_support import Actors, make_envelope, make_record
from sqlalchemy import func, select, text

from cybersafe.attest.keys import load_public_key
from cybersafe.label.qr import envelope_digest
from cybersafe.registry import db, log, merkle
from cybersafe.registry.client import RegistryClient, verify_with_registry
from cybersafe.registry.models import Label, LogEntry, LogNode, LogState, TreeHead
from cybersafe.registry.verify import check_tree_head, parse_tree_head

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-dev-shm-usage", "--disable-quic",
]  # fmt: skip


def _prepare(url: str) -> Actors:
    engine = db.make_engine(url)
    db.migrate(engine)
    log.ensure_log_key(engine)
    actors = setup_actors(engine)
    engine.dispose()
    return actors


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Actors]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('live') / 'registry.sqlite3'}"
    actors = _prepare(url)
    server = Server(url).start()
    yield server, actors
    server.stop()


def _scan(envelope: dict[str, Any]) -> str:
    """Print the label as the issuer would (PNG artwork with its QR code, 300 dpi) and read the QR code back with
    zbar, as most scanning apps do."""
    import io

    from PIL import Image
    from pyzbar import pyzbar

    from cybersafe.label.issue import label_from_envelope
    from cybersafe.label.qr import qr_url
    from cybersafe.label.render import LabelFormat, render

    record = label_from_envelope(envelope)
    png = render(record, LabelFormat.PNG, dpi=300, qr_url=qr_url(record, envelope))
    found = pyzbar.decode(Image.open(io.BytesIO(png)), symbols=[pyzbar.ZBarSymbol.QRCODE])
    assert len(found) == 1, f"expected one QR code, zbar found {len(found)}"
    return str(found[0].data.decode("utf-8"))


def _verdict(page: Any) -> tuple[str, str]:
    """The page script's verdict once it has finished: (data-verdict, the box's text)."""
    # A selector, not wait_for_function: Playwright polls a function by eval, which the page's CSP refuses
    finished = ",".join(
        f'#verdict[data-verdict="{v}"]' for v in ("verified", "failed", "genuine-not-valid", "unanchored")
    )
    page.wait_for_selector(finished, state="attached", timeout=20_000)
    box = page.locator("#verdict")
    return str(box.get_attribute("data-verdict")), box.inner_text()


@pytest.mark.slow
@pytest.mark.browser
def test_a_scanned_label_page_checks_itself_in_headless_chromium(live: tuple[Server, Actors], tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    server, actors = live
    # Given a genuine label, a tampered one and a revoked one, each with its printed artwork's QR code
    genuine, tampered, revoked = (
        actors.envelope(model=m, name=n, registry_url=server.url)
        for m, n in (("BR-1", "Door Camera"), ("BR-2", "Smart Lock"), ("BR-3", "Baby Monitor"))
    )
    decoy = actors.envelope(model="BR-4", name="Smart Lock", registry_url=server.url)
    client = RegistryClient(server.url, actors.issuer)
    ids = [client.publish(e)["label_id"] for e in (genuine, tampered, revoked, decoy)]
    client.revoke(ids[2], "default password found in firmware 2.3.4")
    client.close()
    # (someone with the database puts the decoy's envelope, genuinely signed too, under the tampered label)
    engine = db.make_engine(server.database_url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE labels SET envelope = (SELECT envelope FROM labels WHERE label_id = :d) WHERE label_id = :t"),
            {"d": ids[3], "t": ids[1]},
        )
    engine.dispose()
    urls = [_scan(e) for e in (genuine, tampered, revoked)]
    assert urls[0] == f"{server.url}/l/{ids[0]}#{envelope_digest(genuine)}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            # When a phone opens the page behind each QR code, then its own script says what it checked
            page.goto(urls[0])
            verdict, words = _verdict(page)
            assert verdict == "verified", words
            assert "genuine label printed on your product, and it is valid" in words
            assert "fingerprint matches the QR code" in words and "signed by the key" in words
            assert page.locator("h2[data-status]").inner_text() == "Valid"
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
            page.screenshot(path=str(tmp_path / "label-genuine.png"), full_page=True)

            page.goto(urls[1])
            verdict, words = _verdict(page)
            assert verdict == "failed", words
            assert "NOT the label printed on your product" in words
            assert page.locator("#integrity").is_visible()
            assert "✔" not in page.locator("#verdict .mark").inner_text()
            page.screenshot(path=str(tmp_path / "label-tampered.png"), full_page=True)

            page.goto(urls[2])
            verdict, words = _verdict(page)
            assert verdict == "genuine-not-valid", words
            assert "it says this label is revoked" in words
            assert page.locator("h2[data-status]").inner_text() == "Revoked"
            assert page.locator("#verdict .mark").inner_text() == "!"  # never a green check next to "Revoked"
            assert page.locator("#verdict li.pass").count() == 0
            assert "default password found" in page.content()
            page.screenshot(path=str(tmp_path / "label-revoked.png"), full_page=True)

            # Opened without the QR code's fragment, the page cannot tie itself to a product, and says so
            page.goto(urls[0].split("#")[0])
            verdict, words = _verdict(page)
            assert verdict == "unanchored", words
            # Without JavaScript, the page says it was not checked by the browser
            quiet = browser.new_context(java_script_enabled=False).new_page()
            quiet.goto(urls[0])
            assert quiet.locator("#verdict").get_attribute("data-verdict") == "not-checked"
            assert "Not checked by your browser" in quiet.locator("#verdict").inner_text()
            # And the home page search leads to the comparison page
            page.goto(f"{server.url}/?q=widget")
            page.get_by_label("Product, model, manufacturer or label number").fill("door camera")
            page.get_by_role("button", name="Search").click()
            page.locator("input[name=labels]").first.check()
            page.get_by_role("button", name="Compare selected").click()
            assert "Door Camera" in page.locator("table").inner_text()
        finally:
            browser.close()


@pytest.mark.slow
@pytest.mark.browser
def test_the_page_check_names_what_failed_and_gives_no_tick_without_security_updates(
    live: tuple[Server, Actors], monkeypatch: pytest.MonkeyPatch
) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    from cybersafe.registry import service
    from cybersafe.registry.interface import Principal, Role

    server, actors = live
    # Given a genuine label, and one published before the registry refused labels of products without security
    # updates (its disclosures say "unsupported")
    genuine = actors.envelope(model="BR-5", name="Door Bell", registry_url=server.url)
    client = RegistryClient(server.url, actors.issuer)
    genuine_id = client.publish(genuine)["label_id"]
    client.close()
    legacy = make_record(actors.issuer_key, manufacturer="Widget Co", model="BR-6", registry_url=server.url)
    legacy["disclosures"]["support_end"] = "unsupported"
    monkeypatch.setattr(service, "check_dates", lambda *a, **k: None)  # the registry before this check
    engine = db.make_engine(server.database_url)
    principal = Principal(Role.ISSUER, 0, issuer_id=actors.ids["issuer"])
    legacy_envelope = make_envelope(legacy, actors.issuer_key)
    service.publish(engine, log.ensure_log_key(engine), principal, legacy_envelope, base_url=server.url)
    engine.dispose()
    time.sleep(0.6)  # the server's read cache
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            # When the unsupported product's label is scanned, then the page says it is valid but without
            # security updates, and its check gives no green tick
            page.goto(f"{server.url}/l/{legacy['label_id']}#{envelope_digest(legacy_envelope)}")
            verdict, words = _verdict(page)
            assert verdict == "genuine-not-valid", words
            assert "the label is valid, but the product gets no security updates" in words
            assert page.locator("h2[data-status]").inner_text() == "Valid, but no security updates"
            assert "✔" not in page.locator("#verdict .mark").inner_text()
            # When the genuine label's page is opened under another name of the same server, then the headline
            # names the failed check as a failure (the label's home is another registry), not its success text
            other = server.url.replace("127.0.0.1", "localhost")
            page.goto(f"{other}/l/{genuine_id}#{envelope_digest(genuine)}")
            verdict, words = _verdict(page)
            assert verdict == "failed", words
            host = other.split("//", 1)[1]
            headline = page.locator("#verdict-h").inner_text()
            assert headline == (
                f"Not verified: The label names another registry than this one ({host}) as its home: "
                f"{server.url}/l/{genuine_id}. Do not rely on this page."
            ), words
        finally:
            browser.close()


@pytest.mark.slow
def test_cli_publish_and_verify_against_a_live_registry(live: tuple[Server, Actors], tmp_path: Path) -> None:
    # Given a label file, when the issuer publishes it with the CLI, then `verify_with_registry` passes every
    # check, remembers the tree head, and later sees the log grow consistently; a revocation fails the status.
    import subprocess
    import sys

    server, actors = live
    envelope = actors.envelope(model="CLI-1", registry_url=server.url)
    label_file = tmp_path / "label.json"
    label_file.write_text(json.dumps(envelope))
    exe = str(Path(sys.executable).parent / "cybersafe")
    done = subprocess.run(
        [exe, "registry", "publish", str(label_file), "--token", actors.issuer, "--url", server.url, "-f", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    label_id = json.loads(done.stdout)["label_id"]
    state = tmp_path / "state.json"
    first = {c.name: c for c in verify_with_registry(envelope, server.url, state)}
    assert all(c.status == "pass" for c in first.values()), first
    assert "first contact" in first["registry.log-consistency"].message
    _call(server.url, actors.issuer, "publish", actors.envelope(model="CLI-2", registry_url=server.url))
    second = {c.name: c for c in verify_with_registry(envelope, server.url, state)}
    assert all(c.status == "pass" for c in second.values()), second
    assert "grew consistently" in second["registry.log-consistency"].message
    bad = subprocess.run(
        [exe, "registry", "revoke", label_id, "--reason", "test", "--token", actors.manufacturer, "--url", server.url],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    assert "HTTP 403" in bad.stderr
    _call(server.url, actors.issuer, "revoke", label_id, "lab found a flaw")
    third = {c.name: c for c in verify_with_registry(envelope, server.url, state)}
    assert third["registry.status"].status == "fail"
    assert third["registry.log-inclusion"].status == "pass"


@pytest.mark.slow
def test_verify_detects_a_rewritten_log(live: tuple[Server, Actors], tmp_path: Path) -> None:
    # Given a remembered tree head, when the registry later presents a log whose history differs,
    # then the consistency check fails.
    server, actors = live
    envelope = actors.envelope(model="FORK-1", registry_url=server.url)
    _call(server.url, actors.issuer, "publish", envelope)
    state = tmp_path / "state.json"
    assert all(c.status == "pass" for c in verify_with_registry(envelope, server.url, state))
    remembered = json.loads(state.read_text())
    entry = remembered["logs"][server.url]
    entry["root_hash"] = "00" * 32  # what a forked (rewritten) log would look like from here
    state.write_text(json.dumps(remembered))
    checks = {c.name: c for c in verify_with_registry(envelope, server.url, state)}
    assert checks["registry.log-consistency"].status == "fail"
    other = verify_with_registry(
        actors.envelope(model="NEVER", registry_url=server.url), server.url, tmp_path / "s2.json"
    )
    assert other[0].status == "fail"
    assert "not found" in other[0].message
    unreachable = verify_with_registry(envelope, "http://127.0.0.1:9", tmp_path / "s3.json")
    assert [c.status for c in unreachable] == ["fail"]


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_kill_9_during_a_burst_of_publishes_loses_nothing_acknowledged(
    backend: str, make_database_url: Callable[[str], str]
) -> None:
    # Given a registry process taking publishes from 4 concurrent clients
    url = make_database_url(backend)
    actors = _prepare(url)
    server = Server(url).start()
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def burst() -> None:
        with httpx.Client(base_url=server.url, headers=actors.headers("issuer"), timeout=10) as http:
            while not stop.is_set():
                envelope = actors.envelope(
                    model=f"K-{threading.get_ident()}-{time.monotonic_ns()}", registry_url=server.url
                )
                try:
                    response = http.post("/api/v1/labels", json=envelope)
                except httpx.HTTPError:
                    return
                if response.status_code == 201:
                    with lock:
                        acknowledged.append(response.json()["label_id"])

    threads = [threading.Thread(target=burst) for _ in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while len(acknowledged) < 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    # When the server is killed with SIGKILL mid-burst
    server.kill()
    stop.set()
    for t in threads:
        t.join(timeout=15)
    assert len(acknowledged) >= 40
    # Then after a restart every acknowledged label is there, the log verifies, and nothing is half-written
    restarted = Server(url).start()
    try:
        with httpx.Client(base_url=restarted.url, timeout=10) as http:
            for label_id in acknowledged:
                response = http.get(f"/api/v1/labels/{label_id}")
                assert response.status_code == 200, label_id
                assert response.json()["status"] == "active"
            head = parse_tree_head(http.get("/api/v1/log/sth").json())
            check_tree_head(head, load_public_key(http.get("/api/v1/log/key").json()["public_key_pem"]))
            entries: list[bytes] = []
            for start in range(0, head.tree_size, 1000):
                rows = http.get(f"/api/v1/log/entries?start={start}&end={min(start + 1000, head.tree_size)}").json()
                entries += [r["entry"].encode() for r in rows["entries"]]
        assert len(entries) == head.tree_size
        assert _rfc_root(entries) == head.root_hash
        _assert_database_is_whole(url, head.tree_size, set(acknowledged))
        # And the log carries on: a new publish after the crash extends it
        after = _call(
            restarted.url, actors.issuer, "publish", actors.envelope(model="AFTER", registry_url=restarted.url)
        )
        assert after["log_index"] == head.tree_size
    finally:
        restarted.stop()


def _call(url: str, token: str, method: str, *args: Any) -> dict[str, Any]:
    with RegistryClient(url, token) as client:
        return dict(getattr(client, method)(*args))


def _rfc_root(entries: list[bytes]) -> bytes:
    nodes = merkle.new_nodes(0, [merkle.leaf_hash(e) for e in entries], {})
    return merkle.root(len(entries), merkle.getter_from(nodes))


def _assert_database_is_whole(url: str, size: int, acknowledged: set[str]) -> None:
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(select(LogState.size)).scalar_one() == size
            assert conn.execute(select(func.count()).select_from(LogEntry)).scalar_one() == size
            assert conn.execute(select(func.max(TreeHead.tree_size))).scalar_one() == size
            expected_nodes = sum(size >> level for level in range(size.bit_length()))
            assert conn.execute(select(func.count()).select_from(LogNode)).scalar_one() == expected_nodes
            labels = set(conn.execute(select(Label.label_id)).scalars())
            issued = set(conn.execute(select(LogEntry.subject).where(LogEntry.kind == "issued")).scalars())
            assert labels == issued  # no label without its log entry, no entry without its label
            assert acknowledged <= labels
            docs: list[Any] = list(conn.execute(select(Label.document)).scalars())
            assert all(json.loads(d)["log"]["events"] for d in docs)
    finally:
        engine.dispose()


@pytest.mark.slow
def test_cybersafe_verify_with_registry_option(live: tuple[Server, Actors], tmp_path: Path) -> None:
    # Given a published label file and the issuer's public key, when `cybersafe verify --registry` runs,
    # then the signature checks and the registry checks all pass (exit 0) and appear in the JSON report.
    import subprocess
    import sys

    from registry_support import public_pem

    server, actors = live
    envelope = actors.envelope(model="VERIFY-1", registry_url=server.url)
    _call(server.url, actors.issuer, "publish", envelope)
    label_file = tmp_path / "label.json"
    label_file.write_text(json.dumps(envelope))
    pub = tmp_path / "issuer.pub"
    pub.write_text(public_pem(actors.issuer_key))
    exe = str(Path(sys.executable).parent / "cybersafe")
    cmd = [exe, "verify", str(label_file), "--key", str(pub), "--registry", server.url,
           "--registry-state", str(tmp_path / "heads.json"), "--format", "json", "--now", "2026-06-01T00:00:00+00:00"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    names = {c["check"]: c["status"] for c in report["checks"]}
    assert names["registry.log-inclusion"] == "pass"
    assert names["registry.status"] == "pass"
    assert (tmp_path / "heads.json").exists()
    # With --full-log it reads the whole log too, and finds every entry of the label listed
    full = subprocess.run([*cmd, "--full-log"], capture_output=True, text=True, check=False)
    assert full.returncode == 0, full.stdout + full.stderr
    checks = {c["check"]: c for c in json.loads(full.stdout)["checks"]}
    assert checks["registry.log-complete"]["status"] == "pass"
    assert (
        checks["registry.log-complete"]["message"].startswith("all ")
        and "log entries read" in checks["registry.log-complete"]["message"]
    )


@pytest.mark.slow
def test_verify_pins_the_log_key_and_counts_a_witness_quorum_from_the_command_line(
    live: tuple[Server, Actors], tmp_path: Path
) -> None:
    # Given a published label and the log's verifier key published out of band (a file, as `registry log-key`
    # prints it), when `cybersafe verify --registry --log-key` runs with the real key, then it passes (exit 0);
    # with an impostor's key for the same origin it fails (exit 1) naming the log key; asking for a quorum of
    # witnesses the registry has none of fails the tree head; a quorum larger than the witnesses named is bad
    # usage (exit 2, one line).
    import subprocess
    import sys

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from cybersafe.registry import note

    server, actors = live
    envelope = actors.envelope(model="PIN-CLI", registry_url=server.url)
    _call(server.url, actors.issuer, "publish", envelope)
    label_file = tmp_path / "label.json"
    label_file.write_text(json.dumps(envelope))
    key = httpx.get(f"{server.url}/api/v1/log/key").json()
    (tmp_path / "log.vkey").write_text(key["vkey"] + "\n")
    impostor = note.verifier_for(key["origin"], Ed25519PrivateKey.generate()).vkey()
    stranger = note.verifier_for("witness.test/w9", Ed25519PrivateKey.generate(), note.COSIGNATURE).vkey()
    from registry_support import public_pem

    (tmp_path / "issuer.pub").write_text(public_pem(actors.issuer_key))
    exe = str(Path(sys.executable).parent / "cybersafe")

    def verify(*extra: str, state: str) -> subprocess.CompletedProcess[str]:
        cmd = [exe, "verify", str(label_file), "--key", str(tmp_path / "issuer.pub"), "--registry", server.url, "--registry-state", str(tmp_path / state),
               "--now", "2026-06-01T00:00:00+00:00", *extra]  # fmt: skip
        return subprocess.run(cmd, capture_output=True, text=True, check=False)

    pinned = verify("--log-key", str(tmp_path / "log.vkey"), "--format", "json", state="a.json")
    assert pinned.returncode == 0, pinned.stdout + pinned.stderr
    checks = {c["check"]: c for c in json.loads(pinned.stdout)["checks"]}
    assert checks["registry.log-key"]["status"] == "pass" and "pinned" in checks["registry.log-key"]["message"]
    wrong = verify("--log-key", impostor, state="b.json")
    assert wrong.returncode == 1
    assert "FAILED registry.log-key" in wrong.stderr and "not the pinned" in wrong.stderr
    unwitnessed = verify("--log-key", key["vkey"], "--witness", stranger, "--witness-quorum", "1", state="c.json")
    assert unwitnessed.returncode == 1, unwitnessed.stdout + unwitnessed.stderr
    assert "FAILED registry.tree-head" in unwitnessed.stderr
    usage = verify("--witness", stranger, "--witness-quorum", "2", state="d.json")
    assert usage.returncode == 2
    lines = [line for line in usage.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "--witness-quorum" in lines[0], usage.stderr
