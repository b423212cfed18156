"""``/audit``: an admin reads its tenant's audit log."""

from __future__ import annotations

from fastapi import APIRouter

from nettwin.service.auth import Admin
from nettwin.service.models import AuditEntry
from nettwin.service.routes.common import Db, Limit, Offset, tenant_page
from nettwin.service.schemas import AuditInfo

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=list[AuditInfo])
def audit_log(principal: Admin, db: Db, limit: Limit = 100, offset: Offset = 0) -> list[AuditInfo]:
    """The tenant's state-changing requests, newest first: which key, method, path and status, and when."""
    with db.session() as session:
        rows = tenant_page(session, AuditEntry, principal.tenant, limit, offset, AuditEntry.id.desc())
        return [AuditInfo.model_validate(row) for row in rows]
