"""The registry's FastAPI application: JSON API under /api/v1 and server-rendered pages.

Routes are thin: they authenticate, call ``service`` and translate its errors to HTTP. The label read path
(JSON and page) is the hot one: an ``async def`` route doing one primary-key lookup on a per-process
read connection that returns the label document stored at write time (feasibility.md section 12).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Annotated, Any

from cryptography.hazmat.primitives import serialization
from fastapi import Depends, FastAPI, Header, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy import Engine, select

from cybersafe.errors import RegistryError
from cybersafe.label.model import LABEL_ID_PATTERN, LABEL_ID_RE
from cybersafe.registry import db, log, merkle, service
from cybersafe.registry.interface import Forbidden, NotFound, Principal, Rejected, Role
from cybersafe.registry.models import LogKey
from cybersafe.registry.reads import LabelCache, Reader, open_database
from cybersafe.registry.views import LabelViews, today

API = "/api/v1"
MAX_BODY_BYTES = 256 * 1024
MAX_INT = 2**31 - 1
MAX_INDEX = 2**47

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


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


class ManufacturerIn(_Wire):
    name: Annotated[str, Field(min_length=1, max_length=200), Clean]
    contact: Annotated[str, Field(max_length=300), Clean] | None = None


class TokenIn(_Wire):
    role: Role
    name: Annotated[str, Field(min_length=1, max_length=200), Clean]
    issuer_id: Annotated[int, Field(ge=1, le=MAX_INT)] | None = None
    manufacturer_id: Annotated[int, Field(ge=1, le=MAX_INT)] | None = None


LabelId = Annotated[str, Path(pattern=LABEL_ID_PATTERN, max_length=80)]
ProductId = Annotated[int, Path(ge=1, le=MAX_INT)]


class BodyLimit:
    """Refuse request bodies above ``limit`` bytes with 413, whether or not Content-Length is sent."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.limit
                except ValueError:
                    too_big = True
                if too_big:
                    await _too_large(send, self.limit)
                    return
        if scope.get("method") not in {"POST", "PUT", "PATCH"}:
            await self.app(scope, receive, send)
            return
        # No Content-Length (chunked): read the body first, within the limit, then replay it. FastAPI turns
        # any exception raised while it reads the body into a 400, so the check cannot happen later.
        buffered: list[Message] = []
        seen = 0
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break
            seen += len(message.get("body", b""))
            if seen > self.limit:
                await _too_large(send, self.limit)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            if buffered:
                return buffered.pop(0)
            return await receive()

        await self.app(scope, replay, send)


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({"detail": f"request body larger than {limit} bytes"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def current_principal(request: Request, authorization: Annotated[str | None, Header()] = None) -> Principal | None:
    """The caller named by ``Authorization: Bearer <token>``, or None for the public."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _Unauthorized("use 'Authorization: Bearer <token>'")
    with request.app.state.read_engine.connect() as conn:
        found = service.authenticate(conn, token.strip())
    if found is None:
        raise _Unauthorized("unknown or revoked API token")
    return found


def _require(role: Role) -> Callable[[Principal | None], Principal]:
    def dependency(who: Annotated[Principal | None, Depends(current_principal)]) -> Principal:
        if who is None:
            raise _Unauthorized("this operation needs an API token")
        if who.role is not role:
            raise Forbidden(f"this operation needs the {role.value} role")
        return who

    return dependency


class _Unauthorized(RegistryError):
    status_code = 401


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
) -> FastAPI:
    """The registry app on ``database_url`` (default: CYBERSAFE_DATABASE_URL or the user's SQLite file)."""
    url = database_url or db.default_database_url()
    engine = db.make_engine(url)
    read_engine = db.make_engine(url, writer=False) if db.is_sqlite(url) else engine
    if migrate:
        db.migrate(engine)
    log_key = log.ensure_log_key(engine)
    log_public = log_key.public_key()
    reader = Reader(open_database(read_engine))
    cache = LabelCache(reader, cache_size, cache_seconds)
    templates = Environment(
        loader=PackageLoader("cybersafe.registry", "templates"),
        autoescape=select_autoescape(["html"]),
        auto_reload=False,  # package files: no stat() of every template on every page
    )
    views = LabelViews(reader, cache, log_public, templates)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Everything loaded so far (modules, templates, the app) lives as long as the worker: keep it out of
        # the collector's full passes, which otherwise stall a worker for tens of milliseconds (bench/README.md).
        gc.freeze()
        yield
        await reader.close()
        shutdown()

    def shutdown() -> None:
        reader.close_now()
        read_engine.dispose()
        engine.dispose()

    app = FastAPI(
        lifespan=lifespan,
        title="cybersafe label registry",
        version="1",
        description="Public registry of signed IoT security labels with a transparency log (RFC 9162 hashing).",
        openapi_url=f"{API}/openapi.json",
        docs_url=f"{API}/docs",
        redoc_url=None,
    )
    app.add_middleware(BodyLimit, limit=max_body_bytes)
    app.state.engine = engine
    app.state.read_engine = read_engine
    app.state.shutdown = shutdown
    app.state.log_key = log_key
    app.state.reader = reader

    @app.exception_handler(RegistryError)
    async def _registry_error(_: Request, exc: RegistryError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=getattr(exc, "status_code", 400))

    def base(request: Request) -> str:
        return base_url or str(request.base_url).rstrip("/")

    # --- public JSON ---------------------------------------------------------------------------------

    @app.get(f"{API}/hello", tags=["meta"], summary="Trivial liveness endpoint")
    async def hello() -> Response:
        return Response(b'{"hello":"world"}', media_type="application/json")

    @app.get(
        f"{API}/labels/{{label_id}}",
        tags=["labels"],
        summary="Read a label: status, FCC registry fields, log events, signed envelope",
        responses={404: {"description": "no such label"}},
    )
    async def get_label(label_id: LabelId) -> Response:
        document = await views.label_json(label_id)
        if document is None:
            return JSONResponse({"detail": f"no label {label_id}"}, status_code=404)
        return Response(document.encode(), media_type="application/json")

    @app.get(f"{API}/labels", tags=["labels"], summary="Search labels by product, manufacturer, model, scheme")
    def search_labels(
        q: Annotated[str, Query(max_length=200)] = "",
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    ) -> dict[str, Any]:
        with read_engine.connect() as conn:
            results = service.search(conn, _clean_query(q), limit, offset, today())
        return {"query": q, "results": results}

    @app.get(f"{API}/products/{{product_id}}", tags=["products"], summary="A product and all its labels")
    def get_product(product_id: ProductId) -> dict[str, Any]:
        with read_engine.connect() as conn:
            if not service.product_exists(conn, product_id):
                raise NotFound(f"no product {product_id}")
            labels = service.product_labels(conn, product_id, today())
        return {"product_id": product_id, "labels": labels}

    @app.get(f"{API}/issuers", tags=["issuers"], summary="Registered label administrators and their key ids")
    def get_issuers() -> dict[str, Any]:
        with read_engine.connect() as conn:
            return {"issuers": service.list_issuers(conn)}

    # --- writes --------------------------------------------------------------------------------------

    @app.post(f"{API}/labels", tags=["labels"], status_code=201, summary="Publish a signed label (issuer)")
    def publish_label(envelope: EnvelopeIn, request: Request, who: RequireIssuer) -> JSONResponse:
        try:
            result = service.publish(engine, log_key, who, envelope.model_dump(), base(request))
        finally:
            cache.clear()
        return JSONResponse(result, status_code=201 if result["created"] else 200)

    @app.post(f"{API}/labels/{{label_id}}/revoke", tags=["labels"], summary="Revoke your label with a reason")
    def revoke_label(
        label_id: LabelId,
        body: RevokeIn,
        request: Request,
        who: RequireIssuer,
    ) -> dict[str, Any]:
        try:
            return service.revoke(engine, log_key, who, label_id, body.reason, base(request))
        finally:
            cache.clear()

    @app.put(
        f"{API}/products/{{product_id}}/support",
        tags=["products"],
        summary="Update support information (the product's manufacturer; extend only)",
    )
    def put_support(
        product_id: ProductId,
        body: SupportIn,
        request: Request,
        who: RequireManufacturer,
    ) -> dict[str, Any]:
        try:
            return service.update_support(
                engine,
                log_key,
                who,
                product_id,
                body.support_end,
                body.update_instructions,
                body.updates_automatic,
                base(request),
            )
        finally:
            cache.clear()

    @app.post(f"{API}/issuers", tags=["issuers"], status_code=201, summary="Register a label administrator (admin)")
    def post_issuer(body: IssuerIn, _: RequireAdmin) -> dict[str, Any]:
        return service.add_issuer(engine, body.name, body.contact, body.public_key_pem)

    @app.post(f"{API}/manufacturers", tags=["manufacturers"], status_code=201, summary="Register a manufacturer")
    def post_manufacturer(body: ManufacturerIn, _: RequireAdmin) -> dict[str, Any]:
        return service.add_manufacturer(engine, body.name, body.contact)

    @app.post(f"{API}/tokens", tags=["tokens"], status_code=201, summary="Create an API token (admin)")
    def post_token(body: TokenIn, _: RequireAdmin) -> dict[str, Any]:
        return service.create_token(
            engine, body.role, body.name, issuer_id=body.issuer_id, manufacturer_id=body.manufacturer_id
        )

    # --- transparency log ----------------------------------------------------------------------------

    public_pem = log_public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    key_doc = {"log": log.LOG_NAME, "key_id": log.raw_public_key_id(log_public), "public_key_pem": public_pem}

    @app.get(f"{API}/log/key", tags=["log"], summary="The log's Ed25519 public key")
    async def get_log_key() -> dict[str, Any]:
        return key_doc

    @app.get(f"{API}/log/sth", tags=["log"], summary="The latest signed tree head, or the one of a given size")
    async def get_sth(tree_size: Annotated[int | None, Query(ge=1, le=MAX_INDEX)] = None) -> dict[str, Any]:
        if tree_size is None:
            head = await reader.latest_head()
            if head is None:
                return {"log": log.LOG_NAME, "tree_size": 0, "root_hash": merkle.EMPTY_ROOT.hex()}
            return head.as_json()
        with read_engine.connect() as conn:
            found = log.tree_head(conn, tree_size)
        if found is None:
            raise NotFound(f"no tree head of size {tree_size}")
        return found.as_json()

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
            _check_size(conn, second)
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

    # --- pages ---------------------------------------------------------------------------------------

    def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(templates.get_template(name).render(**context), status_code=status)

    @app.get("/", include_in_schema=False)
    def home(q: Annotated[str, Query(max_length=200)] = "") -> HTMLResponse:
        results: list[dict[str, Any]] = []
        if q.strip():
            with read_engine.connect() as conn:
                results = service.search(conn, _clean_query(q), 50, 0, today())
        return page("home.html", q=q, results=results, searched=bool(q.strip()))

    @app.get("/l/{label_id}", include_in_schema=False)
    async def label_page(label_id: Annotated[str, Path(max_length=80)]) -> HTMLResponse:
        html = await views.label_page(label_id) if LABEL_ID_RE.fullmatch(label_id) else None
        if html is None:
            return page("not_found.html", status=404, label_id=label_id)
        return HTMLResponse(html)

    @app.get("/compare", include_in_schema=False)
    async def compare(labels: Annotated[str, Query(max_length=1000)] = "") -> HTMLResponse:
        ids = [i for i in dict.fromkeys(labels.replace(",", " ").split()) if LABEL_ID_RE.fullmatch(i)][:6]
        found = await views.documents(ids)
        docs = [found[i] for i in ids if i in found]
        missing = [i for i in ids if i not in found]
        return page("compare.html", docs=docs, missing=missing, requested=labels)

    return app


def _clean_query(q: str) -> str:
    try:
        return _clean(q)
    except ValueError as exc:
        raise Rejected(f"q: {exc}") from None


def _check_size(conn: Any, tree_size: int) -> None:
    if tree_size > log.log_size(conn):
        raise NotFound(f"the log has fewer than {tree_size} entries")


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` (several workers): migrations already ran in the parent."""
    return create_app(
        os.environ.get(db.ENV_VAR),
        migrate=os.environ.get("CYBERSAFE_REGISTRY_MIGRATE", "1") == "1",
        base_url=os.environ.get("CYBERSAFE_REGISTRY_BASE_URL", ""),
    )


def public_key_pem(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(select(LogKey.public_key_pem).where(LogKey.id == 1)).scalar_one())
