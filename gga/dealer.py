"""The parent of ``gga serve --workers N`` accepts SFTP connections and deals them to the workers in turn.

The kernel's ``SO_REUSEPORT`` hash left one of two workers idle or with one session in four while the other carried
the rest (docs/performance.md); a session lives long, so an uneven start stays uneven. Here the parent keeps one
listening socket and a channel (a Unix ``SOCK_SEQPACKET`` pair) per worker; each accepted connection goes down the
next worker's channel (``SCM_RIGHTS``) and the parent closes its copy at once (a copy kept would keep the
connection open after the worker closed it). ``gateway/core/dealt.py`` serves it in the worker.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading

from kernel.settings import host_port

log = logging.getLogger("gga.dealer")
ACCEPT_WAIT_S = 0.5  # how soon the accepting thread sees a stop
BACKLOG = 1024


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

    def channel_for(self, index: int) -> socket.socket:
        """A new channel for worker ``index`` (at its start and at each restart); returns the worker's end."""
        ours, theirs = channel_pair()
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
            except OSError as exc:  # a full file table: wait a moment, as the workers' own listeners do
                if self._stopping.is_set():
                    return
                log.error("SFTP accept failed (%s); trying again", exc)
                self._stopping.wait(1.0)
                continue
            with conn:
                self.deal(conn)

    def deal(self, conn: socket.socket) -> bool:
        """To the next worker in turn; to the one after if its channel is gone (it died and is not started again
        yet). False when no worker could take it (the client sees the connection close)."""
        with self._lock:
            count = len(self._channels)
            for step in range(count):
                index = (self._next + step) % count
                channel = self._channels[index]
                if channel is None:
                    continue
                try:
                    socket.send_fds(channel, [b"c"], [conn.fileno()])
                except OSError:  # the worker is gone: its channel with it, until it is started again
                    self._channels[index] = None
                    continue
                self._next = index + 1
                return True
        log.error("no SFTP worker could take a connection")
        return False
