"""The registry's FastAPI application: JSON API under /api/v1 and server-rendered pages.

Routes are thin: they authenticate, call ``service`` or ``admin`` and translate errors to HTTP. The label
read path (JSON and page) is the hot one: ``async def`` routes over batched reads on a per-worker
connection (``reads.py``), deriving what they show from the log (``views.py``). Every response goes through
``security.Hardening`` (body limit, strict JSON, security headers); writes and failed logins are
rate-limited per token and per address.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import gc
import hashlib
import os
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Annotated, Any

from cryptography.hazmat.primitives import serialization
from fastapi import Depends, FastAPI, Header, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy import Engine

from cybersafe.attest.dsse import one_line
from cybersafe.errors import RegistryError
from cybersafe.label.model import LABEL_ID_PATTERN, LABEL_ID_RE
from cybersafe.registry import admin, db, derive, log, merkle, service
from cybersafe.registry.interface import (
    Forbidden,
    IssuerStatus,
    NotFound,
    Principal,
    Rejected,
    Role,
    TooManyRequests,
    public_base_url,
)
from cybersafe.registry.reads import LabelCache, Reader, open_database
from cybersafe.registry.security import Hardening, RateLimiter, RateLimits
from cybersafe.registry.tokens import authenticate
from cybersafe.registry.views import LabelViews

API = "/api/v1"
MAX_BODY_BYTES = 256 * 1024
MAX_INT = 2**31 - 1
MAX_INDEX = 2**47
STATIC_FILES = {"verify.js": "text/javascript; charset=utf-8", "registry.css": "text/css; charset=utf-8"}


def _clean(value: str) -> str:
    """Refuse NUL and lone surrogates: PostgreSQL text cannot hold them, and no honest value has them."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


Clean = AfterValidator(_clean)


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignatureIn(_Wire):
    keyid: Annotated[str, Field(max_length=128), Clean] = ""
    sig: Annotated[str, Field(max_length=1024), Clean]


class EnvelopeIn(_Wire):
    """A DSSE envelope holding an in-toto Statement whose predicate is a ``cybersafe/label/v1`` record."""

    payloadType: Annotated[str, Field(max_length=100), Clean]
    payload: Annotated[str, Field(max_length=200_000), Clean]
    signatures: Annotated[list[SignatureIn], Field(min_length=1, max_length=8)]


class RevokeIn(_Wire):
    reason: Annotated[str, Field(min_length=1, max_length=1000), Clean]


class SupportIn(_Wire):
    support_end: dt.date
    update_instructions: Annotated[str, Field(max_length=4000), Clean] | None = None
    updates_automatic: bool | None = None


class IssuerIn(_Wire):
    name: Annotated[str, Field(min_length=1, max_length=200), Clean]
    contact: Annotated[str, Field(max_length=300), Clean] | None = None
    public_key_pem: Annotated[str, Field(min_length=1, max_length=4000), Clean]
    approve_confusable: bool = False


class IssuerStatusIn(_Wire):
    status: IssuerStatus
    reason: Annotated[str, Field(min_length=1, max_length=1000), Clean]
    effective: dt.date | None = None


class SchemeAdministratorIn(_Wire):
    scheme: Annotated[str, Field(min_length=1, max_length=60), Clean]
    administers: bool = True  # false ends the record
    reason: Annotated[str, Field(max_length=1000), Clean] = ""


class IssuerKeyIn(_Wire):
    public_key_pem: Annotated[str, Field(min_length=1, max_length=4000), Clean]


class ManufacturerIn(_Wire):
    name: Annotated[str, Field(min_length=1, max_length=200), Clean]
    contact: Annotated[str, Field(max_length=300), Clean] | None = None
    approve_confusable: bool = False


class GrantIn(_Wire):
    issuer_id: Annotated[int, Field(ge=1, le=MAX_INT)]
    scheme: Annotated[str, Field(min_length=1, max_length=60), Clean] | None = None
    model: Annotated[str, Field(min_length=1, max_length=200), Clean] | None = None


class ApprovalIn(_Wire):
    manufacturer_id: Annotated[int, Field(ge=1, le=MAX_INT)]
    model: Annotated[str, Field(min_length=1, max_length=200), Clean]


class TokenIn(_Wire):
    role: Role
    name: Annotated[str, Field(min_length=1, max_length=200), Clean]
    issuer_id: Annotated[int, Field(ge=1, le=MAX_INT)] | None = None
    manufacturer_id: Annotated[int, Field(ge=1, le=MAX_INT)] | None = None


LabelId = Annotated[str, Path(pattern=LABEL_ID_PATTERN, max_length=80)]
ProductId = Annotated[int, Path(ge=1, le=MAX_INT)]
ItemId = Annotated[int, Path(ge=1, le=MAX_INT)]


@dataclass
class Settings:
    """How a registry process behaves; ``clock`` is injectable for tests and the demo."""

    base_url: str = ""
    max_body_bytes: int = MAX_BODY_BYTES
    cache_size: int = 20_000
    cache_seconds: float = 0.5
    rate_limits: RateLimits = field(default_factory=RateLimits)
    clock_skew: dt.timedelta = service.CLOCK_SKEW
    clock: Callable[[], dt.datetime] = admin.now_utc


@dataclass
class Registry:
    """Everything the routes share in one worker."""

    settings: Settings
    engine: Engine
    read_engine: Engine
    signer: log.LogSigner
    reader: Reader
    cache: LabelCache
    views: LabelViews
    templates: Environment
    limiter: RateLimiter

    def now(self) -> dt.datetime:
        return self.settings.clock()

    def today(self) -> dt.date:
        return self.now().astimezone(dt.UTC).date()

    def shutdown(self) -> None:
        self.reader.close_now()
        self.read_engine.dispose()
        self.engine.dispose()


class _Unauthorized(RegistryError):
    status_code = 401


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def current_principal(request: Request, authorization: Annotated[str | None, Header()] = None) -> Principal | None:
    """The caller named by ``Authorization: Bearer <token>``, or None for the public. Failed attempts are
    counted per address; past the limit every attempt from it is refused (429) until the bucket refills."""
    if not authorization:
        return None
    registry: Registry = request.app.state.registry
    limits = registry.settings.rate_limits
    registry.limiter.check("failed-auth", _address(request), limits.failed_auth_per_address)
    scheme, _, token = authorization.partition(" ")
    found = None
    if scheme.lower() == "bearer" and token.strip():
        with registry.read_engine.connect() as conn:
            found = authenticate(conn, token.strip())
    if found is None:
        registry.limiter.take("failed-auth", _address(request), limits.failed_auth_per_address)
        if scheme.lower() != "bearer" or not token.strip():
            raise _Unauthorized("use 'Authorization: Bearer <token>'")
        raise _Unauthorized("unknown or revoked API token")
    return found


def _require(role: Role) -> Callable[..., Principal]:
    def dependency(request: Request, who: Annotated[Principal | None, Depends(current_principal)]) -> Principal:
        if who is None:
            raise _Unauthorized("this operation needs an API token")
        if who.role is not role:
            raise Forbidden(f"this operation needs the {role.value} role")
        registry: Registry = request.app.state.registry
        limits = registry.settings.rate_limits
        registry.limiter.take("writes-per-token", str(who.token_id), limits.writes_per_token)
        registry.limiter.take("writes-per-address", _address(request), limits.writes_per_address)
        return who

    return dependency


RequireAdmin = Annotated[Principal, Depends(_require(Role.ADMIN))]
RequireIssuer = Annotated[Principal, Depends(_require(Role.ISSUER))]
RequireManufacturer = Annotated[Principal, Depends(_require(Role.MANUFACTURER))]


def create_app(
    database_url: str | None = None,
    *,
    migrate: bool = True,
    base_url: str = "",
    max_body_bytes: int = MAX_BODY_BYTES,
    cache_size: int = 20_000,
    cache_seconds: float = 0.5,
    rate_limits: RateLimits | None = None,
    clock: Callable[[], dt.datetime] | None = None,
) -> FastAPI:
    """The registry app on ``database_url`` (default: CYBERSAFE_DATABASE_URL or the user's SQLite file).

    ``base_url`` is the public URL used in every link the registry writes (``public_base_url``: lower-case
    scheme and host, no default port, no trailing slash; ValueError for what no origin can be); without it links
    are relative. Links never come from a request's Host header.
    """
    settings = Settings(
        base_url=public_base_url(base_url) if base_url else "",
        max_body_bytes=max_body_bytes,
        cache_size=cache_size,
        cache_seconds=cache_seconds,
        rate_limits=rate_limits or RateLimits(),
        clock=clock or admin.now_utc,
    )
    registry = _open(database_url or db.default_database_url(), settings, migrate=migrate)
    app = _application(registry)
    _label_routes(app, registry)
    _label_write_routes(app, registry)
    _product_routes(app, registry)
    _admin_routes(app, registry)
    _log_routes(app, registry)
    _page_routes(app, registry)
    _docs_routes(app)
    return app


def _open(url: str, settings: Settings, *, migrate: bool) -> Registry:
    engine = db.make_engine(url)
    read_engine = db.make_engine(url, writer=False) if db.is_sqlite(url) else engine
    if migrate:
        db.migrate(engine)
    signer = log.ensure_log_key(engine, settings.base_url, fix_origin=True)
    if migrate:
        admin.prepare(engine, signer, now=settings.clock())
    reader = Reader(open_database(read_engine))
    cache = LabelCache(reader, settings.cache_size, settings.cache_seconds, settings.clock)
    templates = Environment(
        loader=PackageLoader("cybersafe.registry", "templates"),
        autoescape=select_autoescape(["html"]),
        auto_reload=False,  # package files: no stat() of every template on every page
    )
    views = LabelViews(reader, cache, signer, templates, settings.base_url, settings.clock)
    return Registry(
        settings, engine, read_engine, signer, reader, cache, views, templates, RateLimiter(settings.rate_limits)
    )


def _application(registry: Registry) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Everything loaded so far (modules, templates, the app) lives as long as the worker: keep it out of
        # the collector's full passes, which otherwise stall a worker for tens of milliseconds (bench/README.md).
        gc.freeze()
        yield
        await registry.reader.close()
        registry.shutdown()

    app = FastAPI(
        lifespan=lifespan,
        title="cybersafe label registry",
        version="1",
        description="Public registry of signed IoT security labels with a transparency log (RFC 9162 hashing, "
        "C2SP checkpoints).",
        openapi_url=f"{API}/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.add_middleware(
        Hardening, limit=registry.settings.max_body_bytes, hsts=registry.settings.base_url.startswith("https://")
    )
    app.state.registry = registry
    app.state.engine = registry.engine
    app.state.read_engine = registry.read_engine
    app.state.shutdown = registry.shutdown
    app.state.log_key = registry.signer
    app.state.reader = registry.reader

    @app.exception_handler(RegistryError)
    async def _registry_error(_: Request, exc: RegistryError) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
        return JSONResponse({"detail": str(exc)}, status_code=getattr(exc, "status_code", 400), headers=headers)

    return app


# --- labels ------------------------------------------------------------------------------------------


def _label_routes(app: FastAPI, registry: Registry) -> None:
    views = registry.views

    @app.get(f"{API}/hello", tags=["meta"], summary="Trivial liveness endpoint")
    async def hello() -> Response:
        return Response(b'{"hello":"world"}', media_type="application/json")

    @app.get(
        f"{API}/labels/{{label_id}}",
        tags=["labels"],
        summary="Read a label: status and fields derived from the log, integrity verdict, signed envelope",
        responses={404: {"description": "no such label"}},
    )
    async def get_label(label_id: LabelId) -> Response:
        document = await views.label_json(label_id)
        if document is None:
            return JSONResponse({"detail": f"no label {label_id}"}, status_code=404)
        return Response(document.encode(), media_type="application/json")

    @app.get(
        f"{API}/labels/{{label_id}}/proof",
        tags=["labels"],
        summary="The label's envelope and log entries (and its issuer's), each with an inclusion proof against "
        "a C2SP checkpoint",
    )
    async def get_label_proof(
        label_id: LabelId, tree_size: Annotated[int | None, Query(ge=1, le=MAX_INDEX)] = None
    ) -> Response:
        bundle = await views.proof(label_id, tree_size)
        if bundle is None:
            raise NotFound(f"no label {label_id}, or no checkpoint of size {tree_size}")
        return Response(derive.document_json(bundle).encode(), media_type="application/json")

    @app.get(f"{API}/labels", tags=["labels"], summary="Search labels by product, manufacturer, model, scheme")
    def search_labels(
        q: Annotated[str, Query(max_length=200)] = "",
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    ) -> dict[str, Any]:
        with registry.read_engine.connect() as conn:
            results = service.search(conn, _clean_query(q), limit, offset, registry.today(), registry.settings.base_url)
        return {"query": q, "results": results}


def _label_write_routes(app: FastAPI, registry: Registry) -> None:
    engine = registry.engine

    @app.post(f"{API}/labels", tags=["labels"], status_code=201, summary="Publish a signed label (issuer)")
    def publish_label(envelope: EnvelopeIn, who: RequireIssuer) -> JSONResponse:
        try:
            result = service.publish(
                engine,
                registry.signer,
                who,
                envelope.model_dump(),
                now=registry.now(),
                skew=registry.settings.clock_skew,
                base_url=registry.settings.base_url,
            )
        finally:
            registry.cache.clear()
        return JSONResponse(result, status_code=201 if result["created"] else 200)

    @app.post(f"{API}/labels/{{label_id}}/revoke", tags=["labels"], summary="Revoke your label with a reason")
    def revoke_label(label_id: LabelId, body: RevokeIn, who: RequireIssuer) -> dict[str, Any]:
        try:
            return service.revoke(engine, registry.signer, who, label_id, body.reason, now=registry.now())
        finally:
            registry.cache.clear()


def _product_routes(app: FastAPI, registry: Registry) -> None:
    @app.get(f"{API}/products/{{product_id}}", tags=["products"], summary="A product and all its labels")
    def get_product(product_id: ProductId) -> dict[str, Any]:
        with registry.read_engine.connect() as conn:
            if not service.product_exists(conn, product_id):
                raise NotFound(f"no product {product_id}")
            labels = service.product_labels(conn, product_id, registry.today(), registry.settings.base_url)
        return {"product_id": product_id, "labels": labels}

    @app.put(
        f"{API}/products/{{product_id}}/support",
        tags=["products"],
        summary="Update support information (the product's manufacturer; extend only)",
    )
    def put_support(product_id: ProductId, body: SupportIn, who: RequireManufacturer) -> dict[str, Any]:
        try:
            return service.update_support(
                registry.engine, registry.signer, who, product_id, body.support_end, body.update_instructions,
                body.updates_automatic, now=registry.now(),
            )  # fmt: skip
        finally:
            registry.cache.clear()

    @app.get(f"{API}/grants", tags=["manufacturers"], summary="Issuers authorised by manufacturers")
    def get_grants(manufacturer_id: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None) -> dict[str, Any]:
        with registry.read_engine.connect() as conn:
            return {"grants": admin.list_grants(conn, manufacturer_id)}

    @app.post(
        f"{API}/grants",
        tags=["manufacturers"],
        status_code=201,
        summary="Authorise an issuer for one of your products, a scheme, or both (manufacturer)",
    )
    def post_grant(body: GrantIn, who: RequireManufacturer) -> dict[str, Any]:
        return admin.add_grant(
            registry.engine,
            registry.signer,
            who,
            body.issuer_id,
            scheme=body.scheme,
            model=body.model,
            now=registry.now(),
        )

    @app.post(f"{API}/grants/{{grant_id}}/withdraw", tags=["manufacturers"], summary="Withdraw your grant")
    def withdraw_grant(grant_id: ItemId, who: RequireManufacturer) -> dict[str, Any]:
        return admin.withdraw_grant(registry.engine, registry.signer, who, grant_id, now=registry.now())


# --- admin -------------------------------------------------------------------------------------------


def _admin_routes(app: FastAPI, registry: Registry) -> None:
    engine, signer = registry.engine, registry.signer

    @app.get(f"{API}/issuers", tags=["issuers"], summary="Label administrators, their keys and status")
    def get_issuers() -> dict[str, Any]:
        with registry.read_engine.connect() as conn:
            return {"issuers": admin.list_issuers(conn)}

    @app.post(f"{API}/issuers", tags=["issuers"], status_code=201, summary="Register a label administrator (admin)")
    def post_issuer(body: IssuerIn, _: RequireAdmin) -> dict[str, Any]:
        return admin.add_issuer(
            engine, signer, body.name, body.contact, body.public_key_pem,
            approve_confusable=body.approve_confusable, now=registry.now(),
        )  # fmt: skip

    @app.post(f"{API}/issuers/{{issuer_id}}/status", tags=["issuers"], summary="Suspend, reinstate or revoke (admin)")
    def post_issuer_status(issuer_id: ItemId, body: IssuerStatusIn, _: RequireAdmin) -> dict[str, Any]:
        try:
            return admin.set_issuer_status(
                engine, signer, issuer_id, body.status, body.reason, effective=body.effective, now=registry.now()
            )
        finally:
            registry.cache.clear()

    @app.post(f"{API}/issuers/{{issuer_id}}/keys", tags=["issuers"], summary="Rotate an issuer's key (admin)")
    def post_issuer_key(issuer_id: ItemId, body: IssuerKeyIn, _: RequireAdmin) -> dict[str, Any]:
        try:
            return admin.rotate_issuer_key(engine, signer, issuer_id, body.public_key_pem, now=registry.now())
        finally:
            registry.cache.clear()

    @app.post(
        f"{API}/issuers/{{issuer_id}}/schemes",
        tags=["issuers"],
        summary="Record (or end) an issuer as a scheme's label administrator: only then may it publish labels in "
        "the scheme's own style (admin)",
    )
    def post_scheme_administrator(issuer_id: ItemId, body: SchemeAdministratorIn, _: RequireAdmin) -> dict[str, Any]:
        return admin.set_scheme_administrator(
            engine, signer, issuer_id, body.scheme, administers=body.administers, reason=body.reason,
            now=registry.now(),
        )  # fmt: skip

    @app.post(f"{API}/manufacturers", tags=["manufacturers"], status_code=201, summary="Register a manufacturer")
    def post_manufacturer(body: ManufacturerIn, _: RequireAdmin) -> dict[str, Any]:
        return admin.add_manufacturer(
            engine, signer, body.name, body.contact, approve_confusable=body.approve_confusable, now=registry.now()
        )

    @app.post(f"{API}/approvals", tags=["manufacturers"], status_code=201, summary="Approve a confusable model name")
    def post_approval(body: ApprovalIn, _: RequireAdmin) -> dict[str, Any]:
        return admin.approve_model(engine, signer, body.manufacturer_id, body.model, now=registry.now())

    @app.post(f"{API}/tokens", tags=["tokens"], status_code=201, summary="Create an API token (admin)")
    def post_token(body: TokenIn, _: RequireAdmin) -> dict[str, Any]:
        return admin.create_token(
            engine, body.role, body.name, issuer_id=body.issuer_id, manufacturer_id=body.manufacturer_id
        )

    @app.post(f"{API}/tokens/{{token_id}}/revoke", tags=["tokens"], summary="Revoke an API token (admin)")
    def revoke_token(token_id: ItemId, _: RequireAdmin) -> dict[str, Any]:
        return admin.revoke_token(engine, token_id)


# --- transparency log --------------------------------------------------------------------------------


def _log_routes(app: FastAPI, registry: Registry) -> None:
    reader, signer, views = registry.reader, registry.signer, registry.views
    public = signer.public_key()
    key_doc = {
        "log": log.LOG_NAME,
        "origin": signer.origin,
        "vkey": signer.verifier.vkey(),
        "key_id": log.raw_public_key_id(public),
        "public_key_pem": public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode(),
    }

    @app.get(f"{API}/log/key", tags=["log"], summary="The log's Ed25519 public key, origin and C2SP verifier key")
    async def get_log_key() -> dict[str, Any]:
        return key_doc

    @app.get(f"{API}/log/sth", tags=["log"], summary="The latest signed tree head, or the one of a given size")
    async def get_sth(tree_size: Annotated[int | None, Query(ge=1, le=MAX_INDEX)] = None) -> dict[str, Any]:
        head = await views.head(tree_size)
        if head is None:
            if tree_size is None:
                return {"log": log.LOG_NAME, "tree_size": 0, "root_hash": merkle.EMPTY_ROOT.hex()}
            raise NotFound(f"no tree head of size {tree_size}")
        return head.as_json()

    @app.get(
        f"{API}/log/checkpoint",
        tags=["log"],
        summary="The latest checkpoint (C2SP signed note) with witness cosignatures, or one of a given size, or "
        "the newest with at least min_cosignatures",
        response_class=PlainTextResponse,
    )
    async def get_checkpoint(
        tree_size: Annotated[int | None, Query(ge=1, le=MAX_INDEX)] = None,
        min_cosignatures: Annotated[int | None, Query(ge=1, le=32)] = None,
    ) -> PlainTextResponse:
        if min_cosignatures is not None and tree_size is None:
            tree_size = await reader.newest_cosigned(min_cosignatures)
            if tree_size is None:
                raise NotFound(f"no checkpoint carries {min_cosignatures} cosignature(s) yet")
        head = await views.head(tree_size)
        if head is None:
            raise NotFound("the log is empty" if tree_size is None else f"no checkpoint of size {tree_size}")
        return PlainTextResponse(await views.checkpoint(head), media_type="text/plain; charset=utf-8")

    @app.get(f"{API}/log/witnesses", tags=["log"], summary="Witnesses that cosign this log's checkpoints")
    def get_witnesses() -> dict[str, Any]:
        with registry.read_engine.connect() as conn:
            return {"origin": signer.origin, "witnesses": admin.list_witnesses(conn)}

    _proof_routes(app, registry)


def _proof_routes(app: FastAPI, registry: Registry) -> None:
    reader, read_engine = registry.reader, registry.read_engine

    @app.get(f"{API}/log/proof/inclusion", tags=["log"], summary="Inclusion proof of a leaf in a tree size")
    async def get_inclusion(
        leaf_index: Annotated[int, Query(ge=0, le=MAX_INDEX)],
        tree_size: Annotated[int, Query(ge=1, le=MAX_INDEX)],
    ) -> dict[str, Any]:
        head = await reader.latest_head()
        if head is None or tree_size > head.tree_size:
            raise NotFound(f"the log has fewer than {tree_size} entries")
        if leaf_index >= tree_size:
            raise Rejected("leaf_index must be smaller than tree_size")
        path = await reader.inclusion_path(leaf_index, tree_size)
        return {"leaf_index": leaf_index, "tree_size": tree_size, "audit_path": [h.hex() for h in path]}

    @app.get(f"{API}/log/proof/consistency", tags=["log"], summary="Consistency proof between two tree sizes")
    def get_consistency(
        first: Annotated[int, Query(ge=1, le=MAX_INDEX)], second: Annotated[int, Query(ge=1, le=MAX_INDEX)]
    ) -> dict[str, Any]:
        with read_engine.connect() as conn:
            if second > log.log_size(conn):
                raise NotFound(f"the log has fewer than {second} entries")
            if first > second:
                raise Rejected("first must not be larger than second")
            proof = log.consistency_proof(conn, first, second)
        return {"first": first, "second": second, "consistency": [h.hex() for h in proof]}

    @app.get(f"{API}/log/entries", tags=["log"], summary="Log entries [start, end), at most 1000")
    def get_entries(
        start: Annotated[int, Query(ge=0, le=MAX_INDEX)], end: Annotated[int, Query(ge=1, le=MAX_INDEX)]
    ) -> dict[str, Any]:
        if end <= start or end - start > 1000:
            raise Rejected("need start < end and at most 1000 entries")
        with read_engine.connect() as conn:
            return {"entries": service.log_entries(conn, start, end)}


# --- pages -------------------------------------------------------------------------------------------


def _page_routes(app: FastAPI, registry: Registry) -> None:
    views, templates = registry.views, registry.templates
    static = {
        name: resources.files("cybersafe.registry").joinpath(f"static/{name}").read_bytes() for name in STATIC_FILES
    }

    def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(templates.get_template(name).render(**context), status_code=status)

    # The pages answer bad input with a page (never FastAPI's JSON), and never echo control characters.
    @app.get("/", include_in_schema=False)
    def home(q: str = "") -> HTMLResponse:
        results: list[dict[str, Any]] = []
        try:
            query = _clean_query(q) if len(q) <= MAX_QUERY else None
        except Rejected:
            query = None
        if query is None:
            error = f"Search words must be plain text of at most {MAX_QUERY} characters."
            return page("home.html", q=_shown(q), results=[], searched=False, error=error, status=400)
        if query.strip():
            with registry.read_engine.connect() as conn:
                results = service.search(conn, query, 50, 0, registry.today(), registry.settings.base_url)
        return page("home.html", q=q, results=results, searched=bool(q.strip()))

    @app.get("/l/{label_id}", include_in_schema=False)
    async def label_page(label_id: str) -> HTMLResponse:
        html = await views.label_page(label_id) if LABEL_ID_RE.fullmatch(label_id) else None
        if html is None:
            return page("not_found.html", status=404, label_id=_shown(label_id))
        return HTMLResponse(html)

    @app.get("/compare", include_in_schema=False)
    async def compare(labels: Annotated[list[str] | None, Query()] = None) -> HTMLResponse:
        # The search page's form sends one ``labels`` per ticked label; a link may list them comma-separated.
        requested = ",".join(labels or [])[:1000]
        ids = [i for i in dict.fromkeys(requested.replace(",", " ").split()) if LABEL_ID_RE.fullmatch(i)][:6]
        found = await views.documents(ids)
        docs = [found[i] for i in ids if i in found]
        missing = [i for i in ids if i not in found]
        return page("compare.html", docs=docs, missing=missing, requested=_shown(requested))

    @app.get("/static/{name}", include_in_schema=False)
    async def static_file(name: Annotated[str, Path(max_length=40)]) -> Response:
        if name not in static:
            raise NotFound(f"no file {name}")
        return Response(static[name], media_type=STATIC_FILES[name], headers={"Cache-Control": "public, max-age=3600"})


def _docs_routes(app: FastAPI) -> None:
    """Swagger UI from files installed with the package (fastapi-offline ships them), never from a CDN."""
    from fastapi.openapi.docs import get_swagger_ui_html

    assets = resources.files("fastapi_offline").joinpath("static")
    files = {
        "swagger-ui-bundle.js": (
            "text/javascript; charset=utf-8",
            assets.joinpath("swagger-ui-bundle.js").read_bytes(),
        ),
        "swagger-ui.css": ("text/css; charset=utf-8", assets.joinpath("swagger-ui.css").read_bytes()),
    }
    html = get_swagger_ui_html(
        openapi_url=f"{API}/openapi.json",
        title="cybersafe label registry - API",
        swagger_js_url=f"{API}/docs/swagger-ui-bundle.js",
        swagger_css_url=f"{API}/docs/swagger-ui.css",
        swagger_favicon_url="data:,",
    ).body
    inline = re.findall(rb"<script>(.*?)</script>", html, re.S)
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s).digest()).decode()}'" for s in inline)
    csp = (
        f"default-src 'none'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; frame-ancestors 'none'"
    )

    @app.get(f"{API}/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(html, headers={"Content-Security-Policy": csp})

    @app.get(f"{API}/docs/{{name}}", include_in_schema=False)
    async def docs_asset(name: Annotated[str, Path(max_length=40)]) -> Response:
        if name not in files:
            raise NotFound(f"no file {name}")
        media_type, body = files[name]
        return Response(body, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})


MAX_QUERY = 200


def _shown(text: str, limit: int = 80) -> str:
    """User input as a page may echo it: control and invisible characters escaped, at most ``limit`` long."""
    shown = one_line(text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _clean_query(q: str) -> str:
    try:
        return _clean(q)
    except ValueError as exc:
        raise Rejected(f"q: {exc}") from None


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` (several workers): migrations already ran in the parent."""
    env = os.environ.get
    limits = RateLimits()
    if env("CYBERSAFE_REGISTRY_RATE_LIMITS"):
        from cybersafe.registry.security import Rate

        token, address, auth = env("CYBERSAFE_REGISTRY_RATE_LIMITS", "").split(",")
        limits = RateLimits(Rate.parse(token), Rate.parse(address), Rate.parse(auth))
    return create_app(
        env(db.ENV_VAR),
        migrate=env("CYBERSAFE_REGISTRY_MIGRATE", "1") == "1",
        base_url=env("CYBERSAFE_REGISTRY_BASE_URL", ""),
        rate_limits=limits,
    )
