"""API tests on SQLite and on a real PostgreSQL server: the authorisation matrix and each endpoint's work."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from registry_harness import setup_actors
from registry_support import Actors, new_label_id

from cybersafe.registry import merkle
from cybersafe.registry.verify import check_tree_head, parse_tree_head

Client = Any
ROLES = ["anonymous", "admin", "issuer", "manufacturer"]
_counter = iter(range(10**9))


def _publish(client: Client, actors: Actors, **kw: Any) -> dict[str, Any]:
    response = client.post("/api/v1/labels", json=actors.envelope(**kw), headers=actors.headers("issuer"))
    assert response.status_code == 201, response.text
    return dict(response.json())


def _fresh_product(client: Client, actors: Actors) -> int:
    label = _publish(client, actors, model=f"M-{next(_counter)}")
    return int(client.get(f"/api/v1/labels/{label['label_id']}").json()["product"]["id"])


# Each endpoint: (id, request maker, roles allowed). A request maker prepares what it needs with the issuer's
# token, then sends the request under test with the given role's headers.
Request = Callable[[Client, Actors, dict[str, str]], Any]


def _label_id(client: Client, actors: Actors) -> str:
    return str(_publish(client, actors, model=f"R-{next(_counter)}")["label_id"])


ENDPOINTS: list[tuple[str, Request, set[str]]] = [
    ("GET hello", lambda c, a, h: c.get("/api/v1/hello", headers=h), set(ROLES)),
    ("GET labels search", lambda c, a, h: c.get("/api/v1/labels?q=widget", headers=h), set(ROLES)),
    ("GET label", lambda c, a, h: c.get(f"/api/v1/labels/{_label_id(c, a)}", headers=h), set(ROLES)),
    (
        "POST labels (publish)",
        lambda c, a, h: c.post("/api/v1/labels", json=a.envelope(model=f"P-{next(_counter)}"), headers=h),
        {"issuer"},
    ),
    (
        "POST revoke",
        lambda c, a, h: c.post(f"/api/v1/labels/{_label_id(c, a)}/revoke", json={"reason": "test"}, headers=h),
        {"issuer"},
    ),
    ("GET product", lambda c, a, h: c.get(f"/api/v1/products/{_fresh_product(c, a)}", headers=h), set(ROLES)),
    (
        "PUT product support",
        lambda c, a, h: c.put(
            f"/api/v1/products/{_fresh_product(c, a)}/support", json={"support_end": "2040-01-01"}, headers=h
        ),
        {"manufacturer"},
    ),
    ("GET issuers", lambda c, a, h: c.get("/api/v1/issuers", headers=h), set(ROLES)),
    (
        "POST issuers",
        lambda c, a, h: c.post(
            "/api/v1/issuers",
            json={"name": f"Issuer {next(_counter)}", "public_key_pem": _new_public_pem()},
            headers=h,
        ),
        {"admin"},
    ),
    (
        "POST manufacturers",
        lambda c, a, h: c.post("/api/v1/manufacturers", json={"name": f"Maker {next(_counter)}"}, headers=h),
        {"admin"},
    ),
    (
        "POST tokens",
        lambda c, a, h: c.post("/api/v1/tokens", json={"role": "admin", "name": "second admin"}, headers=h),
        {"admin"},
    ),
    ("GET label proof", lambda c, a, h: c.get(f"/api/v1/labels/{_label_id(c, a)}/proof", headers=h), set(ROLES)),
    ("GET grants", lambda c, a, h: c.get("/api/v1/grants", headers=h), set(ROLES)),
    (
        "POST grants",
        lambda c, a, h: c.post(
            "/api/v1/grants", json={"issuer_id": a.ids["issuer"], "scheme": f"s-{next(_counter)}"}, headers=h
        ),
        {"manufacturer"},
    ),
    (
        "POST grant withdraw",
        lambda c, a, h: c.post(f"/api/v1/grants/{_fresh_grant(c, a)}/withdraw", headers=h),
        {"manufacturer"},
    ),
    (
        "POST issuer status",
        lambda c, a, h: c.post(
            f"/api/v1/issuers/{_fresh_issuer(c, a)}/status", json={"status": "suspended", "reason": "audit"}, headers=h
        ),
        {"admin"},
    ),
    (
        "POST scheme administrator",
        lambda c, a, h: c.post(f"/api/v1/issuers/{_fresh_issuer(c, a)}/schemes", json={"scheme": "sg-cls"}, headers=h),
        {"admin"},
    ),
    (
        "POST issuer key",
        lambda c, a, h: c.post(
            f"/api/v1/issuers/{_fresh_issuer(c, a)}/keys", json={"public_key_pem": _new_public_pem()}, headers=h
        ),
        {"admin"},
    ),
    (
        "POST approvals",
        lambda c, a, h: c.post(
            "/api/v1/approvals",
            json={"manufacturer_id": a.ids["manufacturer"], "model": f"A-{next(_counter)}"},
            headers=h,
        ),
        {"admin"},
    ),
    ("POST token revoke", lambda c, a, h: c.post(f"/api/v1/tokens/{_fresh_token(c, a)}/revoke", headers=h), {"admin"}),
    ("GET log checkpoint", lambda c, a, h: c.get("/api/v1/log/checkpoint", headers=h), set(ROLES)),
    ("GET log witnesses", lambda c, a, h: c.get("/api/v1/log/witnesses", headers=h), set(ROLES)),
    ("GET log key", lambda c, a, h: c.get("/api/v1/log/key", headers=h), set(ROLES)),
    ("GET log sth", lambda c, a, h: c.get("/api/v1/log/sth", headers=h), set(ROLES)),
    (
        "GET inclusion proof",
        lambda c, a, h: c.get(f"/api/v1/log/proof/inclusion?leaf_index=0&tree_size={_size(c, a)}", headers=h),
        set(ROLES),
    ),
    (
        "GET consistency proof",
        lambda c, a, h: c.get(f"/api/v1/log/proof/consistency?first=1&second={_size(c, a)}", headers=h),
        set(ROLES),
    ),
    ("GET log entries", lambda c, a, h: c.get("/api/v1/log/entries?start=0&end=5", headers=h), set(ROLES)),
    ("GET openapi", lambda c, a, h: c.get("/api/v1/openapi.json", headers=h), set(ROLES)),
    ("GET home page", lambda c, a, h: c.get("/?q=plug", headers=h), set(ROLES)),
    ("GET label page", lambda c, a, h: c.get(f"/l/{_label_id(c, a)}", headers=h), set(ROLES)),
    ("GET compare page", lambda c, a, h: c.get(f"/compare?labels={_label_id(c, a)}", headers=h), set(ROLES)),
]


def _fresh_issuer(client: Client, actors: Actors) -> int:
    body = {"name": f"Issuer {next(_counter)}", "public_key_pem": _new_public_pem()}
    return int(client.post("/api/v1/issuers", json=body, headers=actors.headers("admin")).json()["id"])


def _fresh_grant(client: Client, actors: Actors) -> int:
    body = {"issuer_id": actors.ids["issuer"], "model": f"G-{next(_counter)}"}
    return int(client.post("/api/v1/grants", json=body, headers=actors.headers("manufacturer")).json()["id"])


def _fresh_token(client: Client, actors: Actors) -> int:
    body = {"role": "admin", "name": f"t{next(_counter)}"}
    return int(client.post("/api/v1/tokens", json=body, headers=actors.headers("admin")).json()["id"])


def _size(client: Client, actors: Actors) -> int:
    _publish(client, actors, model=f"S-{next(_counter)}")
    return int(client.get("/api/v1/log/sth").json()["tree_size"])


def _new_public_pem() -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from registry_support import public_pem

    return public_pem(Ed25519PrivateKey.generate())


MATRIX = [
    pytest.param(name, make, role, role in allowed, id=f"{name}-{role}")
    for name, make, allowed in ENDPOINTS
    for role in ROLES
]


@pytest.mark.parametrize(("endpoint", "make", "role", "allowed"), MATRIX)
def test_authorisation_matrix(
    shared_registry: tuple[Client, Actors], endpoint: str, make: Request, role: str, allowed: bool
) -> None:
    # Given a registry with one token per role, when the role calls the endpoint,
    # then it is served (2xx) exactly when the role is allowed, and refused with 401/403 otherwise.
    client, actors = shared_registry
    response = make(client, actors, actors.headers(role))
    if allowed:
        assert 200 <= response.status_code < 300, f"{endpoint} as {role}: {response.status_code} {response.text}"
    else:
        expected = 401 if role == "anonymous" else 403
        assert response.status_code == expected, f"{endpoint} as {role}: {response.status_code} {response.text}"
        assert "detail" in response.json()


def test_every_api_route_is_in_the_matrix(shared_registry: tuple[Client, Actors]) -> None:
    client, _ = shared_registry
    spec = client.get("/api/v1/openapi.json").json()
    routes = {(m.upper(), p) for p, item in spec["paths"].items() for m in item}
    covered = {
        "GET /api/v1/hello", "GET /api/v1/labels", "GET /api/v1/labels/{label_id}", "POST /api/v1/labels",
        "POST /api/v1/labels/{label_id}/revoke", "GET /api/v1/products/{product_id}",
        "PUT /api/v1/products/{product_id}/support", "GET /api/v1/issuers", "POST /api/v1/issuers",
        "POST /api/v1/manufacturers", "POST /api/v1/tokens", "GET /api/v1/log/key", "GET /api/v1/log/sth",
        "GET /api/v1/log/proof/inclusion", "GET /api/v1/log/proof/consistency", "GET /api/v1/log/entries",
        "GET /api/v1/labels/{label_id}/proof", "GET /api/v1/grants", "POST /api/v1/grants",
        "POST /api/v1/grants/{grant_id}/withdraw", "POST /api/v1/issuers/{issuer_id}/status",
        "POST /api/v1/issuers/{issuer_id}/keys", "POST /api/v1/issuers/{issuer_id}/schemes", "POST /api/v1/approvals", "POST /api/v1/tokens/{token_id}/revoke",
        "GET /api/v1/log/checkpoint", "GET /api/v1/log/witnesses",
    }  # fmt: skip
    assert {f"{m} {p}" for m, p in routes} == covered


def test_ownership_is_enforced(shared_registry: tuple[Client, Actors]) -> None:
    # Given a label of issuer A for a product of manufacturer "Widget Co",
    # when issuer B revokes it or manufacturer "Gadget Ltd" extends its support, then both are refused (403).
    client, actors = shared_registry
    label = _publish(client, actors, model=f"O-{next(_counter)}")
    product = client.get(f"/api/v1/labels/{label['label_id']}").json()["product"]["id"]
    other = client.post(
        f"/api/v1/labels/{label['label_id']}/revoke", json={"reason": "x"}, headers=actors.headers("other_issuer")
    )
    assert other.status_code == 403
    support = client.put(
        f"/api/v1/products/{product}/support",
        json={"support_end": "2045-01-01"},
        headers=actors.headers("other_manufacturer"),
    )
    assert support.status_code == 403
    assert client.get(f"/api/v1/labels/{label['label_id']}").json()["status"] == "active"


def test_publish_supersede_revoke_and_support_are_logged(registry: tuple[Client, Actors]) -> None:
    # Given two labels for the same product and scheme, the newer supersedes the older;
    # a support extension is recorded; a revocation carries its reason; every change is a log entry.
    client, actors = registry
    base = client.get("/api/v1/log/sth").json()["tree_size"]  # the setup's entries: issuers, makers, grants
    first = _publish(client, actors, issued=dt.date(2026, 1, 1))
    second = _publish(client, actors, issued=dt.date(2026, 3, 1))
    assert second["superseded"] == [first["label_id"]]
    old = client.get(f"/api/v1/labels/{first['label_id']}").json()
    assert old["status"] == "superseded"
    assert old["superseded_by"] == second["label_id"]
    product = old["product"]["id"]

    shorter = client.put(
        f"/api/v1/products/{product}/support",
        json={"support_end": "2030-01-01"},
        headers=actors.headers("manufacturer"),
    )
    assert shorter.status_code == 422
    assert "never shortened" in shorter.json()["detail"]
    longer = client.put(
        f"/api/v1/products/{product}/support",
        json={"support_end": "2035-06-30", "updates_automatic": False, "update_instructions": "Use the app."},
        headers=actors.headers("manufacturer"),
    )
    assert longer.status_code == 200, longer.text
    current = client.get(f"/api/v1/labels/{second['label_id']}").json()
    assert current["support"]["support_end"] == "2035-06-30"
    assert current["support"]["support_end_signed"] == "2031-12-31"
    assert current["support"]["extended"] is True

    revoked = client.post(
        f"/api/v1/labels/{second['label_id']}/revoke",
        json={"reason": "firmware key leaked"},
        headers=actors.headers("issuer"),
    )
    assert revoked.status_code == 200
    again = client.post(
        f"/api/v1/labels/{second['label_id']}/revoke", json={"reason": "again"}, headers=actors.headers("issuer")
    )
    assert again.status_code == 409
    doc = client.get(f"/api/v1/labels/{second['label_id']}").json()
    assert doc["status"] == "revoked"
    assert doc["revocation"]["reason"] == "firmware key leaked"
    kinds = [e["kind"] for e in doc["log"]["events"]]
    assert kinds == ["issued", "updated", "revoked"]

    # Then the log holds 6 more entries (2 issued, 1 superseded, 2 support: the manufacturer's and the active
    # label's, 1 revoked) and everything verifies.
    head = parse_tree_head(client.get("/api/v1/log/sth").json())
    size = base + 6
    assert head.tree_size == size
    key = client.get("/api/v1/log/key").json()
    from cybersafe.attest.keys import load_public_key

    check_tree_head(head, load_public_key(key["public_key_pem"]))
    entries = client.get(f"/api/v1/log/entries?start=0&end={size}").json()["entries"]
    assert len(entries) == size
    for item in entries:
        path = client.get(f"/api/v1/log/proof/inclusion?leaf_index={item['index']}&tree_size={size}").json()
        merkle.verify_inclusion(
            item["index"],
            size,
            merkle.leaf_hash(item["entry"].encode()),
            [bytes.fromhex(p) for p in path["audit_path"]],
            head.root_hash,
        )
    earlier = client.get(f"/api/v1/log/sth?tree_size={base + 3}").json()
    proof = client.get(f"/api/v1/log/proof/consistency?first={base + 3}&second={size}").json()["consistency"]
    merkle.verify_consistency(
        base + 3, size, bytes.fromhex(earlier["root_hash"]), head.root_hash, [bytes.fromhex(p) for p in proof]
    )


def test_an_older_label_arriving_late_is_superseded_at_once(registry: tuple[Client, Actors]) -> None:
    client, actors = registry
    newer = _publish(client, actors, issued=dt.date(2026, 5, 1))
    older = _publish(client, actors, issued=dt.date(2026, 2, 1))
    assert older["status"] == "superseded"
    assert client.get(f"/api/v1/labels/{newer['label_id']}").json()["status"] == "active"


def test_expired_label_reads_expired(registry: tuple[Client, Actors]) -> None:
    client, actors = registry
    label = _publish(client, actors, issued=dt.date(2020, 1, 1), valid_until=dt.date(2021, 1, 1))
    doc = client.get(f"/api/v1/labels/{label['label_id']}").json()
    assert doc["status"] == "expired"
    assert "Expired" in client.get(f"/l/{label['label_id']}").text


def test_republishing_the_same_envelope_is_idempotent(registry: tuple[Client, Actors]) -> None:
    client, actors = registry
    envelope = actors.envelope()
    base = client.get("/api/v1/log/sth").json()["tree_size"]
    assert client.post("/api/v1/labels", json=envelope, headers=actors.headers("issuer")).status_code == 201
    again = client.post("/api/v1/labels", json=envelope, headers=actors.headers("issuer"))
    assert again.status_code == 200
    assert again.json()["status"] == "already-published"
    assert client.get("/api/v1/log/sth").json()["tree_size"] == base + 1


def test_search_finds_by_words_and_pages(registry: tuple[Client, Actors]) -> None:
    client, actors = registry
    _publish(client, actors, name="Kettle Pro", model="K1")
    _publish(client, actors, name="Smart Lock", model="L9")
    found = client.get("/api/v1/labels?q=kettle").json()["results"]
    assert [r["product"]["name"] for r in found] == ["Kettle Pro"]
    assert len(client.get("/api/v1/labels?q=widget&limit=1").json()["results"]) == 1
    assert len(client.get("/api/v1/labels?q=widget co").json()["results"]) == 2
    assert client.get("/api/v1/labels?q=nothing-like-this").json()["results"] == []


def test_unknown_things_are_404(registry: tuple[Client, Actors]) -> None:
    client, actors = registry
    missing = "CSL-USCTM-" + "0" * 26
    assert client.get(f"/api/v1/labels/{missing}").status_code == 404
    assert client.get(f"/l/{missing}").status_code == 404
    assert client.get("/api/v1/products/999").status_code == 404
    assert client.get("/api/v1/log/sth?tree_size=99").status_code == 404
    assert client.get("/api/v1/log/proof/inclusion?leaf_index=0&tree_size=99").status_code == 404
    revoke = client.post(f"/api/v1/labels/{missing}/revoke", json={"reason": "x"}, headers=actors.headers("issuer"))
    assert revoke.status_code == 404


def test_token_creation_and_revoked_or_unknown_tokens(registry: tuple[Client, Actors]) -> None:
    client, actors = registry
    made = client.post(
        "/api/v1/tokens", json={"role": "issuer", "name": "x", "issuer_id": 1}, headers=actors.headers("admin")
    )
    assert made.status_code == 201
    token = made.json()["token"]
    envelope = actors.envelope()
    assert client.post("/api/v1/labels", json=envelope, headers={"Authorization": f"Bearer {token}"}).status_code == 201
    body = {"role": "admin", "name": "x"}
    assert client.post("/api/v1/tokens", json=body, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.post("/api/v1/tokens", json=body, headers={"Authorization": "Basic abc"}).status_code == 401
    bad = client.post("/api/v1/tokens", json={"role": "issuer", "name": "x"}, headers=actors.headers("admin"))
    assert bad.status_code == 422
    ghost = client.post(
        "/api/v1/tokens",
        json={"role": "manufacturer", "name": "x", "manufacturer_id": 999},
        headers=actors.headers("admin"),
    )
    assert ghost.status_code == 404


def test_other_issuers_label_signed_by_its_own_key_is_its_own(registry: tuple[Client, Actors]) -> None:
    # Given issuer B's label for a product of Gadget Ltd, which authorised B, signed with B's key:
    # B may publish it; A may not revoke it. (Before grants, B's label here named Widget Co: now refused.)
    client, actors = registry
    envelope = actors.other_envelope()
    published = client.post("/api/v1/labels", json=envelope, headers=actors.headers("other_issuer"))
    assert published.status_code == 201, published.text
    label_id = published.json()["label_id"]
    denied = client.post(f"/api/v1/labels/{label_id}/revoke", json={"reason": "x"}, headers=actors.headers("issuer"))
    assert denied.status_code == 403


def test_a_change_made_by_another_process_shows_within_the_cache_window(tmp_path: Any) -> None:
    # Given two registry processes on one database, the reader having the label JSON in its cache,
    # when the other revokes the label, then the reader shows "revoked" once its re-check interval passed.
    import time
    import warnings

    from cybersafe.registry.app import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    writer_app = create_app(url)
    actors = setup_actors(writer_app.state.engine)
    reader_app = create_app(url, cache_seconds=0.2)
    with TestClient(writer_app) as writer, TestClient(reader_app) as reader:
        label_id = writer.post("/api/v1/labels", json=actors.envelope(), headers=actors.headers("issuer")).json()[
            "label_id"
        ]
        assert reader.get(f"/api/v1/labels/{label_id}").json()["status"] == "active"
        revoked = writer.post(
            f"/api/v1/labels/{label_id}/revoke", json={"reason": "x"}, headers=actors.headers("issuer")
        )
        assert revoked.status_code == 200
        time.sleep(0.3)
        assert reader.get(f"/api/v1/labels/{label_id}").json()["status"] == "revoked"
        assert "Revoked" in reader.get(f"/l/{label_id}").text


def test_compare_shows_every_ticked_label(registry: tuple[Client, Actors]) -> None:
    # Given two labels, when the search page's form sends both ticked boxes (labels=A&labels=B), or a link
    # lists them comma-separated, then the comparison has a column for each.
    client, actors = registry
    first = _publish(client, actors, model="CMP-1", name="Door Camera")["label_id"]
    second = _publish(client, actors, model="CMP-2", name="Smart Lock")["label_id"]
    for query in (f"labels={first}&labels={second}", f"labels={first},{second}"):
        table = client.get(f"/compare?{query}").text
        assert "Door Camera" in table and "Smart Lock" in table, query


@pytest.mark.parametrize(
    ("path", "status", "shown"),
    [
        pytest.param("/l/" + "A" * 100, 404, "No such label", id="label-id-too-long"),
        pytest.param("/l/%00", 404, "“\\x00”", id="label-id-nul"),
        pytest.param("/?q=%00", 400, "Search words must be plain text", id="search-nul"),
        pytest.param("/?q=" + "a" * 300, 400, "Search words must be plain text", id="search-too-long"),
    ],
)
def test_pages_answer_bad_input_with_a_page(
    registry: tuple[Client, Actors], path: str, status: int, shown: str
) -> None:
    # Given bad input on a consumer page (an over-long or NUL label id, a NUL or over-long search), when it is
    # opened, then the answer is an HTML page naming the problem (never FastAPI's JSON), with no NUL in it.
    client, _ = registry
    response = client.get(path)
    assert (response.status_code, response.headers["content-type"]) == (status, "text/html; charset=utf-8")
    assert shown in response.text and "\x00" not in response.text


def test_an_older_label_arriving_after_the_newer_was_revoked_is_superseded(registry: tuple[Client, Actors]) -> None:
    # Given a label issued 2026-12-01 and revoked, when the same issuer publishes its earlier label of the same
    # product and scheme (issued 2026-11-01), then the late one is stored as superseded by the newer one, not
    # active: a label older than a revoked one never comes back as the product's valid label.
    client, actors = registry
    newer = _publish(client, actors, model="CAM-5", issued=dt.date(2026, 12, 1))["label_id"]
    revoked = client.post(f"/api/v1/labels/{newer}/revoke", json={"reason": "vuln"}, headers=actors.headers("issuer"))
    assert revoked.status_code == 200
    older = _publish(client, actors, model="CAM-5", issued=dt.date(2026, 11, 1))
    assert (older["status"], older["superseded"]) == ("superseded", [])
    doc = client.get(f"/api/v1/labels/{older['label_id']}").json()
    assert (doc["status"], doc["superseded_by"]) == ("superseded", newer)
    assert client.get(f"/api/v1/labels/{newer}").json()["status"] == "revoked"


@pytest.mark.parametrize("order", ["replacement first", "replaced first"])
def test_the_signed_supersedes_link_decides_between_labels_of_the_same_day(
    registry: tuple[Client, Actors], order: str
) -> None:
    # Given label X and its replacement Y (signed with supersedes: X), both issued the same day, as
    # `label issue --supersedes` makes them; when they are published in either order, then Y is active and X is
    # superseded by Y: the signed link decides, never the order of arrival.
    client, actors = registry
    day = dt.date(2026, 11, 20)
    x_id, y_id = new_label_id(), new_label_id()
    x = actors.envelope(model="SD-1", issued=day, label_id=x_id)
    y = actors.envelope(model="SD-1", issued=day, label_id=y_id, supersedes=x_id)
    first, second = (y, x) if order == "replacement first" else (x, y)
    for envelope in (first, second):
        response = client.post("/api/v1/labels", json=envelope, headers=actors.headers("issuer"))
        assert response.status_code == 201, response.text
    old = client.get(f"/api/v1/labels/{x_id}").json()
    new = client.get(f"/api/v1/labels/{y_id}").json()
    assert (old["status"], old["superseded_by"]) == ("superseded", y_id)
    assert (new["status"], new["superseded_by"]) == ("active", None)


def test_the_signed_supersedes_link_outweighs_the_dates_and_follows_a_chain(registry: tuple[Client, Actors]) -> None:
    # Given X (issued 2026-11-20), Y (supersedes X, but dated 2026-11-10) and Z (supersedes Y, dated 2026-11-20);
    # when Z, then Y, then X are published, then Z is the one active label: Y is superseded by Z (its link), and
    # X by Y (Y's link, though X is dated later) and so also older than Z (along the chain, with Z's date).
    client, actors = registry
    x_id, y_id, z_id = new_label_id(), new_label_id(), new_label_id()
    z = actors.envelope(model="SD-2", issued=dt.date(2026, 11, 20), label_id=z_id, supersedes=y_id)
    y = actors.envelope(model="SD-2", issued=dt.date(2026, 11, 10), label_id=y_id, supersedes=x_id)
    x = actors.envelope(model="SD-2", issued=dt.date(2026, 11, 20), label_id=x_id)
    statuses = []
    for envelope in (z, y, x):
        response = client.post("/api/v1/labels", json=envelope, headers=actors.headers("issuer"))
        assert response.status_code == 201, response.text
        statuses.append((response.json()["status"], response.json()["superseded"]))
    assert statuses == [("active", []), ("superseded", []), ("superseded", [])]
    shown = {lid: client.get(f"/api/v1/labels/{lid}").json() for lid in (x_id, y_id, z_id)}
    assert [(shown[lid]["status"], shown[lid]["superseded_by"]) for lid in (x_id, y_id, z_id)] == [
        ("superseded", y_id),
        ("superseded", z_id),
        ("active", None),
    ]
