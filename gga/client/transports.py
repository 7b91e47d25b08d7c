"""One interface, three protocols: upload a file, list, read and pick up (delete) return files.

Server identity, trust on first use: the SFTP host key is kept in ``known_hosts`` and the FTPS certificate's SHA-256
in ``known_ftps.json``, both next to SENDER.json; a later change is refused (remove the entry to accept a new key).
``--ca FILE`` instead verifies the FTPS certificate against FILE (e.g. the demo's ``<data>/keys/tls.pem``); the host
name is then not checked, as the gateway's self-made certificate names ``localhost`` only.
"""

from __future__ import annotations

import ftplib
import hashlib
import io
import json
import ssl
import time
import uuid
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

import httpx
import jwt
import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gga.client.errors import Refused, TransportError
from gga.client.profile import SenderProfile

UPLOAD_FOLDERS = {"R": "IN", "T": "INTEST", "S": "INTEST-S"}
RETURN_FOLDERS = {"R": "OUT", "T": "OUTTEST", "S": "OUTTEST-S"}
TIMEOUT_S = 20
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_PATH = "/REST/oauth/v5/token"  # noqa: S105 (a URL path)


class Transport(Protocol):
    channel: str  # sftp, ftps or ws

    def upload(self, environment: str, name: str, data: bytes) -> dict[str, Any]:
        """Store one file; the server's answer (the web service's JSON; {} elsewhere). Refused: a rule said no."""

    def returns(self, environment: str) -> list[str]: ...

    def read(self, environment: str, name: str) -> bytes: ...

    def delete(self, environment: str, name: str) -> None: ...

    def close(self) -> None: ...


def open_transport(profile: SenderProfile, channel: str, ca: Path | None = None) -> Transport:
    """Connected and logged in; TransportError when it cannot be."""
    if not profile.can_use(channel):
        raise TransportError(f"SENDER.json has no credentials or endpoint for {channel}")
    opener = {"sftp": SFTPTransport, "ftps": lambda p: FTPSTransport(p, ca), "ws": WebServiceTransport}[channel]
    return opener(profile)


class _TrustOnFirstUse(paramiko.MissingHostKeyPolicy):
    """An unknown server's key is written to known_hosts; a known server with another key is refused by paramiko."""

    def __init__(self, known_hosts: Path):
        self.known_hosts = known_hosts

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        client.get_host_keys().add(hostname, key.get_name(), key)
        client.save_host_keys(str(self.known_hosts))


class SFTPTransport:
    channel = "sftp"

    def __init__(self, profile: SenderProfile):
        host, port = profile.endpoint("sftp")
        self.ssh = paramiko.SSHClient()
        known_hosts = profile.folder / "known_hosts"
        known_hosts.touch(exist_ok=True)
        self.ssh.load_host_keys(str(known_hosts))
        self.ssh.set_missing_host_key_policy(_TrustOnFirstUse(known_hosts))
        key = profile.ssh_private_key
        try:
            self.ssh.connect(host, port, username=profile.technical_user, timeout=TIMEOUT_S, banner_timeout=TIMEOUT_S,
                             auth_timeout=TIMEOUT_S, key_filename=str(key) if key else None,
                             password=None if key else profile.password, look_for_keys=False, allow_agent=False)
            self.sftp = self.ssh.open_sftp()
        except (paramiko.SSHException, OSError, EOFError) as exc:
            self.ssh.close()
            raise TransportError(f"SFTP {host}:{port}: {exc}") from exc
        self.sftp.get_channel().settimeout(TIMEOUT_S)  # type: ignore[union-attr]

    def upload(self, environment: str, name: str, data: bytes) -> dict[str, Any]:
        try:
            self.sftp.putfo(io.BytesIO(data), f"/{UPLOAD_FOLDERS[environment]}/{name}", confirm=False)
        except (paramiko.SSHException, EOFError, ConnectionError, TimeoutError) as exc:
            raise TransportError(f"SFTP: {exc!r}") from exc
        except OSError as exc:  # an SFTP status answer: the gateway refused the file
            raise Refused(f"{name}: {exc}") from exc
        return {}

    def returns(self, environment: str) -> list[str]:
        return self._call(self.sftp.listdir, f"/{RETURN_FOLDERS[environment]}")

    def read(self, environment: str, name: str) -> bytes:
        buffer = io.BytesIO()
        self._call(self.sftp.getfo, f"/{RETURN_FOLDERS[environment]}/{name}", buffer)
        return buffer.getvalue()

    def delete(self, environment: str, name: str) -> None:
        self._call(self.sftp.remove, f"/{RETURN_FOLDERS[environment]}/{name}")

    def _call(self, action, *args):  # type: ignore[no-untyped-def]
        try:
            return action(*args)
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise TransportError(f"SFTP: {exc!r}") from exc

    def close(self) -> None:
        self.ssh.close()


class FTPSTransport:
    """Explicit FTPS (AUTH TLS), the data connections protected too (PROT P), passive mode."""

    channel = "ftps"

    def __init__(self, profile: SenderProfile, ca: Path | None):
        host, port = profile.endpoint("ftp")
        context = ssl.create_default_context(cafile=str(ca)) if ca else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False  # see the module's docstring
        if ca is None:
            context.verify_mode = ssl.CERT_NONE  # the certificate is pinned below instead
        self.ftp = ftplib.FTP_TLS(context=context, timeout=TIMEOUT_S)  # noqa: S321 (explicit FTPS, PROT P)
        try:
            self.ftp.connect(host, port)
            self.ftp.auth()
            if ca is None:
                _pin(profile.folder / "known_ftps.json", f"{host}:{port}", self.ftp.sock.getpeercert(binary_form=True))
            self.ftp.login(profile.technical_user, profile.password or "")
            self.ftp.prot_p()
        except (ftplib.Error, OSError, EOFError) as exc:
            self.close()
            raise TransportError(f"FTPS {host}:{port}: {exc}") from exc

    def upload(self, environment: str, name: str, data: bytes) -> dict[str, Any]:
        try:
            self.ftp.storbinary(f"STOR /{UPLOAD_FOLDERS[environment]}/{name}", io.BytesIO(data))
        except (ftplib.error_perm, ftplib.error_temp) as exc:
            raise Refused(f"{name}: {exc}") from exc
        except (ftplib.Error, OSError, EOFError) as exc:
            raise TransportError(f"FTPS: {exc!r}") from exc
        return {}

    def returns(self, environment: str) -> list[str]:
        try:
            return [PurePosixPath(n).name for n in self.ftp.nlst(f"/{RETURN_FOLDERS[environment]}")]
        except ftplib.error_perm as exc:
            if str(exc).startswith("550"):  # some servers answer an empty folder's NLST so
                return []
            raise TransportError(f"FTPS: {exc!r}") from exc
        except (ftplib.Error, OSError, EOFError) as exc:
            raise TransportError(f"FTPS: {exc!r}") from exc

    def read(self, environment: str, name: str) -> bytes:
        buffer = io.BytesIO()
        self._call(self.ftp.retrbinary, f"RETR /{RETURN_FOLDERS[environment]}/{name}", buffer.write)
        return buffer.getvalue()

    def delete(self, environment: str, name: str) -> None:
        self._call(self.ftp.delete, f"/{RETURN_FOLDERS[environment]}/{name}")

    def _call(self, action, *args):  # type: ignore[no-untyped-def]
        try:
            return action(*args)
        except (ftplib.Error, OSError, EOFError) as exc:
            raise TransportError(f"FTPS: {exc!r}") from exc

    def close(self) -> None:
        try:
            self.ftp.quit()
        except (ftplib.Error, OSError, EOFError, AttributeError):
            self.ftp.close()


def _pin(path: Path, server: str, der: bytes | None) -> None:
    """Trust on first use: remember the server certificate's SHA-256; refuse another one later."""
    seen = hashlib.sha256(der or b"").hexdigest()
    pins = json.loads(path.read_text()) if path.exists() else {}
    if server in pins and pins[server] != seen:
        raise TransportError(f"the FTPS certificate of {server} changed (SHA-256 {seen}, pinned {pins[server]} in "
                             f"{path}); remove that entry if the change is expected")
    if server not in pins:
        pins[server] = seen
        path.write_text(json.dumps(pins, indent=2) + "\n")


def client_assertion(profile: SenderProfile, audience: str) -> str:
    """RFC 7523 private_key_jwt: iss = sub = self-service:expeditor:<sender>, aud = the token URL, signed by the
    WS certificate's key (RS256, or ES256 for an EC key), short-lived and used once (jti)."""
    assert profile.certificate_key is not None
    key = serialization.load_pem_private_key(profile.certificate_key.read_bytes(), password=None)
    subject = f"self-service:expeditor:{profile.sender_number}"
    now = int(time.time())
    claims = {"iss": subject, "sub": subject, "aud": audience, "iat": now, "exp": now + 60, "jti": uuid.uuid4().hex}
    return jwt.encode(claims, key, algorithm="ES256" if isinstance(key, ec.EllipticCurvePrivateKey) else "RS256")


class WebServiceTransport:
    channel = "ws"

    def __init__(self, profile: SenderProfile):
        self.http = httpx.Client(base_url=profile.http, timeout=TIMEOUT_S)
        try:
            answer = self.http.post(TOKEN_PATH, data={
                "grant_type": "client_credentials", "client_assertion_type": JWT_BEARER,
                "client_assertion": client_assertion(profile, profile.http + TOKEN_PATH)})
        except httpx.HTTPError as exc:
            self.close()
            raise TransportError(f"web service {profile.http}: {exc!r}") from exc
        if answer.status_code != 200:
            self.close()
            raise TransportError(f"web service token refused: {answer.status_code} {_error(answer)}")
        self.http.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"

    def upload(self, environment: str, name: str, data: bytes) -> dict[str, Any]:
        answer = self._call("PUT", f"/REST/batch/v1/{environment}/files/{name}", content=data)
        return answer.json()

    def returns(self, environment: str) -> list[str]:
        return [item["name"] for item in self._call("GET", f"/REST/batch/v1/{environment}/returns").json()["items"]]

    def read(self, environment: str, name: str) -> bytes:
        return self._call("GET", f"/REST/batch/v1/{environment}/returns/{name}").content

    def delete(self, environment: str, name: str) -> None:
        self._call("DELETE", f"/REST/batch/v1/{environment}/returns/{name}")

    def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            answer = self.http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise TransportError(f"web service: {exc!r}") from exc
        if answer.status_code >= 500 or answer.status_code == 401:
            raise TransportError(f"web service: {answer.status_code} {_error(answer)}")
        if answer.status_code >= 400:
            raise Refused(f"{url.rpartition('/')[2]}: {_error(answer)}")
        return answer

    def close(self) -> None:
        self.http.close()


def _error(answer: httpx.Response) -> str:
    try:
        error = answer.json()["error"]
        return f"{error['code']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        return answer.text[:200]
