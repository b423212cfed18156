"""Errors the service answers with: JSON ``{"detail": "<message>"}``, one line per problem, never a traceback."""

from __future__ import annotations

import logging
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from nettwin.errors import NettwinError
from nettwin.scenario.io import format_validation_error

__all__ = ["ServiceError", "ApiError", "install_handlers", "error_response"]

log = logging.getLogger("nettwin.service")


class ServiceError(NettwinError):
    """The service is misconfigured or cannot use its data directory or database."""


class ApiError(Exception):
    """A request that cannot be served: its HTTP status and the message the client sees."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The JSON body of every error."""
    return JSONResponse({"detail": message}, status_code=status, headers=headers)


class _Problems:
    """The error list of a request validation, shaped as the library's formatter reads a ``ValidationError``."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        # The first item of a location says where the value came from (body, query, path): not part of the field.
        self._errors = [{**e, "loc": tuple(e["loc"][1:]) or tuple(e["loc"])} for e in errors]

    def errors(self) -> list[dict[str, Any]]:
        return self._errors


def validation_message(errors: list[dict[str, Any]]) -> str:
    """One line per problem, ``<field>: <what is wrong>``, as the library words scenario file errors."""
    return format_validation_error(cast(Any, _Problems(errors)))


def install_handlers(app: FastAPI) -> None:
    """Turn every failure into a JSON error with the right status; an unexpected one is logged, not shown."""

    @app.exception_handler(ApiError)
    async def _api(_: Request, err: ApiError) -> JSONResponse:
        return error_response(err.status, err.message, err.headers)

    @app.exception_handler(HTTPException)
    async def _http(_: Request, err: HTTPException) -> JSONResponse:
        return error_response(err.status_code, str(err.detail), cast(Any, err.headers))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, err: RequestValidationError) -> JSONResponse:
        return error_response(422, validation_message(list(err.errors())))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, err: Exception) -> JSONResponse:
        log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=err)
        return error_response(500, "internal error; the server log has the details")
