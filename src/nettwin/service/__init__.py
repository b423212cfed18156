"""``nettwin serve``: the library as an authenticated, multi-tenant HTTP service (FastAPI).

Scenarios are stored content-hashed per tenant; jobs run in local worker processes from a queue kept in the
database, so a server that stops, however it stops, loses no accepted job. See ``docs/service.md``.
"""

from nettwin.service.app import create_app
from nettwin.service.settings import Settings

__all__ = ["Settings", "create_app"]
