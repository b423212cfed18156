"""The database: an SQLAlchemy engine for the configured URL and sessions on it; the schema is created at start."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from nettwin.service.errors import ServiceError
from nettwin.service.models import Base
from nettwin.service.settings import Settings

__all__ = ["Database"]


class Database:
    """Engine and session factory for ``settings.url``; creates the data directory and the tables."""

    def __init__(self, settings: Settings) -> None:
        try:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise ServiceError(f"data directory {settings.data_dir}: {err.strerror or err}") from err
        url = settings.url
        options: dict[str, Any] = {}
        if url.startswith("sqlite"):
            # Request handlers and job runner threads share the engine; SQLite waits for a writer this long.
            options["connect_args"] = {"check_same_thread": False, "timeout": 30}
        try:
            self.engine = create_engine(url, **options)
        except (ArgumentError, ImportError) as err:
            raise ServiceError(f"database URL {url!r}: {err}") from err
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        try:
            Base.metadata.create_all(self.engine)
        except OperationalError as err:
            raise ServiceError(f"database {url!r}: {err.orig}") from err

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed at the end of the block, rolled back if it fails."""
        with self.sessions.begin() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(connection: Any, _: Any) -> None:
    # Readers do not wait for the runner's writes (write-ahead log); foreign keys are checked as on other databases.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
