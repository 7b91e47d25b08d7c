"""The jailed mailbox: what may be written, read, deleted and listed, and how each refusal reads."""

import socket

import asyncssh
import pytest
from sqlalchemy import select

from store.models import TransferEvent
from tests.gateway.harness import build, put, sftp_call


def events(db, event):
    with db.session() as session:
        return [(e.result, e.error_code, e.file_name) for e in session.scalars(
            select(TransferEvent).where(TransferEvent.event == event).order_by(TransferEvent.id))]


def failure(harness, kit, action) -> str:
    async def run(sftp):
        try:
            await action(sftp)
        except asyncssh.SFTPError as err:
            return f"{type(err).__name__}: {err.reason}"
        return "no error"
    return sftp_call(harness.port, kit, run)


async def write(sftp, path, data=b""):
    async with sftp.open(path, "wb") as f:
        await f.write(data)


def test_root_lists_the_six_folders_only(harness, kit):
    async def listing(sftp):
        return sorted(await sftp.listdir("/"))
    assert sftp_call(harness.port, kit, listing) == [".", "..", "IN", "INTEST", "INTEST-S", "OUT", "OUTTEST",
                                                     "OUTTEST-S"]


@pytest.mark.parametrize(("path", "expected"), [
    ("/INTEST/not-a-batch-name.txt", "SFTPFailure: FILE_NAME_INVALID"),
    ("/INTEST/FI.DMF.123456.20261127.00001.T.1.1", "SFTPFailure: FILE_NAME_INVALID"),
    ("/INTEST/FI.DMFA.123456.20261127.00000.T.1.1", "SFTPFailure: FILE_NAME_INVALID"),
    ("/INTEST/FO.ACRF.999999.20261127.00001.T", "SFTPFailure: FILE_NAME_INVALID"),
    ("/OUTTEST/FI.DMFA.123456.20261127.00001.T.1.1", "SFTPPermissionDenied: PATH_NOT_ALLOWED"),
    ("/FI.DMFA.123456.20261127.00001.T.1.1", "SFTPPermissionDenied: PATH_NOT_ALLOWED"),
    ("/INTEST/sub/FI.DMFA.123456.20261127.00001.T.1.1", "SFTPPermissionDenied: PATH_NOT_ALLOWED"),
    ("/../../../../etc/FI.DMFA.123456.20261127.00001.T.1.1", "SFTPPermissionDenied: PATH_NOT_ALLOWED"),
    ("/INTEST/../../etc/passwd", "SFTPPermissionDenied: PATH_NOT_ALLOWED"),
    ("/.partial/FI.DMFA.123456.20261127.00001.T.1.1", "SFTPPermissionDenied: PATH_NOT_ALLOWED"),
])
def test_uploads_refused_at_once_with_their_code(harness, kit, db, path, expected):
    assert failure(harness, kit, lambda sftp: write(sftp, path)).startswith(expected)
    # the open runs on the SFTP loop; its refusal is logged (from a worker thread) before the client is answered
    assert [(result, code) for result, code, _ in events(db, "upload")] == [("refused", expected.split(": ")[1])]


def test_no_folders_renames_or_links(harness, kit):
    assert failure(harness, kit, lambda sftp: sftp.mkdir("/INTEST/x")).startswith("SFTPPermissionDenied")
    assert failure(harness, kit, lambda sftp: sftp.rmdir("/IN")).startswith("SFTPPermissionDenied")
    assert failure(harness, kit, lambda sftp: sftp.rename("/IN", "/X")).startswith("SFTPPermissionDenied")
    assert failure(harness, kit, lambda sftp: sftp.symlink("/etc/passwd", "/INTEST/p")).startswith(
        "SFTPPermissionDenied")


def test_uploads_cannot_be_read_back_and_returns_can_be_read_then_deleted(harness, kit, db):
    sub = build(kit)
    put(harness.port, kit, build(kit, parts=2, seq="00002")[:0] if False else sub)
    harness.wait_acrf(kit)
    (fo,) = harness.acrfs(kit)

    async def read_upload(sftp):
        await write(sftp, f"/INTEST/FI.DMFA.{kit.number}.20261127.00009.T.1.1", b"x")
        async with sftp.open(f"/INTEST/FI.DMFA.{kit.number}.20261127.00009.T.1.1", "rb") as f:
            await f.read()
    assert failure(harness, kit, read_upload).startswith("SFTPPermissionDenied: PATH_NOT_ALLOWED")

    async def pick_up(sftp):
        async with sftp.open(f"/OUTTEST/{fo.name}", "rb") as f:
            content = await f.read()
        await sftp.remove(f"/OUTTEST/{fo.name}")
        return content, sorted(await sftp.listdir("/OUTTEST"))
    content, left = sftp_call(harness.port, kit, pick_up)
    assert content == fo.read_bytes() if fo.exists() else b"<ResultCode>1</ResultCode>" in content
    assert fo.name not in left and not fo.exists()
    assert ("ok", None, fo.name) in events(db, "download") and ("ok", None, fo.name) in events(db, "delete")
    assert failure(harness, kit, lambda sftp: sftp.remove("/OUTTEST/nothing")).startswith("SFTPNoSuchFile")
    assert failure(harness, kit, lambda sftp: sftp.remove(f"/INTEST/{sub.files[0][1]}")).startswith(
        "SFTPPermissionDenied")


def test_same_name_twice_while_pending(harness, kit):
    name = f"/INTEST/FI.DMFA.{kit.number}.20261127.00007.T.1.1"

    async def twice(sftp):
        await write(sftp, name, b"a")
        await write(sftp, name, b"b")
    assert failure(harness, kit, twice).startswith("SFTPFailure: FILE_ALREADY_RECEIVED")


def test_listing_works_for_ls_l(harness, kit):
    put(harness.port, kit, build(kit))
    harness.wait_acrf(kit)

    async def long_listing(sftp):
        return [n.longname for n in await sftp.readdir("/OUTTEST") if not n.filename.startswith(".")]
    lines = sftp_call(harness.port, kit, long_listing)
    assert len(lines) == 3 and all(line.startswith("-rw") for line in lines)


def test_a_dead_peer_is_found_by_tcp_keepalive(harness, kit):
    # a client whose host vanished sends nothing more: the kernel's probes close its connection within about two
    # minutes (and free its session slot), as asyncssh's keepalive did without its timer re-armed per packet
    async def probe(sftp):  # type: ignore[no-untyped-def]
        await sftp.listdir("/")
        return [(sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
                 sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
                 sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL),
                 sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT))
                for sock in (conn.get_extra_info("socket") for conn in harness.sftp.listener.connections)]

    found = sftp_call(harness.port, kit, probe)
    assert found and all(on and idle + interval * count <= 150 for on, idle, interval, count in found)
