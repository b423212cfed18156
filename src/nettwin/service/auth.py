"""API keys and roles: keys are random, shown once, stored as argon2 hashes; every route but health needs one.

A key reads ``ntk_<id>_<secret>``: the id finds its row, the secret is checked against the row's hash. Roles are
ordered: a viewer reads, a member also submits and cancels work, an admin also manages its tenant's keys.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from typing import Annotated, NamedTuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from nettwin.service.errors import ApiError, ServiceError
from nettwin.service.models import ApiKey, Tenant

__all__ = ["ROLES", "Principal", "Authenticator", "create_key", "require", "TENANT_NAME", "Viewer", "Member", "Admin"]

ROLES = ("viewer", "member", "admin")
"""Roles from least to most allowed; each may do all that the ones before it may."""

TENANT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
"""A tenant's name: letters, digits, '.', '_', '-', at most 64 characters, starting with a letter or digit."""

_KEY = re.compile(r"ntk_([0-9a-f]{16})_([A-Za-z0-9_-]{20,100})")
_hasher = PasswordHasher()


class Principal(NamedTuple):
    """Who makes a request: the key's id, its tenant and its role."""

    key_id: str
    tenant: str
    role: str


def create_key(session: Session, tenant: str, role: str, name: str = "") -> tuple[ApiKey, str]:
    """Create a key for ``tenant`` (created too if new) with ``role``: its row and the key itself, which only the
    caller ever sees."""
    if not TENANT_NAME.fullmatch(tenant):
        raise ServiceError(f"tenant: expected 1 to 64 letters, digits, '.', '_' or '-', got {tenant!r}")
    if role not in ROLES:
        raise ServiceError(f"role: expected one of {', '.join(ROLES)}, got {role!r}")
    if session.get(Tenant, tenant) is None:
        session.add(Tenant(name=tenant))
        session.flush()
    key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    row = ApiKey(id=key_id, tenant=tenant, role=role, name=name, secret_hash=_hasher.hash(secret))
    session.add(row)
    session.flush()
    return row, f"ntk_{key_id}_{secret}"


class Authenticator:
    """Checks keys against the database. argon2 is slow on purpose, so a secret once verified is remembered (as a
    SHA-256 digest, in this process only); revocation is read from the database on every request."""

    def __init__(self) -> None:
        self._verified: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def check(self, session: Session, key: str) -> Principal:
        match = _KEY.fullmatch(key)
        row = session.get(ApiKey, match.group(1)) if match else None
        if match is None or row is None:
            raise _unauthorized("invalid API key")
        if row.revoked_at is not None:
            raise _unauthorized("this API key was revoked")
        digest = hashlib.sha256(match.group(2).encode()).digest()
        with self._lock:
            known = self._verified.get(row.id)
        if known is None or not secrets.compare_digest(known, digest):
            try:
                _hasher.verify(row.secret_hash, match.group(2))
            except (VerificationError, InvalidHashError):
                raise _unauthorized("invalid API key") from None
            with self._lock:
                self._verified[row.id] = digest
        return Principal(row.id, row.tenant, row.role)


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, message, {"WWW-Authenticate": "Bearer"})


_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer ntk_...`")


def _principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None:
        raise _unauthorized("an API key is required: send 'Authorization: Bearer <key>'")
    state = request.app.state
    with state.db.session() as session:
        principal = state.authenticator.check(session, credentials.credentials)
    # The audit middleware reads who made a state-changing request from here.
    request.state.principal = principal
    return principal


def require(role: str):  # noqa: ANN201 (a FastAPI dependency)
    """A dependency giving the request's :class:`Principal`, refusing keys whose role ranks below ``role`` (403)."""
    rank = ROLES.index(role)

    def dependency(principal: Annotated[Principal, Depends(_principal)]) -> Principal:
        if ROLES.index(principal.role) < rank:
            raise ApiError(403, f"this needs the {role} role; the key has the {principal.role} role")
        return principal

    return dependency


Viewer = Annotated[Principal, Depends(require("viewer"))]
Member = Annotated[Principal, Depends(require("member"))]
Admin = Annotated[Principal, Depends(require("admin"))]
