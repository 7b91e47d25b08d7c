"""The FastAPI application of the admin API under /api/v1 (``gga`` adds the web-service channel under /REST)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from admin_api import catalogue_endpoints
from admin_api.console.app import create_console
from admin_api.docs import install_docs
from admin_api.domain import endpoints as domains
from admin_api.enterprise import endpoints as enterprises
from admin_api.http import Services, install_error_handlers
from admin_api.identity import build_verifier
from admin_api.ops import endpoints as ops
from admin_api.registration import endpoints as registrations
from admin_api.sender import endpoints as senders
from kernel.settings import Settings
from keys.passwords import Passwords
from store.database import Database

API_PREFIX = "/api/v1"


def build_services(settings: Settings, db: Database | None = None, dev_issuer: bool | None = None) -> Services:
    dev = settings.dev_issuer if dev_issuer is None else dev_issuer
    return Services(settings=settings, db=db or Database(settings.resolved_database_url),
                    verifier=build_verifier(settings, dev),
                    passwords=Passwords(settings.argon2_time_cost, settings.argon2_memory_cost,
                                        settings.argon2_parallelism, settings.password_checks_at_once))


def create_app(services: Services) -> FastAPI:
    app = FastAPI(title="gga-gateway admin API", version="1", openapi_url=f"{API_PREFIX}/openapi.json",
                  docs_url=None, redoc_url=None)
    app.state.services = services
    install_docs(app)
    install_error_handlers(app)
    api = APIRouter(prefix=API_PREFIX)
    for module in (registrations, enterprises, domains, senders, catalogue_endpoints, ops):
        api.include_router(module.router)
    app.include_router(api)
    app.mount("/console", create_console(services))  # the same services for people in a browser
    return app
