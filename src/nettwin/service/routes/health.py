"""``/health``: the one route that needs no key."""

from __future__ import annotations

from fastapi import APIRouter

from nettwin.service.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
def health() -> Health:
    """Whether the service answers."""
    import nettwin

    return Health(version=nettwin.__version__)
