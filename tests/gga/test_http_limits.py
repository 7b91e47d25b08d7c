"""The HTTP listener's limits as a client meets them: a real uvicorn server on 127.0.0.1 configured as `gga serve`
configures it, raw sockets and httpx. Bodies over GGA_HTTP_MAX_BODY_KB (issue 12, point 5), slow headers and
connections per address (point 6)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn

from admin_api.http import Services
from admin_api.registry import import_extract
from gga.http_limits import server_config
from gga.wiring import http_app
from tests import factories

EXCEPTIONAL = "/api/v1/registrations/exceptional"
MIB = 1 << 20


@contextmanager
def running(services: Services) -> Iterator[int]:
    """The whole HTTP app (admin API + web service) on its own loop thread, as `gga serve` runs it; its port."""
    server = uvicorn.Server(server_config(http_app(services, services.returns), services.settings, "127.0.0.1", 0))
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "HTTP server did not start"
        time.sleep(0.01)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(15)
        if not thread.is_alive():
            loop.close()


def raw(port: int, head: str, source: str = "127.0.0.1") -> socket.socket:
    """A connection that has sent ``head`` (request line and headers, no body)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
    if head:
        sock.sendall(head.encode())
    return sock


def answer(sock: socket.socket) -> tuple[int, dict]:
    """Status and JSON body of the one answer on ``sock`` (read up to the server's close or Content-Length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed without an answer: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(
        b"content-length")))
    while len(body) < length:
        body += sock.recv(65536)
    return int(head.split()[1]), json.loads(body[:length])


def closed_after(sock: socket.socket, limit_s: float) -> float:
    """Seconds until the server closed ``sock`` (EOF or reset), failing past ``limit_s``."""
    start = time.monotonic()
    sock.settimeout(limit_s)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        pass
    except TimeoutError:
        pytest.fail(f"still open after {limit_s} s")
    return time.monotonic() - start


def rss_kb() -> int:
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith("VmRSS:"))
    return int(line.split()[1])


def exceptional_request(db) -> dict:  # type: ignore[no-untyped-def]
    number, lr = factories.enterprise_number(777123), factories.niss(1960, 2, 2, 93)
    with db.session() as session:
        import_extract(session, factories.registry_extract({number: [lr]}, {lr: ("Carla", "Limits")}))
    return {"legal_representative": {"niss": lr, "first_name": "Carla", "last_name": "Limits"},
            "enterprise_number": number, "main_access_manager": "self",
            "contact": {"email": "direction@c.be", "phone": "+3221234567"}, "confirm": True}


# -- bodies (point 5) --------------------------------------------------------------------------------------------
def test_a_48_mib_anonymous_post_is_refused_before_its_body_is_read(services, caplog):
    caplog.set_level(logging.WARNING, "gga.http")
    with running(services) as port:
        sock = raw(port, f"POST {EXCEPTIONAL} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         f"Content-Length: {48 * MIB}\r\n\r\n")
        started = time.monotonic()
        status, body = answer(sock)  # not one byte of the body was sent
        assert (status, body["error"]["code"]) == (413, "BODY_TOO_LARGE")
        assert body["error"]["details"] == {"limit_kb": 1024} and time.monotonic() - started < 2
        sock.close()

        chunk = b"x" * MIB  # the whole 48 MiB sent: answered the same, the server's memory does not follow it
        before = rss_kb()
        response = httpx.post(f"http://127.0.0.1:{port}{EXCEPTIONAL}", content=(chunk for _ in range(48)),
                              headers={"Content-Length": str(48 * MIB), "Content-Type": "application/json"},
                              timeout=30)
        assert (response.status_code, response.json()["error"]["code"]) == (413, "BODY_TOO_LARGE")
        assert rss_kb() - before < 32 * 1024
    assert any("body over 1024 KiB refused" in r.getMessage() for r in caplog.records)


def test_a_chunked_body_is_cut_off_once_over_the_limit(services):
    services.settings.http_max_body_kb = 64
    received = 0

    def chunks() -> Iterator[bytes]:
        nonlocal received
        for _ in range(64):
            received += 16384
            yield b"[" + b" " * 16382 + b"]"

    with running(services) as port:
        response = httpx.post(f"http://127.0.0.1:{port}{EXCEPTIONAL}", content=chunks(),
                              headers={"Content-Type": "application/json"}, timeout=30)
    assert "content-length" not in response.request.headers  # sent chunked: no size announced
    assert (response.status_code, response.json()["error"]["code"]) == (413, "BODY_TOO_LARGE")


def test_json_within_the_limit_still_works_plain_or_chunked(services, db):
    body = exceptional_request(db)
    with running(services) as port:
        url = f"http://127.0.0.1:{port}{EXCEPTIONAL}"
        created = httpx.post(url, json=body, timeout=10)
        assert created.status_code == 201, created.text
        chunked = httpx.post(url, content=iter([json.dumps({"confirm": True}).encode()]),
                             headers={"Content-Type": "application/json"}, timeout=10)
        assert chunked.status_code == 422 and chunked.json()["error"]["code"] == "VALIDATION_ERROR"  # read, parsed


def test_a_body_nobody_reads_is_not_waited_for(services):
    """Answered before its body (413): a client that then sends nothing is closed after the header timeout."""
    services.settings.http_header_timeout_s = 1
    with running(services) as port:
        sock = raw(port, f"POST {EXCEPTIONAL} HTTP/1.1\r\nHost: x\r\nContent-Length: {2 * MIB}\r\n\r\n")
        assert answer(sock)[0] == 413
        assert closed_after(sock, 3.5) < 3.5


# -- slow clients and connections per address (point 6) ----------------------------------------------------------
def test_slow_headers_are_cut_off_at_the_header_timeout(services, caplog):
    caplog.set_level(logging.WARNING, "gga.http")
    services.settings.http_header_timeout_s = 1
    with running(services) as port:
        slow = [raw(port, "GET /api/v1/openapi.json HTTP/1.1\r\n") for _ in range(20)]
        silent = raw(port, "")
        started = time.monotonic()
        for _ in range(4):  # a header line now and then: trickling bytes do not buy time
            time.sleep(0.3)
            for sock in slow:
                with contextlib.suppress(OSError):  # closed by then
                    sock.sendall(b"X-Slow: 1\r\n")
        for sock in [*slow, silent]:
            closed_after(sock, 3.0)
            sock.close()
        assert time.monotonic() - started < 1 + 2.5
        fresh = httpx.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=10)
        assert fresh.status_code == 200  # the listener itself is fine
    assert any("request headers not received within 1 s" in r.getMessage() for r in caplog.records)


def test_a_body_that_stops_arriving_is_cut_off_after_the_idle_timeout_and_a_slow_one_is_not(services, caplog):
    """The app reads the body (a web-service upload streams it to disk): a sender whose line went down mid-body
    held the connection, its upload and its name's claim for ever. Each byte that comes starts the clock again."""
    caplog.set_level(logging.WARNING, "gga.http")
    services.settings.http_header_timeout_s, services.settings.idle_timeout_s = 1, 1
    head = f"POST {EXCEPTIONAL} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    with running(services) as port:
        slow, stalled = raw(port, head + "{"), raw(port, head + "{")
        for _ in range(5):  # 2.5 s of a byte every half second: more than the idle timeout, never idle that long
            time.sleep(0.5)
            slow.sendall(b" ")
        closed_after(stalled, 1.0)  # gone by then (1 s after its last byte)
        slow.settimeout(0.2)
        with pytest.raises(TimeoutError):  # still open: its body is still coming
            slow.recv(1)
        slow.close()
        stalled.close()
    assert any("request body not received within 1 s (GGA_IDLE_TIMEOUT_S)" in r.getMessage()
               for r in caplog.records)


def test_a_kept_alive_connection_gets_a_fresh_header_timeout_per_request(services):
    services.settings.http_header_timeout_s = 1
    with running(services) as port, httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        for _ in range(3):  # each request within the timeout of the end of the previous answer
            assert client.get("/api/v1/openapi.json").status_code == 200
            time.sleep(0.6)


def test_connections_past_the_per_address_limit_are_refused(services, caplog):
    caplog.set_level(logging.WARNING, "gga.http")
    services.settings.max_connections_per_address = 3
    services.settings.http_header_timeout_s = 30
    with running(services) as port:
        held = [raw(port, "") for _ in range(3)]
        time.sleep(0.2)  # the server has accepted them
        for _ in range(3):  # a burst of refusals, logged once
            refused = raw(port, "GET /api/v1/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n")
            status, body = answer(refused)
            assert (status, body["error"]["code"]) == (429, "TOO_MANY_CONNECTIONS")
            closed_after(refused, 3)
            refused.close()
        other = raw(port, "GET /api/v1/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n", source="127.0.0.2")
        assert answer(other)[0] == 200  # another address is not held back
        held[0].sendall(b"GET /api/v1/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n")
        assert answer(held[0])[0] == 200  # those let in keep working
        held.pop().close()
        time.sleep(0.2)
        again = raw(port, "GET /api/v1/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n")
        assert answer(again)[0] == 200  # a closed one frees its place
        for sock in [*held, other, again]:
            sock.close()
    refusals = [r for r in caplog.records if "TOO_MANY_CONNECTIONS" in r.getMessage()]
    assert len(refusals) == 1 and "127.0.0.1" in refusals[0].getMessage()
