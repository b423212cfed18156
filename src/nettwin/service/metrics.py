"""Prometheus metrics: requests by route template and status, their latency, jobs by status, job durations.

Each application has a registry of its own, so that several in one process (tests) do not share counts. Labels hold
only route templates, methods, statuses and job statuses, never ids or tenant names: their number is bounded, and a
scrape tells nothing about any one tenant.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response

from nettwin.service.db import Database
from nettwin.service.errors import ApiError
from nettwin.service.models import Job

__all__ = ["JOB_STATUSES", "Metrics", "metrics_endpoint"]

JOB_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")

_JOB_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400)


class _JobsByStatus(Collector):
    """``nettwin_jobs``: the jobs of all tenants by status, counted in the database at each scrape."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._db.session() as session:
            counts = {status: n for status, n in session.execute(select(Job.status, func.count()).group_by(Job.status))}
        family = GaugeMetricFamily("nettwin_jobs", "Jobs of all tenants by status.", labels=["status"])
        for status in JOB_STATUSES:
            family.add_metric([status], counts.get(status, 0))
        yield family


class Metrics:
    """The metrics of one application."""

    def __init__(self, db: Database) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "nettwin_http_requests",
            "HTTP requests by method, route template and response status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "nettwin_http_request_duration_seconds",
            "Time from a request's arrival to the end of its response, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.job_duration = Histogram(
            "nettwin_job_duration_seconds",
            "Time jobs ran in their worker, from its start to the job's end, by final status.",
            ["status"],
            buckets=_JOB_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_JobsByStatus(db))

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request."""
        labels = (method, route, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    def job_finished(self, status: str, seconds: float) -> None:
        """Record a job that ended with ``status`` after ``seconds`` in its worker."""
        self.job_duration.labels(status).observe(seconds)


def metrics_endpoint(request: Request) -> Response:
    """``GET /metrics`` in Prometheus's text format; with ``metrics_token`` set, only for that bearer token."""
    token = request.app.state.settings.metrics_token
    if token is not None:
        sent = request.headers.get("authorization", "")
        if not secrets.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            raise ApiError(
                401,
                "the metrics token is required: send 'Authorization: Bearer <token>'",
                {"WWW-Authenticate": "Bearer"},
            )
    body = generate_latest(request.app.state.metrics.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
