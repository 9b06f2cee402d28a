"""HTTP hardening shared by every route: body size, strict JSON, security headers, rate limits.

- Bodies over the limit are refused with 413 before they are parsed, with or without Content-Length.
- JSON bodies are parsed strictly first: ``NaN``, ``Infinity`` and numbers too large for a float are not
  JSON (RFC 8259 section 6) and are refused with 400, as is nesting deeper than Python can parse.
- Every response carries a Content-Security-Policy (scripts, styles and fetches from this origin only; no
  framing), ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` and, when the registry is
  served over TLS (or its public URL is https), ``Strict-Transport-Security``.
- ``RateLimiter``: token buckets per API token and per client address for writes, and per address for
  failed authentication; an empty bucket gives 429 with ``Retry-After``. Buckets live in each worker
  process, so N workers allow up to N times the configured rate in total.
"""

from __future__ import annotations

import json
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from cybersafe.errors import InputError
from cybersafe.registry.interface import TooManyRequests

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
_WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class _NotJson(ValueError):
    pass


def _refuse_constant(name: str) -> float:
    raise _NotJson(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotJson(f"{text[:40]} is too large for a number")
    return value


def strict_json_problem(body: bytes) -> str | None:
    """Why a request body is not strict JSON (NaN, Infinity, overflowing numbers, runaway nesting, a lone
    surrogate in a string), or None.
    Bodies that are not JSON at all are left to the route, which answers 422 naming the position."""
    try:
        value = json.loads(body, parse_constant=_refuse_constant, parse_float=_finite)
    except _NotJson as exc:
        return f"request body: {exc}"
    except RecursionError:
        return "request body: nested too deeply"
    except (ValueError, UnicodeDecodeError):
        return None
    if b"\\u" in body:  # an escaped lone surrogate parses, but is no Unicode text (RFC 8259 section 8.2)
        try:
            json.dumps(value, ensure_ascii=False).encode()
        except UnicodeEncodeError:
            return "request body: a string holds a lone surrogate (\\ud800-\\udfff), which is not text"
        except RecursionError:
            return "request body: nested too deeply"
    return None


class Hardening:
    """The ASGI middleware that applies the body limit, strict JSON and the security headers."""

    def __init__(self, app: ASGIApp, limit: int, *, hsts: bool = False) -> None:
        self.app = app
        self.limit = limit
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = self._with_headers(scope, send)
        if self._declared_too_large(scope):
            await _answer(send, 413, f"request body larger than {self.limit} bytes")
            return
        if scope.get("method") not in _WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        # Read the body first, within the limit, then replay it. FastAPI turns any exception raised while
        # it reads the body into a 400, so neither check can happen later.
        buffered, body = await self._read(receive)
        if buffered is None:
            await _answer(send, 413, f"request body larger than {self.limit} bytes")
            return
        problem = strict_json_problem(body) if body else None
        if problem:
            await _answer(send, 400, problem)
            return

        async def replay() -> Message:
            if buffered:
                return buffered.pop(0)
            return await receive()

        await self.app(scope, replay, send)

    def _declared_too_large(self, scope: Scope) -> bool:
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    return int(value) > self.limit
                except ValueError:
                    return True
        return False

    async def _read(self, receive: Receive) -> tuple[list[Message] | None, bytes]:
        buffered: list[Message] = []
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.limit:
                return None, b""
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return buffered, b"".join(chunks)

    def _with_headers(self, scope: Scope, send: Send) -> Send:
        hsts = self.hsts or scope.get("scheme") == "https"

        async def sender(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra = [h for h in HEADERS if h[0] not in present]
                if b"content-security-policy" not in present:
                    extra.append((b"content-security-policy", CSP.encode()))
                if hsts:
                    extra.append(HSTS)
                message["headers"] = headers + extra
            await send(message)

        return sender


async def _answer(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# --- rate limits --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """``count`` events per ``seconds``, allowed in a burst of ``count``."""

    count: int
    seconds: float

    @classmethod
    def parse(cls, text: str, what: str = "rate") -> Rate:
        """``60/min``, ``10/s``, ``1000/hour``; ``0/min`` turns the limit off."""
        units = {"s": 1.0, "sec": 1.0, "second": 1.0, "min": 60.0, "minute": 60.0, "h": 3600.0, "hour": 3600.0}
        count, _, unit = text.strip().partition("/")
        if not count.isdigit() or unit not in units:
            raise InputError(f"{text!r} is not a rate like 60/min, 10/s or 1000/hour", field=what)
        return cls(int(count), units[unit])

    def __str__(self) -> str:
        return f"{self.count}/{int(self.seconds)}s"


@dataclass(frozen=True)
class RateLimits:
    writes_per_token: Rate = Rate(120, 60)
    writes_per_address: Rate = Rate(240, 60)
    failed_auth_per_address: Rate = Rate(10, 60)


class RateLimiter:
    """Token buckets keyed by (what, who), at most ``max_keys`` of them (the least recently used go)."""

    def __init__(self, limits: RateLimits, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic):
        self.limits = limits
        self.max_keys = max_keys
        self.clock = clock
        self.buckets: OrderedDict[tuple[str, str], tuple[float, float]] = OrderedDict()

    def _level(self, key: tuple[str, str], rate: Rate, now: float) -> float:
        tokens, then = self.buckets.get(key, (float(rate.count), now))
        return min(float(rate.count), tokens + (now - then) * rate.count / rate.seconds)

    def check(self, what: str, who: str, rate: Rate) -> None:
        """Raise TooManyRequests when the bucket is empty, without taking from it."""
        if rate.count <= 0:
            return
        now = self.clock()
        if self._level((what, who), rate, now) < 1.0:
            raise TooManyRequests(f"too many requests ({what}): at most {rate}", self._retry_after(rate))

    def take(self, what: str, who: str, rate: Rate) -> None:
        """Take one token; raise TooManyRequests when there is none."""
        if rate.count <= 0:
            return
        key = (what, who)
        now = self.clock()
        level = self._level(key, rate, now)
        if level < 1.0:
            raise TooManyRequests(f"too many requests ({what}): at most {rate}", self._retry_after(rate))
        self.buckets[key] = (level - 1.0, now)
        self.buckets.move_to_end(key)
        if len(self.buckets) > self.max_keys:
            self.buckets.popitem(last=False)

    @staticmethod
    def _retry_after(rate: Rate) -> int:
        return max(1, math.ceil(rate.seconds / rate.count))
