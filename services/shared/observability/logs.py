"""Logging setup: plain text for a terminal, or IOTCLOUD_LOG_FORMAT=json for one JSON object per line
(time, level, service, logger, message; inside a request also request_id, route, tenant; access lines add
method, status and duration_ms). Nothing here logs a header, a body or a query string, so a token, a
password or a secret has no way into a line (tests scan the logs for them)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import orjson

from shared.observability.context import REQUEST, SERVICE

FORMATS = ("text", "json")
# Attributes a record may carry (logging's `extra=`) that go into the JSON object as they are.
EXTRA_FIELDS = ("method", "route", "status", "duration_ms", "tick", "request_id", "tenant")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": SERVICE.get(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        info = REQUEST.get()
        if info is not None:
            out["service"] = info.service
            out["request_id"] = info.request_id
            if info.route is not None:
                out["route"] = info.route
            if info.tenant is not None:
                out["tenant"] = info.tenant
        for key in EXTRA_FIELDS:
            value = record.__dict__.get(key)
            if value is not None:
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(out, default=str).decode()


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    """The root logger's one handler (stderr) in `fmt`; a second call replaces the first."""
    if fmt not in FORMATS:
        raise ValueError(f"IOTCLOUD_LOG_FORMAT must be one of {', '.join(FORMATS)}, not {fmt!r}")
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", datefmt="%H:%M:%S")
        )
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_iotcloud", False)]:
        root.removeHandler(old)
    handler._iotcloud = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    logging.getLogger("yoyo").setLevel(logging.WARNING)
