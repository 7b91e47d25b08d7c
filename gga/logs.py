"""Logging, configured once: one JSON object per line on stdout (``GGA_LOG_FORMAT=json``, the default) or a
readable line (``console``); and the HTTP access log with its metrics, one line per request.

A record's fields: ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``event`` (the message) and, merged in, the
dict a caller passes as ``extra={"context": {...}}`` (a transfer-log line, an HTTP request); ``exception`` when
there is a traceback.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.core import metrics

access = logging.getLogger("gga.access")
RESERVED = ("time", "level", "logger", "event")


def _base(record: logging.LogRecord) -> dict[str, Any]:
    return {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name, "event": record.getMessage()}


def _context(record: logging.LogRecord) -> dict[str, Any]:
    context = getattr(record, "context", None)
    return {k: v for k, v in context.items() if k not in RESERVED} if isinstance(context, dict) else {}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = _base(record) | _context(record)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False)


class ConsoleFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = _base(record)
        fields = " ".join(f"{k}={v}" for k, v in _context(record).items() if v is not None)
        line = f"{base['time'][11:23]} {base['level']:7} {base['logger']}: {base['event']}"
        line += f"  {fields}" if fields else ""
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure(fmt: str = "json", level: int = logging.INFO) -> None:
    """Root logger to stdout in ``fmt``; libraries' chatter down to warnings; uvicorn's loggers through ours."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(ConsoleFormatter() if fmt == "console" else JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("asyncssh").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # pika logs every refused connection at ERROR, with tracebacks, several times per attempt: the relay's own
    # warning (with the reason) says it once per attempt
    logging.getLogger("pika").setLevel(logging.CRITICAL)
    adopt_uvicorn()


def adopt_uvicorn() -> None:
    """uvicorn's Config installs its own plain-text handlers: route its errors through the root logger, and turn
    its access log off (``AccessLog`` writes one line per request instead). Call after building a Config."""
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True


def route_template(scope: Scope) -> str:
    """The matched route's path template with the prefixes of the routers that include it ("/api/v1" + route);
    "unmatched" when no route matched."""
    template = getattr(scope.get("route"), "path_format", None)
    if not template:
        return "unmatched"
    path = scope.get("path", "")
    try:  # FastAPI keeps an included route's own template: what of the path precedes it is the (static) prefix
        rendered = template.format(**scope.get("path_params", {}))
    except (KeyError, IndexError, ValueError):
        return template
    return path[: len(path) - len(rendered)] + template if path.endswith(rendered) else template


class AccessLog:
    """Pure ASGI middleware: one ``gga.access`` line and the HTTP metrics per request, by route template (not the
    raw path, so identifiers in paths do not make new label values)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            elapsed = time.perf_counter() - started
            route = route_template(scope)
            method = scope["method"]
            metrics.HTTP_REQUESTS.labels(method, route, str(status)).inc()
            metrics.HTTP_LATENCY.labels(method, route).observe(elapsed)
            client = scope.get("client")
            access.info("%s %s %s", method, route, status, extra={"context": {
                "method": method, "route": route, "status": status,
                "duration_ms": round(elapsed * 1000, 1), "remote": client[0] if client else None}})
