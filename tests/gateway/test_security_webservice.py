"""Issue 12 on the web-service channel, over the harness's real HTTP server: the token audience comes from
configuration, never from the Host header (point 8); sender input is parsed off the event loop (point 2); the
upload's own limit answers before the body is read, and only the upload escapes the small body limit (point 5)."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid

import httpx
import jwt
import pytest

from gga.demo import seed
from tests.gateway.harness import today

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_PATH = "/REST/oauth/v5/token"


def signed(kit, aud: str) -> str:
    now, subject = int(time.time()), f"self-service:expeditor:{kit.number}"
    return jwt.encode({"iss": subject, "sub": subject, "aud": aud, "iat": now, "exp": now + 120,
                       "jti": uuid.uuid4().hex}, kit.certificate.key, algorithm="RS256")


def token_call(harness, assertion: str, host: str | None = None) -> httpx.Response:
    return httpx.post(f"{harness.http_url}{TOKEN_PATH}", timeout=10, headers={"Host": host} if host else None, data={
        "grant_type": "client_credentials", "client_assertion_type": JWT_BEARER, "client_assertion": assertion})


def bearer(harness, kit) -> dict[str, str]:
    response = token_call(harness, signed(kit, harness.http_url + TOKEN_PATH))
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def code(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


# -- point 8: the audience ---------------------------------------------------------------------------------------
def test_an_assertion_for_the_host_header_the_client_chose_gets_no_token(harness, kit):
    response = token_call(harness, signed(kit, f"http://evil.example{TOKEN_PATH}"), host="evil.example")
    assert code(response) == (401, "ASSERTION_INVALID")


def test_a_wrong_client_assertion_type_is_named_as_such(harness, kit):
    """It was refused naming grant_type, which was right (found by an outside test helper)."""
    for form, field in (({"client_assertion_type": "x"}, "client_assertion_type"), ({"grant_type": "password"},
                                                                                   "grant_type")):
        answer = httpx.post(f"{harness.http_url}{TOKEN_PATH}", timeout=10, data={
            "grant_type": "client_credentials", "client_assertion_type": JWT_BEARER, "client_assertion": "x"} | form)
        error = answer.json()["error"]
        assert (answer.status_code, error["code"], error["details"]["field"]) == (422, "VALIDATION_ERROR", field)
        assert error["message"].startswith(f"{field} must be"), error


def test_web_service_errors_speak_the_language_asked_english_otherwise(harness, kit):
    """They spoke English whatever the caller asked (found by an outside test helper); a machine channel's default
    stays English."""
    said = {}
    for asked in (None, "fr-BE,fr;q=0.9", "nl", "de"):
        answer = httpx.put(f"{harness.http_url}/REST/batch/v1/T/files/hello.txt", content=b"x", timeout=10,
                           headers=bearer(harness, kit) | ({"Accept-Language": asked} if asked else {}))
        assert answer.json()["error"]["code"] == "FILE_NAME_INVALID", answer.text
        said[asked] = answer.json()["error"]["message"]
    assert said[None] == said["de"] != said["fr-BE,fr;q=0.9"] != said["nl"] != said[None]


def test_the_configured_public_url_is_the_audience(harness, kit):
    configured = harness.gateway.settings.resolved_public_url  # unset: http://<GGA_HTTP_BIND>
    assert configured == f"http://{harness.gateway.settings.http_bind}"
    assert token_call(harness, signed(kit, configured + TOKEN_PATH), host="evil.example").status_code == 200


def test_behind_a_proxy_gga_public_url_is_accepted_and_the_socket_address_no_longer(harness, kit):
    harness.gateway.settings.public_url = "https://gga.example.test/"
    try:
        accepted = token_call(harness, signed(kit, f"https://gga.example.test{TOKEN_PATH}"))
        assert accepted.status_code == 200, accepted.text  # though the request went to 127.0.0.1
        direct = token_call(harness, signed(kit, f"{harness.http_url}{TOKEN_PATH}"))
        assert code(direct) == (401, "ASSERTION_INVALID")
    finally:
        harness.gateway.settings.public_url = None


def test_the_demo_tells_senders_the_public_url(services, data_dir):
    services.settings.public_url = "https://gga.example.test"
    info = seed(services)
    written = json.loads((data_dir / "demo" / "sender.json").read_text())
    assert written["endpoints"] == info["endpoints"] == {
        "sftp": services.settings.sftp_bind, "ftp": services.settings.ftp_bind, "http": "https://gga.example.test"}
    howto = (data_dir / "demo" / "README.txt").read_text()
    assert f"https://gga.example.test{TOKEN_PATH}" in howto and "127.0.0.1:8080" not in howto


# -- point 2: off the event loop ---------------------------------------------------------------------------------
def test_the_assertion_is_verified_on_a_worker_thread_while_the_loop_serves_others(harness, kit):
    threads: list[int] = []
    entered, release = threading.Event(), threading.Event()
    verify = harness.gateway.auth.assertion

    def held_verify(*args):  # type: ignore[no-untyped-def]
        threads.append(threading.get_ident())
        entered.set()
        release.wait(10)  # as a costly parse would: only this request waits
        return verify(*args)

    harness.gateway.auth.assertion = held_verify
    result: list[httpx.Response] = []
    caller = threading.Thread(target=lambda: result.append(token_call(
        harness, signed(kit, f"{harness.http_url}{TOKEN_PATH}"))))
    try:
        caller.start()
        assert entered.wait(5)
        # answered while the verification is still held (on the loop, it would wait for it and time out)
        assert httpx.get(f"{harness.http_url}/api/v1/openapi.json", timeout=5).status_code == 200
    finally:
        release.set()
        caller.join(10)
        del harness.gateway.auth.assertion
    assert result[0].status_code == 200
    assert threads == [threads[0]] and threads[0] != harness.thread.ident  # not the event loop's thread


# -- point 5: bodies ---------------------------------------------------------------------------------------------
def _head(harness, method: str, path: str, headers: dict[str, str]) -> tuple[int, dict]:
    """Send only a request's head; the status and JSON of the answer that comes without the body."""
    port = int(harness.http_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        lines = [f"{method} {path} HTTP/1.1", "Host: x", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
        sock.sendall("\r\n".join(lines).encode())
        data = b""
        while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < _length(data):
            chunk = sock.recv(65536)
            assert chunk, data
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def _length(data: bytes) -> int:
    head = data.partition(b"\r\n\r\n")[0].decode().lower()
    return next((int(line.split(":")[1]) for line in head.split("\r\n") if line.startswith("content-length")), 0)


def test_an_upload_over_its_application_limit_is_refused_before_the_body(harness, kit):
    headers = bearer(harness, kit)
    harness.gateway.settings.max_file_mb = 1
    name = f"FI.DMFA.{kit.number}.{today()}.00007.T.1.1"
    status, body = _head(harness, "PUT", f"/REST/batch/v1/T/files/{name}",
                         headers | {"Content-Length": str(64 << 20)})
    assert (status, body["error"]["code"]) == (413, "FILE_TOO_LARGE")


def test_only_the_upload_streams_past_the_body_limit(harness, kit):
    harness.services.settings.http_max_body_kb = 4
    headers = bearer(harness, kit)
    name = f"FI.DMFA.{kit.number}.{today()}.00008.T.1.1"
    stored = httpx.put(f"{harness.http_url}/REST/batch/v1/T/files/{name}", content=b"<x/>" * 16384,
                       headers=headers, timeout=30)
    assert stored.status_code == 201 and stored.json()["size"] == 65536
    padded = httpx.post(f"{harness.http_url}{TOKEN_PATH}", timeout=10, data={
        "grant_type": "client_credentials", "client_assertion_type": JWT_BEARER, "client_assertion": "x",
        "scope": "s" * 8192})
    assert code(padded) == (413, "BODY_TOO_LARGE")
    status, body = _head(harness, "POST", TOKEN_PATH, {"Content-Length": str(48 << 20),
                                                       "Content-Type": "application/x-www-form-urlencoded"})
    assert (status, body["error"]["code"]) == (413, "BODY_TOO_LARGE")


def test_an_expired_certificate_left_registered_gets_no_token(harness, kit):
    """A rollover leaves the old certificate registered after it expired: its key bought tokens still (files it
    signs were refused, CERTIFICATE_EXPIRED)."""
    from tests.gateway.test_webservice import assertion, token_call

    refused = token_call(harness, assertion(harness, kit, key=kit.expired.key))
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "ASSERTION_INVALID", refused.text
    assert token_call(harness, assertion(harness, kit)).status_code == 200  # the current one still works


@pytest.mark.parametrize("limits", [{"defender_max_failures": 3}])
def test_a_banned_address_cannot_use_a_token_it_got_before_the_ban(harness, kit):
    from tests.gateway.test_defender import guess, sftp_login
    from tests.gateway.test_webservice import bearer

    headers = bearer(harness, kit)  # before the ban
    guess(harness.port, kit.technical_user, 6)
    assert sftp_login(harness, kit).startswith("ADDRESS_BANNED")
    listing = httpx.get(f"{harness.http_url}/REST/batch/v1/T/returns", headers=headers)
    name = f"FI.DMFA.{kit.number}.{today()}.00009.T.1.1"
    upload = httpx.put(f"{harness.http_url}/REST/batch/v1/T/files/{name}", content=b"x", headers=headers)
    assert [(r.status_code, r.json()["error"]["code"]) for r in (listing, upload)] == [
        (403, "ADDRESS_BANNED"), (403, "ADDRESS_BANNED")]


def _revoking_material():  # type: ignore[no-untyped-def]
    """A CA, a certificate it revoked, and its CRL on disk (made at import: the gateway reads CRLs at its start;
    removed when the test process ends)."""
    import atexit
    import shutil
    import tempfile
    from pathlib import Path

    from cryptography.hazmat.primitives import serialization

    from tests.keys import pki
    ca = pki.ca("Revoking CA")
    revoked = pki.sender("EXPgate001 revoked", issuer=ca)
    path = Path(tempfile.mkdtemp(prefix="gga-crl-")) / "revoked.crl"
    atexit.register(shutil.rmtree, path.parent, True)
    path.write_bytes(pki.crl(ca, revoked).public_bytes(serialization.Encoding.PEM))
    return revoked, path


REVOKED, REVOKED_CRL = _revoking_material()


@pytest.mark.parametrize("limits", [{"crl_files": [REVOKED_CRL]}])
def test_a_certificate_the_crl_revoked_gets_no_token(harness, kit):
    """The files a revoked certificate signs are refused (CERTIFICATE_REVOKED), but its key bought web-service
    tokens all the same: the assertion's certificate now meets the FS signatures' trust store and CRLs."""
    from admin_api.identity import Caller
    from admin_api.sender import service as senders
    from admin_api.sender.schemas import ChannelPatch
    from tests import factories
    from tests.gateway.test_webservice import assertion, token_call
    gap = factories.niss(1970, 4, 4, 44)
    with harness.services.db.session() as session:
        senders.update_channel(session, Caller(gap, "eid"), kit.domain_id, "WS",
                               ChannelPatch(add_certificate=REVOKED.cert_pem().decode()))
    refused = token_call(harness, assertion(harness, kit, key=REVOKED.key))
    assert (refused.status_code, refused.json()["error"]["code"]) == (401, "ASSERTION_INVALID"), refused.text
    assert token_call(harness, assertion(harness, kit)).status_code == 200  # the sender's other one still works


def _ws_return(harness, kit, content: bytes = b"0123456789" * 3) -> tuple[dict[str, str], str]:  # type: ignore[no-untyped-def]
    """A return file waiting in the web service's OUTTEST, and a bearer header to reach it."""
    from tests.gateway.test_webservice import bearer
    delivered = harness.gateway.returns.deliver(harness.gateway.directory.by_number(kit.number), "NOTI", "T",
                                                content, "WS", application="ZIMA")
    return bearer(harness, kit), f"{harness.http_url}/REST/batch/v1/T/returns/{delivered.name}"


def test_a_return_picked_up_by_another_client_mid_download_is_still_sent_whole(harness, kit, monkeypatch):
    """Starlette's file answer reopened the file by its path: a DELETE landing after the download opened it gave
    500 or a cut-off body. The download now reads the descriptor it opened."""
    headers, url = _ws_return(harness, kit)
    transfers = harness.gateway.transfers
    opened = transfers.open_download

    def then_deleted(session, path):  # type: ignore[no-untyped-def]
        download = opened(session, path)
        download.path.unlink()  # the other client's DELETE, right after this one opened it
        return download
    monkeypatch.setattr(transfers, "open_download", then_deleted)
    got = httpx.get(url, headers=headers, timeout=10)
    assert (got.status_code, got.content) == (200, b"0123456789" * 3)


def test_racing_pick_ups_answer_one_204_and_404s_never_500(harness, kit):
    headers, url = _ws_return(harness, kit)
    barrier, answers = threading.Barrier(4), []

    def delete() -> None:
        barrier.wait(10)
        answers.append(httpx.delete(url, headers=headers, timeout=10).status_code)
    threads = [threading.Thread(target=delete) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sorted(answers) == [204, 404, 404, 404], answers


def test_a_range_gets_the_whole_file_and_the_log_counts_its_bytes(harness, kit, db):
    """A multi-range answer was logged as a download of its 344 wire bytes (the file has 30), a bad Range as an
    'ok' download of its error text."""
    from tests.gateway.harness import log_rows
    headers, url = _ws_return(harness, kit)
    for spec in ("bytes=0-0,5-5,10-10", "bytes=abc"):
        got = httpx.get(url, headers=headers | {"Range": spec}, timeout=10)
        assert (got.status_code, got.content) == (200, b"0123456789" * 3), spec
    rows = log_rows(db, event="download", name=url.rsplit("/", 1)[1], count=2)
    assert [(r.result, r.size) for r in rows] == [("ok", 30), ("ok", 30)]


def test_odd_names_and_long_jtis_get_their_codes(harness, kit):
    from tests.gateway.test_webservice import assertion, bearer, token_call
    headers = bearer(harness, kit)
    for method in ("GET", "DELETE"):  # 300 characters: the file system refused it, a 500
        got = httpx.request(method, f"{harness.http_url}/REST/batch/v1/T/returns/{'A' * 300}", headers=headers)
        assert (got.status_code, got.json()["error"]["code"]) == (404, "FILE_NOT_FOUND"), got.text
    first = token_call(harness, assertion(harness, kit, jti="x" * 300 + "1"))
    assert (first.status_code, first.json()["error"]["code"]) == (401, "ASSERTION_INVALID")  # was: kept cut, and
    second = token_call(harness, assertion(harness, kit, jti="x" * 300 + "2"))  # another one then "replayed"
    assert second.json()["error"]["code"] == "ASSERTION_INVALID"
