"""``GET /healthz`` (the process answers), ``GET /readyz`` (it can do its work) and ``GET /metrics``; no token.

Readiness is a list of named checks, each a callable that returns ``None`` when ready or says what is wrong (an
exception says it too): the database answers, its migrations are at head, the spool takes a file, and each
listener the runtime started still accepts connections (during a drain they do not: a load balancer stops
sending work before the process exits).
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text

from gateway.core import metrics
from store.database import Database, heads

Check = tuple[str, Callable[[], str | None]]


def database_checks(db: Database) -> list[Check]:
    def reachable() -> str | None:
        with db.read() as session:
            session.execute(text("SELECT 1"))
        return None

    def migrations() -> str | None:
        with db.read() as session:
            current = set(session.scalars(text("SELECT version_num FROM alembic_version")))
        expected = set(_heads())
        return None if current == expected else f"at {sorted(current)}, head is {sorted(expected)}"

    return [("database", reachable), ("migrations", migrations)]


@functools.cache
def _heads() -> tuple[str, ...]:
    return tuple(heads())


def spool_check(root: Path) -> Check:
    def writable() -> str | None:
        root.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".ready-", dir=root)
        os.close(fd)
        os.unlink(probe)
        return None

    return "spool", writable


def run_checks(checks: Iterable[Check]) -> dict[str, str]:
    """What is not ready, by check name (empty: ready)."""
    failing: dict[str, str] = {}
    for name, check in checks:
        try:
            problem = check()
        except Exception as exc:
            problem = f"{type(exc).__name__}: {exc}"[:300]
        if problem:
            failing[name] = problem
    return failing


def router(checks: Sequence[Check], levels: Sequence[metrics.Levels] = ()) -> APIRouter:
    ops = APIRouter(include_in_schema=False)

    @ops.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @ops.get("/readyz")
    def readyz() -> JSONResponse:
        failing = run_checks(checks)
        if failing:
            return JSONResponse({"status": "not ready", "not_ready": failing}, status_code=503)
        return JSONResponse({"status": "ready", "checked": [name for name, _ in checks]})

    @ops.get("/metrics")
    def prometheus() -> Response:
        body, content_type = metrics.render(levels)
        return Response(body, media_type=content_type)

    return ops
