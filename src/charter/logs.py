"""Log lines on stderr, one per record: JSON objects (the default, for log shippers) or
plain text (for people). `charter serve` hands `logging_config()` to uvicorn, which
applies it in every worker process.

Access lines (logger `charter.access`, written by `http/request_id.py`) carry their
fields in `record.access`; the JSON formatter emits those fields as they are.

Every field comes from outside at some point (a path, an email), so no line can be
forged: the text format escapes control characters and Unicode line breaks (`\n`,
`\x1b`, `\u2028`), the JSON format escapes them as JSON does, U+0085, U+2028 and
U+2029 included (JSON allows them raw, but line-splitting tools break on them). Only a
traceback, which the formatter itself appends, spans several lines."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import msgspec

LOG_FORMATS = ("json", "text")

_encode = msgspec.json.Encoder().encode


# C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_JSON_BREAKS = re.compile("[\x85\u2028\u2029]")


def escape_controls(text: str) -> str:
    """`text` with every control character or line break written as an escape."""
    if text.isprintable():  # the common case, without a regex
        return text
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def _json_line(text: str) -> str:
    if text.isascii():
        return text
    return _JSON_BREAKS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


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
        return _json_line(_encode(out).decode())


class TextFormatter(logging.Formatter):
    """`time level logger message [request <id>]`, then any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        message = escape_controls(record.getMessage())
        line = f"{_utc(record.created)} {record.levelname} {record.name} {message}"
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
