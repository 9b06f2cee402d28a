"""Registry value types and errors. Routes translate each error to one HTTP status with a one-line detail."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cybersafe.errors import RegistryError


class Role(StrEnum):
    ADMIN = "admin"
    ISSUER = "issuer"
    MANUFACTURER = "manufacturer"


class LabelStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"


STATUS_TEXT: dict[str, str] = {
    "active": "Valid: this label is current.",
    "expired": "Expired: the label's validity period has ended.",
    "revoked": "Revoked: the label administrator withdrew this label. Do not rely on it.",
    "superseded": "Replaced: a newer label for this product and scheme takes its place.",
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


class Unavailable(RegistryError):
    """The database cannot be reached; the request may be retried."""

    status_code = 503
