"""The web-service channel under /REST: a thin adapter over the shared core, on the admin API's HTTP server.

The composition root puts the ``Gateway`` on ``app.state.gateway``. Logins, opens, settling and logging are the
core's, on worker threads; only the body's bytes are handled on the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from starlette.requests import ClientDisconnect
from starlette.types import Message, Receive, Scope, Send

from gateway.core.gateway import Gateway
from gateway.core.session import GatewaySession
from gateway.core.tokens import TOKEN_LIFETIME
from gateway.core.transfer import Download, Transfers, UploadEnd
from gateway.core.upload import Upload
from gateway.naming import ENVIRONMENTS, RETURN_FOLDERS
from kernel.errors import ErrorCode, GGAError

router = APIRouter(prefix="/REST", tags=["web service channel"])
TOKEN_PATH = "/REST/oauth/v5/token"  # noqa: S105 (a URL path, not a secret)
UPLOAD_PREFIX = "/REST/batch/v1/"  # PUT .../files/{name}: streams its body (the composition root's body limits)
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CHUNK = 1 << 20


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 (the OAuth2 token type, not a secret)
    expires_in: int
    scope: str


class StoredFile(BaseModel):
    name: str
    environment: str
    size: int
    sha256: str
    ticket: str | None = None  # a GO: the submission's ticket, the ACRF's ReferenceNbr
    acrf_channel: str | None = None  # a GO: the channel (SFTP, FTP, WS) whose return folder gets the ACRF


class ReturnEntry(BaseModel):
    name: str
    size: int
    created: datetime


class ReturnList(BaseModel):
    items: list[ReturnEntry]


def _gateway(request: Request) -> Gateway:
    return request.app.state.gateway


def _remote(request: Request) -> str:
    return f"{request.client.host}:{request.client.port}" if request.client else "-"


@router.post("/oauth/v5/token")
async def token(request: Request, grant_type: str = Form(), client_assertion_type: str = Form(),
                client_assertion: str = Form(max_length=16384), scope: str | None = Form(None)) -> TokenOut:
    """OAuth2 client credentials with a private_key_jwt client assertion (RFC 7523)."""
    if grant_type != "client_credentials":
        raise GGAError(ErrorCode.VALIDATION_ERROR, details={"field": "grant_type"}, key="token.must_be",
                       params={"expected": "client_credentials"})
    if client_assertion_type != JWT_BEARER:
        raise GGAError(ErrorCode.VALIDATION_ERROR, details={"field": "client_assertion_type"}, key="token.must_be",
                       params={"expected": JWT_BEARER})
    # the assertion is parsed and verified on a worker thread: sender input never runs on the event loop
    _, bearer = await asyncio.to_thread(_gateway(request).auth.assertion, client_assertion, _audiences(request),
                                        _remote(request))
    return TokenOut(access_token=bearer, expires_in=TOKEN_LIFETIME, scope=scope or "")


def _audiences(request: Request) -> list[str]:
    """The token URL the sender was given: GGA_PUBLIC_URL, never one built from the request's Host header (an
    assertion made for another service must not buy a token here). Without GGA_PUBLIC_URL, its default
    http://<GGA_HTTP_BIND> and the address the connection reached on this listener's own socket (port 0 or a
    wildcard bind resolved; not something the client writes)."""
    settings = _gateway(request).settings
    audiences = [settings.resolved_public_url + TOKEN_PATH]
    server = request.scope.get("server")
    if settings.public_url is None and server and server[1] is not None:
        host = f"[{server[0]}]" if ":" in server[0] else server[0]
        audiences.append(f"http://{host}:{server[1]}{TOKEN_PATH}")
    return audiences


async def ws_session(request: Request) -> GatewaySession:
    scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not bearer:
        raise GGAError(ErrorCode.TOKEN_INVALID, "Send 'Authorization: Bearer <token from /REST/oauth/v5/token>'.")
    return await asyncio.to_thread(_gateway(request).auth.bearer, bearer.strip(), _remote(request))


def _folder(environment: str, folders: dict[str, str]) -> str:
    if environment not in folders:
        raise GGAError(ErrorCode.ENVIRONMENT_INVALID, details={"environment": environment[:5]})
    return folders[environment]


@router.put("/batch/v1/{environment}/files/{name}", status_code=201)
async def put_file(environment: str, name: str, request: Request,
                   session: GatewaySession = Depends(ws_session)) -> StoredFile:
    """One batch file, streamed to the spool (never held in memory), settled by the core before the 201."""
    transfers = _gateway(request).transfers
    path = f"/{_folder(environment, ENVIRONMENTS)}/{name}"
    upload = await asyncio.to_thread(transfers.open_upload, session, path)
    declared = request.headers.get("content-length")
    end = UploadEnd.COMPLETED
    try:
        if declared is not None:
            upload.announce(int(declared))  # over the limit: refused before the body is read
        await _stream_into(upload, request)
        if declared is not None and int(declared) != upload.size:
            end = UploadEnd.CLIENT_GONE
    except ClientDisconnect:
        end = UploadEnd.CLIENT_GONE
    except GGAError:
        pass  # the upload is failed (too large, disk): settle says why
    except BaseException:  # anything else still ends the upload, then goes on
        await asyncio.shield(asyncio.to_thread(_settle_quietly, transfers, upload))
        raise
    received = await asyncio.to_thread(transfers.settle, upload, end)
    return StoredFile(name=str(received.name), environment=environment, size=received.size,
                      sha256=received.sha256, ticket=received.ticket, acrf_channel=received.acrf_channel)


async def _stream_into(upload: Upload, request: Request) -> None:
    """The body's chunks, gathered into 1 MiB writes hashed and written on a worker thread."""
    pending: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            upload.announce(size + len(chunk))  # within the limit, before the bytes are kept
            pending.append(chunk)
            size += len(chunk)
            if size >= CHUNK:
                await asyncio.to_thread(upload.append, b"".join(pending))
                pending, size = [], 0
    finally:  # a client gone mid-body too: the log then says how many bytes came (it said 0)
        if pending:
            await asyncio.to_thread(upload.append, b"".join(pending))


def _settle_quietly(transfers: Transfers, upload: Upload) -> None:
    with contextlib.suppress(GGAError):
        transfers.settle(upload, UploadEnd.CLIENT_GONE)


@router.get("/batch/v1/{environment}/returns")
async def list_returns(environment: str, request: Request,
                       session: GatewaySession = Depends(ws_session)) -> ReturnList:
    folder = _folder(environment, RETURN_FOLDERS)
    entries = await asyncio.to_thread(_gateway(request).transfers.list_returns, session, folder)
    return ReturnList(items=[ReturnEntry(name=n, size=size, created=datetime.fromtimestamp(mtime, UTC))
                             for n, size, mtime in entries])


class _EndedFileResponse(StreamingResponse):
    """The return file read from the descriptor its download opened (a pick-up by another client meanwhile takes
    nothing from it: Starlette's file answer reopened it by its path, and answered 500 or stopped short), whole
    (a ``Range`` is not offered: the log counts the file's bytes sent), ending the download once: after the last
    byte went out, or when the client left."""

    def __init__(self, download: Download, transfers: Transfers):
        super().__init__(self._chunks(download), media_type="application/octet-stream", headers={
            "content-length": str(download.size),
            "content-disposition": f'attachment; filename="{download.path.name}"'})
        self.download, self.transfers = download, transfers

    @staticmethod
    async def _chunks(download: Download) -> AsyncIterator[bytes]:
        offset = 0
        while offset < download.size:
            data = await asyncio.to_thread(os.pread, download.fd, min(CHUNK, download.size - offset), offset)
            if not data:  # the file cannot shrink (returns are written whole, then renamed): a disk error
                raise OSError(f"{download.path.name}: ended at byte {offset} of {download.size}")
            offset += len(data)
            yield data

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counted(message: Message) -> None:
            if message["type"] == "http.response.body":
                sent = len(message.get("body", b""))
                self.download.sent += sent
                self.download.transferred += sent
            await send(message)

        try:
            await super().__call__(scope, receive, counted)
        finally:  # shielded: a cancelled answer (the client left) is still logged
            await asyncio.shield(asyncio.to_thread(self.transfers.end_download, self.download))


@router.get("/batch/v1/{environment}/returns/{name}", response_class=StreamingResponse,
            responses={200: {"content": {"application/octet-stream": {}}}})
async def get_return(environment: str, name: str, request: Request,
                     session: GatewaySession = Depends(ws_session)) -> StreamingResponse:
    transfers = _gateway(request).transfers
    path = f"/{_folder(environment, RETURN_FOLDERS)}/{name}"
    download = await asyncio.to_thread(transfers.open_download, session, path)
    return _EndedFileResponse(download, transfers)


@router.delete("/batch/v1/{environment}/returns/{name}", status_code=204)
async def delete_return(environment: str, name: str, request: Request,
                        session: GatewaySession = Depends(ws_session)) -> Response:
    path = f"/{_folder(environment, RETURN_FOLDERS)}/{name}"
    await asyncio.to_thread(_gateway(request).transfers.pick_up, session, path)
    return Response(status_code=204)

