"""The parent of ``gga serve --workers N`` accepts SFTP connections and deals them to the workers in turn.

The kernel's ``SO_REUSEPORT`` hash left one of two workers idle or with one session in four while the other carried
the rest (docs/performance.md); a session lives long, so an uneven start stays uneven. Here the parent keeps one
listening socket and a channel (a Unix ``SOCK_SEQPACKET`` pair) per worker; each accepted connection goes down the
next worker's channel (``SCM_RIGHTS``) and the parent closes its copy at once (a copy kept would keep the
connection open after the worker closed it). ``gateway/core/dealt.py`` serves it in the worker.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import socket
import threading
import time

from kernel.settings import host_port

log = logging.getLogger("gga.dealer")
ACCEPT_WAIT_S = 0.5  # how soon the accepting thread sees a stop
BACKLOG = 1024
# an accept that fails for that one connection (it went away, or its network did): the next one is taken at once
_ONE_CONNECTION = frozenset({errno.ECONNABORTED, errno.EPROTO, errno.ENETDOWN, errno.ENETUNREACH, errno.EHOSTDOWN,
                             errno.EHOSTUNREACH, errno.ENONET, errno.ENOPROTOOPT, errno.EOPNOTSUPP, errno.EPERM})
# a worker that cannot take a connection now (not reading its channel: starting, or busy; the kernel short of
# buffers or of room for passed descriptors): the next worker takes it, the channel stays
_NOT_NOW = frozenset({errno.EAGAIN, errno.ENOBUFS, errno.ENOMEM, errno.ETOOMANYREFS})
BUSY_LOG_EVERY_S = 60


def channel_pair() -> tuple[socket.socket, socket.socket]:
    """(the parent's end, the worker's end): one message per connection, its descriptor attached."""
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)


class Dealer:
    def __init__(self, bind: str, workers: int):
        host, port = host_port(bind)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.listener = socket.create_server((host, port), family=family, backlog=BACKLOG)
        self.listener.settimeout(ACCEPT_WAIT_S)
        bound = self.listener.getsockname()
        self.address = f"[{bound[0]}]:{bound[1]}" if family == socket.AF_INET6 else f"{bound[0]}:{bound[1]}"
        self._channels: list[socket.socket | None] = [None] * workers
        self._next = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._busy_logged = 0.0

    def channel_for(self, index: int) -> socket.socket:
        """A new channel for worker ``index`` (at its start and at each restart); returns the worker's end. The
        parent's end never blocks: a worker that does not read its channel (still starting, or stuck) must not
        stop the dealing to the others, nor a stop."""
        ours, theirs = channel_pair()
        ours.setblocking(False)
        with self._lock:
            old, self._channels[index] = self._channels[index], ours
        if old is not None:
            with contextlib.suppress(OSError):
                old.close()
        return theirs

    def start(self) -> None:
        self._thread = threading.Thread(target=self._accept, name="sftp-dealer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """No more connections: the listening socket closes (new clients are refused), the channels close (each
        worker stops taking connections and serves those it has)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(ACCEPT_WAIT_S * 4)
        with contextlib.suppress(OSError):
            self.listener.close()
        with self._lock:
            channels, self._channels = self._channels, [None] * len(self._channels)
        for channel in channels:
            if channel is not None:
                with contextlib.suppress(OSError):
                    channel.close()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError as exc:
                if self._stopping.is_set():
                    return
                if exc.errno in _ONE_CONNECTION:
                    continue
                # a full file table or no memory: wait a moment, as asyncio's listeners in the workers do
                log.error("SFTP accept failed (%s); trying again in a second", exc)
                self._stopping.wait(1.0)
                continue
            with conn:
                self.deal(conn)

    def deal(self, conn: socket.socket) -> bool:
        """To the next worker in turn; to the one after if that one cannot take it now (its channel is full) or is
        gone (it died and is not started again yet). False when no worker could take it (the client sees the
        connection close)."""
        busy = []
        with self._lock:
            count = len(self._channels)
            for step in range(count):
                index = (self._next + step) % count
                channel = self._channels[index]
                if channel is None:
                    continue
                try:
                    socket.send_fds(channel, [b"c"], [conn.fileno()])
                except OSError as exc:
                    if exc.errno in _NOT_NOW:
                        busy.append(index)
                        continue
                    self._channels[index] = None  # the worker is gone, its channel with it, until it starts again
                    with contextlib.suppress(OSError):
                        channel.close()
                    continue
                self._next = index + 1
                break
            else:
                index = None
        if busy and time.monotonic() - self._busy_logged > BUSY_LOG_EVERY_S:
            self._busy_logged = time.monotonic()
            log.warning("SFTP worker(s) %s not taking connections (starting, or busy): dealt to the others", busy)
        if index is None:
            log.error("no SFTP worker could take a connection")
            return False
        return True
