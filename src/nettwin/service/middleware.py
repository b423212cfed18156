"""Request-level rules: a size limit on request bodies (413), an audit log row per state-changing request, and
for every request a request id, its metrics and a line in the access log."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nettwin.service.errors import error_response
from nettwin.service.logs import access_log
from nettwin.service.models import AuditEntry

__all__ = ["REQUEST_ID", "BodyLimit", "Observe", "audit"]

REQUEST_ID = "X-Request-ID"
"""The header that names a request: taken from the client if it sends a usable one, else made; always answered."""

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

_CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, whether they declare their length or not: the body is
    read up to the limit before the application sees it."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.limit:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(413, f"the request body is larger than {self.limit:,} bytes")
        await response(scope, receive, send)


async def audit(request: Request, call_next: Any) -> Any:
    """After a state-changing request made with a valid key, record who did what, with which outcome."""
    response = await call_next(request)
    principal = getattr(request.state, "principal", None)
    if request.method in _CHANGES and principal is not None:
        entry = AuditEntry(
            tenant=principal.tenant,
            key_id=principal.key_id,
            method=request.method,
            path=request.url.path[:500],
            status=response.status_code,
        )
        await run_in_threadpool(_write, request.app.state.db, entry)
    return response


def _write(db: Any, entry: AuditEntry) -> None:
    with db.session() as session:
        session.add(entry)


class Observe:
    """For every request, refused ones included: a request id (:data:`REQUEST_ID`), a count and a duration in the
    metrics, and one line in the access log.

    The route is the template (``/jobs/{job_id}``), never the path, so no id reaches a label; a request no route
    took (its path matches none, or its body was refused as too large before routing) counts as ``unmatched``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        sent = dict(scope["headers"]).get(REQUEST_ID.lower().encode(), b"").decode("latin-1")
        request_id = sent if _REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex
        status = 500  # what the server answers if the application fails before it starts its response

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != REQUEST_ID.lower().encode()]
                message = {**message, "headers": [*headers, (REQUEST_ID.encode(), request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        finally:
            seconds = time.perf_counter() - start
            # The router leaves the route it chose in the scope; authentication leaves the principal in its state.
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            principal = scope.get("state", {}).get("principal")
            scope["app"].state.metrics.request(scope["method"], route, status, seconds)
            fields = {
                "request_id": request_id,
                "tenant": principal.tenant if principal else None,
                "key_id": principal.key_id if principal else None,
                "method": scope["method"],
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 3),
            }
            access_log.info(
                "%s %s %d %.1f ms request=%s tenant=%s key=%s",
                scope["method"],
                route,
                status,
                seconds * 1000,
                request_id,
                fields["tenant"] or "-",
                fields["key_id"] or "-",
                extra=fields,
            )
