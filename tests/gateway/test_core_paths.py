"""One login path and one end of a transfer for every protocol: what ops read in the transfer log is the same
whether the sender used SFTP, FTPS or the web service."""

import ftplib
import io

import httpx
import pytest

from admin_api.identity import Caller
from admin_api.sender import service as senders
from admin_api.sender.schemas import ChannelPatch, SenderPatch
from store.models import Domain, Enterprise, TransferEvent
from tests.gateway.harness import log_rows, sftp_call
from tests.gateway.test_ftp import tls_client
from tests.gateway.test_webservice import assertion, bearer, token_call

RETURN = b"<Notification>" + b"n" * 300_000 + b"</Notification>"  # several reads on every protocol


def rows(db, event: str, count: int = 0) -> list[TransferEvent]:
    return log_rows(db, event=event, count=count)


def gap_of(db, kit) -> Caller:
    with db.read() as session:  # called inside a write transaction: a read of its own
        number = session.get(Domain, kit.domain_id).enterprise_number
        return Caller(session.get(Enterprise, number).main_manager_niss, "eid")


def block(harness, kit, db) -> None:  # type: ignore[no-untyped-def]
    with db.session() as session:
        senders.update(session, gap_of(db, kit), kit.domain_id, SenderPatch(status="blocked"),
                       harness.services.passwords)


def unblock_without_ws(harness, kit, db) -> None:  # type: ignore[no-untyped-def]
    """The sender active again, without its Web Service channel."""
    with db.session() as session:
        senders.update(session, gap_of(db, kit), kit.domain_id, SenderPatch(status="active"),
                       harness.services.passwords)
        senders.update_channel(session, gap_of(db, kit), kit.domain_id, "FTP",
                               ChannelPatch(add_applications=["WECH"]))  # WECH was only on WS
        senders.remove_channel(session, gap_of(db, kit), kit.domain_id, "WS")


def test_wrong_password_on_ftp_says_login_failed_and_logs_it_once(harness, kit, db):
    with pytest.raises(ftplib.error_perm, match="530 LOGIN_FAILED"):
        tls_client(harness, kit, "Not-the-password-1")
    assert [(r.result, r.error_code) for r in rows(db, "login")] == [("refused", "LOGIN_FAILED")]


def test_web_service_token_refusals_go_through_the_same_rules(harness, kit, db):
    block(harness, kit, db)
    blocked = token_call(harness, assertion(harness, kit))
    assert (blocked.status_code, blocked.json()["error"]["code"]) == (403, "SENDER_BLOCKED")
    unblock_without_ws(harness, kit, db)
    without_channel = token_call(harness, assertion(harness, kit))  # told no more than an unknown sender is
    assert (without_channel.status_code, without_channel.json()["error"]["code"]) == (401, "ASSERTION_INVALID")
    logins = [(r.result, r.error_code, r.protocol, r.technical_user, (r.details or {}).get("method"))
              for r in rows(db, "login")]
    assert logins == [("refused", "SENDER_BLOCKED", "WS", kit.technical_user, "private_key_jwt"),
                      ("refused", "CHANNEL_NOT_REGISTERED", "WS", kit.technical_user, "private_key_jwt")]
    stranger = token_call(harness, assertion(harness, kit, iss="self-service:expeditor:EXPgate001",
                                             sub="self-service:expeditor:EXPgate001"))
    assert stranger.json()["error"]["code"] == "ASSERTION_INVALID"
    (last,) = rows(db, "login")[2:]  # what the caller claimed is kept apart from the technical user column
    assert last.technical_user == "-" and last.details["issuer"] == "self-service:expeditor:EXPgate001"


def _deliver(harness, kit, channel: str) -> str:
    return harness.gateway.returns.deliver(harness.gateway.directory.by_number(kit.number), "NOTI", "T", RETURN,
                                           channel).name


def _download_sftp(harness, kit) -> bytes:
    name = _deliver(harness, kit, "SFTP")

    async def get(sftp):
        async with sftp.open(f"/OUTTEST/{name}", "rb") as f:
            return await f.read()
    return sftp_call(harness.port, kit, get)


def _download_ftps(harness, kit) -> bytes:
    name = _deliver(harness, kit, "FTP")
    ftp, out = tls_client(harness, kit), io.BytesIO()
    ftp.retrbinary(f"RETR /OUTTEST/{name}", out.write)
    ftp.quit()
    return out.getvalue()


def _download_ws(harness, kit) -> bytes:
    name = _deliver(harness, kit, "WS")
    response = httpx.get(f"{harness.http_url}/REST/batch/v1/T/returns/{name}", headers=bearer(harness, kit),
                         timeout=20)
    assert response.status_code == 200 and response.headers["content-length"] == str(len(RETURN))
    return response.content


@pytest.mark.parametrize("download", [_download_sftp, _download_ftps, _download_ws], ids=["SFTP", "FTPS", "WS"])
def test_a_download_is_logged_once_after_the_last_byte_with_its_size(harness, kit, db, download):
    assert download(harness, kit) == RETURN
    logged = rows(db, "download", count=1)  # logged after the last byte: maybe a moment after the client has it
    assert len(logged) == 1, [(r.protocol, r.result, r.size) for r in logged]
    (row,) = logged
    assert row.result == "ok" and row.size == len(RETURN) and row.duration_ms is not None
    assert row.file_name.startswith("FO.NOTI.999999.") and row.technical_user == kit.technical_user


def test_a_web_service_upload_refused_at_open_is_logged_like_on_every_protocol(harness, kit, db):
    response = httpx.put(f"{harness.http_url}/REST/batch/v1/T/files/readme.txt", content=b"x",
                         headers=bearer(harness, kit), timeout=20)
    assert response.json()["error"]["code"] == "FILE_NAME_INVALID"
    assert [(r.result, r.error_code, r.protocol) for r in rows(db, "upload")] == \
        [("refused", "FILE_NAME_INVALID", "WS")]



def test_a_token_refused_after_its_sender_is_blocked_or_loses_the_channel_is_logged_once_per_burst(harness, kit,
                                                                                                   db):
    """A token got before the block (or the channel's removal) is refused at its next call with the code, and the
    transfer log says so, as for SFTP and FTP: it said nothing. A client calling on is one more row per burst."""
    headers = bearer(harness, kit)
    returns = f"{harness.http_url}/REST/batch/v1/T/returns"
    block(harness, kit, db)
    answers = [httpx.get(returns, headers=headers) for _ in range(3)]
    assert {(a.status_code, a.json()["error"]["code"]) for a in answers} == {(403, "SENDER_BLOCKED")}
    refused = [r for r in rows(db, "login", count=2) if r.result == "refused"]
    assert [(r.error_code, r.technical_user, r.details.get("method")) for r in refused] == [
        ("SENDER_BLOCKED", kit.technical_user, "bearer")]
    unblock_without_ws(harness, kit, db)
    gone = httpx.get(returns, headers=headers)
    assert (gone.status_code, gone.json()["error"]["code"]) == (403, "CHANNEL_NOT_REGISTERED")
    refused = [r for r in rows(db, "login", count=3) if r.result == "refused"]
    assert [r.error_code for r in refused] == ["SENDER_BLOCKED", "CHANNEL_NOT_REGISTERED"]
