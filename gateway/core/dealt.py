"""Connections accepted by the parent process and dealt to this worker (``gga serve --workers N``, SFTP).

With ``SO_REUSEPORT`` the kernel picks a worker per connection by a hash of its addresses: four sessions landed 3:1
or 4:0 on two workers as often as 2:2, and the busier worker set the pace. The parent accepts instead and deals
the connections to the workers in turn (gga/dealer.py); each arrives here over a Unix socket (``SCM_RIGHTS``)
and is served as if this worker had accepted it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable

log = logging.getLogger("gga.dealt")
BATCH = 16  # descriptors taken per read of the channel


class Dealt:
    """The worker's end of its channel from the parent; ``address`` is what the parent listens on."""

    def __init__(self, channel: socket.socket, address: str):
        self.channel, self.address = channel, address
        self.open = False
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, loop: asyncio.AbstractEventLoop, serve: Callable[[socket.socket], None]) -> None:
        """From now on every connection dealt is handed to ``serve`` on ``loop`` (a non-blocking socket)."""
        self.channel.setblocking(False)
        self._loop, self.open = loop, True
        loop.add_reader(self.channel.fileno(), self._receive, serve)

    def _receive(self, serve: Callable[[socket.socket], None]) -> None:
        try:
            message, fds, flags, _address = socket.recv_fds(self.channel, BATCH, BATCH)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            log.error("the parent's channel failed (%s): no more connections here", exc)
            self.close()
            return
        if flags & socket.MSG_CTRUNC:  # the kernel could not give this process the descriptor: the client is cut
            log.error("a connection dealt here was lost: this worker's file table is full (raise the open-files limit, "
                      "ulimit -n, of gga serve)")
        for fd in fds:
            sock = socket.socket(fileno=fd)
            sock.setblocking(False)
            try:
                serve(sock)
            except Exception:
                log.exception("serving a dealt connection")
                sock.close()
        if not message:  # the parent closed the channel (it stops, or it deals to a new worker in this one's place)
            self.close()

    def close(self) -> None:
        """No more connections (a drain); those being served go on."""
        if self.open and self._loop is not None:
            self.open = False
            with contextlib.suppress(Exception):
                self._loop.remove_reader(self.channel.fileno())
        with contextlib.suppress(OSError):
            self.channel.close()
