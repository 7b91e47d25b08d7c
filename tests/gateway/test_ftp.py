"""FTP/FTPS specifics: TLS required unless the operator allows plain FTP, cut data connections, lftp."""

import ftplib
import io
import shutil
import ssl
import subprocess

import pytest
from sqlalchemy import select

from admin_api.identity import Caller
from admin_api.sender import service as senders
from admin_api.sender.schemas import ChannelPatch
from store.models import TransferEvent
from tests.gateway.harness import build, error_ids, wait_any_acrf


def tls_client(harness, kit, password: str | None = None) -> ftplib.FTP_TLS:
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    ftp = ftplib.FTP_TLS(context=context)
    ftp.connect("127.0.0.1", harness.ftp_port, timeout=20)
    ftp.auth()
    ftp.login(kit.technical_user, password or kit.password)
    ftp.prot_p()
    return ftp


def gap(db, kit):
    from store.models import Domain, Enterprise

    with db.read() as session:  # called inside a write transaction: a read of its own
        return Caller(session.get(Enterprise, session.get(Domain, kit.domain_id).enterprise_number).main_manager_niss,
                      "eid")


def test_plain_ftp_only_where_the_router_connection_allows_it(harness, kit, db):
    plain = ftplib.FTP()
    plain.connect("127.0.0.1", harness.ftp_port, timeout=20)
    with pytest.raises(ftplib.error_perm, match="530 TLS_REQUIRED: send AUTH TLS first"):
        plain.login(kit.technical_user, kit.password)
    plain.close()
    with db.session() as session:  # refused once, with its own code (not also "login ok")
        logins = [(e.result, e.error_code) for e in session.scalars(select(TransferEvent).where(
            TransferEvent.event == "login"))]
    assert logins == [("refused", "TLS_REQUIRED")]
    with db.session() as session:
        senders.update_channel(session, gap(db, kit), kit.domain_id, "FTP", ChannelPatch(plain_ftp=True))
    plain = ftplib.FTP()
    plain.connect("127.0.0.1", harness.ftp_port, timeout=20)
    plain.login(kit.technical_user, kit.password)
    for folder, name, data in build(kit, app="DIMN", content=b"flat").files:
        plain.storbinary(f"STOR /{folder}/{name}", io.BytesIO(data))
    plain.quit()
    assert wait_any_acrf(harness, kit)[1].findtext("ResultCode") == "1"


def test_data_must_be_protected_once_the_control_channel_is(harness, kit):
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    ftp = ftplib.FTP_TLS(context=context)
    ftp.connect("127.0.0.1", harness.ftp_port, timeout=20)
    ftp.auth()
    ftp.login(kit.technical_user, kit.password)  # no PROT P
    with pytest.raises(ftplib.error_perm, match="SSL/TLS required on the data channel"):
        ftp.nlst("/")
    ftp.close()


def test_a_cut_data_connection_never_ends_in_an_accepted_submission(harness, kit):
    sub = build(kit)
    ftp = tls_client(harness, kit)
    (folder, fi_name, data), *rest = sub.files
    conn = ftp.transfercmd(f"STOR /{folder}/{fi_name}")
    conn.sendall(data[: len(data) // 2])  # the payroll server's line drops half way
    conn.close()
    ftp.voidresp()  # pyftpdlib calls it "226 Transfer complete"
    for folder, name, content in rest:
        ftp.storbinary(f"STOR /{folder}/{name}", io.BytesIO(content))
    ftp.quit()
    acrf = wait_any_acrf(harness, kit)[1]
    assert acrf.findtext("ResultCode") == "0" and error_ids(acrf) == ["SIGNATURE_INVALID"]


def test_on_ftp_the_signature_is_required_even_in_simulation(harness, kit):
    ftp = tls_client(harness, kit)
    for folder, name, data in build(kit, env="S", sign=False).files:
        ftp.storbinary(f"STOR /{folder}/{name}", io.BytesIO(data))
    ftp.quit()
    assert error_ids(wait_any_acrf(harness, kit)[1]) == ["SIGNATURE_MISSING"]


def test_returns_read_and_deleted_over_ftps(harness, kit):
    ftp = tls_client(harness, kit)
    for folder, name, data in build(kit, app="DIMN", content=b"flat").files:  # DIMN prefers FTP
        ftp.storbinary(f"STOR /{folder}/{name}", io.BytesIO(data))
    wait_any_acrf(harness, kit)
    fo = "/OUTTEST/" + next(n for n in ftp.nlst("/OUTTEST") if n.startswith("FO.ACRF."))
    buffer = io.BytesIO()
    ftp.retrbinary(f"RETR {fo}", buffer.write)
    assert b"<ResultCode>1</ResultCode>" in buffer.getvalue()
    ftp.delete(fo)
    assert fo.rsplit("/", 1)[1] not in ftp.nlst("/OUTTEST")
    with pytest.raises(ftplib.error_perm, match="COMMAND_NOT_ALLOWED"):
        ftp.mkd("/INTEST/sub")
    with pytest.raises(ftplib.error_perm, match="COMMAND_NOT_ALLOWED"):
        ftp.rename(fo.replace("FO.", "FS.", 1), "/INTEST/x")
    ftp.quit()


@pytest.mark.skipif(shutil.which("lftp") is None, reason="lftp not installed (.ci/run installs it)")
def test_lftp_client(harness, kit, tmp_path):
    for _, name, data in build(kit, seq="0LFTP").files:
        (tmp_path / name).write_bytes(data)
    script = (f"set ftp:ssl-force true; set ftp:ssl-protect-data true; set ssl:verify-certificate no; "
              f"open -u {kit.technical_user},{kit.password} -p {harness.ftp_port} 127.0.0.1; cd INTEST; "
              f"mput FI.* FS.*; mput GO.*; bye")
    result = subprocess.run(["lftp", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert wait_any_acrf(harness, kit)[1].findtext("ResultCode") == "1"
