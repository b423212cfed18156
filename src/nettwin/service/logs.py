"""The service's logs: one line per request on the ``nettwin.service.access`` logger, as text or as JSON.

Each access record carries its fields as attributes (``request_id``, ``tenant``, ``key_id``, ``method``, ``route``,
``status``, ``duration_ms``); :class:`JsonFormatter` writes them, with the time, level, logger and message, as one
JSON object per line. A key itself is never logged, only its id.
"""

from __future__ import annotations

import copy
import json
import logging
from datetime import UTC, datetime
from typing import Any

__all__ = ["ACCESS_FIELDS", "LOG_FORMATS", "JsonFormatter", "access_log", "log_config"]

LOG_FORMATS = ("text", "json")

ACCESS_FIELDS = ("request_id", "tenant", "key_id", "method", "route", "status", "duration_ms")
"""The attributes of an access record, in the order a JSON line gives them."""

access_log = logging.getLogger("nettwin.service.access")


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON: time (UTC, ISO 8601), level, logger, message, the access fields it has, and
    the traceback if there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({field: getattr(record, field) for field in ACCESS_FIELDS if hasattr(record, field)})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def log_config(log_format: str) -> dict[str, Any]:
    """A :func:`logging.config.dictConfig` for the server: uvicorn's own configuration with the ``nettwin`` loggers
    added at INFO on standard error; in ``json``, uvicorn's lines are JSON too."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    if log_format == "json":
        config["formatters"] = {"nettwin": {"()": JsonFormatter}}
        for handler in config["handlers"].values():
            handler["formatter"] = "nettwin"
    else:
        config["formatters"]["nettwin"] = {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    config["handlers"]["nettwin"] = {
        "class": "logging.StreamHandler",
        "formatter": "nettwin",
        "stream": "ext://sys.stderr",
    }
    config["loggers"]["nettwin"] = {"handlers": ["nettwin"], "level": "INFO", "propagate": False}
    return config
