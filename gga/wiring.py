"""The composition root: builds the admin API, the gateway and the HTTP application, and plugs them together.

Only here do the admin API and the gateway meet: the gateway fills the admin API's ``ReturnsPort`` and its
web-service router joins the admin API's HTTP application.
"""

from __future__ import annotations

from fastapi import FastAPI

from admin_api.app import create_app
from admin_api.http import Services
from gateway.core.gateway import Gateway
from gateway.webservice import endpoints as webservice


def build_gateway(services: Services) -> Gateway:
    gateway = Gateway.build(services.settings, services.db, services.passwords)
    services.returns = gateway
    return gateway


def http_app(services: Services, gateway: Gateway | None) -> FastAPI:
    """/api/v1 for people; with a gateway, /REST for web-service senders on the same server."""
    app = create_app(services)
    if gateway is not None:
        app.state.gateway = gateway
        app.include_router(webservice.router)
    return app
