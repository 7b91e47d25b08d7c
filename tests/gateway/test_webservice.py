"""The web-service channel over a real HTTP server: private_key_jwt tokens, file PUT, return files; httpx and curl."""

import base64
import socket
import subprocess
import time
import uuid

import httpx
import jwt
import pytest

from tests.gateway.harness import build

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def assertion(harness, kit, *, key=None, aud=None, iss=None, sub=None, exp_in=120, jti=None, alg="RS256"):
    now = int(time.time())
    subject = f"self-service:expeditor:{kit.number}"
    claims = {"iss": iss or subject, "sub": sub or subject, "aud": aud or f"{harness.http_url}/REST/oauth/v5/token",
              "iat": now, "exp": now + exp_in, "jti": jti or uuid.uuid4().hex}
    return jwt.encode(claims, key or kit.certificate.key, algorithm=alg)


def token_call(harness, signed):
    return httpx.post(f"{harness.http_url}/REST/oauth/v5/token", timeout=10, data={
        "grant_type": "client_credentials", "client_assertion_type": JWT_BEARER, "client_assertion": signed})


def bearer(harness, kit) -> dict:
    response = token_call(harness, assertion(harness, kit))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] <= 600
    return {"Authorization": f"Bearer {body['access_token']}"}


def put_files(harness, headers, sub, env="T"):
    results = []
    for _, name, data in sub.files:
        results.append(httpx.put(f"{harness.http_url}/REST/batch/v1/{env}/files/{name}", content=data,
                                 headers=headers, timeout=30))
    return results


def test_token_then_submission_then_acrf(harness, kit):
    headers = bearer(harness, kit)
    responses = put_files(harness, headers, build(kit))
    assert [r.status_code for r in responses] == [201, 201, 201]
    assert len(responses[0].json()["sha256"]) == 64
    assert harness.wait_acrf(kit, channel="SFTP").findtext("ResultCode") == "1"  # DMFA prefers SFTP


@pytest.mark.parametrize("case", ["stranger key", "audience", "expired", "lifetime", "iss", "sub", "garbage",
                                  "replay", "unknown sender"])
def test_token_refusals(harness, kit, case):
    if case == "stranger key":
        signed = assertion(harness, kit, key=kit.stranger.key)
    elif case == "audience":
        signed = assertion(harness, kit, aud="https://elsewhere/token")
    elif case == "expired":
        signed = assertion(harness, kit, exp_in=-120)
    elif case == "lifetime":
        signed = assertion(harness, kit, exp_in=3600)
    elif case == "iss":
        signed = assertion(harness, kit, iss=kit.number, sub=kit.number)
    elif case == "sub":
        signed = assertion(harness, kit, sub="self-service:expeditor:000000")
    elif case == "garbage":
        signed = "not.a.jwt"
    elif case == "unknown sender":
        signed = assertion(harness, kit, iss="self-service:expeditor:000001", sub="self-service:expeditor:000001")
    else:
        signed = assertion(harness, kit, jti="once")
        assert token_call(harness, signed).status_code == 200
    response = token_call(harness, signed)
    assert response.status_code == 401, response.text
    expected = "ASSERTION_REPLAYED" if case == "replay" else "ASSERTION_INVALID"
    assert response.json()["error"]["code"] == expected


def test_put_refusals(harness, kit):
    headers = bearer(harness, kit)
    url = f"{harness.http_url}/REST/batch/v1"

    def code(response):
        return response.status_code, response.json()["error"]["code"]

    assert code(httpx.put(f"{url}/T/files/readme.txt", content=b"x", headers=headers)) == (400, "FILE_NAME_INVALID")
    name = f"FI.DMFA.{kit.number}.20261127.00001.T.1.1"
    assert code(httpx.put(f"{url}/X/files/{name}", content=b"x", headers=headers)) == (400, "ENVIRONMENT_INVALID")
    assert httpx.put(f"{url}/T/files/{name}", content=b"x", headers=headers).status_code == 201
    assert code(httpx.put(f"{url}/T/files/{name}", content=b"x", headers=headers)) == (409, "FILE_ALREADY_RECEIVED")
    assert code(httpx.put(f"{url}/T/files/..%2F..%2Fetc%2Fpasswd", content=b"x", headers=headers))[0] in (400, 404)
    assert code(httpx.put(f"{url}/T/files/{name}", content=b"x")) == (401, "TOKEN_INVALID")
    assert code(httpx.put(f"{url}/T/files/{name}", content=b"x", headers={"Authorization": "Bearer nope"})) == \
        (401, "TOKEN_INVALID")
    harness.gateway.settings.max_file_mb = 1
    big = f"FI.DMFA.{kit.number}.20261127.00002.T.1.1"
    assert code(httpx.put(f"{url}/T/files/{big}", content=b"x" * (2 << 20), headers=headers)) == \
        (413, "FILE_TOO_LARGE")


def test_returns_listed_read_and_picked_up(harness, kit):
    headers = bearer(harness, kit)
    put_files(harness, headers, build(kit, app="ZIMA", content=b"risk declaration"))  # ZIMA prefers WS
    harness.wait_acrf(kit, channel="WS")
    listing = httpx.get(f"{harness.http_url}/REST/batch/v1/T/returns", headers=headers).json()["items"]
    names = [i["name"] for i in listing]
    fo = next(n for n in names if n.startswith("FO.ACRF."))
    assert {n[:2] for n in names} == {"FO", "FS", "GO"}
    content = httpx.get(f"{harness.http_url}/REST/batch/v1/T/returns/{fo}", headers=headers)
    assert content.status_code == 200 and b"<ResultCode>1</ResultCode>" in content.content
    assert httpx.delete(f"{harness.http_url}/REST/batch/v1/T/returns/{fo}", headers=headers).status_code == 204
    assert httpx.get(f"{harness.http_url}/REST/batch/v1/T/returns/{fo}", headers=headers).status_code == 404


def test_curl_upload(harness, kit, tmp_path):
    headers = bearer(harness, kit)
    sub = build(kit, seq="0CURL")
    for _, name, data in sub.files:
        (tmp_path / name).write_bytes(data)
        result = subprocess.run(["curl", "-sS", "-f", "-T", str(tmp_path / name), "-H",
                                 f"Authorization: {headers['Authorization']}",
                                 f"{harness.http_url}/REST/batch/v1/T/files/{name}"],
                                capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stderr
    assert harness.wait_acrf(kit).findtext("ResultCode") == "1"


def test_a_cut_body_keeps_nothing(harness, kit, db):
    headers = bearer(harness, kit)
    name = f"FI.DMFA.{kit.number}.20261127.0000C.T.1.1"
    host, port = harness.http_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.sendall(f"PUT /REST/batch/v1/T/files/{name} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
                    f"Authorization: {headers['Authorization']}\r\n\r\n".encode() + b"x" * 1000)
        time.sleep(0.5)  # read by the app (uvicorn drops what it holds unread once the client is gone)
    deadline = time.monotonic() + 10
    from sqlalchemy import select

    from store.models import TransferEvent

    while True:
        with db.session() as session:
            rows = list(session.execute(select(TransferEvent.result, TransferEvent.size)
                                        .where(TransferEvent.file_name == name)))
        if ("incomplete", 1000) in rows:  # the bytes that came (it said 0: the last ones were not counted)
            break
        assert time.monotonic() < deadline, rows
        time.sleep(0.05)
    assert list((harness.home(kit, "WS") / "INTEST").iterdir()) == []


def test_go_answer_names_the_ticket_and_where_the_acrf_goes_and_openssl_verifies_it(harness, kit, tmp_path):
    headers = bearer(harness, kit)
    go = put_files(harness, headers, build(kit, seq="0TICK"))[-1]  # DMFA prefers SFTP
    assert go.status_code == 201, go.text
    answer = go.json()
    acrf = harness.wait_acrf(kit, channel="SFTP")
    assert answer["acrf_channel"] == "SFTP" and answer["ticket"] == acrf.findtext("ReferenceNbr")
    assert len(answer["ticket"]) == 13 and acrf.findtext("FileName") == answer["name"]
    published = httpx.get(f"{harness.http_url}/api/v1/gateway/certificate", timeout=10)  # no token
    assert published.status_code == 200 and published.text.startswith("-----BEGIN CERTIFICATE-----")
    (tmp_path / "gateway.pem").write_bytes(published.content)
    fo = harness.acrfs(kit, "SFTP")[-1]
    (tmp_path / "acrf.p7s").write_bytes(base64.b64decode((fo.parent / ("FS" + fo.name[2:])).read_bytes()))

    def openssl_verify(content):
        return subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in",
                               str(tmp_path / "acrf.p7s"), "-content", str(content), "-CAfile",
                               str(tmp_path / "gateway.pem"), "-out", "/dev/null"],
                              capture_output=True, text=True, timeout=30)

    verified = openssl_verify(fo)
    assert verified.returncode == 0 and "Verification successful" in verified.stderr, verified.stderr
    (tmp_path / "altered").write_bytes(fo.read_bytes().replace(b"<ResultCode>1", b"<ResultCode>0"))
    assert openssl_verify(tmp_path / "altered").returncode != 0
