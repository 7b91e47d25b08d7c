"""SIGTERM drains (contract section 9): no new connections, an upload under way may finish within GGA_DRAIN_S and is
acknowledged and kept; one still open after it is cut, logged incomplete and leaves nothing behind."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import asyncssh
import pytest
from cryptography.hazmat.primitives import serialization

from tests.gateway.harness import build, log_rows
from tests.gga.test_crash import Instance, _free_ports, _listening, seed_sender

pytestmark = pytest.mark.slow


def test_sigterm_lets_an_upload_finish_and_cuts_one_that_does_not(services, db, data_dir, database_url, tmp_path):
    kit = seed_sender(db, services, tmp_path)
    sftp, ftp, http, low = _free_ports(4)
    env = {**os.environ, "GGA_DATABASE_URL": database_url, "GGA_DATA_DIR": str(data_dir), "GGA_DRAIN_S": "4",
           "GGA_SFTP_BIND": f"127.0.0.1:{sftp}", "GGA_FTP_BIND": f"127.0.0.1:{ftp}",
           "GGA_HTTP_BIND": f"127.0.0.1:{http}", "GGA_FTP_PASSIVE_PORTS": f"{low}-{low}"}
    instance = Instance("drained", env, sftp, http, tmp_path / "drained.log")
    instance.start()
    key = asyncssh.import_private_key(kit.ssh_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()))
    (folder, finished, data), (_, cut, _), _ = build(kit).files

    async def during_drain() -> tuple[bool, str]:
        async with asyncssh.connect("127.0.0.1", sftp, username=kit.technical_user, client_keys=[key],
                                    known_hosts=None) as conn, conn.start_sftp_client() as client:
            first = await client.open(f"/{folder}/{finished}", "wb")
            second = await client.open(f"/{folder}/{cut}", "wb")
            await first.write(data[:10])
            await second.write(b"half a signature")
            instance.process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 5
            while _listening(sftp) and time.monotonic() < deadline:  # the listener closes at once
                await asyncio.sleep(0.05)
            refused = not _listening(sftp)
            await first.write(data[10:], 10)
            await first.close()  # acknowledged within the drain
            try:
                await asyncio.wait_for(second.write(b"more", 16), 10)
                await asyncio.sleep(10)  # never closed: the drain ends and cuts it
            except (TimeoutError, asyncssh.Error, OSError):
                pass
            return refused, "ok"

    try:
        refused, _ = asyncio.run(during_drain())
    except (asyncssh.Error, OSError):
        refused = True
    assert instance.process.wait(30) == 0
    assert refused
    assert (kit_home(data_dir, kit) / folder / finished).read_bytes() == data
    assert [r.result for r in log_rows(db, event="upload", name=finished)] == ["ok"]
    assert [(r.result, r.error_code) for r in log_rows(db, event="upload", name=cut)] == [
        ("incomplete", "UPLOAD_INCOMPLETE")]
    assert [p for p in (kit_home(data_dir, kit) / ".partial").rglob("*") if not p.is_dir()] == []


def kit_home(data_dir, kit):  # type: ignore[no-untyped-def]
    return data_dir / "spool" / "mailboxes" / kit.number / "SFTP"
