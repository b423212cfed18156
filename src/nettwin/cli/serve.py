"""``nettwin serve``: run the HTTP service; ``nettwin serve create-key``: make an API key (the first admin's too)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["app"]

app = typer.Typer(
    help="Run nettwin as an HTTP service (API keys, tenants, scenarios, simulation jobs); see docs/service.md.",
    invoke_without_command=True,
)

SHUTDOWN_GRACE_SECONDS = 5
"""How long a stopping server waits for the requests in progress before it closes them."""

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Where the service keeps its database and files; default $NETTWIN_DATA_DIR or ~/.local/share/nettwin.",
    ),
]


class LogFormat(StrEnum):
    text = "text"
    json = "json"


class Role(StrEnum):
    viewer = "viewer"
    member = "member"
    admin = "admin"


def _check_installed() -> None:
    """The service's packages are an extra: say how to install them rather than fail on an import."""
    import importlib.util

    from nettwin.errors import NettwinError

    missing = [
        name for name in ("fastapi", "uvicorn", "sqlalchemy", "argon2") if importlib.util.find_spec(name) is None
    ]
    if missing:
        raise NettwinError(f"nettwin serve needs {', '.join(missing)}: pip install 'nettwin[service]'")


@app.callback()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8000,
    data_dir: DataDir = None,
    log_format: Annotated[
        LogFormat | None,
        typer.Option(help="text, or json (one object per line); default $NETTWIN_LOG_FORMAT, else text."),
    ] = None,
) -> None:
    """Serve the API (OpenAPI document at /docs and /openapi.json) until Ctrl-C; jobs left queued or running then
    continue at the next start."""
    if ctx.invoked_subcommand is not None:
        return
    _check_installed()
    import uvicorn

    from nettwin.service import Settings, create_app
    from nettwin.service.logs import log_config

    settings = Settings.from_env(data_dir, log_format=log_format.value if log_format else None)
    app = create_app(settings)
    # A job's event stream lasts as long as the job: on a stop, requests still open after this long are closed.
    # The service's own access log (with request ids, tenants and route templates) replaces uvicorn's.
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=log_config(settings.log_format),
        access_log=False,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
    )


@app.command("create-key")
def create_key(
    tenant: Annotated[str, typer.Option(help="Tenant the key belongs to; created if new.")],
    role: Annotated[Role, typer.Option(help="viewer (reads), member (also runs jobs), admin (also manages keys).")] = (
        Role.admin
    ),
    name: Annotated[str, typer.Option(help="What the key is for (shown in key listings).")] = "",
    data_dir: DataDir = None,
) -> None:
    """Create an API key and print it, this once (only its hash is kept). Works with the server stopped or running."""
    _check_installed()
    from nettwin.cli.output import err_console
    from nettwin.service.auth import create_key as new_key
    from nettwin.service.db import Database
    from nettwin.service.settings import Settings

    settings = Settings.from_env(data_dir)
    db = Database(settings)
    try:
        with db.session() as session:
            row, key = new_key(session, tenant, role.value, name)
    finally:
        db.close()
    err_console.print(f"{role.value} key {row.id} for tenant '{tenant}' (shown this once):")
    print(key)
