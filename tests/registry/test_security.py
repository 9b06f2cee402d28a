"""Hostile requests are refused cleanly (4xx with a one-line detail, never a 500), on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from registry_support import Actors, make_envelope, make_record

from cybersafe.attest.dsse import pae

Client = Any


def _post(client: Client, actors: Actors, envelope: Any, role: str = "issuer") -> Any:
    return client.post("/api/v1/labels", json=envelope, headers=actors.headers(role))


def _assert_refused(response: Any, status: int, fragment: str = "") -> None:
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    if fragment:
        assert fragment in str(detail), detail


def test_forged_signature_is_refused(shared_registry: tuple[Client, Actors]) -> None:
    # Given a genuine envelope whose payload is then altered (support end pushed out), the signature fails.
    client, actors = shared_registry
    envelope = actors.envelope()
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["support_end"] = "2099-12-31"
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    _assert_refused(_post(client, actors, envelope), 422, "signature")


def test_signature_bytes_swapped_is_refused(shared_registry: tuple[Client, Actors]) -> None:
    client, actors = shared_registry
    envelope = actors.envelope()
    envelope["signatures"][0]["sig"] = base64.b64encode(b"\x00" * 64).decode()
    _assert_refused(_post(client, actors, envelope), 422, "signature")


def test_unknown_issuer_key_is_refused(shared_registry: tuple[Client, Actors]) -> None:
    # Given a label signed with a key the registry has never seen, presented with a valid issuer token,
    # then it is refused: the registry verifies against THAT token's issuer key only.
    client, actors = shared_registry
    stranger = Ed25519PrivateKey.generate()
    envelope = make_envelope(make_record(stranger, manufacturer=actors.manufacturer_name), stranger)
    _assert_refused(_post(client, actors, envelope), 403, "not signed with your registered issuer key")


def test_another_issuers_label_cannot_be_published_by_you(shared_registry: tuple[Client, Actors]) -> None:
    client, actors = shared_registry
    envelope = make_envelope(make_record(actors.other_issuer_key), actors.other_issuer_key)
    _assert_refused(_post(client, actors, envelope, role="issuer"), 403)


def _with_signatures(envelope: dict[str, Any], signatures: list[dict[str, str]]) -> dict[str, Any]:
    return {**envelope, "signatures": signatures}


def test_only_envelopes_every_verifier_accepts_are_published(shared_registry: tuple[Client, Actors]) -> None:
    # Given a label genuinely signed by the issuer's key, when it is presented with an empty key id, with a
    # junk signature before (or after) the good one, or with a registry link to another site, then each is
    # refused (the page's check reads the one signature's key id and the link's origin; `cybersafe verify`
    # needs the record's key among the signers), and `cybersafe verify` refuses the same envelopes.
    from cybersafe.label.verify import check_label

    client, actors = shared_registry
    good = actors.envelope(model="ONE-SIG")
    signature = good["signatures"][0]
    junk = {"keyid": signature["keyid"], "sig": base64.b64encode(b"\0" * 64).decode()}
    cases = {
        "empty key id": (_with_signatures(good, [{"keyid": "", "sig": signature["sig"]}]), 403, "not signed with"),
        "junk first": (_with_signatures(good, [junk, signature]), 422, "2 signatures"),
        "junk second": (_with_signatures(good, [signature, junk]), 422, "2 signatures"),
        "foreign link": (actors.envelope(model="ONE-SIG", registry_url="https://evil.example"), 422,
                         "predicate.registry_url: https://evil.example/l/"),
    }  # fmt: skip
    now = dt.datetime.now(dt.UTC)
    public = actors.issuer_key.public_key()
    for name, (envelope, status, fragment) in cases.items():
        response = _post(client, actors, envelope)
        assert (response.status_code, fragment in response.json()["detail"]) == (status, True), (name, response.text)
        if name != "foreign link":
            report = check_label(envelope, public, now=now)
            assert [c.name for c in report.failures] == ["issuer"], name
    assert check_label(good, public, now=now).failures == ()
    assert _post(client, actors, good).status_code == 201


def test_record_naming_another_key_than_the_signer_is_refused(shared_registry: tuple[Client, Actors]) -> None:
    # Signed by A's key, but the record claims to come from B: refused.
    client, actors = shared_registry
    record = make_record(actors.other_issuer_key)
    envelope = make_envelope(record, actors.issuer_key)
    _assert_refused(_post(client, actors, envelope), 403, "another issuer key")


def test_wrong_predicate_type_and_bad_record_are_refused(shared_registry: tuple[Client, Actors]) -> None:
    client, actors = shared_registry
    record = make_record(actors.issuer_key)
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "firmware:plug.bin", "digest": {"sha256": record["subjects"][0]["sha256"]}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": record,
    }
    from cybersafe.attest.dsse import sign_statement

    _assert_refused(_post(client, actors, sign_statement(statement, actors.issuer_key)), 422, "predicateType")
    broken = copy.deepcopy(record)
    broken["label_id"] = "not-a-label"
    _assert_refused(_post(client, actors, make_envelope(broken, actors.issuer_key)), 422, "label_id")
    extra = copy.deepcopy(record)
    extra["surprise"] = 1
    _assert_refused(_post(client, actors, make_envelope(extra, actors.issuer_key)), 422)


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda e: {**e, "extra": 1}, id="extra-field"),
        pytest.param(lambda e: {**e, "payloadType": "text/plain"}, id="payload-type"),
        pytest.param(lambda e: {**e, "payload": "%%%not-base64%%%"}, id="payload-not-base64"),
        pytest.param(lambda e: {**e, "payload": base64.b64encode(b"[1,2]").decode()}, id="payload-not-object"),
        pytest.param(lambda e: {**e, "signatures": []}, id="no-signatures"),
        pytest.param(lambda e: [e], id="not-an-object"),
        pytest.param(lambda e: {**e, "payload": 5}, id="payload-number"),
    ],
)
def test_malformed_envelopes_are_refused(shared_registry: tuple[Client, Actors], mangle: Any) -> None:
    client, actors = shared_registry
    response = _post(client, actors, mangle(actors.envelope()))
    assert response.status_code == 422, response.text


def test_a_valid_signature_over_the_payload_alone_is_not_enough(shared_registry: tuple[Client, Actors]) -> None:
    # DSSE signs PAE(type, body); a signature over the bare payload must not pass.
    client, actors = shared_registry
    envelope = actors.envelope()
    body = base64.b64decode(envelope["payload"])
    envelope["signatures"][0]["sig"] = base64.b64encode(actors.issuer_key.sign(body)).decode()
    _assert_refused(_post(client, actors, envelope), 422)
    assert pae("x", b"y") == b"DSSEv1 1 x 1 y"


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("' OR '1'='1", id="sql-quote"),
        pytest.param("%", id="like-percent"),
        pytest.param("_", id="like-underscore"),
        pytest.param("\\", id="backslash"),
        pytest.param("'; DROP TABLE labels; --", id="drop-table"),
        pytest.param("<script>alert(1)</script>", id="script"),
        pytest.param("a\x00b", id="nul"),
        pytest.param("ü" * 200, id="long-unicode"),
    ],
)
def test_injection_in_search_is_harmless(shared_registry: tuple[Client, Actors], query: str) -> None:
    # Given some labels, when the search holds SQL or HTML metacharacters, then nothing matches by accident,
    # nothing breaks, and the page escapes the query.
    client, actors = shared_registry
    client.post("/api/v1/labels", json=actors.envelope(model="INJ-1"), headers=actors.headers("issuer"))
    response = client.get("/api/v1/labels", params={"q": query})
    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        assert response.json()["results"] == []
    page = client.get("/", params={"q": query})
    assert page.status_code in (200, 400)  # bad input on a page gets a page (400), never JSON
    assert "<script>alert(1)</script>" not in page.text
    assert client.get("/api/v1/labels/CSL-USCTM-00000000000000000000000000").status_code == 404


def test_html_in_label_fields_is_escaped_on_the_page(shared_registry: tuple[Client, Actors]) -> None:
    client, actors = shared_registry
    envelope = actors.envelope(name="<img src=x onerror=alert(1)>", model="XSS-1")
    response = client.post("/api/v1/labels", json=envelope, headers=actors.headers("issuer"))
    assert response.status_code == 201, response.text
    page = client.get(f"/l/{response.json()['label_id']}").text
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


@pytest.mark.parametrize(
    ("path", "body"),
    [
        pytest.param("/api/v1/manufacturers", {"name": "bad\x00name"}, id="nul-in-name"),
        pytest.param("/api/v1/manufacturers", {"name": "x" * 5000}, id="too-long"),
        pytest.param("/api/v1/manufacturers", {"name": "ok", "role": "admin"}, id="extra-field"),
        pytest.param("/api/v1/issuers", {"name": "x", "public_key_pem": "not a key"}, id="bad-key"),
        pytest.param("/api/v1/tokens", {"role": "root", "name": "x"}, id="bad-role"),
    ],
)
def test_hostile_fields_are_refused(shared_registry: tuple[Client, Actors], path: str, body: dict[str, Any]) -> None:
    client, actors = shared_registry
    response = client.post(path, json=body, headers=actors.headers("admin"))
    assert response.status_code == 422, response.text


def test_nul_inside_a_signed_record_is_refused(shared_registry: tuple[Client, Actors]) -> None:
    client, actors = shared_registry
    envelope = actors.envelope(name="plug\x00evil")
    _assert_refused(_post(client, actors, envelope), 422)


def test_oversized_bodies_are_refused(shared_registry: tuple[Client, Actors]) -> None:
    # Given a 1 MiB body, with or without Content-Length, the registry answers 413 before parsing it.
    client, actors = shared_registry
    big = b'{"payloadType": "' + b"A" * (1024 * 1024) + b'"}'
    response = client.post(
        "/api/v1/labels", content=big, headers={**actors.headers("issuer"), "Content-Type": "application/json"}
    )
    _assert_refused(response, 413, "larger than")

    def chunks() -> Any:
        for _ in range(64):
            yield b"A" * 16384

    streamed = client.post(
        "/api/v1/labels", content=chunks(), headers={**actors.headers("issuer"), "Content-Type": "application/json"}
    )
    assert streamed.status_code == 413


def test_unauthenticated_writes_leave_no_trace(shared_registry: tuple[Client, Actors]) -> None:
    client, actors = shared_registry
    before = client.get("/api/v1/log/sth").json()["tree_size"]
    assert client.post("/api/v1/labels", json=actors.envelope()).status_code == 401
    forged = make_envelope(make_record(Ed25519PrivateKey.generate()), Ed25519PrivateKey.generate())
    assert _post(client, actors, forged).status_code in (403, 422)
    assert client.get("/api/v1/log/sth").json()["tree_size"] == before


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("/api/v1/products/99999999999999999999", id="huge-product-id"),
        pytest.param("/api/v1/log/proof/inclusion?leaf_index=-1&tree_size=1", id="negative-index"),
        pytest.param("/api/v1/log/entries?start=0&end=100000", id="too-many-entries"),
        pytest.param("/api/v1/labels?limit=100000", id="huge-limit"),
        pytest.param("/api/v1/labels/CSL-../../etc/passwd", id="traversal"),
    ],
)
def test_out_of_range_parameters_are_refused(shared_registry: tuple[Client, Actors], url: str) -> None:
    client, _ = shared_registry
    response = client.get(url)
    assert 400 <= response.status_code < 500, response.text
