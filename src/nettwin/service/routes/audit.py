"""``/audit``: an admin reads its tenant's audit log."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from nettwin.service.auth import Admin
from nettwin.service.models import AuditEntry
from nettwin.service.routes.common import Db, Limit, Offset
from nettwin.service.schemas import AuditInfo

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=list[AuditInfo])
def audit_log(principal: Admin, db: Db, limit: Limit = 100, offset: Offset = 0) -> list[AuditInfo]:
    """The tenant's state-changing requests, newest first: which key, method, path and status, and when."""
    with db.session() as session:
        rows = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.tenant == principal.tenant)
            .order_by(AuditEntry.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return [AuditInfo.model_validate(row) for row in rows]
