"""What the resource routes share: the database, paging, and the 404 that hides other tenants."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from nettwin.service.db import Database
from nettwin.service.errors import ApiError

__all__ = ["Db", "Limit", "Offset", "not_found", "tenant_page"]


def _database(request: Request) -> Database:
    return request.app.state.db


# Routes open their own sessions, so that a write is committed before the response leaves.
Db = Annotated[Database, Depends(_database)]
Limit = Annotated[int, Query(ge=1, le=1000, description="At most this many items.")]
Offset = Annotated[int, Query(ge=0, description="Skip this many items first.")]


def not_found(what: str, ident: str) -> ApiError:
    """The same answer for an id that does not exist and one of another tenant: nothing leaks across tenants."""
    return ApiError(404, f"{what} '{ident}' not found")


def tenant_page(session: Session, model: type, tenant: str, limit: int, offset: int, *order: Any) -> Sequence[Any]:
    """One page of a tenant's rows of ``model`` (which has a ``tenant`` column), in ``order``."""
    query = select(model).where(model.tenant == tenant).order_by(*order).limit(limit).offset(offset)  # type: ignore[attr-defined]
    return session.scalars(query).all()
