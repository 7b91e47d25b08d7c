"""The console as a sub-application mounted at /console: its own error pages (HTML, in the person's language), the
CSRF check on every route, its static files."""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from admin_api.console import enterprise, oidc, ops, registration, senders, signin, users
from admin_api.console.labels import label
from admin_api.console.web import HERE, PREFIX, CsrfRefused, SignInRequired, check_csrf, here, language, render
from admin_api.http import Services, conflict, unexpected
from kernel.errors import ErrorCode, GGAError


def create_console(services: Services) -> FastAPI:
    console = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, dependencies=[Depends(check_csrf)])
    console.state.services = services
    console.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (signin, oidc, registration, enterprise, users, senders, ops):
        console.include_router(module.router)
    _install_error_pages(console)
    return console


def _install_error_pages(console: FastAPI) -> None:
    @console.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/sign-in?next={here(request)}", status_code=303)

    @console.exception_handler(CsrfRefused)
    async def _csrf(request: Request, exc: CsrfRefused) -> HTMLResponse:
        return render(request, "error.html", 403, code="CSRF_REFUSED", message=label("error.csrf", language(request)))

    @console.exception_handler(GGAError)
    async def _refused(request: Request, exc: GGAError) -> HTMLResponse:
        return render(request, "error.html", exc.status, code=str(exc.code), message=exc.localized(language(request)))

    @console.exception_handler(IntegrityError)
    async def _raced(request: Request, exc: IntegrityError) -> HTMLResponse:
        err = conflict(exc)  # a racing request took the name first: the same 409 code as the API
        return render(request, "error.html", err.status, code=str(err.code), message=err.localized(language(request)))

    @console.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> HTMLResponse:
        err = unexpected(exc)
        return render(request, "error.html", err.status, code=str(err.code), message=err.localized(language(request)))

    @console.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> HTMLResponse:
        if exc.status_code == 404:
            return render(request, "error.html", 404, code=str(ErrorCode.NOT_FOUND),
                          message=label("error.not_found", language(request)))
        return render(request, "error.html", exc.status_code, code=str(exc.status_code),
                      message=label("error.http", language(request), status=exc.status_code))

    @console.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> HTMLResponse:
        err = GGAError(ErrorCode.VALIDATION_ERROR)
        return render(request, "error.html", 422, code=str(err.code), message=err.localized(language(request)))
