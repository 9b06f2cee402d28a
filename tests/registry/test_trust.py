"""Each attack on the registry's trust, on SQLite and on a real PostgreSQL server: a hostile issuer, a hostile
database editor, look-alike names, a revoked issuer, hostile HTTP. What is shown must come from the log."""

from __future__ import annotations

import datetime as dt
import json
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from registry_harness import BACKENDS, GENEROUS, grant, setup_actors
from registry_support import Actors, make_envelope, make_record, public_pem
from sqlalchemy import text

from cybersafe.label.qr import envelope_digest
from cybersafe.registry.app import create_app
from cybersafe.registry.client import RegistryClient, Trust, verify_with_registry
from cybersafe.registry.security import Rate, RateLimits

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

Client = Any
TODAY = dt.datetime.now(dt.UTC).date()


def _publish(client: Client, actors: Actors, role: str = "issuer", envelope: Any = None, **kw: Any) -> Any:
    envelope = envelope if envelope is not None else actors.envelope(**kw)
    return client.post("/api/v1/labels", json=envelope, headers=actors.headers(role))


def _published(client: Client, actors: Actors, model: str) -> tuple[Any, str]:
    """The issuer's envelope for ``model``, published; the envelope and its label id."""
    envelope = actors.envelope(model=model)
    return envelope, str(_publish(client, actors, envelope=envelope).json()["label_id"])


def _stored_document(client: Client, label_id: str) -> str:
    """The registry's stored copy of a label (what its page and JSON are made from)."""
    with client.app.state.engine.connect() as conn:
        return str(conn.execute(text("SELECT document FROM labels WHERE label_id = :i"), {"i": label_id}).scalar_one())


def _revoke(client: Client, actors: Actors, label_id: str, reason: str) -> Any:
    """The issuer revokes ``label_id``; the response."""
    return client.post(f"/api/v1/labels/{label_id}/revoke", json={"reason": reason}, headers=actors.headers("issuer"))


def _label(client: Client, label_id: str) -> dict[str, Any]:
    return dict(client.get(f"/api/v1/labels/{label_id}").json())


def _tamper(client: Client, sql: str, **params: Any) -> None:
    """What someone holding the database file does; then the worker starts afresh (its cache emptied)."""
    with client.app.state.engine.begin() as conn:
        conn.execute(text(sql), params)
    client.app.state.registry.cache.clear()


def _verify(client: Client, envelope: dict[str, Any], tmp_path: Path, trust: Trust | None = None) -> dict[str, Any]:
    """`cybersafe verify --registry` against the in-process registry (TestClient is an httpx client)."""
    api = RegistryClient("http://testserver")
    api.http = client
    checks = verify_with_registry(envelope, "http://testserver", tmp_path / "state.json", client=api, trust=trust)
    return {c.name: c for c in checks}


# --- 1. ownership ------------------------------------------------------------------------------------


def test_verify_against_another_registry_than_the_labels_home_fails_registry_home(
    registry: tuple[Client, Actors], tmp_path: Path
) -> None:
    # Given a label whose home is http://testserver, when `cybersafe verify --registry` checks it against a
    # registry reached as http://mirror.test (the same data served elsewhere), then registry.home fails naming
    # the label's own link, as the page's check does, while the log checks still pass; against
    # "HTTP://TestServer/" (the same origin, spelt otherwise), or at another address with its home given as
    # http://testserver, registry.home passes.
    client, actors = registry
    envelope, label_id = _published(client, actors, "HOME-1")
    results = {}
    for url in ("http://mirror.test", "HTTP://TestServer/"):
        api = RegistryClient(url)
        api.http = client
        checks = verify_with_registry(envelope, url, tmp_path / f"{len(results)}.json", client=api)
        results[url] = {c.name: c for c in checks}
    mirror = results["http://mirror.test"]
    assert (mirror["registry.home"].status, mirror["registry.home"].message) == (
        "fail",
        f"the label names another registry than http://mirror.test as its home: http://testserver/l/{label_id}",
    )
    assert mirror["registry.status"].status == "pass" and mirror["registry.log-inclusion"].status == "pass"
    same = results["HTTP://TestServer/"]
    assert all(c.status == "pass" for c in same.values()), same
    # A registry reached at another address than its public one (the demo's local server) says which is its home.
    api = RegistryClient("http://127.0.0.1:9")
    api.http = client
    local = verify_with_registry(envelope, api.base_url, tmp_path / "local.json", client=api, home="http://testserver")
    assert all(c.status == "pass" for c in local), local


def test_takeover_by_another_issuer_is_refused(registry: tuple[Client, Actors]) -> None:
    # Given A's label for Widget Co's SP-1, when issuer B (not authorised by Widget Co) publishes a label for
    # the same product, issued earlier, expired, with support to 2099, then it is refused with 403, and A's
    # label stays active with A's product name.
    client, actors = registry
    mine = _publish(client, actors, model="SP-1", name="Smart Plug").json()["label_id"]
    hostile = make_record(
        actors.other_issuer_key, issuer_name=actors.other_issuer_name, issuer_contact="x@other.test",
        manufacturer="Widget Co", model="SP-1",
        name="RECALLED - see other label", issued=dt.date(2025, 1, 1), valid_until=dt.date(2025, 6, 1),
        support_end=dt.date(2099, 12, 31),
    )  # fmt: skip
    refused = _publish(client, actors, "other_issuer", make_envelope(hostile, actors.other_issuer_key))
    assert refused.status_code == 403, refused.text
    assert "has not authorised Other Labels" in refused.json()["detail"]
    doc = _label(client, mine)
    assert (doc["status"], doc["product"]["name"], doc["support"]["support_end"]) == (
        "active",
        "Smart Plug",
        "2031-12-31",
    )
    assert "RECALLED" not in client.get(f"/l/{mine}").text


def test_an_authorised_second_issuer_supersedes_only_its_own_labels(registry: tuple[Client, Actors]) -> None:
    # Given Widget Co authorising B for model SP-2 only, when B publishes a newer label for SP-2, then A's
    # label of SP-2 stays active (a newer label supersedes only the same issuer's), and B's label for SP-3 is
    # refused; a withdrawn grant refuses B's next label.
    client, actors = registry
    first_a = _publish(client, actors, model="SP-2", issued=dt.date(2026, 1, 1)).json()["label_id"]
    grant(client.app.state.engine, actors.ids["manufacturer"], actors.ids["other_issuer"], model="SP-2")
    b_label = actors.other_envelope(manufacturer="Widget Co", model="SP-2", issued=dt.date(2026, 3, 1))
    assert _publish(client, actors, "other_issuer", b_label).status_code == 201
    assert _label(client, first_a)["status"] == "active"
    other_model = actors.other_envelope(manufacturer="Widget Co", model="SP-3")
    assert _publish(client, actors, "other_issuer", other_model).status_code == 403
    second_a = _publish(client, actors, model="SP-2", issued=dt.date(2026, 4, 1)).json()
    assert second_a["superseded"] == [first_a]
    grants = client.get(f"/api/v1/grants?manufacturer_id={actors.ids['manufacturer']}").json()["grants"]
    sp2 = next(g for g in grants if g["model"] == "sp-2")
    withdrawn = client.post(f"/api/v1/grants/{sp2['id']}/withdraw", headers=actors.headers("manufacturer"))
    assert withdrawn.status_code == 200, withdrawn.text
    again = actors.other_envelope(manufacturer="Widget Co", model="SP-2", issued=dt.date(2026, 5, 1))
    assert _publish(client, actors, "other_issuer", again).status_code == 403
    other_maker = client.post(f"/api/v1/grants/{sp2['id']}/withdraw", headers=actors.headers("other_manufacturer"))
    assert other_maker.status_code == 403


@pytest.mark.parametrize(
    ("claim", "fragment"),
    [
        pytest.param({"issuer_name": "Acme Labels", "issuer_contact": "labels@acme.test"}, "predicate.issuer.name",
                     id="another-issuers-name"),
        pytest.param({"issuer_contact": "labels@acme.test"}, "predicate.issuer.contact", id="another-issuers-contact"),
        pytest.param({"administrator": "Acme Labels <labels@acme.test>"}, "predicate.disclosures.administrator",
                     id="another-issuers-administrator-line"),
    ],
)  # fmt: skip
def test_an_issuer_cannot_sign_labels_in_another_issuers_name(
    registry: tuple[Client, Actors], tmp_path: Path, claim: dict[str, str], fragment: str
) -> None:
    # Given Widget Co authorising Other Labels for us-ctm, when Other Labels signs, with its own key, a label
    # that names Acme Labels (its name, its contact, or its 8.222(b) administrator line), then the publish is
    # refused with 403 naming the field and nothing is logged; with its own name and contact it is published,
    # and `verify --registry` says who issued it.
    client, actors = registry
    grant(client.app.state.engine, actors.ids["manufacturer"], actors.ids["other_issuer"], scheme="us-ctm")
    administrator = claim.get("administrator")
    kw: dict[str, Any] = {"issuer_name": actors.other_issuer_name, "issuer_contact": "x@other.test"}
    kw |= {k: v for k, v in claim.items() if k != "administrator"}
    record = make_record(actors.other_issuer_key, manufacturer="Widget Co", model="NAME-1", **kw)
    if administrator:
        record["disclosures"]["administrator"] = administrator
    before = client.get("/api/v1/log/sth").json()["tree_size"]
    refused = _publish(client, actors, "other_issuer", make_envelope(record, actors.other_issuer_key))
    assert refused.status_code == 403, refused.text
    assert refused.json()["detail"].startswith(fragment)
    assert client.get("/api/v1/log/sth").json()["tree_size"] == before
    own = actors.other_envelope(manufacturer="Widget Co", model="NAME-1")
    assert _publish(client, actors, "other_issuer", own).status_code == 201
    checks = _verify(client, own, tmp_path)
    assert checks["registry.integrity"].status == "pass" and checks["registry.status"].status == "pass"


def test_a_label_naming_another_issuer_than_its_log_is_an_integrity_problem() -> None:
    # Given an issuer registered in the log as "Other Labels", when a label it signed names "Acme Labels"
    # (published before the registry checked the name), then deriving the label's facts reports the mismatch,
    # so the page shows an integrity error and `verify --registry` fails.
    from cybersafe.attest.keys import key_id
    from cybersafe.registry import derive, log

    key = Ed25519PrivateKey.generate()
    record = make_record(key, issuer_name="Acme Labels")
    envelope = make_envelope(record, key)
    at = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    issued = log.new_event(
        record["label_id"], "issued", at, label_id=record["label_id"], envelope_sha256=envelope_digest(envelope),
        issuer_key_id=key_id(key.public_key()), status="active", support_end="2031-12-31", product_id=1,
    )  # fmt: skip
    raw = key.public_key().public_bytes_raw()
    registered = log.new_event(
        "issuer/2", "issuer", at, issuer_id=2, name="Other Labels", contact=None, key_id=key_id(key.public_key()),
        public_key=__import__("base64").b64encode(raw).decode(),
    )  # fmt: skip
    issuer_leaves, _ = derive.parse_leaves([(0, registered.entry)])
    leaves, _ = derive.parse_leaves([(1, issued.entry)])
    derived = derive.derive_facts(record["label_id"], envelope, leaves, derive.issuer_state(2, issuer_leaves))
    assert derived.problems == ["the label names another issuer than the one its log entries register (Other Labels)"]
    assert derived.facts["issuer"]["name"] == "Other Labels"


def test_a_manufacturer_that_is_not_registered_owns_nothing_to_grant(registry: tuple[Client, Actors]) -> None:
    client, actors = registry
    refused = _publish(client, actors, manufacturer="Nobody Inc")
    assert refused.status_code == 403
    assert "is not registered" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("dates", "fragment"),
    [
        pytest.param(
            {"issued": TODAY + dt.timedelta(days=365), "valid_until": TODAY + dt.timedelta(days=700)},
            "is in the future",
            id="issued-next-year",
        ),
        pytest.param(
            {"issued": TODAY, "valid_until": dt.date(2032, 1, 1), "support_end": dt.date(2031, 12, 31)},
            "after the support end",
            id="valid-past-support",
        ),
    ],
)
def test_future_dated_labels_and_validity_past_support_are_refused(
    registry: tuple[Client, Actors], dates: dict[str, dt.date], fragment: str
) -> None:
    client, actors = registry
    before = client.get("/api/v1/log/sth").json()["tree_size"]
    refused = _publish(client, actors, **dates)
    assert refused.status_code == 422
    assert fragment in refused.json()["detail"]
    assert client.get("/api/v1/log/sth").json()["tree_size"] == before


def _mark_envelope(actors: Actors, scheme: str = "us-ctm", model: str = "SP-M") -> dict[str, Any]:
    """A label drawn in the scheme's own style, whose issuer states it administers the scheme."""
    record = make_record(actors.issuer_key, issuer_name=actors.issuer_name, manufacturer="Widget Co", model=model)
    record["scheme"] = scheme
    record["artwork"] = "scheme-mark"
    record["label_style"] = "trust"
    record["issuer"]["administrator_of"] = scheme
    return make_envelope(record, actors.issuer_key)


def test_a_scheme_mark_needs_the_issuer_recorded_as_the_schemes_administrator(
    registry: tuple[Client, Actors],
) -> None:
    # Given an issuer the manufacturer authorised, when it publishes a label in the scheme's own style (scheme-mark)
    # stating it administers the scheme, then the registry refuses it (403, nothing logged) until the registry
    # admin records the issuer as that scheme's administrator; a record for another scheme does not count, and
    # only the admin can make the record.
    client, actors = registry
    issuer_id = actors.ids["issuer"]
    before = client.get("/api/v1/log/sth").json()["tree_size"]
    refused = _publish(client, actors, envelope=_mark_envelope(actors))
    assert refused.status_code == 403, refused.text
    assert "scheme-mark is for us-ctm's label administrator" in refused.json()["detail"]
    assert client.get("/api/v1/log/sth").json()["tree_size"] == before
    path = f"/api/v1/issuers/{issuer_id}/schemes"
    for role in ("issuer", "manufacturer"):
        assert client.post(path, json={"scheme": "us-ctm"}, headers=actors.headers(role)).status_code == 403
    other = client.post(path, json={"scheme": "sg-cls"}, headers=actors.headers("admin"))
    assert other.status_code == 200, other.text
    assert _publish(client, actors, envelope=_mark_envelope(actors)).status_code == 403
    recorded = client.post(path, json={"scheme": "us-ctm", "reason": "CLA agreement"}, headers=actors.headers("admin"))
    assert recorded.status_code == 200 and recorded.json()["administers"] is True
    issuers = client.get("/api/v1/issuers").json()["issuers"]
    assert next(i for i in issuers if i["id"] == issuer_id)["administrator_of"] == ["sg-cls", "us-ctm"]
    published = _publish(client, actors, envelope=_mark_envelope(actors))
    assert published.status_code == 201, published.text
    # A record claiming the mark for a scheme without a consumer label is invalid whoever publishes it.
    no_label = make_record(actors.issuer_key, issuer_name=actors.issuer_name, manufacturer="Widget Co", model="SP-Q")
    no_label.update(artwork="scheme-mark", issuer={**no_label["issuer"], "administrator_of": "us-ctm"})
    invalid = _publish(client, actors, envelope=make_envelope(no_label, actors.issuer_key))
    assert invalid.status_code == 422 and invalid.json()["detail"].startswith("predicate: "), invalid.text
    # An attestation card (no artwork claim) needs no such record; ending the record refuses the mark again.
    assert _publish(client, actors, model="SP-C").status_code == 201
    ended = client.post(path, json={"scheme": "us-ctm", "administers": False}, headers=actors.headers("admin"))
    assert ended.status_code == 200, ended.text
    again = _publish(client, actors, envelope=_mark_envelope(actors, model="SP-N"))
    assert again.status_code == 403, again.text
    assert client.post(path, json={"scheme": "US CTM!"}, headers=actors.headers("admin")).status_code == 422


def test_another_issuers_support_claim_never_moves_the_products_support(registry: tuple[Client, Actors]) -> None:
    # Given Acme's label for SP-S (support to 2031) and, under Widget Co's grant, Other Labels' label for the
    # same product claiming support to 2045, when Widget Co extends SP-S's support to 2035-06-30, then the
    # extension is accepted (the other issuer's claim did not raise the product's support end), logged as the
    # manufacturer's `support` entry, Acme's label shows 2035-06-30 and Other Labels' keeps its signed 2045;
    # a later update before the manufacturer's own 2035-06-30 is refused.
    client, actors = registry
    mine = _publish(client, actors, model="SP-S").json()["label_id"]
    grant(client.app.state.engine, actors.ids["manufacturer"], actors.ids["other_issuer"], scheme="us-ctm")
    claim = actors.other_envelope(manufacturer="Widget Co", model="SP-S", support_end=dt.date(2045, 12, 31))
    theirs = _publish(client, actors, "other_issuer", claim).json()["label_id"]
    product = _label(client, mine)["product"]["id"]
    size = client.get("/api/v1/log/sth").json()["tree_size"]
    extended = client.put(
        f"/api/v1/products/{product}/support",
        json={"support_end": "2035-06-30"},
        headers=actors.headers("manufacturer"),
    )
    assert extended.status_code == 200, extended.text
    assert sorted(extended.json()["labels_updated"]) == sorted([mine, theirs])
    assert (_label(client, mine)["support"]["support_end"], _label(client, theirs)["support"]["support_end"]) == (
        "2035-06-30",
        "2045-12-31",
    )
    entry = json.loads(client.get(f"/api/v1/log/entries?start={size}&end={size + 1}").json()["entries"][0]["entry"])
    assert (entry["kind"], entry["product_id"], entry["support_end"]) == ("support", product, "2035-06-30")
    assert entry["manufacturer_id"] == actors.ids["manufacturer"]
    shorter = client.put(
        f"/api/v1/products/{product}/support",
        json={"support_end": "2034-01-01"},
        headers=actors.headers("manufacturer"),
    )
    assert shorter.status_code == 422
    assert shorter.json()["detail"] == "support_end: may be extended, never shortened (you logged 2035-06-30)"


def test_a_support_change_on_a_product_without_active_labels_is_logged(registry: tuple[Client, Actors]) -> None:
    # Given a product whose only label is revoked, when its manufacturer extends its support and changes its
    # update instructions, then the change is a log entry (the tree grows by one `support` entry), and the
    # manufacturer's own logged end then bounds its next update.
    client, actors = registry
    label_id = _publish(client, actors, model="SP-R").json()["label_id"]
    product = _label(client, label_id)["product"]["id"]
    revoke = _revoke(client, actors, label_id, "x")
    assert revoke.status_code == 200
    size = client.get("/api/v1/log/sth").json()["tree_size"]
    body = {"support_end": "2046-01-01", "update_instructions": "new instructions"}
    changed = client.put(f"/api/v1/products/{product}/support", json=body, headers=actors.headers("manufacturer"))
    assert changed.status_code == 200, changed.text
    assert (changed.json()["labels_updated"], changed.json()["tree_head"]["tree_size"]) == ([], size + 1)
    entry = json.loads(client.get(f"/api/v1/log/entries?start={size}&end={size + 1}").json()["entries"][0]["entry"])
    assert (entry["kind"], entry["support_end"], entry["update_instructions"]) == (
        "support",
        "2046-01-01",
        "new instructions",
    )
    again = client.put(
        f"/api/v1/products/{product}/support",
        json={"support_end": "2045-06-01"},
        headers=actors.headers("manufacturer"),
    )
    assert (again.status_code, again.json()["detail"]) == (
        422,
        "support_end: may be extended, never shortened (you logged 2046-01-01)",
    )


def test_the_manufacturers_logged_support_applies_to_labels_published_after_it(
    registry: tuple[Client, Actors], tmp_path: Path
) -> None:
    # Given Acme's label for SP-N and Widget Co's logged extension of SP-N to 2036-12-31 with manual updates,
    # when Acme publishes the next firmware release's label (signed: 2031-12-31, automatic; it supersedes the
    # first) and Other Labels publishes one signed to 2045, then the new current label shows 2036-12-31
    # (extended), the manufacturer's update method and instructions, and so does Other Labels' apart from its
    # own later end; each carries the manufacturer's update as an `updated` entry of its own, the audit is clean
    # and `verify --registry` passes; the manufacturer's next update is still bounded by its logged end.
    from cybersafe.registry import audit

    client, actors = registry
    first = _publish(client, actors, model="SP-N", issued=dt.date(2026, 1, 10)).json()["label_id"]
    product = _label(client, first)["product"]["id"]
    manual = "Automatic updates were switched off in 2.0: install updates from Settings > Update"
    body = {"support_end": "2036-12-31", "update_instructions": manual, "updates_automatic": False}
    changed = client.put(f"/api/v1/products/{product}/support", json=body, headers=actors.headers("manufacturer"))
    assert changed.status_code == 200, changed.text
    release = actors.envelope(model="SP-N", issued=dt.date(2026, 3, 1), supersedes=first)
    published = _publish(client, actors, envelope=release).json()
    assert published["superseded"] == [first]
    grant(client.app.state.engine, actors.ids["manufacturer"], actors.ids["other_issuer"], scheme="us-ctm")
    claim = actors.other_envelope(manufacturer="Widget Co", model="SP-N", support_end=dt.date(2045, 12, 31))
    theirs = _publish(client, actors, "other_issuer", claim).json()["label_id"]
    current = _label(client, published["label_id"])
    assert current["status"] == "active"
    assert current["support"] == {
        "support_end": "2036-12-31",
        "support_end_signed": "2031-12-31",
        "extended": True,
        "updates_automatic": False,
        "update_instructions": manual,
    }
    assert [e["kind"] for e in current["log"]["events"]] == ["issued", "updated"]
    assert _label(client, theirs)["support"] == {
        "support_end": "2045-12-31",
        "support_end_signed": "2045-12-31",
        "extended": False,
        "updates_automatic": False,
        "update_instructions": manual,
    }
    page = client.get(f"/l/{published['label_id']}").text
    assert "2036-12-31" in page and "Settings &gt; Update" in page
    assert audit.audit(client.app.state.engine).problems == []
    checks = _verify(client, release, tmp_path)
    assert all(c.status == "pass" for name, c in checks.items() if name.startswith("registry.")), checks
    shorter = client.put(
        f"/api/v1/products/{product}/support",
        json={"support_end": "2036-06-30"},
        headers=actors.headers("manufacturer"),
    )
    assert (shorter.status_code, shorter.json()["detail"]) == (
        422,
        "support_end: may be extended, never shortened (you logged 2036-12-31)",
    )


def test_no_label_for_a_product_without_security_updates_nor_support_ending_in_the_past(
    registry: tuple[Client, Actors],
) -> None:
    # Given a label whose disclosures say the product is "unsupported", when it is published, then it is
    # refused (a product that gets no security updates gets no label); and a manufacturer's support "extension"
    # to a date in the past is refused, with nothing logged.
    client, actors = registry
    record = make_record(actors.issuer_key, manufacturer="Widget Co", model="UNS-1")
    record["disclosures"]["support_end"] = "unsupported"
    refused = _publish(client, actors, envelope=make_envelope(record, actors.issuer_key))
    assert refused.status_code == 422
    assert refused.json()["detail"] == (
        "predicate.disclosures.support_end: unsupported: a product that gets no security updates gets no label"
    )
    label_id = _publish(client, actors, model="UNS-2").json()["label_id"]
    product = _label(client, label_id)["product"]["id"]
    size = client.get("/api/v1/log/sth").json()["tree_size"]
    past = client.put(
        f"/api/v1/products/{product}/support",
        json={"support_end": "2020-01-01"},
        headers=actors.headers("manufacturer"),
    )
    assert past.status_code == 422
    assert past.json()["detail"].startswith("support_end: 2020-01-01 is in the past")
    assert client.get("/api/v1/log/sth").json()["tree_size"] == size


def test_a_valid_label_of_a_product_without_security_updates_says_so(
    registry: tuple[Client, Actors], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a label published before the registry refused them, whose disclosures say "unsupported", when a
    # reader opens it, then the JSON and the page say it is a valid label but the product gets no security
    # updates (support_ended), never a plain "Valid".
    from cybersafe.registry import log, service
    from cybersafe.registry.interface import Principal, Role

    client, actors = registry
    record = make_record(actors.issuer_key, manufacturer="Widget Co", model="UNS-3")
    record["disclosures"]["support_end"] = "unsupported"
    monkeypatch.setattr(service, "check_dates", lambda *a, **k: None)  # the registry before this check
    engine = client.app.state.engine
    principal = Principal(Role.ISSUER, 0, issuer_id=actors.ids["issuer"])
    envelope = make_envelope(record, actors.issuer_key)
    service.publish(engine, log.ensure_log_key(engine), principal, envelope, base_url="http://testserver")
    client.app.state.registry.cache.clear()
    doc = _label(client, record["label_id"])
    assert (doc["status"], doc["support_ended"]) == ("active", True)
    assert doc["status_text"] == (
        "Valid label, but it says the product gets no security updates. Do not rely on it for security."
    )
    page = client.get(f"/l/{record['label_id']}").text
    assert '<h2 id="status-h" class="word" data-status="active">Valid, but no security updates</h2>' in page
    assert "status-expired" in page


# --- 2. everything shown comes from the log -----------------------------------------------------------


def test_a_hidden_revocation_shows_an_integrity_error_and_fails_verify(
    registry: tuple[Client, Actors], tmp_path: Path
) -> None:
    # Given a revoked label, when someone with the database sets its row and stored document back to what
    # they were while active (the revocation entry stays in the log), then the page and the JSON say
    # "integrity error", and `verify --registry` recomputes "revoked" from the proven entries and fails.
    client, actors = registry
    envelope, label_id = _published(client, actors, "HID-1")
    active_doc = _stored_document(client, label_id)
    revoked = _revoke(client, actors, label_id, "key leaked")
    assert revoked.status_code == 200
    _tamper(
        client,
        "UPDATE labels SET status = 'active', revocation_reason = NULL, revoked_at = NULL, document = :d "
        "WHERE label_id = :i",
        d=active_doc,
        i=label_id,
    )
    doc = _label(client, label_id)
    assert doc["status"] == "integrity-error"
    assert doc["logged_status"] == "revoked" and doc["revocation"]["reason"] == "key leaked"
    assert "differs from its log" in doc["integrity"]["problems"][0]
    page = client.get(f"/l/{label_id}").text
    assert 'data-status="integrity-error"' in page and "Integrity error" in page and "Valid" not in page
    checks = _verify(client, envelope, tmp_path)
    assert checks["registry.status"].status == "fail" and "revoked" in checks["registry.status"].message
    assert checks["registry.integrity"].status == "fail"
    assert checks["registry.log-inclusion"].status == "pass"


def test_a_revocation_refiled_under_another_subject_is_caught_by_the_full_log_audit(
    registry: tuple[Client, Actors], tmp_path: Path
) -> None:
    # Given a revoked label, when someone with the database files its "revoked" entry under another subject,
    # sets the row back to active and rebuilds the stored copy (the leaf itself, and so the tree, unchanged),
    # then the label's own entry list looks complete (the page reads "active"), but the full-log audit
    # (`cybersafe registry audit`) names the re-filed entry and the status the log records, exits 1, and
    # `verify --registry --full-log` reads every entry, fails registry.log-complete and recomputes "revoked".
    from typer.testing import CliRunner

    from cybersafe.cli import app
    from cybersafe.registry import audit, documents

    client, actors = registry
    envelope, label_id = _published(client, actors, "HID-2")
    revoked = _revoke(client, actors, label_id, "vuln")
    index = revoked.json()["log_index"]
    engine = client.app.state.engine
    assert audit.audit(engine).problems == []
    _tamper(client, "UPDATE log_entries SET subject = 'hidden' WHERE log_index = :i", i=index)
    _tamper(
        client,
        "UPDATE labels SET status = 'active', revocation_reason = NULL, revoked_at = NULL WHERE label_id = :i",
        i=label_id,
    )
    with engine.begin() as conn:
        documents.rebuild(conn, [label_id])
    client.app.state.registry.cache.clear()
    assert _label(client, label_id)["status"] == "active"  # what the label's own list of entries says
    problems = audit.audit(engine).problems
    assert problems == [
        f"log entry {index} is about {label_id}, but the registry files it under 'hidden'",
        f"label {label_id}: the registry's stored copy of this label differs from its log in: log, logged_status, "
        "revocation",
        f"label {label_id}: the registry stores status 'active', its log says 'revoked'",
    ]
    url = str(engine.url.render_as_string(hide_password=False))
    result = CliRunner().invoke(app, ["registry", "audit", "--db", url])
    assert result.exit_code == 1 and "files it under 'hidden'" in result.output
    checks = _verify(client, envelope, tmp_path, Trust(full_log=True))
    assert checks["registry.log-complete"].status == "fail"
    assert checks["registry.log-complete"].message == (
        f"log entries [{index}] name this label, but the registry does not list them"
    )
    assert checks["registry.status"].status == "fail" and checks["registry.status"].message.startswith("revoked")
    assert _verify(client, envelope, tmp_path / "plain")["registry.status"].status == "pass"  # without --full-log


def test_edited_page_text_is_an_integrity_error_and_the_signed_text_is_shown(registry: tuple[Client, Actors]) -> None:
    client, actors = registry
    label_id = _publish(client, actors, model="EDIT-1", name="Baby Monitor").json()["label_id"]
    stored = json.loads(_stored_document(client, label_id))
    stored["product"]["name"] = "Baby Monitor PRO"
    stored["product"]["manufacturer"] = "Trusted Brand Inc"
    stored["disclosures"]["default_password"] = "none needed"
    _tamper(client, "UPDATE labels SET document = :d WHERE label_id = :i", d=json.dumps(stored), i=label_id)
    doc = _label(client, label_id)
    assert doc["status"] == "integrity-error"
    assert "disclosures, product" in doc["integrity"]["problems"][0]
    page = client.get(f"/l/{label_id}").text
    assert "Baby Monitor PRO" not in page and "Trusted Brand Inc" not in page and "none needed" not in page
    assert "Integrity error" in page


def test_a_swapped_envelope_is_an_integrity_error(registry: tuple[Client, Actors], tmp_path: Path) -> None:
    # Given two labels, when the stored envelope of one is replaced by the other's (both genuinely signed),
    # then the logged digest no longer matches: integrity error, and verify reports a different envelope.
    client, actors = registry
    mine = actors.envelope(model="SWAP-1")
    label_id = _publish(client, actors, envelope=mine).json()["label_id"]
    other = actors.envelope(model="SWAP-2")
    _publish(client, actors, envelope=other)
    _tamper(
        client,
        "UPDATE labels SET envelope = (SELECT envelope FROM labels WHERE label_id = :o) WHERE label_id = :i",
        o=json.loads(__import__("base64").b64decode(other["payload"]))["predicate"]["label_id"],
        i=label_id,
    )
    doc = _label(client, label_id)
    assert doc["status"] == "integrity-error"
    assert any("envelope differs" in p for p in doc["integrity"]["problems"])
    checks = _verify(client, mine, tmp_path)
    assert checks["registry.integrity"].status == "fail"


def test_the_label_link_comes_from_the_configured_url_never_from_host(registry: tuple[Client, Actors]) -> None:
    client, actors = registry
    evil = {**actors.headers("issuer"), "Host": "registry.evil.example"}
    label_id = client.post("/api/v1/labels", json=actors.envelope(model="HOST-1"), headers=evil).json()["label_id"]
    doc = client.get(f"/api/v1/labels/{label_id}", headers={"Host": "registry.evil.example"}).json()
    assert doc["registry_url"] == f"http://testserver/l/{label_id}"


# --- 5. issuer lifecycle -----------------------------------------------------------------------------


def test_a_revoked_issuers_labels_read_issuer_revoked_from_the_effective_date(
    registry: tuple[Client, Actors], tmp_path: Path
) -> None:
    client, actors = registry
    envelope, label_id = _published(client, actors, "REV-1")
    other = _publish(client, actors, "other_issuer", actors.other_envelope(model="REV-2")).json()["label_id"]
    # A revocation that starts next month leaves the label valid until then.
    later = client.post(
        f"/api/v1/issuers/{actors.ids['issuer']}/status",
        json={"status": "suspended", "reason": "audit pending", "effective": str(TODAY)},
        headers=actors.headers("admin"),
    )
    assert later.status_code == 200, later.text
    assert _label(client, label_id)["status"] == "active"
    assert _publish(client, actors, model="REV-3").status_code == 403  # suspended: no new labels
    revoked = client.post(
        f"/api/v1/issuers/{actors.ids['issuer']}/status",
        json={"status": "revoked", "reason": "accreditation withdrawn", "effective": str(TODAY - dt.timedelta(days=3))},
        headers=actors.headers("admin"),
    )
    assert revoked.status_code == 200, revoked.text
    doc = _label(client, label_id)
    assert doc["status"] == "issuer-revoked"
    assert "accreditation withdrawn" in doc["status_text"] and str(TODAY - dt.timedelta(days=3)) in doc["status_text"]
    assert "Issuer revoked" in client.get(f"/l/{label_id}").text
    assert _label(client, other)["status"] == "active"
    final = client.post(
        f"/api/v1/issuers/{actors.ids['issuer']}/status",
        json={"status": "active", "reason": "oops"},
        headers=actors.headers("admin"),
    )
    assert final.status_code == 409
    checks = _verify(client, envelope, tmp_path)
    assert checks["registry.status"].status == "fail" and "issuer-revoked" in checks["registry.status"].message
    kinds = [
        json.loads(e["entry"])["kind"] for e in client.get("/api/v1/log/entries?start=0&end=1000").json()["entries"]
    ]
    assert kinds.count("issuer-status") == 2


def test_a_suspended_issuer_may_revoke_its_labels_but_not_publish(registry: tuple[Client, Actors]) -> None:
    # Given a suspended issuer with a published label, when it publishes a new label, then 403; when it
    # revokes its label, then the revocation is logged (withdrawing a label is never held up).
    client, actors = registry
    label_id = _publish(client, actors, model="SUS-1").json()["label_id"]
    suspend = client.post(
        f"/api/v1/issuers/{actors.ids['issuer']}/status",
        json={"status": "suspended", "reason": "audit pending"},
        headers=actors.headers("admin"),
    )
    assert suspend.status_code == 200, suspend.text
    assert _publish(client, actors, model="SUS-2").status_code == 403
    revoked = _revoke(client, actors, label_id, "vuln")
    assert revoked.status_code == 200, revoked.text
    assert _label(client, label_id)["status"] == "revoked"


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_future_issuer_revocation_counts_from_its_date(backend: str, make_database_url: Callable[[str], str]) -> None:
    # Given a registry whose clock can move, an issuer revoked effective in ten days: valid until then.
    now = [dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)]
    app = create_app(
        make_database_url(backend), base_url="http://testserver", rate_limits=GENEROUS, clock=lambda: now[0]
    )
    actors = setup_actors(app.state.engine)
    with TestClient(app) as client:
        label_id = _publish(client, actors, model="FUT-1").json()["label_id"]
        body = {"status": "revoked", "reason": "moved out of the scheme", "effective": "2026-06-11"}
        client.post(f"/api/v1/issuers/{actors.ids['issuer']}/status", json=body, headers=actors.headers("admin"))
        assert _label(client, label_id)["status"] == "active"
        now[0] = dt.datetime(2026, 6, 11, 0, 1, tzinfo=dt.UTC)
        time.sleep(0.6)  # the worker looks at the date again at most every 0.5 s, and empties its cache
        assert _label(client, label_id)["status"] == "issuer-revoked"
    app.state.shutdown()


def test_key_rotation_keeps_old_labels_and_needs_the_new_key(registry: tuple[Client, Actors], tmp_path: Path) -> None:
    client, actors = registry
    old_envelope, old_label = _published(client, actors, "ROT-1")
    new_key = Ed25519PrivateKey.generate()
    rotated = client.post(
        f"/api/v1/issuers/{actors.ids['issuer']}/keys",
        json={"public_key_pem": public_pem(new_key)},
        headers=actors.headers("admin"),
    )
    assert rotated.status_code == 200, rotated.text
    assert _publish(client, actors, model="ROT-2").status_code == 403  # still signed with the old key
    fresh = make_envelope(
        make_record(new_key, issuer_name=actors.issuer_name, manufacturer="Widget Co", model="ROT-3"), new_key
    )
    assert _publish(client, actors, envelope=fresh).status_code == 201
    doc = _label(client, old_label)
    assert doc["status"] == "active" and doc["integrity"]["ok"]
    checks = _verify(client, old_envelope, tmp_path)
    assert all(c.status == "pass" for c in checks.values()), checks
    entry = next(
        json.loads(e["entry"])
        for e in client.get("/api/v1/log/entries?start=0&end=1000").json()["entries"]
        if json.loads(e["entry"])["kind"] == "issuer-key"
    )
    assert entry["previous_key_id"] == doc["issuer"]["key_id"] and entry["key_id"] == rotated.json()["key_id"]


# --- 6. names ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "character"),
    [
        pytest.param("Wіdget Co", "U+0456 CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I", id="cyrillic-letter"),
        pytest.param("Wid\u200bget Co", "U+200B ZERO WIDTH SPACE", id="zero-width-space"),
        pytest.param("Widget \u202eoC", "U+202E RIGHT-TO-LEFT OVERRIDE", id="right-to-left-override"),
    ],
)
def test_look_alike_manufacturer_names_are_refused(registry: tuple[Client, Actors], name: str, character: str) -> None:
    client, actors = registry
    refused = client.post("/api/v1/manufacturers", json={"name": name}, headers=actors.headers("admin"))
    assert refused.status_code == 422
    detail = refused.json()["detail"]
    assert character in detail and "\n" not in detail


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("NTTドコモ", id="latin-katakana"),
        pytest.param("LG전자", id="latin-hangul"),
        pytest.param("Xiaomi小米", id="latin-han"),
        pytest.param("株式会社NTTドコモ", id="han-latin-katakana"),
    ],
)
def test_names_mixing_latin_with_japanese_chinese_or_korean_are_accepted(
    registry: tuple[Client, Actors], name: str
) -> None:
    # Given a manufacturer name mixing Latin with Japanese, Chinese or Korean in one word, as TR39's "Highly
    # Restrictive" profile allows, when an admin registers it, then it is registered as typed.
    client, actors = registry
    created = client.post("/api/v1/manufacturers", json={"name": name}, headers=actors.headers("admin"))
    assert created.status_code == 201, created.text
    assert created.json()["name"] == name


def test_a_signed_product_name_mixing_latin_and_katakana_is_published(registry: tuple[Client, Actors]) -> None:
    # Given a label whose product name is "ソニーWebカメラ" (Katakana and Latin in one word), when it is
    # published, then it is accepted and the page's JSON shows the name as signed; Latin with Cyrillic in one
    # word (outside every TR39 profile) is still refused.
    client, actors = registry
    published = _publish(client, actors, model="JP-1", name="ソニーWebカメラ")
    assert published.status_code == 201, published.text
    assert _label(client, published.json()["label_id"])["product"]["name"] == "ソニーWebカメラ"
    refused = _publish(client, actors, model="JP-2", name="Webкамера")
    assert refused.status_code == 422 and "mixes scripts: Cyrl, Latn" in refused.json()["detail"]


def test_a_trade_mark_sign_is_refused_with_the_nfkc_spelling_never_respelt(registry: tuple[Client, Actors]) -> None:
    # Given an admin typing "Nordlicht™ GmbH" and an issuer signing the product name "SmartCam™ Mini", when they
    # are sent, then both are 422 naming U+2122 and the NFKC spelling to use (nothing is stored as "TM"
    # silently), and the NFKC spelling is registered as typed.
    client, actors = registry
    typed = client.post("/api/v1/manufacturers", json={"name": "Nordlicht™ GmbH"}, headers=actors.headers("admin"))
    assert (typed.status_code, typed.json()["detail"]) == (
        422,
        "name: U+2122 TRADE MARK SIGN is not allowed in a name (names must be in Unicode NFKC form; type "
        "'NordlichtTM GmbH' instead)",
    )
    signed = _publish(client, actors, model="TM-1", name="SmartCam™ Mini")
    assert (signed.status_code, signed.json()["detail"]) == (
        422,
        "predicate.product.name: U+2122 TRADE MARK SIGN is not allowed in a name (names must be in Unicode NFKC "
        "form; sign the label with 'SmartCamTM Mini' instead)",
    )
    retyped = client.post("/api/v1/manufacturers", json={"name": "NordlichtTM GmbH"}, headers=actors.headers("admin"))
    assert (retyped.status_code, retyped.json()["name"]) == (201, "NordlichtTM GmbH")


def test_a_decomposed_signed_name_is_refused_naming_the_combining_mark(registry: tuple[Client, Actors]) -> None:
    # Given a label whose product name "Müller Kamera" is in decomposed form (u + U+0308), when it is
    # published, then the 422 names U+0308 COMBINING DIAERESIS (not the name's first letter) and the NFKC
    # spelling to sign.
    client, actors = registry
    refused = _publish(client, actors, model="NFD-1", name="Mu\u0308ller Kamera")
    assert (refused.status_code, refused.json()["detail"]) == (
        422,
        "predicate.product.name: U+0308 COMBINING DIAERESIS is not allowed in a name (names must be in Unicode "
        "NFKC form; sign the label with 'Müller Kamera' instead)",
    )


def test_full_width_and_whole_script_look_alikes_need_approval(registry: tuple[Client, Actors]) -> None:
    client, actors = registry
    # Full-width letters are not respelt silently: refused, naming the NFKC spelling (the registered name).
    same = client.post("/api/v1/manufacturers", json={"name": "Ｗｉｄｇｅｔ Co"}, headers=actors.headers("admin"))
    assert (same.status_code, same.json()["detail"]) == (
        422,
        "name: U+FF37 FULLWIDTH LATIN CAPITAL LETTER W is not allowed in a name (names must be in Unicode NFKC "
        "form; type 'Widget Co' instead)",
    )
    assert (
        client.post("/api/v1/manufacturers", json={"name": "Scope Ltd"}, headers=actors.headers("admin")).status_code
        == 201
    )
    cyrillic = {"name": "Ѕсоре Ltd"}  # every letter of the first word Cyrillic: one script, same skeleton
    refused = client.post("/api/v1/manufacturers", json=cyrillic, headers=actors.headers("admin"))
    assert (
        refused.status_code == 409 and "looks like the registered manufacturer 'Scope Ltd'" in refused.json()["detail"]
    )
    approved = client.post(
        "/api/v1/manufacturers", json={**cyrillic, "approve_confusable": True}, headers=actors.headers("admin")
    )
    assert approved.status_code == 201 and approved.json()["approved_confusable_with"] == "Scope Ltd"


@pytest.mark.parametrize(
    ("fields", "character"),
    [
        pytest.param({"manufacturer": "Ｗidget Co"}, "U+FF37 FULLWIDTH LATIN CAPITAL LETTER W", id="full-width"),
        pytest.param({"name": "Baby\u202eMonitor"}, "U+202E RIGHT-TO-LEFT OVERRIDE", id="bidi-override"),
        pytest.param({"model": "SP\u200d9"}, "U+200D ZERO WIDTH JOINER", id="zero-width-joiner"),
        pytest.param({"name": "Smart Рlug"}, "U+0420 CYRILLIC CAPITAL LETTER ER", id="mixed-script"),
    ],
)
def test_signed_names_with_hidden_characters_are_refused(
    registry: tuple[Client, Actors], fields: dict[str, str], character: str
) -> None:
    client, actors = registry
    refused = _publish(client, actors, **fields)
    assert refused.status_code == 422, refused.text
    assert character in refused.json()["detail"]


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        pytest.param(("lab",), "Acc\u202eredited Lab", "predicate.lab: U+202E RIGHT-TO-LEFT OVERRIDE", id="lab"),
        pytest.param(("issuer", "name"), "Acme\u202e Labels", "predicate.issuer.name: U+202E", id="issuer-name"),
        pytest.param(("issuer", "contact"), "labels@acme\u200b.test", "predicate.issuer.contact: U+200B",
                     id="issuer-contact"),
        pytest.param(("disclosures", "contact"), "security@\u202ewidget.test", "predicate.disclosures.contact: U+202E",
                     id="disclosures-contact"),
        pytest.param(("disclosures", "lab"), "Cyber\u200dLAB", "predicate.disclosures.lab: U+200D", id="disclosures-lab"),
    ],
)  # fmt: skip
def test_lab_issuer_and_contact_text_is_checked_as_names_are(
    registry: tuple[Client, Actors], where: tuple[str, ...], value: str, message: str
) -> None:
    # Given a label whose lab, issuer name, issuer contact or disclosed contact holds a bidi override or an
    # invisible character, when it is published, then it is refused with 422 naming the field and character.
    client, actors = registry
    record = make_record(actors.issuer_key, manufacturer="Widget Co", model="TXT-1")
    target = record
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    refused = _publish(client, actors, envelope=make_envelope(record, actors.issuer_key))
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"].startswith(message)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        pytest.param("update_instructions", "Download from https://\u202emoc.elpmaxe-rotcaf//:sptth",
                     "predicate.disclosures.update_instructions: U+202E RIGHT-TO-LEFT OVERRIDE", id="instructions"),
        pytest.param("default_password", "Each unit has a unique pass\u200bword.",
                     "predicate.disclosures.default_password: U+200B ZERO WIDTH SPACE", id="default-password"),
        pytest.param("secure_configuration", "https://widget.test/\u2066setup",
                     "predicate.disclosures.secure_configuration: U+2066 LEFT-TO-RIGHT ISOLATE", id="configuration"),
    ],
)  # fmt: skip
def test_consumer_text_in_a_signed_label_holds_no_bidi_controls_or_invisible_characters(
    registry: tuple[Client, Actors], key: str, value: str, message: str
) -> None:
    # Given a label whose update instructions, default-password or secure-configuration text holds a bidi
    # control or an invisible character, when it is published, then it is refused with 422 naming the field and
    # the character, and nothing is logged.
    client, actors = registry
    record = make_record(actors.issuer_key, manufacturer="Widget Co", model="TXT-2")
    record["disclosures"][key] = value
    size = client.get("/api/v1/log/sth").json()["tree_size"]
    refused = _publish(client, actors, envelope=make_envelope(record, actors.issuer_key))
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"].startswith(message + " is not allowed in text shown to consumers")
    assert client.get("/api/v1/log/sth").json()["tree_size"] == size


def test_manufacturer_instructions_and_reasons_hold_no_bidi_controls_or_invisible_characters(
    registry: tuple[Client, Actors],
) -> None:
    # Given a product of Widget Co, when its manufacturer logs update instructions with a right-to-left override
    # (a reversed link), or its issuer revokes a label with an invisible character in the public reason, or an
    # admin suspends the issuer with a bidi isolate in the reason, then each is 422 naming the field and the
    # character; ordinary right-to-left prose (Hebrew) with line breaks is accepted.
    client, actors = registry
    label_id = _publish(client, actors, model="TXT-3").json()["label_id"]
    product = _label(client, label_id)["product"]["id"]
    body = {"support_end": "2040-01-01", "update_instructions": "Download from https://\u202emoc.elpmaxe//:sptth"}
    bad = client.put(f"/api/v1/products/{product}/support", json=body, headers=actors.headers("manufacturer"))
    assert (bad.status_code, bad.json()["detail"]) == (
        422,
        "update_instructions: U+202E RIGHT-TO-LEFT OVERRIDE is not allowed in text shown to consumers (a "
        "bidirectional control can change the order in which the text is shown)",
    )
    revoke = _revoke(client, actors, label_id, "key\u2060leak")
    assert revoke.status_code == 422 and revoke.json()["detail"].startswith("reason: U+2060 WORD JOINER")
    suspend = client.post(
        f"/api/v1/issuers/{actors.ids['issuer']}/status",
        json={"status": "suspended", "reason": "audit \u2067x"},
        headers=actors.headers("admin"),
    )
    assert suspend.status_code == 422 and suspend.json()["detail"].startswith("reason: U+2067 RIGHT-TO-LEFT ISOLATE")
    hebrew = {"support_end": "2040-01-01", "update_instructions": "עדכונים מותקנים אוטומטית.\nSettings > Update"}
    good = client.put(f"/api/v1/products/{product}/support", json=hebrew, headers=actors.headers("manufacturer"))
    assert good.status_code == 200, good.text
    assert _label(client, label_id)["support"]["update_instructions"] == hebrew["update_instructions"]


def test_look_alike_issuer_names_need_approval(registry: tuple[Client, Actors]) -> None:
    # Given the issuer "Acme Labels", when an admin registers the look-alike "AcrnE Labels" ("rn" for "m"), or
    # an issuer whose contact holds a bidi override, then the look-alike is 409 until approved (and the
    # approval is logged), and the contact is 422.
    client, actors = registry
    body = {"name": "AcrnE Labels", "public_key_pem": public_pem(Ed25519PrivateKey.generate())}
    refused = client.post("/api/v1/issuers", json=body, headers=actors.headers("admin"))
    assert (refused.status_code, refused.json()["detail"]) == (
        409,
        "name: 'AcrnE Labels' looks like the registered issuer 'Acme Labels'; an admin must approve it "
        "(approve_confusable)",
    )
    approved = client.post(
        "/api/v1/issuers", json={**body, "approve_confusable": True}, headers=actors.headers("admin")
    )
    assert approved.status_code == 201 and approved.json()["approved_confusable_with"] == "Acme Labels"
    size = client.get("/api/v1/log/sth").json()["tree_size"]
    entry = json.loads(client.get(f"/api/v1/log/entries?start={size - 1}&end={size}").json()["entries"][0]["entry"])
    assert (entry["kind"], entry["approved_confusable_with"]) == ("issuer", "Acme Labels")
    contact = {
        "name": "Third Labels",
        "contact": "x@\u202eevil.test",
        "public_key_pem": public_pem(Ed25519PrivateKey.generate()),
    }
    bad = client.post("/api/v1/issuers", json=contact, headers=actors.headers("admin"))
    assert bad.status_code == 422 and bad.json()["detail"].startswith("contact: U+202E RIGHT-TO-LEFT OVERRIDE")


def test_a_confusable_model_needs_an_admins_approval(registry: tuple[Client, Actors]) -> None:
    client, actors = registry
    assert _publish(client, actors, model="CAM-1").status_code == 201
    look_alike = _publish(client, actors, model="CAM-l")
    assert look_alike.status_code == 409 and "looks like the model 'CAM-1'" in look_alike.json()["detail"]
    approval = {"manufacturer_id": actors.ids["manufacturer"], "model": "CAM-l"}
    assert client.post("/api/v1/approvals", json=approval, headers=actors.headers("admin")).status_code == 201
    # approving it again is a conflict, not a server error (schemathesis found the 500)
    assert client.post("/api/v1/approvals", json=approval, headers=actors.headers("admin")).status_code == 409
    assert _publish(client, actors, model="CAM-l").status_code == 201


# --- 7. hardening ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"reason": NaN}', id="nan"),
        pytest.param(b'{"reason": -Infinity}', id="minus-infinity"),
        pytest.param(b'{"name": "x", "contact": 1e999}', id="overflowing-number"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="deep-nesting"),
        pytest.param(b'{"name": "\\ud800"}', id="lone-surrogate"),
        pytest.param(b'{"name": "x", "contact": "a\\udfffb"}', id="lone-low-surrogate"),
    ],
)
def test_non_finite_json_is_refused_with_400(registry: tuple[Client, Actors], body: bytes) -> None:
    # Given a body that is not strict JSON (lone surrogates: escaped, they parse, but are no text and once made
    # a 500 when the validation error echoed them), when it is posted, then it is a 400 with one line.
    client, actors = registry
    headers = {**actors.headers("admin"), "Content-Type": "application/json"}
    response = client.post("/api/v1/manufacturers", content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["detail"].startswith("request body: ")


def test_a_lone_surrogate_inside_a_signed_payload_is_refused_with_422(registry: tuple[Client, Actors]) -> None:
    # Given a label whose signed payload holds an escaped lone surrogate in the product name, when it is
    # published, then it is refused with 422 naming the payload, and nothing is logged.
    import base64

    from cybersafe.attest.dsse import PAYLOAD_TYPE, pae

    client, actors = registry
    envelope = actors.envelope(model="SUR-1", name="Plug")
    body = base64.b64decode(envelope["payload"]).replace(b'"name":"Plug"', b'"name":"Pl\\ud800ug"')
    signature = base64.b64encode(actors.issuer_key.sign(pae(PAYLOAD_TYPE, body))).decode()
    forged = {
        **envelope,
        "payload": base64.b64encode(body).decode(),
        "signatures": [{**envelope["signatures"][0], "sig": signature}],
    }
    before = client.get("/api/v1/log/sth").json()["tree_size"]
    refused = _publish(client, actors, envelope=forged)
    assert (refused.status_code, refused.json()["detail"]) == (
        422,
        "envelope: payload: a string holds a lone surrogate (\\ud800-\\udfff), which is not text",
    )
    assert client.get("/api/v1/log/sth").json()["tree_size"] == before


def test_security_headers_on_every_response(registry: tuple[Client, Actors]) -> None:
    client, actors = registry
    label_id = _publish(client, actors, model="HDR-1").json()["label_id"]
    for path in ["/", f"/l/{label_id}", f"/api/v1/labels/{label_id}", "/api/v1/docs", "/l/CSL-X-" + "0" * 26,
                 "/static/verify.js", "/api/v1/log/checkpoint", "/nowhere"]:  # fmt: skip
        headers = client.get(path).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "no-referrer", path
        assert "strict-transport-security" not in headers, path
    over_tls = client.get("/", headers={"X-Forwarded-Proto": "https"}, follow_redirects=False)
    assert "strict-transport-security" not in over_tls.headers  # a header alone is not TLS


def test_hsts_when_served_over_tls(make_database_url: Callable[[str], str]) -> None:
    app = create_app(make_database_url("sqlite"), base_url="https://labels.example", rate_limits=GENEROUS)
    with TestClient(app) as client:
        assert client.get("/api/v1/hello").headers["strict-transport-security"].startswith("max-age=")
    app.state.shutdown()
    plain = create_app(make_database_url("sqlite"), base_url="http://127.0.0.1:8000", rate_limits=GENEROUS)
    with TestClient(plain, base_url="https://testserver") as client:
        assert "strict-transport-security" in client.get("/api/v1/hello").headers
    plain.state.shutdown()


def test_api_docs_load_nothing_from_elsewhere(registry: tuple[Client, Actors]) -> None:
    client, _ = registry
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower() and 'src="http' not in page.text and 'href="http' not in page.text
    bundle = client.get("/api/v1/docs/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and len(bundle.content) > 100_000
    assert "'sha256-" in page.headers["content-security-policy"]


def test_rate_limits_per_token_and_on_failed_logins(make_database_url: Callable[[str], str]) -> None:
    # Given limits of 3 writes per token and 5 failed logins per address a minute, then the 4th write and the
    # 6th bad token are refused with 429 and Retry-After; reads are never limited.
    limits = RateLimits(Rate(3, 60), Rate(100, 60), Rate(5, 60))
    app = create_app(make_database_url("sqlite"), base_url="http://testserver", rate_limits=limits)
    actors = setup_actors(app.state.engine)
    with TestClient(app) as client:
        codes = [_publish(client, actors, model=f"RL-{i}").status_code for i in range(4)]
        assert codes == [201, 201, 201, 429]
        envelope = actors.envelope(model="RL-X")
        bad = [client.post("/api/v1/labels", json=envelope, headers={"Authorization": "Bearer nope"}) for _ in range(7)]
        assert [b.status_code for b in bad] == [401] * 5 + [429] * 2
        assert int(bad[-1].headers["retry-after"]) >= 1
        assert all(client.get("/api/v1/hello").status_code == 200 for _ in range(50))
    app.state.shutdown()


def test_links_are_relative_without_a_base_url(make_database_url: Callable[[str], str]) -> None:
    app = create_app(make_database_url("sqlite"), rate_limits=GENEROUS)
    actors = setup_actors(app.state.engine)
    with TestClient(app) as client:
        evil = {**actors.headers("issuer"), "Host": "evil.example"}
        label_id = client.post("/api/v1/labels", json=actors.envelope(), headers=evil).json()["label_id"]
        assert _label(client, label_id)["registry_url"] == f"/l/{label_id}"
    app.state.shutdown()


def test_the_qr_digest_is_the_logged_envelope_digest(registry: tuple[Client, Actors]) -> None:
    client, actors = registry
    envelope, label_id = _published(client, actors, "QR-1")
    proof = client.get(f"/api/v1/labels/{label_id}/proof").json()
    issued = json.loads(proof["entries"][0]["entry"])
    assert issued["envelope_sha256"] == envelope_digest(envelope) == envelope_digest(proof["envelope"])
