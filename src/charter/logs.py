"""Log lines on stderr, one per record: JSON objects (the default, for log shippers) or
plain text (for people). `charter serve` hands `logging_config()` to uvicorn, which
applies it in every worker process.

Access lines (logger `charter.access`, written by `api/request_id.py`) carry their
fields in `record.access`; the JSON formatter emits those fields as they are."""

from __future__ import annotations

import logging
import time
from typing import Any

import msgspec

LOG_FORMATS = ("json", "text")

_encode = msgspec.json.Encoder().encode


_second: list[Any] = [-1, ""]  # the last whole second formatted, and its text


def _utc(created: float) -> str:
    """2026-01-31T12:00:00.123Z. strftime costs microseconds on every access line, so
    each second is formatted once."""
    seconds = int(created)
    if seconds != _second[0]:
        _second[:] = [seconds, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))]
    return f"{_second[1]}.{int((created - seconds) * 1000):03d}Z"


class JsonFormatter(logging.Formatter):
    """{"time", "level", "logger", then the access fields or "message" (+ "request_id",
    "exception" when the record has them)}."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": _utc(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        access = getattr(record, "access", None)
        if access is not None:
            out.update(access)
        else:
            out["message"] = record.getMessage()
            request_id = getattr(record, "request_id", None)
            if request_id is not None:
                out["request_id"] = request_id
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return _encode(out).decode()


class TextFormatter(logging.Formatter):
    """`time level logger message [request <id>]`, then any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_utc(record.created)} {record.levelname} {record.name} {record.getMessage()}"
        access = getattr(record, "access", None)
        request_id = access["request_id"] if access else getattr(record, "request_id", None)
        if request_id is not None:
            line += f" [request {request_id}]"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def logging_config(level: str, log_format: str) -> dict[str, Any]:
    """A logging.config.dictConfig() dict: everything to stderr in `log_format`.

    Charter's and uvicorn's loggers get the handler themselves (propagate off), so the
    root logger may be reconfigured by a library without losing them; uvicorn's own
    access log stays off (`charter.access` replaces it)."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}")
    formatter = JsonFormatter if log_format == "json" else TextFormatter
    level = level.upper()
    ours = {"handlers": ["stderr"], "level": level, "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"charter": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "charter",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
        "loggers": {
            "charter": ours,
            "uvicorn": ours,
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }
