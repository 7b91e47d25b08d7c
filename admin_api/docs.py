"""Swagger UI and ReDoc at /api/v1/docs and /api/v1/redoc, their scripts and styles served from a package's
files (fastapi-offline's static folder): the pages work on a machine without internet."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

PREFIX = "/api/v1"
ASSETS = f"{PREFIX}/docs-assets"


def install_docs(app: FastAPI) -> None:
    assert app.openapi_url is not None
    openapi, title = app.openapi_url, app.title
    oauth2_redirect = f"{PREFIX}/docs/oauth2-redirect"
    app.mount(ASSETS, StaticFiles(directory=Path(str(files("fastapi_offline") / "static"))), name="docs-assets")

    @app.get(f"{PREFIX}/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=openapi, title=f"{title} - Swagger UI",
                                   oauth2_redirect_url=oauth2_redirect,
                                   swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{ASSETS}/swagger-ui.css",
                                   swagger_favicon_url=f"{ASSETS}/favicon.png")

    @app.get(oauth2_redirect, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(f"{PREFIX}/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=openapi, title=f"{title} - ReDoc",
                              redoc_js_url=f"{ASSETS}/redoc.standalone.js",
                              redoc_favicon_url=f"{ASSETS}/favicon.png", with_google_fonts=False)
