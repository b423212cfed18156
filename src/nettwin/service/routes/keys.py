"""``/keys``: an admin creates, lists and revokes its tenant's API keys."""

from __future__ import annotations

from fastapi import APIRouter

from nettwin.service.auth import Admin, create_key
from nettwin.service.errors import ApiError
from nettwin.service.models import ApiKey, utcnow
from nettwin.service.routes.common import Db, Limit, Offset, not_found, tenant_page
from nettwin.service.schemas import KeyInfo, KeyRequest, NewKey

router = APIRouter(prefix="/keys", tags=["keys"])


@router.post("", response_model=NewKey, status_code=201)
def new_key(request: KeyRequest, principal: Admin, db: Db) -> NewKey:
    """Create a key for the caller's tenant. The response holds the key itself, this once."""
    with db.session() as session:
        row, key = create_key(session, principal.tenant, request.role, request.name)
    return NewKey(**KeyInfo.model_validate(row).model_dump(), key=key)


@router.get("", response_model=list[KeyInfo])
def list_keys(principal: Admin, db: Db, limit: Limit = 100, offset: Offset = 0) -> list[KeyInfo]:
    """The tenant's keys, oldest first, revoked ones included (never their secrets)."""
    with db.session() as session:
        rows = tenant_page(session, ApiKey, principal.tenant, limit, offset, ApiKey.created_at, ApiKey.id)
        return [KeyInfo.model_validate(row) for row in rows]


@router.delete("/{key_id}", response_model=KeyInfo)
def revoke_key(key_id: str, principal: Admin, db: Db) -> KeyInfo:
    """Revoke a key: requests with it are refused from now on (401)."""
    with db.session() as session:
        row = session.get(ApiKey, key_id)
        if row is None or row.tenant != principal.tenant:
            raise not_found("key", key_id)
        if row.revoked_at is not None:
            raise ApiError(409, f"key '{key_id}' is already revoked")
        row.revoked_at = utcnow()
    return KeyInfo.model_validate(row)
