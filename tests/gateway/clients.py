"""One face for the three protocols, so a scenario table runs unchanged over SFTP, FTPS and the web service."""

from __future__ import annotations

import ftplib
import io
import ssl
import time
import uuid

import httpx
import jwt

from tests.gateway.harness import GatewayHarness, SenderKit, Submission, put

ENV_OF_FOLDER = {"IN": "R", "INTEST": "T", "INTEST-S": "S"}


class LoginRefused(Exception):
    pass


class SFTPChannel:
    name = "SFTP"

    def __init__(self, harness: GatewayHarness, kit: SenderKit):
        self.harness, self.kit = harness, kit

    def upload(self, sub: Submission, password: str | None = None) -> list[str]:
        import asyncssh

        try:
            return put(self.harness.port, self.kit, sub, password=password)
        except (asyncssh.PermissionDenied, asyncssh.DisconnectError) as exc:
            raise LoginRefused(str(exc)) from exc


class FTPSChannel:
    name = "FTP"

    def __init__(self, harness: GatewayHarness, kit: SenderKit):
        self.harness, self.kit = harness, kit

    def upload(self, sub: Submission, password: str | None = None) -> list[str]:
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        ftp = ftplib.FTP_TLS(context=context)
        ftp.connect("127.0.0.1", self.harness.ftp_port, timeout=20)
        try:
            ftp.auth()
            try:
                ftp.login(self.kit.technical_user, password or self.kit.password)
            except ftplib.error_perm as exc:
                raise LoginRefused(str(exc)) from exc
            ftp.prot_p()
            errors = []
            for folder, name, data in sub.files:
                try:
                    ftp.storbinary(f"STOR /{folder}/{name}", io.BytesIO(data))
                except ftplib.Error as exc:
                    errors.append(f"{name}: {exc}")
            return errors
        finally:
            ftp.close()


class WebServiceChannel:
    name = "WS"

    def __init__(self, harness: GatewayHarness, kit: SenderKit):
        self.harness, self.kit = harness, kit

    def token(self, key=None) -> str:  # type: ignore[no-untyped-def]
        subject = f"self-service:expeditor:{self.kit.number}"
        now = int(time.time())
        signed = jwt.encode({"iss": subject, "sub": subject, "aud": f"{self.harness.http_url}/REST/oauth/v5/token",
                             "iat": now, "exp": now + 120, "jti": uuid.uuid4().hex},
                            key or self.kit.certificate.key, algorithm="RS256")
        response = httpx.post(f"{self.harness.http_url}/REST/oauth/v5/token", timeout=10, data={
            "grant_type": "client_credentials", "client_assertion": signed,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"})
        if response.status_code != 200:
            raise LoginRefused(response.text)
        return response.json()["access_token"]

    def upload(self, sub: Submission, password: str | None = None) -> list[str]:
        token = self.token(self.kit.stranger.key if password else None)  # "wrong credentials": a foreign key
        errors = []
        for folder, name, data in sub.files:
            env = ENV_OF_FOLDER.get(folder, "X")
            response = httpx.put(f"{self.harness.http_url}/REST/batch/v1/{env}/files/{name}", content=data,
                                 headers={"Authorization": f"Bearer {token}"}, timeout=30)
            if response.status_code != 201:
                errors.append(f"{name}: {response.json()['error']['code']}")
        return errors


CHANNELS = {"SFTP": SFTPChannel, "FTP": FTPSChannel, "WS": WebServiceChannel}
