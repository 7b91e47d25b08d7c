"""What the HTTP listener (admin API + web service) refuses before any route runs: bodies over
``GGA_HTTP_MAX_BODY_KB``, requests whose headers do not arrive within ``GGA_HTTP_HEADER_TIMEOUT_S``, and more than
``GGA_MAX_CONNECTIONS_PER_ADDRESS`` open connections from one remote address.

uvicorn has neither a header timeout nor a per-address cap, so they live in a subclass of its h11 protocol; the body
limit is a pure ASGI middleware (it must see the ``Content-Length`` before anything reads the body).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any, ClassVar

import h11
import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from admin_api.http import language_of
from gateway.core.limits import ConnectionsPerAddress, RefusalBursts
from kernel.errors import ErrorCode, GGAError
from kernel.settings import Settings

log = logging.getLogger("gga.http")
REFUSED_GRACE_S = 1.0  # a refused connection may read its 429 before it is closed


class Throttled:
    """A warning per kind and remote address, then at most one a minute saying how many more came: a flood of
    refusals must not become a flood of log lines (the same bursts as the SFTP and FTP listeners')."""

    def __init__(self, window_s: float = 60.0):
        self.bursts = RefusalBursts(window_s)

    def warn(self, kind: str, address: str, message: str, *args: object) -> None:
        more = self.bursts.refused(f"{kind} {address}")
        if more is None:
            return
        if more:
            message, args = message + " (and %d more since the previous such line)", (*args, more)
        log.warning(message, *args)


def _address(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "-"


# -- bodies -----------------------------------------------------------------------------------------------------
class BodyLimit:
    """Refuses a request body over its limit with 413 BODY_TOO_LARGE: before reading it when ``Content-Length``
    says so, and as soon as a chunked body goes over (the app then sees the client as gone).

    ``limit_for(method, path)`` gives the limit in bytes, or None for a route that streams and bounds its own body.
    """

    def __init__(self, app: ASGIApp, limit_for: Callable[[str, str], int | None]):
        self.app = app
        self.limit_for = limit_for
        self.warnings = Throttled()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limit_for(scope["method"], scope["path"]) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self.refuse(scope, send, limit)  # the body is left unread (the protocol bounds its draining)
            return
        await _BoundedRequest(self, scope, receive, send, limit).run()

    async def refuse(self, scope: Scope, send: Send, limit: int) -> None:
        self.warnings.warn("body", _address(scope), "http: %s %s from %s: body over %d KiB refused (413 "
                           "BODY_TOO_LARGE, GGA_HTTP_MAX_BODY_KB)", scope["method"], scope["path"][:200],
                           _address(scope), limit >> 10)
        err = GGAError(ErrorCode.BODY_TOO_LARGE, details={"limit_kb": limit >> 10}, key="body.too_large")
        body = json.dumps(err.as_json(_language(scope))).encode()
        await send({"type": "http.response.start", "status": err.status, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def _language(scope: Scope) -> str:
    """The admin API's caller's language, as its routes find it (English outside ``/api/``)."""
    accept = dict(scope.get("headers") or []).get(b"accept-language", b"")
    return language_of(str(scope.get("path", "")), accept.decode("latin-1"))


class _BoundedRequest:
    """One request under a body limit: counts what the app receives and answers 413 itself once it is over."""

    def __init__(self, limiter: BodyLimit, scope: Scope, receive: Receive, send: Send, limit: int):
        self.limiter, self.scope, self.limit = limiter, scope, limit
        self._receive, self._send = receive, send
        self.received = 0
        self.started = self.cut = self.answered = False

    async def run(self) -> None:
        try:
            await self.limiter.app(self.scope, self.receive, self.send)
        except Exception:
            if not self.answered:
                raise
            # the app tripped over the body we cut off; its 413 is already out

    async def receive(self) -> Message:
        if self.cut:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                self.cut = True
                if not self.started:
                    self.answered = True
                    await self.limiter.refuse(self.scope, self._send, self.limit)
                return {"type": "http.disconnect"}
        return message

    async def send(self, message: Message) -> None:
        if self.answered:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None  # h11 already refused a malformed one
    return None


# -- connections ------------------------------------------------------------------------------------------------
class AddressLimits(ConnectionsPerAddress):
    """Open connections per remote address on one listener; used from its event loop only."""

    def __init__(self, maximum: int):
        super().__init__(maximum)
        self.warnings = Throttled()

    def admit(self, address: str) -> bool:
        if self.acquire(address):
            return True
        self.warnings.warn("connections", address, "http: connection from %s refused: %d already open "
                           "(429 TOO_MANY_CONNECTIONS, GGA_MAX_CONNECTIONS_PER_ADDRESS)", address, self.limit)
        return False


def _raw_response(err: GGAError, reason: str) -> bytes:
    """A whole HTTP answer written before any request was parsed (h11 cannot answer a request it has not seen)."""
    body = json.dumps(err.as_json()).encode()
    head = (f"HTTP/1.1 {err.status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
            "connection: close\r\n\r\n")
    return head.encode() + body


TOO_MANY_CONNECTIONS = _raw_response(GGAError(ErrorCode.TOO_MANY_CONNECTIONS), "Too Many Requests")


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with deadlines and a per-address cap.

    A deadline runs while the connection waits on the client: for a request's headers (from the connection's
    start or the end of the previous answer; bytes that trickle in do not extend it), for the rest of a body
    the app answered without reading, and, with ``body_idle_s``, for the next bytes of a body the app is reading
    (each byte received starts it again: a slow upload goes on, one whose sender's line went down is ended and its
    name freed, where it waited for ever). uvicorn's keep-alive timeout still closes a connection idle after an
    answer.
    """

    limits: ClassVar[AddressLimits]
    timeout_s: ClassVar[float]
    body_idle_s: ClassVar[float] = 0.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.address = self.client[0] if self.client else "-"
        self.waiting: str | None = None
        self.deadline = 0.0
        self.watch: asyncio.TimerHandle | None = None
        self.admitted = self.limits.admit(self.address)
        if not self.admitted:
            transport.write(TOO_MANY_CONNECTIONS)
            if transport.can_write_eof():
                transport.write_eof()
            self.loop.call_later(REFUSED_GRACE_S, transport.close)
            return
        self._rewatch()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.watch is not None:
            self.watch.cancel()
        if self.admitted:
            self.admitted = False
            self.limits.release(self.address)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self.admitted:
            return  # refused: its 429 is out, nothing it sends matters
        super().data_received(data)
        self._rewatch(progress=True)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._rewatch()

    def _waiting_on_client(self) -> str | None:
        if self.conn.their_state is h11.IDLE:
            return "request headers"
        if self.conn.their_state is h11.SEND_BODY and self.conn.our_state in (h11.DONE, h11.MUST_CLOSE):
            return "unread body"
        if self.conn.their_state is h11.SEND_BODY and self.body_idle_s > 0:
            return "request body"
        return None  # a request is being answered

    def _rewatch(self, *, progress: bool = False) -> None:
        waiting = None if self.timeout_s <= 0 or self.transport.is_closing() else self._waiting_on_client()
        if waiting != self.waiting or (progress and waiting == "request body"):  # a new wait starts its clock;
            # more of the same wait does not, but for a body being read, whose every byte is progress
            limit = self.body_idle_s if waiting == "request body" else self.timeout_s
            self.waiting, self.deadline = waiting, self.loop.time() + limit
        if waiting is not None and self.watch is None:
            self.watch = self.loop.call_at(self.deadline, self._check)

    def _check(self) -> None:
        self.watch = None
        if self.waiting is None or self.transport.is_closing():
            return
        if self.loop.time() < self.deadline:  # the clock restarted since this timer was set
            self.watch = self.loop.call_at(self.deadline, self._check)
            return
        body = self.waiting == "request body"
        self.limits.warnings.warn(self.waiting, self.address, "http: connection from %s closed: %s not received "
                                  "within %g s (%s)", self.address, self.waiting,
                                  self.body_idle_s if body else self.timeout_s,
                                  "GGA_IDLE_TIMEOUT_S" if body else "GGA_HTTP_HEADER_TIMEOUT_S")
        self.transport.close()


def guarded_protocol(settings: Settings) -> type[GuardedH11Protocol]:
    """The protocol class of one listener, with its own per-address counts."""
    attributes: dict[str, Any] = {"limits": AddressLimits(settings.max_connections_per_address),
                                  "timeout_s": settings.http_header_timeout_s,
                                  "body_idle_s": float(settings.idle_timeout_s)}
    return type("ListenerH11Protocol", (GuardedH11Protocol,), attributes)


def server_config(app: ASGIApp, settings: Settings, host: str, port: int) -> uvicorn.Config:
    """uvicorn as gga runs it: the guarded h11 protocol chosen explicitly (not "auto", which would pick httptools
    when installed), no WebSocket upgrades (no route uses them), uvicorn's keep-alive timeout kept."""
    return uvicorn.Config(app, host=host, port=port, http=guarded_protocol(settings), ws="none",
                          log_level="warning", lifespan="off", server_header=False,
                          # no proxy is configured: a client's X-Forwarded-For must not change its address
                          proxy_headers=False,
                          # after the drain (GGA_DRAIN_S) what is still open is cut, not waited for
                          timeout_graceful_shutdown=1)
