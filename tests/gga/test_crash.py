"""Two `gga serve` instances on one PostgreSQL database and one data folder, killed with SIGKILL at random moments
and restarted, while clients send signed submissions over SFTP and the web service.

At the end: every GO whose upload was acknowledged has exactly one ACRF, any other GO at most one; every accepted
submission's parts are in its application folder with the SHA-256 the transfer log recorded; every accepted
submission reached a RabbitMQ queue bound to ``gga.events``; no half upload is left.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from defusedxml.ElementTree import fromstring
from sqlalchemy import select

from store.models import OutboxEvent, Submission, TransferEvent
from tests.gateway.harness import SenderKit, build, seed_sender
from tests.gateway.test_relay import AMQP, messages, queue  # noqa: F401 (the fixture)

pytestmark = pytest.mark.slow
SUBMISSIONS = 100
KILLS = 5
DEADLINE_S = 240


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@dataclass
class Instance:
    name: str
    env: dict[str, str]
    sftp: int
    http: int
    log: Path
    process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen([str(Path(sys.executable).parent / "gga"), "serve"], env=self.env,
                                            stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while not _listening(self.http) or not _listening(self.sftp):
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            assert time.monotonic() < deadline, f"{self.name} did not start"
            time.sleep(0.1)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()

    @property
    def up(self) -> bool:
        return self.process is not None and self.process.poll() is None


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Outcome:
    acked_gos: set[str] = field(default_factory=set)
    unacked_gos: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)


class Client:
    """Sends one submission, file by file, to whichever instance is up; retries a file the crash cut (the name
    claim of a killed instance is freed when it restarts). A GO that was not acknowledged is not sent again."""

    def __init__(self, kit: SenderKit, instances: list[Instance], outcome: Outcome, stop_at: float):
        self.kit, self.instances, self.outcome, self.stop_at = kit, instances, outcome, stop_at
        self.key = asyncssh.import_private_key(kit.ssh_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()))

    def send(self, seq: int, channel: str) -> None:
        sub = build(self.kit, seq=f"{seq:05d}")
        for folder, name, data in sub.files:
            is_go = name.startswith("GO.")
            while time.monotonic() < self.stop_at:
                instance = random.choice([i for i in self.instances if i.up] or self.instances)
                try:
                    answer = (self._sftp(instance, folder, name, data) if channel == "SFTP"
                              else self._ws(instance, name, data))
                except httpx.ConnectError as exc:
                    answer = f"not sent: {exc!r}"
                except (TimeoutError, OSError, asyncssh.Error, httpx.HTTPError) as exc:
                    answer = f"cut: {exc!r}"
                if answer == "ok" or (answer == "FILE_ALREADY_RECEIVED" and not is_go):
                    if is_go:
                        self.outcome.acked_gos.add(name)
                    break
                if is_go and answer.startswith("cut"):  # maybe stored, maybe not: never sent twice
                    self.outcome.unacked_gos.add(name)
                    return
                if not answer.startswith(("cut", "not sent")) and answer != "UPLOAD_IN_PROGRESS":
                    self.outcome.errors.append(f"{name}: {answer}")
                    return
                time.sleep(0.2)

    def _sftp(self, instance: Instance, folder: str, name: str, data: bytes) -> str:
        async def run() -> str:
            try:
                conn = await asyncssh.connect("127.0.0.1", instance.sftp, username=self.kit.technical_user,
                                              client_keys=[self.key], known_hosts=None, connect_timeout=10)
                sftp = await conn.start_sftp_client()
            except (OSError, asyncssh.Error) as exc:
                return f"not sent: {exc!r}"  # the file never left: safe to send again
            async with conn, sftp:
                try:
                    async with sftp.open(f"/{folder}/{name}", "wb") as f:
                        await f.write(data)
                except (asyncssh.SFTPConnectionLost, asyncssh.SFTPNoConnection) as err:  # killed mid-upload: a cut
                    return f"cut: {err!r}"
                except asyncssh.SFTPError as err:
                    return err.reason.split(":", 1)[0]
            return "ok"

        return asyncio.run(asyncio.wait_for(run(), 30))

    def _ws(self, instance: Instance, name: str, data: bytes) -> str:
        base = f"http://127.0.0.1:{instance.http}"
        now = int(time.time())
        subject = f"self-service:expeditor:{self.kit.number}"
        assertion = jwt.encode({"iss": subject, "sub": subject, "aud": f"{base}/REST/oauth/v5/token", "iat": now,
                                "exp": now + 120, "jti": uuid.uuid4().hex}, self.kit.certificate.key,
                               algorithm="RS256")
        with httpx.Client(timeout=30) as http:
            token = http.post(f"{base}/REST/oauth/v5/token", data={
                "grant_type": "client_credentials", "client_assertion": assertion,
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"})
            if token.status_code != 200:
                return f"not sent: token {token.status_code}"
            answer = http.put(f"{base}/REST/batch/v1/T/files/{name}", content=data,
                              headers={"Authorization": f"Bearer {token.json()['access_token']}"})
        if answer.status_code == 201:
            return "ok"
        if answer.status_code >= 500:
            return f"cut: {answer.status_code}"
        return answer.json()["error"]["code"]


@pytest.fixture
def postgres(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("two instances share a PostgreSQL database (the suite's PostgreSQL run covers this)")
    return database_url


def test_kill_minus_nine_loses_no_acknowledged_submission(postgres, services, db, data_dir, tmp_path,
                                                          queue):  # noqa: F811
    channel, queue_name = queue
    kit = seed_sender(db, services, tmp_path)  # the two instances do the work

    instances = []
    for name, passive in (("a", "31000-31049"), ("b", "31050-31099")):
        sftp, ftp, http = _free_ports(3)
        env = {**os.environ, "GGA_DATABASE_URL": postgres, "GGA_DATA_DIR": str(data_dir),
               "GGA_SFTP_BIND": f"127.0.0.1:{sftp}", "GGA_FTP_BIND": f"127.0.0.1:{ftp}",
               "GGA_HTTP_BIND": f"127.0.0.1:{http}", "GGA_FTP_PASSIVE_PORTS": passive, "GGA_INSTANCE_ID": name,
               "GGA_AMQP_URL": AMQP, "GGA_ARGON2_MEMORY_COST": "1024", "GGA_ARGON2_TIME_COST": "1",
               "GGA_ARGON2_PARALLELISM": "1", "GGA_LOG_FORMAT": "console"}
        instances.append(Instance(name, env, sftp, http, tmp_path / f"{name}.log"))
    for instance in instances:
        instance.start()
    outcome = Outcome()
    stop_at = time.monotonic() + DEADLINE_S
    client = Client(kit, instances, outcome, stop_at)
    work = list(range(1, SUBMISSIONS + 1))
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                if not work:
                    return
                seq = work.pop()
            client.send(seq, "SFTP" if seq % 5 else "WS")

    kills: list[str] = []
    remaining_at_kills: list[int] = []

    def killer() -> None:
        for _ in range(KILLS):
            time.sleep(random.uniform(0.2, 1.5))  # while submissions flow (the restarts take longer)
            victim = random.choice(instances)
            victim.kill()
            kills.append(victim.name)
            remaining_at_kills.append(len(work))
            victim.start()

    threads = [threading.Thread(target=worker) for _ in range(4)] + [threading.Thread(target=killer)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(DEADLINE_S + 60)
        assert len(kills) == KILLS and outcome.errors == []
        assert len(outcome.acked_gos) >= SUBMISSIONS // 2, outcome  # the kills hit some, most went through
        print(f"kills {kills}, acknowledged GOs {len(outcome.acked_gos)}, cut GOs {len(outcome.unacked_gos)}, "
              f"kills while work remained: {remaining_at_kills}")
        assert len(outcome.acked_gos) + len(outcome.unacked_gos) == SUBMISSIONS
        _every_go_answered(db, outcome, deadline=time.monotonic() + 90)
        _outbox_drained(db, deadline=time.monotonic() + 90)  # a killed relay's claim waits out its 30 s lease
    finally:
        for instance in instances:
            instance.stop()
    _one_acrf_each(data_dir, kit, outcome)
    accepted = _parts_delivered(db, data_dir)
    assert outcome.acked_gos <= set(accepted)  # every part of theirs was acknowledged before the GO went
    published = {m[1] for m in messages(channel, queue_name)}
    assert set(accepted.values()) <= published
    leftovers = [p for p in (data_dir / "spool" / "mailboxes").rglob(".partial/**/*") if not p.is_dir()]
    assert leftovers == []


def _every_go_answered(db, outcome: Outcome, deadline: float) -> None:
    while True:
        with db.session() as session:
            final = set(session.scalars(select(Submission.go_name).where(
                Submission.status.in_(("accepted", "rejected")))))
        missing = outcome.acked_gos - final
        if not missing:
            return
        assert time.monotonic() < deadline, f"{len(missing)} acknowledged GOs without an answer: {sorted(missing)[:5]}"
        time.sleep(0.5)


def _outbox_drained(db, deadline: float) -> None:
    while True:
        with db.session() as session:
            waiting = session.scalars(select(OutboxEvent.message_id).where(OutboxEvent.published_at.is_(None))).all()
        if not waiting:
            return
        assert time.monotonic() < deadline, f"{len(waiting)} accepted submissions never published: {waiting[:5]}"
        time.sleep(0.5)


def _one_acrf_each(data_dir: Path, kit: SenderKit, outcome: Outcome) -> None:
    answered = Counter()
    for fo in (data_dir / "spool" / "mailboxes" / kit.number).glob("*/OUT*/FO.ACRF.*"):
        answered[fromstring(fo.read_bytes()).findtext("FileName")] += 1
    assert {go: n for go, n in answered.items() if go in outcome.acked_gos and n != 1} == {}
    assert all(answered[go] == 1 for go in outcome.acked_gos)
    assert all(answered[go] <= 1 for go in outcome.unacked_gos)


def _parts_delivered(db, data_dir: Path) -> dict[str, str]:
    """Every accepted submission's parts in its application folder, with the SHA-256 the log recorded."""
    with db.session() as session:
        accepted = session.scalars(select(Submission).where(Submission.status == "accepted")).all()
        logged = {e.file_name: e.sha256 for e in session.scalars(select(TransferEvent).where(
            TransferEvent.event == "upload", TransferEvent.result == "ok"))}
    for sub in accepted:
        folder = data_dir / "applications" / sub.application / sub.environment / sub.ticket
        manifest = json.loads((folder / "manifest.json").read_text())
        for part in manifest["files"]:
            if part["kind"] == "GO":
                continue
            on_disk = hashlib.sha256((folder / part["name"]).read_bytes()).hexdigest()
            assert on_disk == part["sha256"] == logged[part["name"]], part["name"]
    return {s.go_name: s.ticket for s in accepted}
