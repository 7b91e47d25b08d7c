"""Every way an upload or a download can end badly ends in the same place: nothing half kept, nothing left open,
one line in the transfer log. Disk failures are injected; clients are real (asyncssh, ftplib, httpx, sockets)."""

import asyncio
import contextlib
import errno
import os
import socket
import struct
import threading
import time
from concurrent.futures import Future
from pathlib import Path

import asyncssh
import httpx
import pytest

from gateway.core import upload as upload_module
from gateway.core.transfer import Transfers, UploadEnd
from gateway.core.upload import BackgroundUpload, Upload
from gateway.naming import parse
from kernel.errors import GGAError
from kernel.settings import Settings
from tests.gateway.harness import _connect, build, log_rows, sftp_call, today
from tests.gateway.test_ftp import tls_client
from tests.gateway.test_webservice import bearer


def logged(db, name: str, count: int = 1) -> list[tuple]:
    """(event, result, size, error code) of the log rows about ``name``, once ``count`` of them are there."""
    return [(e.event, e.result, e.size, e.error_code) for e in log_rows(db, name=name, count=count)]


def partials(harness, kit, channel: str) -> list[str]:
    return half_files(harness.home(kit, channel) / ".partial")


def half_files(partial: Path) -> list[str]:
    """Data files and name claims under ``.partial`` (its per-instance folders may stay, empty)."""
    return [p.name for p in partial.rglob("*") if not p.is_dir()]


def no_space(*_args: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


class _Intake:
    def __init__(self):
        self.calls: list[str] = []

    def received(self, _upload):
        self.calls.append("received")

    def received_soon(self, finish, _folder):  # as the group commit's writer does it, on a thread of its own
        done = Future()

        def record():
            try:
                made = finish()
                self.received(made)
            except BaseException as exc:
                done.set_exception(exc)
            else:
                done.set_result(made)
        threading.Thread(target=record).start()
        return done

    def refused(self, *_args):
        self.calls.append("refused")

    def interrupted(self, *_args):
        self.calls.append("interrupted")


class _Session:
    def __init__(self, home: Path):
        self.home = home


def settled(transfers: Transfers, upload: Upload, how: str):  # type: ignore[no-untyped-def]
    """``settle`` (a worker thread's) or ``settle_soon`` (an event loop's) to its end."""
    if how == "settle":
        return transfers.settle(upload, UploadEnd.COMPLETED)
    return transfers.settle_soon(upload, UploadEnd.COMPLETED).result(timeout=10)


@pytest.mark.parametrize(("kind", "how"), [(Upload, "settle"), (BackgroundUpload, "settle"), (Upload, "settle_soon"),
                                           (BackgroundUpload, "settle_soon")])
def test_a_disk_failure_discards_the_upload_and_closes_its_file_once(tmp_path, monkeypatch, kind, how):
    for folder in (".partial", "INTEST"):
        (tmp_path / folder).mkdir()
    upload = kind(_Session(tmp_path), "INTEST", parse("FI.DMFA.123456.20240101.00001.T.1.1"), 1 << 20)
    closed = []
    real_close = os.close
    monkeypatch.setattr(upload_module.os, "close", lambda fd: (closed.append(fd), real_close(fd)))
    if kind is BackgroundUpload:  # the writer thread meets the full disk
        monkeypatch.setattr(upload, "store", no_space)
        upload.append(b"abc")
    else:  # the final fsync fails
        upload.append(b"abc")
        monkeypatch.setattr(upload_module.os, "fsync", no_space)
    intake = _Intake()
    with pytest.raises(GGAError) as refusal:
        settled(Transfers(intake, None, Settings()), upload, how)
    assert (refusal.value.code, refusal.value.message) == ("UPLOAD_INCOMPLETE", "Not stored: No space left on device.")
    assert str(tmp_path) not in refusal.value.message  # no spool paths in what the client reads
    assert len(closed) == 1  # a second close could hit a descriptor another thread has opened since
    assert intake.calls == ["interrupted"]
    assert half_files(tmp_path / ".partial") == list((tmp_path / "INTEST").iterdir()) == []


class _DatabaseDown(_Intake):
    def received(self, _upload):
        raise OSError("database unreachable")


def small_upload(folder: Path) -> Upload:
    """A 3-byte upload under way in ``folder``'s INTEST (its .partial beside it)."""
    for sub in (".partial", "INTEST"):
        (folder / sub).mkdir()
    upload = Upload(_Session(folder), "INTEST", parse("FI.DMFA.123456.20240101.00001.T.1.1"), 1 << 20)
    upload.append(b"abc")
    return upload


@pytest.mark.parametrize("how", ["settle", "settle_soon"])
def test_a_file_whose_record_fails_is_not_kept_so_it_can_be_sent_again(tmp_path, how):
    upload = small_upload(tmp_path)
    with pytest.raises(GGAError) as refusal:
        settled(Transfers(_DatabaseDown(), None, Settings()), upload, how)
    assert refusal.value.code == "UPLOAD_INCOMPLETE" and "send the file again" in refusal.value.message
    assert list((tmp_path / "INTEST").iterdir()) == half_files(tmp_path / ".partial") == []


@pytest.mark.parametrize("end", [UploadEnd.COMPLETED, UploadEnd.CLIENT_GONE])
def test_an_upload_ending_during_a_stop_is_still_settled_after_the_settle_threads_are_gone(tmp_path, end):
    """At a stop the settle threads end before the group commit's last batches: a record failing then is still
    discarded, logged and answered (it was left linked in IN, unrecorded, and the client waiting)."""
    upload = small_upload(tmp_path)
    intake = _DatabaseDown()
    transfers = Transfers(intake, None, Settings())
    transfers.close()
    with pytest.raises(GGAError) as refusal:
        transfers.settle_soon(upload, end).result(timeout=10)
    assert refusal.value.code == "UPLOAD_INCOMPLETE"
    assert intake.calls == ([] if end == UploadEnd.COMPLETED else ["interrupted"])  # a client gone is logged
    assert list((tmp_path / "INTEST").iterdir()) == half_files(tmp_path / ".partial") == []


def test_sftp_a_write_the_disk_refuses_keeps_nothing_of_the_file(harness, kit, db, monkeypatch):
    name = f"FI.DIMN.{kit.number}.{today()}.00001.S.1.1"  # S on SFTP needs no signature: nothing else would catch it
    writes = {"n": 0}
    real_store = Upload.store

    def second_write_fails(self, data, offset):
        writes["n"] += 1
        if writes["n"] == 2:
            no_space()
        return real_store(self, data, offset)
    monkeypatch.setattr(Upload, "store", second_write_fails)

    async def send(sftp):
        errors = []
        f = await sftp.open(f"/INTEST-S/{name}", "wb")
        for i in range(3):
            try:
                await f.write(b"x" * 1000, i * 1000)
            except Exception as exc:
                errors.append(str(exc))
                break
        await f.close()
        return errors
    assert "UPLOAD_INCOMPLETE: Not stored: No space left on device." in sftp_call(harness.port, kit, send)[0]
    assert logged(db, name) == [("upload", "incomplete", 1000, "UPLOAD_INCOMPLETE")]
    assert not (harness.home(kit) / "INTEST-S" / name).exists() and partials(harness, kit, "SFTP") == []


def test_sftp_an_fsync_the_disk_refuses_at_the_close_keeps_nothing_and_the_next_file_goes_through(
        harness, kit, db, monkeypatch):
    """A small upload is made durable by the group commit's writer, not by a thread of the session's: a failure
    there still reaches the client with its reason, keeps nothing, and leaves the writer serving the next one."""
    failing, good = (f"FI.DIMN.{kit.number}.{today()}.{n:05d}.S.1.1" for n in (1, 2))
    real_finish = Upload.finish
    threads = []

    def finish(self):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread().name)
        if str(self.name) == failing:
            self._close_fd()
            no_space()
        return real_finish(self)
    monkeypatch.setattr(Upload, "finish", finish)

    async def send(sftp):  # type: ignore[no-untyped-def]
        outcomes = []
        for name in (failing, good):
            try:
                async with sftp.open(f"/INTEST-S/{name}", "wb") as f:
                    await f.write(b"x" * 1000)
                outcomes.append("ok")
            except Exception as exc:
                outcomes.append(str(exc))
        return outcomes
    assert sftp_call(harness.port, kit, send) == ["UPLOAD_INCOMPLETE: Not stored: No space left on device.", "ok"]
    assert all(t.startswith("upload-records") for t in threads), threads  # not a thread of the session's
    assert logged(db, failing) == [("upload", "incomplete", 1000, "UPLOAD_INCOMPLETE")]
    assert logged(db, good) == [("upload", "ok", 1000, None)]
    assert not (harness.home(kit) / "INTEST-S" / failing).exists() and partials(harness, kit, "SFTP") == []
    assert (harness.home(kit) / "INTEST-S" / good).read_bytes() == b"x" * 1000


def test_web_service_a_disk_failure_answers_upload_incomplete(harness, kit, db, monkeypatch):
    headers = bearer(harness, kit)
    name = build(kit).files[0][1]
    monkeypatch.setattr(Upload, "store", lambda *_args: no_space())
    response = httpx.put(f"{harness.http_url}/REST/batch/v1/T/files/{name}", content=b"x" * 1000, headers=headers,
                         timeout=10)
    assert (response.status_code, response.json()["error"]["code"]) == (400, "UPLOAD_INCOMPLETE")
    assert logged(db, name) == [("upload", "incomplete", 0, "UPLOAD_INCOMPLETE")]
    assert partials(harness, kit, "WS") == []


def test_ftp_stor_then_quit_without_a_data_connection_keeps_nothing_open(harness, kit, db):
    name = build(kit).files[0][1]
    ftp = tls_client(harness, kit)
    assert ftp.sendcmd(f"STOR /INTEST/{name}").startswith("150")
    ftp.quit()
    assert logged(db, name) == [("upload", "incomplete", 0, "UPLOAD_INCOMPLETE")]
    assert partials(harness, kit, "FTP") == []
    assert not [t.name for t in threading.enumerate() if t.name.startswith("upload-")]


def test_stopping_sftp_ends_an_open_upload_as_incomplete(harness, kit, db):
    name = build(kit).files[0][1]
    opened, done = threading.Event(), threading.Event()

    async def client():
        conn = await _connect(harness.port, kit)
        f = await (await conn.start_sftp_client()).open(f"/INTEST/{name}", "wb")
        await f.write(b"z" * 10_000, 0)
        opened.set()
        await asyncio.to_thread(done.wait, 20)
        conn.abort()
    thread = threading.Thread(target=lambda: asyncio.run(client()))
    thread.start()
    assert opened.wait(15)
    harness.sftp.stop()
    done.set()
    thread.join(20)
    assert logged(db, name) == [("upload", "incomplete", 10_000, "UPLOAD_INCOMPLETE")]
    assert partials(harness, kit, "SFTP") == []


def test_stopping_ftp_ends_an_open_upload_as_incomplete_and_frees_every_connection(harness, kit, db):
    name = build(kit).files[0][1]
    ftp, idle = tls_client(harness, kit), tls_client(harness, kit)  # one sending, one doing nothing
    data = ftp.transfercmd(f"STOR /INTEST/{name}")
    data.sendall(b"q" * 100_000)
    partial_dir = harness.home(kit, "FTP") / ".partial"
    deadline = time.monotonic() + 10
    def on_disk() -> int:
        return sum(p.stat().st_size for p in partial_dir.glob("@*/*"))  # the data files, not their claims

    while on_disk() < 100_000 and time.monotonic() < deadline:
        time.sleep(0.02)  # until every byte has reached the server's disk
    harness.ftp.stop()
    assert not harness.ftp.thread.is_alive()
    assert [t.name for t in threading.enumerate() if t.name.startswith("upload-")] == []
    assert logged(db, name) == [("upload", "incomplete", 100_000, "UPLOAD_INCOMPLETE")]
    assert partials(harness, kit, "FTP") == []
    data.close()
    for client in (ftp, idle):
        client.close()


def _descriptors_on(path: Path) -> list[str]:
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == str(path):
                found.append(fd)
        except OSError:
            continue
    return found


def test_web_service_clients_leaving_mid_download_are_each_logged_and_leave_no_open_file(harness, kit, db):
    headers = bearer(harness, kit)
    name = "FO.NOTI.999999.20240101.00001.T"
    path = harness.home(kit, "WS") / "OUTTEST" / name
    path.write_bytes(b"y" * (8 << 20))
    host, port = harness.http_url.removeprefix("http://").split(":")
    for i in range(6):
        s = socket.create_connection((host, int(port)))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # a reset, not a close
        s.sendall(f"GET /REST/batch/v1/T/returns/{name} HTTP/1.1\r\nHost: x\r\n"
                  f"Authorization: {headers['Authorization']}\r\n\r\n".encode())
        if i % 2:
            s.recv(100)
        s.close()
    rows = logged(db, name, count=6)
    assert len(rows) == 6 and all(r[:2] == ("download", "incomplete") for r in rows), rows
    assert _descriptors_on(path) == []


@pytest.mark.parametrize("kind", ["FI", "GO"])
def test_sftp_a_session_ended_with_a_file_still_open_keeps_nothing(harness, kit, db, kind):
    """The client ends its SFTP session (EOF on the channel) with an upload open: asyncssh closes the file in its
    clean-up, and that close is no client's. The half file was kept and logged ok, its name used up (and a GO's
    submission processed); it is an incomplete upload."""
    sub = build(kit)
    name = next(n for _folder, n, _data in sub.files if n.startswith(kind))
    content = next(data for _folder, n, data in sub.files if n == name) or b"go"

    async def client():  # type: ignore[no-untyped-def]
        conn = await _connect(harness.port, kit)
        sftp = await conn.start_sftp_client()
        f = await sftp.open(f"/INTEST/{name}", "wb")
        await f.write(content[: max(1, len(content) // 2)], 0)
        sftp.exit()
        await sftp.wait_closed()
        conn.close()
        await conn.wait_closed()
    asyncio.run(client())
    assert logged(db, name) == [("upload", "incomplete", max(1, len(content) // 2), "UPLOAD_INCOMPLETE")]
    assert not (harness.home(kit) / "INTEST" / name).exists() and partials(harness, kit, "SFTP") == []
    assert sftp_call(harness.port, kit, lambda sftp: _send(sftp, name, content)) == "ok"  # the name is still free


def test_sftp_a_write_refused_out_of_order_fails_the_upload_and_its_close_keeps_nothing(harness, kit, db):
    """A write at a gap is refused; OpenSSH then closes the handle. That close kept the bytes before the gap as the
    whole file (logged ok, its name used up): the refused write fails the upload, as one past the size limit."""
    name = build(kit).files[0][1]

    async def send(sftp):  # type: ignore[no-untyped-def]
        f = await sftp.open(f"/INTEST/{name}", "wb")
        await f.write(b"x" * 100, 0)
        with pytest.raises(asyncssh.SFTPError, match="UPLOAD_INCOMPLETE"):
            await f.write(b"y" * 100, 500)
        await f.close()  # answered ok: the refused write already told the client
        return "closed"
    assert sftp_call(harness.port, kit, send) == "closed"
    assert logged(db, name) == [("upload", "incomplete", 100, "UPLOAD_INCOMPLETE")]
    assert not (harness.home(kit) / "INTEST" / name).exists() and partials(harness, kit, "SFTP") == []


async def _send(sftp, name: str, content: bytes) -> str:  # type: ignore[no-untyped-def]
    async with sftp.open(f"/INTEST/{name}", "wb") as f:
        await f.write(content)
    return "ok"


def test_an_upload_is_linked_into_its_folder_before_its_one_fsync(harness, kit, db, monkeypatch):
    """The fsync came before the link into the folder: the inode's link count on disk missed that name, and a
    restart that removes the claim's two other names could free the file under its recorded one."""
    name = build(kit).files[0][1]
    steps: list[tuple[str, str]] = []
    real_fsync, real_link = os.fsync, os.link

    def fsync(fd: int) -> None:
        with contextlib.suppress(OSError):
            steps.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def link(src, dst, *args, **kwargs):  # type: ignore[no-untyped-def]
        steps.append(("link", str(dst)))
        real_link(src, dst, *args, **kwargs)
    monkeypatch.setattr(upload_module.os, "fsync", fsync)
    monkeypatch.setattr(upload_module.os, "link", link)

    async def send(sftp):  # type: ignore[no-untyped-def]
        return await _send(sftp, name, b"x" * 1000)
    assert sftp_call(harness.port, kit, send) == "ok"
    kept = str(harness.home(kit) / "INTEST" / name)
    linked = steps.index(("link", kept))
    assert any(kind == "fsync" and path.endswith(name) for kind, path in steps[linked:]), steps
    assert not any(kind == "fsync" and path.endswith(name) for kind, path in steps[:linked]), steps
