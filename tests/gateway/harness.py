"""A running gateway for tests: real SFTP listener on 127.0.0.1 (own event loop thread), a real sender created
through the admin service, and builders for signed submissions."""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

import asyncssh
import uvicorn
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from defusedxml.ElementTree import fromstring as defused_fromstring
from sqlalchemy import func, select

from admin_api.http import Services
from admin_api.identity import Caller
from admin_api.registration.service import Designation, designate
from admin_api.registry import import_extract
from admin_api.sender import service as senders
from admin_api.sender.schemas import SenderIn
from gateway.core.gateway import Gateway
from gateway.ftp.server import FTPFrontEnd
from gateway.sftp.server import SFTPFrontEnd
from gga.http_limits import server_config
from gga.wiring import http_app
from kernel.catalogue import EMPLOYER_ONSS, applications_of_domain
from keys.certificates import describe
from keys.cms import fs_file, sign_detached
from keys.issuing import Issued
from store.database import Database
from store.models import ChannelCertificate, Domain, DomainApplication, Enterprise, Sender, SenderChannel, TransferEvent
from store.models import Submission as SubmissionRow
from tests import factories
from tests.admin_api.senders import CONTACT, PASSWORD
from tests.keys import pki

TECHNICAL_USER = "EXPgate001"
DMFA_XML = b"<?xml version='1.0'?><DmfAOriginal><Form><Identification>DMFA</Identification></Form></DmfAOriginal>"


@dataclass
class SenderKit:
    number: str
    technical_user: str
    password: str
    ssh_key_path: Path
    ssh_key: ed25519.Ed25519PrivateKey
    certificate: Issued
    expired: Issued
    stranger: Issued  # a certificate the gateway does not know
    domain_id: int


@dataclass
class Submission:
    files: list[tuple[str, str, bytes]] = field(default_factory=list)  # (folder, name, content)

    @property
    def go(self) -> str:
        return next(n for _, n, _ in self.files if n.startswith("GO."))


@functools.cache
def _material() -> tuple[ed25519.Ed25519PrivateKey, Issued, Issued, Issued]:
    """SSH key, signing certificate, an expired one and a foreign one: made once per run (RSA is slow)."""
    ca = pki.ca("Gateway test CA")
    now = datetime.now(UTC)
    return (ed25519.Ed25519PrivateKey.generate(), pki.sender("EXPgate001 signing", issuer=ca),
            pki.sender("EXPgate001 old", issuer=ca, not_before=now - timedelta(days=800),
                       not_after=now - timedelta(days=1)),
            pki.sender("stranger", issuer=ca))


def _passive_ports() -> str:
    """A free-looking range per test process (parallel runs must not share one)."""
    import os

    low = 40000 + (os.getpid() % 200) * 100
    return f"{low}-{low + 99}"


def today() -> str:
    return datetime.now(UTC).strftime("%Y%m%d")


def build(kit: SenderKit, *, app: str = "DMFA", env: str = "T", seq: str = "00001", parts: int = 1,
          content: bytes = DMFA_XML, signer: Issued | None = None, folder: str | None = None, day: str | None = None,
          sender: str | None = None, sign: bool = True, digest: hashes.HashAlgorithm | None = None) -> Submission:
    folder = folder or {"R": "IN", "T": "INTEST", "S": "INTEST-S"}.get(env, "INTEST")
    base = f"{app}.{sender or kit.number}.{day or today()}.{seq}.{env}"
    sub = Submission()
    for n in range(1, parts + 1):
        data = content if parts == 1 else content + f"<!-- part {n} -->".encode()
        sub.files.append((folder, f"FI.{base}.{parts}.{n}", data))
        if sign:
            der = sign_detached(data, (signer or kit.certificate).certificate, (signer or kit.certificate).key,
                                digest)
            sub.files.append((folder, f"FS.{base}.{parts}.{n}", fs_file(der)))
    sub.files.append((folder, f"GO.{base}.{parts}", b""))
    return sub


class GatewayHarness:
    def __init__(self, services: Services):
        self.services = services
        self.settings = services.settings.model_copy(update={"sftp_bind": "127.0.0.1:0", "ftp_bind": "127.0.0.1:0",
                                                             "ftp_passive_ports": _passive_ports()})
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None
        self.gateway: Gateway | None = None
        self.port = 0

    def start(self) -> GatewayHarness:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.gateway = Gateway.build(self.settings, self.services.db, self.services.passwords)
        self.services.returns = self.gateway
        self.gateway.clear_last_stop()  # as gga serve: before any endpoint listens
        self.sftp = SFTPFrontEnd(self.gateway)
        address = self.sftp.start()
        self.port = int(address.rsplit(":", 1)[1])
        self.ftp = FTPFrontEnd(self.gateway)
        self.ftp_port = int(self.ftp.start().rsplit(":", 1)[1])
        self.http = uvicorn.Server(server_config(http_app(self.services, self.gateway), self.settings, "127.0.0.1", 0))
        self.http.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self.http_task = asyncio.run_coroutine_threadsafe(self.http.serve(), self.loop)
        deadline = time.monotonic() + 15
        while not self.http.started:
            assert time.monotonic() < deadline and not self.http_task.done(), "HTTP server did not start"
            time.sleep(0.01)
        self.http_url = f"http://127.0.0.1:{self.http.servers[0].sockets[0].getsockname()[1]}"
        self.gateway.start(clear=False)
        return self

    def stop(self) -> None:
        assert self.loop is not None and self.thread is not None and self.gateway is not None
        self.sftp.stop()
        self.ftp.stop()
        self.http.should_exit = True
        self.http_task.result(15)
        self.gateway.close()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    # -- the sender ------------------------------------------------------------------------------------------
    def make_sender(self, domain_id: int, gap_niss: str, folder: Path) -> SenderKit:
        key, cert, expired, stranger = _material()
        key_path = folder / "id_ed25519"
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                               serialization.NoEncryption()))
        key_path.chmod(0o600)
        public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                               serialization.PublicFormat.OpenSSH).decode()
        pem = cert.cert_pem().decode()
        channels = [
            # DMFA, DIMN and ZIMA on every channel, preferred on SFTP, FTP and WS; CHTP only on FTP, WECH only on WS
            {"type": "SFTP", "certificate": pem, "ssh_public_key": public,
             "applications": [{"code": "DMFA", "preferred": True}, {"code": "DIMN"}, {"code": "ZIMA"}]},
            {"type": "FTP", "certificate": pem,
             "applications": [{"code": "DIMN", "preferred": True}, {"code": "CHTP"}, {"code": "DMFA"},
                              {"code": "ZIMA"}]},
            {"type": "WS", "certificate": pem, "applications": [{"code": "DMFA"}, {"code": "ZIMA", "preferred": True},
                                                                 {"code": "DIMN"}, {"code": "WECH"}]},
        ]
        with self.services.db.session() as session:
            view = senders.create(session, Caller(gap_niss, "eid"), domain_id, SenderIn.model_validate({
                "contact": CONTACT, "technical_user": TECHNICAL_USER, "password": PASSWORD, "channels": channels}),
                self.services.passwords)
        with self.services.db.session() as session:  # registered while it was valid: the API refuses it now
            info = describe(expired.certificate)
            for channel in session.scalars(select(SenderChannel).join(Sender).where(
                    Sender.number == view["sender_number"])):
                channel.certificates.append(ChannelCertificate(
                    pem=expired.cert_pem().decode(), fingerprint=info.fingerprint_sha256, not_after=info.expires))
        return SenderKit(view["sender_number"], TECHNICAL_USER, PASSWORD, key_path, key, cert, expired, stranger,
                         domain_id)

    # -- files on disk -----------------------------------------------------------------------------------------
    def home(self, kit: SenderKit, channel: str = "SFTP") -> Path:
        assert self.gateway is not None
        return self.gateway.spool.home(kit.number, channel)

    def acrfs(self, kit: SenderKit, channel: str = "SFTP", folder: str = "OUTTEST") -> list[Path]:
        return sorted((self.home(kit, channel) / folder).glob("FO.ACRF.*"))

    def wait_acrf(self, kit: SenderKit, channel: str = "SFTP", folder: str = "OUTTEST", count: int = 1,
                  timeout: float = 15) -> ET.Element:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = sorted((self.home(kit, channel) / folder).glob("GO.ACRF.*"), key=lambda p: p.stat().st_mtime)
            if len(done) >= count:
                fo = done[-1].parent / ("FO" + done[-1].name[2:])
                wait_answered(self.services.db, fo.name, deadline - time.monotonic())
                return defused_fromstring(fo.read_bytes())
            time.sleep(0.05)
        raise AssertionError(f"no ACRF #{count} in {channel}/{folder} within {timeout}s")


def seed_sender(db: Database, services: Services, folder: Path, enterprise: int = 909090) -> SenderKit:
    """An enterprise, its GAP, one "Employeur ONSS" domain and the gateway test sender, straight to the database
    (no server: the caller starts what it needs)."""
    number, gap = factories.enterprise_number(enterprise), factories.niss(1972, 9, 9, 99)
    with db.session() as session:
        import_extract(session, factories.registry_extract({number: [gap]}, {gap: ("Kim", "Killer")}))
        designate(session, Caller(gap, "eid"), session.get(Enterprise, number),
                  Designation(gap, "k@k.be", "021111111", gap, "k@k.be", "021111111"))
        domain = Domain(enterprise_number=number, name=EMPLOYER_ONSS, identifier="9090909-09",
                        applications=[DomainApplication(code=c) for c in applications_of_domain(EMPLOYER_ONSS)])
        session.add(domain)
        session.flush()
        domain_id = domain.id
    return GatewayHarness(services).make_sender(domain_id, gap, folder)


def all_acrfs(harness: GatewayHarness, kit: SenderKit) -> list[Path]:
    """Every ACRF trigger (GO.ACRF...) in every channel's return folders, oldest first."""
    found = [p for channel in ("SFTP", "FTP", "WS") for folder in ("OUT", "OUTTEST", "OUTTEST-S")
             for p in (harness.home(kit, channel) / folder).glob("GO.ACRF.*")]
    return sorted(found, key=lambda p: p.stat().st_mtime_ns)


def wait_any_acrf(harness: GatewayHarness, kit: SenderKit, count: int = 1,
                  timeout: float = 15) -> tuple[str, ET.Element]:
    """The ``count``-th ACRF wherever the preferred channel put it: (channel, document)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = all_acrfs(harness, kit)
        if len(done) >= count:
            fo = done[count - 1].parent / ("FO" + done[count - 1].name[2:])
            wait_answered(harness.services.db, fo.name, deadline - time.monotonic())
            return fo.parent.parent.name, defused_fromstring(fo.read_bytes())
        time.sleep(0.05)
    raise AssertionError(f"no ACRF #{count} within {timeout}s")


FINAL = ("accepted", "rejected")


def wait_submission(db: Database, go_name: str, timeout: float = 15, count: int = 1) -> SubmissionRow:
    """The ``count``-th submission closed by ``go_name`` (oldest first) once it is final.

    Final means what the pipeline does last: status accepted or rejected (ACRF delivered, parts moved, manifest
    written, in that one transaction) and then the transfer log's ``submission`` row. After this nothing more comes
    from that submission, so a check that something did *not* happen can follow at once.
    """
    deadline = time.monotonic() + timeout
    while True:
        with db.session() as session:
            rows = session.scalars(select(SubmissionRow).where(SubmissionRow.go_name == go_name)
                                   .order_by(SubmissionRow.id)).all()
            logged = session.scalar(select(func.count()).select_from(TransferEvent).where(
                TransferEvent.event == "submission", TransferEvent.file_name == go_name)) or 0
        final = [r for r in rows if r.status in FINAL]
        if len(final) >= count and logged >= count:
            return final[count - 1]
        if time.monotonic() >= deadline:
            raise AssertionError(f"submission #{count} of {go_name} not final within {timeout}s: "
                                 f"{[(r.id, r.status) for r in rows]}, {logged} logged")
        time.sleep(0.02)


def wait_answered(db: Database, acrf_name: str, timeout: float) -> None:
    """The ACRF is delivered just before its submission is closed and logged: wait for that close, so what a test
    reads next (the transfer log, the submission) is settled."""
    deadline = time.monotonic() + max(timeout, 1)
    while True:
        with db.session() as session:
            sub = session.scalar(select(SubmissionRow).where(SubmissionRow.acrf_name == acrf_name))
        if sub is not None and sub.status in FINAL:
            wait_submission(db, sub.go_name, max(deadline - time.monotonic(), 1),
                            count=_rank(db, sub))
            return
        if time.monotonic() >= deadline:
            raise AssertionError(f"{acrf_name} delivered but its submission is not final: {sub and sub.status}")
        time.sleep(0.02)


def _rank(db: Database, sub: SubmissionRow) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(SubmissionRow).where(
            SubmissionRow.go_name == sub.go_name, SubmissionRow.id <= sub.id)) or 1


def log_rows(db: Database, *, event: str | None = None, name: str | None = None, count: int = 0,
             timeout: float = 10) -> list[TransferEvent]:
    """Transfer-log rows of one event and/or about one file name, oldest first; with ``count``, once at least that
    many are there (a step is logged just after the client is answered), else at once."""
    query = select(TransferEvent).order_by(TransferEvent.id)
    if event is not None:
        query = query.where(TransferEvent.event == event)
    if name is not None:
        query = query.where(TransferEvent.file_name.contains(name))
    deadline = time.monotonic() + timeout
    while True:
        with db.session() as session:
            found = list(session.scalars(query))
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def error_codes(rows: list[TransferEvent]) -> list[str | None]:
    return [r.error_code for r in rows]


def error_ids(acrf: ET.Element) -> list[str]:
    return [e.findtext("ErrorID") or "" for e in acrf.findall("Error")]


# -- an asyncssh client ------------------------------------------------------------------------------------------
async def _connect(port: int, kit: SenderKit, password: str | None = None, key: bool = True,  # type: ignore[no-untyped-def]
                   **more: object):
    options = {"known_hosts": None, "username": kit.technical_user, **more}
    if password is not None:
        options |= {"password": password, "client_keys": None}
    elif key:
        options |= {"client_keys": [asyncssh.import_private_key(kit.ssh_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()))]}
    return await asyncssh.connect("127.0.0.1", port, **options)


def openssh_sftp(port: int, user: str, key_path: Path | str, *options: str, batch: bool = True) -> list[str]:
    """OpenSSH's ``sftp`` command line for a key login on loopback, host key unchecked (``-b -``: commands read from
    stdin, quiet); ``options`` are more ``-o`` settings."""
    more = [arg for option in options for arg in ("-o", option)]
    return ["sftp", *(["-q", "-b", "-"] if batch else []), "-i", str(key_path), "-P", str(port),
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", *more,
            f"{user}@127.0.0.1"]


def put(port: int, kit: SenderKit, sub: Submission, password: str | None = None) -> list[str]:
    """Upload every file of ``sub``; returns the SFTP errors met (empty when all went in)."""

    async def run() -> list[str]:
        errors = []
        async with await _connect(port, kit, password) as conn, conn.start_sftp_client() as sftp:
            for folder, name, data in sub.files:
                try:
                    async with sftp.open(f"/{folder}/{name}", "wb") as f:
                        await f.write(data)
                except asyncssh.SFTPError as err:
                    errors.append(f"{name}: {err.reason}")
        return errors

    return asyncio.run(run())


def sftp_call(port: int, kit: SenderKit, action, password: str | None = None):  # type: ignore[no-untyped-def]
    """Run ``action(sftp)`` (a coroutine function) in a fresh client session."""

    async def run():  # type: ignore[no-untyped-def]
        async with await _connect(port, kit, password) as conn, conn.start_sftp_client() as sftp:
            return await action(sftp)

    return asyncio.run(run())
