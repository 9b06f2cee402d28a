"""API tokens: stored as SHA-256 only; a token names a role and the issuer or manufacturer it acts for."""

from __future__ import annotations

import hashlib

from sqlalchemy import Connection, select

from cybersafe.registry.interface import Principal, Role
from cybersafe.registry.models import ApiToken

TOKEN_PREFIX = "cst_"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def authenticate(conn: Connection, token: str) -> Principal | None:
    row = conn.execute(
        select(ApiToken.id, ApiToken.role, ApiToken.issuer_id, ApiToken.manufacturer_id, ApiToken.revoked).where(
            ApiToken.token_sha256 == token_digest(token)
        )
    ).first()
    if row is None or row.revoked:
        return None
    return Principal(Role(row.role), row.id, row.issuer_id, row.manufacturer_id)
