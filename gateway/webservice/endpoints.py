"""The web-service channel under /REST, on the admin API's HTTP server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import FileResponse
from starlette.requests import ClientDisconnect

from admin_api.http import services
from gateway.core.gateway import Gateway
from gateway.core.session import GatewaySession
from gateway.core.transfer import open_upload, pick_up, return_file, size_limit
from gateway.naming import ENVIRONMENTS, RETURN_FOLDERS
from gateway.webservice.tokens import TOKEN_LIFETIME, WebServiceTokens
from gga.errors import ErrorCode, GGAError

router = APIRouter(prefix="/REST", tags=["web service channel"])
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _gateway(request: Request) -> Gateway:
    gateway = services(request).gateway
    if gateway is None:
        raise GGAError(ErrorCode.INTERNAL_ERROR, "The file gateway does not run in this process.")
    return gateway


def _tokens(request: Request) -> WebServiceTokens:
    gateway = _gateway(request)
    return WebServiceTokens(gateway.directory.db, gateway.directory)


def _remote(request: Request) -> str:
    return f"{request.client.host}:{request.client.port}" if request.client else "-"


@router.post("/oauth/v5/token")
async def token(request: Request, grant_type: str = Form(), client_assertion_type: str = Form(),
                client_assertion: str = Form(max_length=16384), scope: str | None = Form(None)) -> dict:
    """OAuth2 client credentials with a private_key_jwt client assertion (RFC 7523)."""
    if grant_type != "client_credentials" or client_assertion_type != JWT_BEARER:
        raise GGAError(ErrorCode.VALIDATION_ERROR, f"grant_type must be client_credentials and "
                       f"client_assertion_type {JWT_BEARER}.", {"field": "grant_type"})
    gateway = _gateway(request)
    audiences = [str(request.url.replace(query=""))]
    try:
        sender, bearer = await asyncio.to_thread(_tokens(request).exchange, client_assertion, audiences)
    except GGAError as err:
        await asyncio.to_thread(gateway.auth.refused, "-", "WS", _remote(request), "private_key_jwt", err.code)
        raise
    await asyncio.to_thread(gateway.auth.accepted, sender, "WS", "WS", _remote(request), "private_key_jwt")
    return {"access_token": bearer, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME, "scope": scope or ""}


async def ws_session(request: Request) -> GatewaySession:
    scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not bearer:
        raise GGAError(ErrorCode.TOKEN_INVALID, "Send 'Authorization: Bearer <token from /REST/oauth/v5/token>'.")
    sender = await asyncio.to_thread(_tokens(request).sender_for, bearer.strip())
    return _gateway(request).auth.session(sender, "WS", "WS", _remote(request))


def _folder(environment: str, folders: dict[str, str]) -> str:
    if environment not in folders:
        raise GGAError(ErrorCode.ENVIRONMENT_INVALID, details={"environment": environment[:5]})
    return folders[environment]


@router.put("/batch/v1/{environment}/files/{name}", status_code=201)
async def put_file(environment: str, name: str, request: Request,
                   session: GatewaySession = Depends(ws_session)) -> dict:
    """One batch file, streamed to the spool (never held in memory), then handed to the intake pipeline."""
    gateway = _gateway(request)
    upload = open_upload(session, f"/{_folder(environment, ENVIRONMENTS)}/{name}", gateway.settings.max_file_mb)
    declared = request.headers.get("content-length")
    try:
        if declared is not None and int(declared) > size_limit(upload.name, gateway.settings.max_file_mb):
            raise GGAError(ErrorCode.FILE_TOO_LARGE, f"{upload.name}: over {upload.limit >> 20} MiB.",
                           {"limit": upload.limit})
        async for chunk in request.stream():
            upload.write(upload.size, chunk)
        if declared is not None and int(declared) != upload.size:
            raise ClientDisconnect()
    except ClientDisconnect as exc:
        upload.discard()
        await asyncio.to_thread(gateway.pipeline.interrupted, session, str(upload.name), upload.size)
        raise GGAError(ErrorCode.UPLOAD_INCOMPLETE) from exc
    except GGAError as err:
        upload.discard()
        if err.code == ErrorCode.FILE_TOO_LARGE:
            await asyncio.to_thread(gateway.pipeline.refused, session, upload.folder, upload.name, err.code,
                                    upload.size)
        raise
    received = await asyncio.to_thread(upload.finish)
    await asyncio.to_thread(gateway.pipeline.received, received)
    return {"name": str(received.name), "environment": environment, "size": received.size,
            "sha256": received.sha256}


@router.get("/batch/v1/{environment}/returns")
async def list_returns(environment: str, session: GatewaySession = Depends(ws_session)) -> dict:
    folder = session.home / _folder(environment, RETURN_FOLDERS)
    files = sorted((p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")),
                   key=lambda p: p.name)
    return {"items": [{"name": p.name, "size": p.stat().st_size,
                       "created": datetime.fromtimestamp(p.stat().st_mtime, UTC).isoformat()} for p in files]}


@router.get("/batch/v1/{environment}/returns/{name}", response_class=FileResponse)
async def get_return(environment: str, name: str, request: Request,
                     session: GatewaySession = Depends(ws_session)) -> FileResponse:
    path = return_file(session, f"/{_folder(environment, RETURN_FOLDERS)}/{name}")
    await asyncio.to_thread(_gateway(request).translog.record, "download", "ok", protocol="WS", file_name=path.name,
                            size=path.stat().st_size, **session.log_fields())
    return FileResponse(path, media_type="application/octet-stream", filename=path.name)


@router.delete("/batch/v1/{environment}/returns/{name}", status_code=204)
async def delete_return(environment: str, name: str, request: Request,
                        session: GatewaySession = Depends(ws_session)) -> Response:
    await asyncio.to_thread(pick_up, session, f"/{_folder(environment, RETURN_FOLDERS)}/{name}",
                            _gateway(request).translog)
    return Response(status_code=204)
