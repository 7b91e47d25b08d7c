"""The composition root: builds the admin API, the gateway and the HTTP application, and plugs them together.

Only here do the admin API and the gateway meet: the gateway fills the admin API's ``ReturnsPort`` and its
web-service router joins the admin API's HTTP application.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from fastapi import FastAPI

from admin_api.app import create_app
from admin_api.http import Services
from gateway.core.gateway import Gateway
from gateway.core.metrics import Levels
from gateway.webservice import endpoints as webservice
from gga import health
from gga.http_limits import BodyLimit
from gga.logs import AccessLog
from kernel.settings import Settings


def build_gateway(services: Services) -> Gateway:
    gateway = Gateway.build(services.settings, services.db, services.passwords)
    services.returns = gateway
    return gateway


def http_app(services: Services, gateway: Gateway | None, listeners: Sequence[health.Check] = ()) -> FastAPI:
    """/api/v1 for people; with a gateway, /REST for web-service senders on the same server; /healthz, /readyz
    (database, migrations, spool, and the ``listeners`` the runtime started) and /metrics for operators."""
    app = create_app(services)
    checks = [*health.database_checks(services.db), health.spool_check(services.settings.spool_dir), *listeners]
    levels = []
    if gateway is not None:
        app.state.gateway = gateway
        app.include_router(webservice.router)
        levels.append(Levels(gateway.live.by_protocol, gateway.relay.backlog))
    app.include_router(health.router(checks, levels))
    app.add_middleware(BodyLimit, limit_for=partial(body_limit, services.settings))
    app.add_middleware(AccessLog)  # outermost: a request refused by BodyLimit is logged and counted too
    return app


def body_limit(settings: Settings, method: str, path: str) -> int | None:
    """Bytes a request body may have (the setting is read at each request); None for the routes that take whole
    files, which check who calls before reading the body."""
    if method == "PUT" and path.startswith(webservice.UPLOAD_PREFIX):
        return None  # streamed to the spool, up to the application's limit (Upload.announce / Content-Length)
    if method == "POST" and path == "/api/v1/returns":
        return None  # an application's return file (role ops); it has no size limit of its own yet
    return settings.http_max_body_kb << 10
