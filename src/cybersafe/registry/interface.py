"""Registry value types and errors. Routes translate each error to one HTTP status with a one-line detail."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from cybersafe.errors import RegistryError


class Role(StrEnum):
    ADMIN = "admin"
    ISSUER = "issuer"
    MANUFACTURER = "manufacturer"


class LabelStatus(StrEnum):
    """What a label page says, computed from the transparency log (``derive.shown_status``)."""

    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"
    ISSUER_REVOKED = "issuer-revoked"  # the label administrator itself was revoked
    INTEGRITY_ERROR = "integrity-error"  # the registry's stored copy disagrees with its own log


class IssuerStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"  # may not publish; may still revoke its own labels (withdrawing one is never held up); its labels stand
    REVOKED = "revoked"  # final: its labels read "issuer revoked" from the effective date


STATUS_TEXT: dict[str, str] = {
    "active": "Valid: this label is current.",
    "expired": "Expired: the label's validity period has ended.",
    "revoked": "Revoked: the label administrator withdrew this label. Do not rely on it.",
    "superseded": "Replaced: a newer label for this product and scheme from the same label administrator "
    "takes its place.",
    "issuer-revoked": "Issuer revoked: the label administrator that issued this label lost its authority. "
    "Do not rely on it.",
    "integrity-error": "Integrity error: the registry's stored copy of this label differs from its own "
    "transparency log. Do not rely on this page.",
}

STATUS_WORD: dict[str, str] = {
    "active": "Valid",
    "expired": "Expired",
    "revoked": "Revoked",
    "superseded": "Replaced",
    "issuer-revoked": "Issuer revoked",
    "integrity-error": "Integrity error",
}


@dataclass(frozen=True)
class Principal:
    """Who is calling: a token's role and the issuer or manufacturer it belongs to."""

    role: Role
    token_id: int
    issuer_id: int | None = None
    manufacturer_id: int | None = None


class NotFound(RegistryError):
    status_code = 404


class Forbidden(RegistryError):
    status_code = 403


class Conflict(RegistryError):
    status_code = 409


class Rejected(RegistryError):
    """The request is well formed but refused (bad signature, shortened support end, bad record)."""

    status_code = 422


class TooManyRequests(RegistryError):
    """A rate limit was hit; ``retry_after`` seconds until the next attempt may succeed."""

    status_code = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(RegistryError):
    """The database cannot be reached; the request may be retried."""

    status_code = 503


_DEFAULT_PORTS = {"http": 80, "https": 443}


def public_base_url(url: str) -> str:
    """The registry's public URL as a browser writes its origin (``location.origin``): scheme and host in lower
    case, no default port, no trailing slash; so the links a label must carry (``<base>/l/<id>``) are the ones
    the page's own check expects. Raises ValueError (one line) for what no origin can be: another scheme than
    http(s), no host, a non-ASCII host (give its xn-- form), user info, a path (the registry serves ``/l/`` at
    the root), a query or a fragment."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{url!r} is not a URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"{url!r}: the scheme must be http or https")
    host = (parts.hostname or "").lower()
    if not host:
        raise ValueError(f"{url!r}: no host")
    if not host.isascii():
        raise ValueError(f"{url!r}: write the host in its ASCII (xn--) form, as browsers show it in an origin")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{url!r}: no user name or password in the registry's URL")
    if parts.path.strip("/") or parts.query or parts.fragment or url.rstrip().endswith(("?", "#")):
        raise ValueError(f"{url!r}: only scheme, host and port (the registry serves its pages at the root)")
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" + (f":{port}" if port is not None and port != _DEFAULT_PORTS[scheme] else "")
