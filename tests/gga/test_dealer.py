"""The parent's SFTP dealer: connections go to the workers in turn, past a worker that is gone, and none after a
stop. Real sockets on loopback; the workers' ends read as ``gateway/core/dealt.py`` reads them."""

from __future__ import annotations

import asyncio
import os
import select
import socket
import threading

import pytest

from gateway.core.dealt import Dealt
from gga.dealer import Dealer


def dealt_to(channel: socket.socket, timeout: float = 5) -> socket.socket:
    """The next connection down a worker's channel, as a socket."""
    channel.settimeout(timeout)
    message, fds, _, _ = socket.recv_fds(channel, 16, 16)
    assert message == b"c" and len(fds) == 1
    return socket.socket(fileno=fds[0])


def test_connections_are_dealt_in_turn_and_past_a_worker_that_is_gone():
    dealer = Dealer("127.0.0.1:0", 2)
    ends = [dealer.channel_for(0), dealer.channel_for(1)]
    host, port = dealer.address.split(":")
    dealer.start()
    clients = []
    try:
        served = []
        for n in range(4):
            clients.append(socket.create_connection((host, int(port)), timeout=5))
            served.append(dealt_to(ends[n % 2]))
        for n, (client, server) in enumerate(zip(clients, served, strict=True)):  # each is that very connection
            client.sendall(f"hello {n}".encode())
            assert server.recv(100) == f"hello {n}".encode()
            server.close()
            assert client.recv(1) == b""  # the worker closing it ends it: the parent keeps no copy
        ends[1].close()  # worker 1 died: everything goes to worker 0 until it is started again
        for _ in range(3):
            clients.append(socket.create_connection((host, int(port)), timeout=5))
            dealt_to(ends[0]).close()
        ends[1] = dealer.channel_for(1)  # restarted: it takes its turn again
        takers = set()
        for _ in range(2):
            clients.append(socket.create_connection((host, int(port)), timeout=5))
            ready, _, _ = select.select(ends, [], [], 5)
            takers.add(ends.index(ready[0]))
            dealt_to(ready[0]).close()
        assert takers == {0, 1}
    finally:
        dealer.stop()
        for c in clients:
            c.close()
    with pytest.raises(OSError):  # stopped: the port no longer takes connections
        socket.create_connection((host, int(port)), timeout=2)
    assert ends[0].recv(16) == b""  # and each worker sees its channel end


def test_a_worker_serves_what_is_dealt_on_its_loop_and_stops_at_the_channels_end():
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []
    tasks: list[asyncio.Task] = []
    done = threading.Event()

    async def worker() -> bool:
        loop = asyncio.get_running_loop()
        dealt = Dealt(theirs, "127.0.0.1:0")

        def serve(sock: socket.socket) -> None:
            async def echo() -> None:
                reader, writer = await asyncio.open_connection(sock=sock)
                received.append(await reader.readexactly(5))
                writer.close()
                done.set()
            tasks.append(loop.create_task(echo()))
        dealt.start(loop, serve)
        while not done.is_set():
            await asyncio.sleep(0.01)
        while dealt.open:  # the parent closes the channel below
            await asyncio.sleep(0.01)
        return dealt.open

    def parent() -> None:
        client = socket.create_connection(listener.getsockname(), timeout=5)
        conn, _ = listener.accept()
        socket.send_fds(ours, [b"c"], [conn.fileno()])
        conn.close()
        client.sendall(b"hello")
        assert client.recv(1) == b""
        client.close()
        done.wait(5)
        ours.close()

    thread = threading.Thread(target=parent)
    thread.start()
    assert asyncio.run(asyncio.wait_for(worker(), 10)) is False
    thread.join(10)
    listener.close()
    assert received == [b"hello"]


@pytest.mark.skipif(not socket.has_ipv6, reason="no IPv6 on this machine")
def test_an_ipv6_bind_is_listened_on_and_announced_with_brackets():
    try:
        dealer = Dealer("[::1]:0", 1)
    except OSError:
        pytest.skip("::1 is not configured here")
    end = dealer.channel_for(0)
    dealer.start()
    try:
        assert dealer.address.startswith("[::1]:")
        port = int(dealer.address.rsplit(":", 1)[1])
        with socket.create_connection(("::1", port), timeout=5):
            dealt_to(end).close()
    finally:
        dealer.stop()


def drain(channel: socket.socket) -> int:
    """Every connection waiting in a worker's channel taken (and closed); how many."""
    channel.setblocking(False)
    taken = 0
    while True:
        try:
            _, fds, _, _ = socket.recv_fds(channel, 16, 16)
        except BlockingIOError:
            return taken
        for fd in fds:
            os.close(fd)
        taken += len(fds)


def test_a_worker_that_does_not_read_its_channel_neither_stops_the_dealing_nor_loses_its_turn():
    """A worker still starting (or stuck) fills its channel: the others take the connections meanwhile, the
    dealer never blocks (nor its stop), and the worker gets its turn again once it reads."""
    dealer = Dealer("127.0.0.1:0", 2)
    stuck, reading = dealer.channel_for(0), dealer.channel_for(1)
    a, b = socket.socketpair()
    dealt = {"stuck": 0, "reading": 0}

    def flood() -> None:
        for _ in range(1500):  # more than a channel holds (about 280 on Linux) and than RLIMIT_NOFILE's in-flight
            assert dealer.deal(a)
            dealt["reading"] += drain(reading)

    try:
        thread = threading.Thread(target=flood, daemon=True)
        thread.start()
        thread.join(60)
        assert not thread.is_alive(), "the dealer blocked on the worker that does not read"
        dealt["stuck"] = drain(stuck)
        assert 0 < dealt["stuck"] < 1500 and dealt["stuck"] + dealt["reading"] == 1500
        assert dealt["reading"] > 1500 / 2  # the one reading took what the other could not
        for _ in range(2):  # reading again: its turn comes back
            assert dealer.deal(a)
        assert (drain(stuck), drain(reading)) == (1, 1)
    finally:
        if not thread.is_alive():  # a dealer blocked in a send would block its stop too: the test fails instead
            dealer.stop()
        a.close()
        b.close()
