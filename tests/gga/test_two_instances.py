"""Two `gga serve` started at the same moment on a fresh data folder and a fresh database: both come up (the
migrations take turns) and they agree on one set of SSH host keys and one gateway certificate."""

from __future__ import annotations

import asyncio
import os
import threading
import uuid

import asyncssh
import httpx
import pytest
from sqlalchemy import create_engine, make_url, text

from tests.gga.test_crash import Instance, _free_ports

pytestmark = pytest.mark.slow


@pytest.fixture
def fresh_database(database_url, tmp_path):
    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    url = make_url(database_url)
    name = f"gga_fresh_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_instances_started_together_agree_on_keys(fresh_database, tmp_path):
    data = tmp_path / "shared"
    instances = []
    for name in ("one", "two"):
        sftp, ftp, http, low = _free_ports(4)
        env = {**os.environ, "GGA_DATABASE_URL": fresh_database, "GGA_DATA_DIR": str(data),
               "GGA_SFTP_BIND": f"127.0.0.1:{sftp}", "GGA_FTP_BIND": f"127.0.0.1:{ftp}",
               "GGA_HTTP_BIND": f"127.0.0.1:{http}", "GGA_FTP_PASSIVE_PORTS": f"{low}-{low}",
               "GGA_INSTANCE_ID": name}
        instances.append(Instance(name, env, sftp, http, tmp_path / f"{name}.log"))
    starts = [threading.Thread(target=i.start) for i in instances]
    try:
        for t in starts:
            t.start()
        for t in starts:
            t.join(120)
        assert all(i.up for i in instances), [i.log.read_text()[-2000:] for i in instances]
        certificates = {httpx.get(f"http://127.0.0.1:{i.http}/api/v1/gateway/certificate", timeout=10).text
                        for i in instances}
        host_keys = {asyncio.run(_server_key(i.sftp)) for i in instances}
    finally:
        for i in instances:
            i.stop()
    assert len(certificates) == 1 and "BEGIN CERTIFICATE" in certificates.pop()
    assert len(host_keys) == 1


async def _server_key(port: int) -> str:
    """The Ed25519 host key the server proves it holds (the key exchange signs with it)."""
    key = await asyncssh.get_server_host_key("127.0.0.1", port, server_host_key_algs=["ssh-ed25519"])
    assert key is not None
    return key.export_public_key().decode()
