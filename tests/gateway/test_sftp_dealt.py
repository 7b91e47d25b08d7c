"""A worker's SFTP front end serving connections its parent accepted and dealt (``gga serve --workers N``): a real
OpenSSH-protocol client logs in and uploads over a dealt connection exactly as over the worker's own listener, and a
drain stops taking dealt connections (the parent's next hand-over then fails and goes to another worker)."""

from __future__ import annotations

import socket
import threading

import pytest

from gateway.core.dealt import Dealt
from gateway.sftp.server import SFTPFrontEnd
from tests.gateway.harness import build, put


def test_a_dealt_connection_is_served_like_an_accepted_one_until_the_drain(harness, kit):
    parent_end, worker_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener = socket.create_server(("127.0.0.1", 0))  # the parent's listening socket
    port = listener.getsockname()[1]
    front = SFTPFrontEnd(harness.gateway, dealt=Dealt(worker_end, f"127.0.0.1:{port}"))

    def deal_one() -> None:
        conn, _ = listener.accept()
        with conn:  # the parent keeps no copy
            socket.send_fds(parent_end, [b"c"], [conn.fileno()])

    try:
        assert front.start() == f"127.0.0.1:{port}" and front.accepting
        dealer = threading.Thread(target=deal_one)
        dealer.start()
        sub = build(kit, seq="00071")
        assert put(port, kit, sub) == []  # key login, FI + FS + GO over the dealt connection
        dealer.join(10)
        for folder, name, data in sub.files:
            assert (harness.home(kit) / folder / name).read_bytes() == data
        harness.wait_acrf(kit)

        front.stop_accepting()  # a drain
        assert not front.accepting
        with pytest.raises(OSError):  # the worker's end is closed: the parent deals to another worker
            socket.send_fds(parent_end, [b"c"], [listener.fileno()])
    finally:
        front.stop()
        listener.close()
        parent_end.close()
