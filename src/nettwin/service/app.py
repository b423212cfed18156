"""The application factory: database, authenticator, job runner, routes, error handlers and middleware."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import nettwin
from nettwin.service.auth import Authenticator
from nettwin.service.db import Database
from nettwin.service.errors import install_handlers
from nettwin.service.metrics import Metrics, metrics_endpoint
from nettwin.service.middleware import BodyLimit, Observe, audit
from nettwin.service.routes import audit as audit_routes
from nettwin.service.routes import health, jobs, keys, scenarios
from nettwin.service.runner import JobRunner
from nettwin.service.settings import Settings

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service for ``settings`` (default: :meth:`Settings.from_env`).

    The database schema is created here; the job runner starts with the application (and first recovers the jobs a
    stopped server left running) and stops with it.
    """
    settings = settings or Settings.from_env()
    db = Database(settings)
    metrics = Metrics(db)
    runner = JobRunner(db, settings.workers, on_finished=metrics.job_finished)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        runner.start()
        try:
            yield
        finally:
            runner.stop()
            db.close()

    app = FastAPI(
        title="nettwin",
        version=nettwin.__version__,
        description="Network digital twin as a service: scenarios and simulation jobs, per tenant, with API keys.",
        lifespan=lifespan,
        # One schema per model, the same for requests and responses: the scenario schema is the library's.
        separate_input_output_schemas=False,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.runner = runner
    app.state.metrics = metrics
    app.state.authenticator = Authenticator()
    install_handlers(app)
    for module in (health, keys, scenarios, jobs, audit_routes):
        app.include_router(module.router)
    # Operations, not the API: out of the OpenAPI document, guarded by its own token (see Settings.metrics_token).
    app.add_api_route("/metrics", metrics_endpoint, methods=["GET"], include_in_schema=False)
    app.middleware("http")(audit)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(Observe)  # outermost: it sees the requests the body limit refuses too
    return app
