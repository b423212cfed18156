"""Service settings: where data lives, which database, how many workers, how many jobs a tenant may have at once,
how large a request may be, who may read the metrics, how the server logs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from nettwin.service.errors import ServiceError
from nettwin.service.logs import LOG_FORMATS

__all__ = ["Settings", "default_data_dir"]


def default_data_dir() -> Path:
    """``$NETTWIN_DATA_DIR``, else ``$XDG_DATA_HOME/nettwin``, else ``~/.local/share/nettwin``."""
    if os.environ.get("NETTWIN_DATA_DIR"):
        return Path(os.environ["NETTWIN_DATA_DIR"])
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "nettwin"


@dataclass(frozen=True)
class Settings:
    """How one service instance runs.

    ``database_url``: an SQLAlchemy URL; default an SQLite file ``service.db`` in ``data_dir`` (``NETTWIN_DATABASE_URL``
    overrides it). ``workers``: jobs run at once, each in its own process. ``tenant_jobs``: jobs one tenant may have
    queued or running at once; a submission beyond is refused (429). ``max_body_bytes``: larger request bodies are
    refused (413). ``metrics_token``: when set, ``GET /metrics`` answers only requests bearing it; when not, it
    answers anyone who reaches the server (its labels hold no tenant names or ids). ``log_format``: ``text`` or
    ``json`` (one JSON object per line), for ``nettwin serve``'s logs.
    """

    data_dir: Path
    database_url: str | None = None
    workers: int = 2
    tenant_jobs: int = 4
    max_body_bytes: int = 4_000_000
    metrics_token: str | None = None
    log_format: str = "text"

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ServiceError(f"workers must be at least 1, got {self.workers}")
        if self.tenant_jobs < 1:
            raise ServiceError(f"tenant_jobs must be at least 1, got {self.tenant_jobs}")
        if self.max_body_bytes < 1:
            raise ServiceError(f"max_body_bytes must be positive, got {self.max_body_bytes}")
        if self.log_format not in LOG_FORMATS:
            raise ServiceError(
                f"log format (NETTWIN_LOG_FORMAT): expected {' or '.join(LOG_FORMATS)}, got {self.log_format!r}"
            )

    @classmethod
    def from_env(
        cls, data_dir: Path | None = None, workers: int | None = None, log_format: str | None = None
    ) -> Settings:
        """Settings from arguments, then the environment (``NETTWIN_DATA_DIR``, ``NETTWIN_DATABASE_URL``,
        ``NETTWIN_WORKERS``, ``NETTWIN_TENANT_JOBS``, ``NETTWIN_METRICS_TOKEN``, ``NETTWIN_LOG_FORMAT``), then the
        defaults."""
        return cls(
            data_dir=Path(data_dir) if data_dir is not None else default_data_dir(),
            database_url=os.environ.get("NETTWIN_DATABASE_URL") or None,
            workers=workers if workers is not None else _whole("NETTWIN_WORKERS", cls.workers),
            tenant_jobs=_whole("NETTWIN_TENANT_JOBS", cls.tenant_jobs),
            metrics_token=os.environ.get("NETTWIN_METRICS_TOKEN") or None,
            log_format=log_format or os.environ.get("NETTWIN_LOG_FORMAT") or cls.log_format,
        )

    @property
    def url(self) -> str:
        """The database URL in use."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'service.db').resolve()}"


def _whole(variable: str, default: int) -> int:
    """The whole number in environment ``variable``, or ``default`` if it is unset or empty."""
    text = os.environ.get(variable)
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise ServiceError(f"{variable}: expected a whole number, got {text!r}") from None
