"""HTTP plumbing shared by every router: the unit of work, the caller, and errors in the contract's shape."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from admin_api.identity import ANONYMOUS, Caller, caller_from_claims
from admin_api.ops import defence
from admin_api.ports import ReturnsPort
from kernel.errors import ErrorCode, GGAError, spec
from kernel.i18n import VALIDATION, Language, field_label, negotiate, translate
from kernel.settings import Settings
from keys.passwords import Passwords
from keys.tokens import TokenInvalid, TokenVerifier
from store.database import Database

log = logging.getLogger("gga.http")

# Ids in paths: within the INTEGER id columns (32-bit on PostgreSQL), else 422 before any query (a larger one made
# PostgreSQL, and past 64 bits SQLite, fail with a 500)
MAX_ROW_ID = 2**31 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="a row id")]


@dataclass
class Services:
    """What the routers need, built once per process (``app.state.services``)."""

    settings: Settings
    db: Database
    verifier: TokenVerifier
    passwords: Passwords
    returns: ReturnsPort | None = None  # the file gateway's return delivery, when it runs in the process


def services(request: Request) -> Services:
    return request.app.state.services


def db_session(request: Request) -> Iterator[Session]:
    """The request's unit of work. Routes declare it with ``scope="function"`` (``UNIT_OF_WORK``): it commits
    when the route returns and before the answer is sent, so a 2xx means the write is there, and a failed commit
    answers an error. A unique rule broken by a racing request answers 409 with the business code."""
    try:
        with services(request).db.session() as session:
            yield session
    except IntegrityError as exc:
        raise conflict(exc) from exc


def conflict(exc: IntegrityError) -> GGAError:
    """A unique rule broken by a racing request, as its business code (409)."""
    return GGAError(_conflict_code(str(exc.orig)))


def _conflict_code(message: str) -> ErrorCode:
    """The unique rule's name as PostgreSQL says it, or its columns as SQLite does."""
    return next((code for code, names in UNIQUE_RULES.items() if any(n in message for n in names)),
                ErrorCode.CONFLICT)


UNIQUE_RULES = {
    ErrorCode.SENDER_EXISTS: ("uq_senders_domain_live", "senders.domain_id"),
    ErrorCode.TECHNICAL_USER_TAKEN: ("uq_senders_technical_user_key", "senders.technical_user_key"),
    ErrorCode.USERNAME_TAKEN: ("uq_users_username", "users.username"),
    ErrorCode.USER_EXISTS: ("uq_users_domain_id", "users.domain_id"),
    ErrorCode.CO_MAIN_MANAGER_EXISTS: ("pk_co_main_managers", "co_main_managers."),
    ErrorCode.DOMAIN_EXISTS: ("uq_domains_enterprise_number", "domains.enterprise_number", "uq_domains_onss_number",
                              "domains.identifier"),
    ErrorCode.CHANNEL_EXISTS: ("uq_sender_channels_sender_id", "sender_channels.sender_id"),
}
UNIT_OF_WORK = Depends(db_session, scope="function")


def caller(request: Request) -> Caller:
    """The bearer token's person; anonymous when there is no token; 401 when the token is bad (counted by the
    defender, which refuses a banned address with 403 ``ADDRESS_BANNED``)."""
    header = request.headers.get("authorization", "")
    if not header:
        return ANONYMOUS
    svc, address = services(request), request.client.host if request.client else "-"
    defence.refuse_if_banned(svc.db, svc.settings, address)  # 403 ADDRESS_BANNED, before the token is looked at
    scheme, _, token = header.partition(" ")
    try:
        if scheme.lower() != "bearer" or not token:
            raise GGAError(ErrorCode.UNAUTHENTICATED, key="unauthenticated.scheme")
        try:
            return caller_from_claims(svc.verifier.verify(token.strip()))
        except TokenInvalid as exc:
            raise GGAError(ErrorCode.UNAUTHENTICATED, f"Token refused: {exc}", key="unauthenticated.token") from exc
    except GGAError:
        defence.failed(svc.db, svc.settings, address)  # every 401 counts for the defender
        raise


def language(request: Request) -> Language:
    """The caller's language from ``Accept-Language`` (fr, nl, en; French when absent): routes localize their
    confirmations with it, the error handlers their messages (services stay in codes and keys). Outside the admin
    API (the web-service channel, mounted in the same app) English unless the header asks for French or Dutch."""
    return language_of(request.url.path, request.headers.get("accept-language"))


def language_of(path: str, accept_language: str | None) -> Language:
    """``language`` from a request's path and ``Accept-Language`` (for what answers before the routes)."""
    return negotiate(accept_language, "fr" if path.startswith("/api/") else "en")


LANGUAGE = Depends(language)


def worded(view: dict, lang: str) -> dict:
    """A service names its confirmation (``message``) by its catalogue key, or ``(key, params)`` when it carries
    facts; the route words it in the caller's language."""
    message = view.get("message")
    if not message:
        return view
    key, params = (message, {}) if isinstance(message, str) else message
    return view | {"message": translate(key, lang, **params)}


def error_response(err: GGAError, lang: str = "en") -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if err.code == ErrorCode.UNAUTHENTICATED else None
    return JSONResponse(err.as_json(lang), status_code=err.status, headers=headers)


def _field(loc: tuple) -> str:
    """``body.main_access_manager.DesignatedPerson.niss`` -> ``main_access_manager.niss`` (drop union tags)."""
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(p for p in parts if not (p[:1].isupper() or "[" in p))


def _coded_first(errors: list[dict]) -> tuple[ErrorCode, list[dict]]:
    """Prefer errors carrying one of our codes (e.g. INVALID_NISS) over a union's other branches."""
    coded = [e for e in errors if e.get("type", "") in ErrorCode.__members__]
    if coded:
        return ErrorCode(coded[0]["type"]), coded
    return ErrorCode.VALIDATION_ERROR, _tried_branch_first(errors)


_NOT_AN_OBJECT = frozenset({"literal_error", "model_type", "model_attributes_type", "dict_type"})  # "slef"


def _tried_branch_first(errors: list[dict]) -> list[dict]:
    """A union of a literal and a model (``"self"`` or a person): when the model's branch has errors, they come
    first, so the answer does not open with "possible values: 'self'" for a person with a bad e-mail."""
    def shadowed(error: dict) -> bool:
        loc = tuple(error.get("loc", ()))
        if error.get("type") != "literal_error" or not loc or not str(loc[-1]).startswith("literal["):
            return False  # not a union's literal branch (a plain literal field keeps its place)
        return any(tuple(other.get("loc", ()))[:len(loc) - 1] == loc[:-1] and len(other.get("loc", ())) >= len(loc)
                   and other.get("type") not in _NOT_AN_OBJECT for other in errors if other is not error)
    return [e for e in errors if not shadowed(e)] + [e for e in errors if shadowed(e)]


def _problem(error: dict, field: str, lang: str) -> str:
    """What is wrong with one field, in the language: our codes by their sentence, pydantic's types by ours."""
    kind, ctx, last = error["type"], error.get("ctx") or {}, field.rpartition(".")[2]
    if kind in ErrorCode.__members__ and kind != ErrorCode.VALIDATION_ERROR:
        return spec(ErrorCode(kind)).describe(lang)
    if kind == "VALIDATION_ERROR":  # our phone validator (admin_api/schemas.py): phone, fax, mobile
        return _worded_problem("phone", lang, ctx)
    if kind == "value_error" and last.endswith("email"):  # email-validator's refusal
        return _worded_problem("email", lang, ctx)
    return _worded_problem(kind if kind in VALIDATION else "other", lang, ctx)


def _worded_problem(kind: str, lang: str, ctx: dict) -> str:
    template = VALIDATION[kind].get(lang) or VALIDATION[kind]["fr"]
    values = {k: str(v).replace(" or ", ", ") for k, v in ctx.items()}
    try:
        return template.format(**values)
    except (KeyError, IndexError):
        return VALIDATION["other"][lang]


def field_errors(raw: list[dict], lang: str) -> list[dict]:
    """Pydantic's errors as ``{field, type, message}``, each message naming its field as a person would (the
    console shows them next to their fields)."""
    errors = []
    for e in raw:
        field = _field(e["loc"])
        message = translate("validation.field", lang, field=field_label(field, lang), problem=_problem(e, field, lang))
        errors.append({"field": field, "type": e["type"], "message": message})
    return errors


def _validation_error(exc: RequestValidationError, lang: str) -> GGAError:
    code, raw = _coded_first(list(exc.errors()))
    errors = field_errors(raw, lang)
    if not errors:
        return GGAError(code)
    return GGAError(code, errors[0]["message"], {"errors": errors}, key="validation.errors",
                    params={"first": errors[0]["message"]})


def nul_refused(exc: Exception) -> GGAError | None:
    """PostgreSQL text cannot hold a NUL character (psycopg refuses it before sending): a value carrying one is the
    caller's validation error (422), not a 500; SQLite stores it and finds nothing."""
    return GGAError(ErrorCode.VALIDATION_ERROR, key="validation.nul") if "NUL (0x00)" in str(exc) else None


def unexpected(exc: Exception) -> GGAError:
    """An exception no handler expected: a NUL the database refused is the caller's 422; anything else is logged
    with a reference the answer gives (never a stack trace to the caller)."""
    if (refused := nul_refused(exc)) is not None:
        return refused
    ref = uuid.uuid4().hex[:12]
    log.exception("unexpected error ref=%s", ref, exc_info=exc)
    return GGAError(ErrorCode.INTERNAL_ERROR, details={"reference": ref}, key="internal_error")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GGAError)
    async def _gga(request: Request, exc: GGAError) -> JSONResponse:
        return error_response(exc, language(request))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        lang = language(request)
        return error_response(_validation_error(exc, lang), lang)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: ErrorCode.NOT_FOUND, 401: ErrorCode.UNAUTHENTICATED, 403: ErrorCode.FORBIDDEN,
                405: ErrorCode.METHOD_NOT_ALLOWED, 413: ErrorCode.BODY_TOO_LARGE,
                }.get(exc.status_code, ErrorCode.VALIDATION_ERROR)
        key = "not_found.route" if exc.status_code == 404 else None
        own = code in (ErrorCode.METHOD_NOT_ALLOWED, ErrorCode.BODY_TOO_LARGE)  # the code's sentence, not Starlette's
        body = GGAError(code, None if own else str(exc.detail), key=key).as_json(language(request))
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)  # a 405 keeps its Allow

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return error_response(unexpected(exc), language(request))
