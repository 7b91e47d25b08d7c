"""Each channel's home is its own (contract 3): a GO takes only the parts uploaded through its own channel, a TD
cancels only there. A GO took same-named parts from every channel's home: two copies of one FI, one of them lost
after its acknowledgement; parts signed with a certificate of another channel, or of an application another
channel may not send, accepted."""

import io
import time

from tests.gateway.harness import DMFA_XML, Submission, build, put, wait_submission
from tests.gateway.test_ftp import tls_client


def _ftps_put(harness, kit, files: list[tuple[str, str, bytes]]) -> None:  # type: ignore[no-untyped-def]
    ftp = tls_client(harness, kit)
    for folder, name, data in files:
        ftp.storbinary(f"STOR /{folder}/{name}", io.BytesIO(data))
    ftp.quit()


def _parts(sub: Submission) -> Submission:
    return Submission([f for f in sub.files if not f[1].startswith("GO.")])


def _go(sub: Submission) -> Submission:
    return Submission([f for f in sub.files if f[1].startswith("GO.")])


def _waiting(harness, kit, channel: str) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    return {p.name: p.read_bytes() for p in (harness.home(kit, channel) / "INTEST").iterdir()}


def test_a_go_takes_the_parts_of_its_own_channel_and_leaves_another_channels(harness, kit, db):
    over_sftp = build(kit, seq="00031")
    over_ftp = build(kit, seq="00031", content=DMFA_XML + b"<!-- the FTP copy -->")  # the same names, other bytes
    assert put(harness.port, kit, _parts(over_sftp)) == []
    _ftps_put(harness, kit, _parts(over_ftp).files)
    assert put(harness.port, kit, _go(over_sftp)) == []
    accepted = wait_submission(db, over_sftp.go)
    assert accepted.status == "accepted" and accepted.channel == "SFTP"
    folder = harness.gateway.spool.application_folder("DMFA", "T", accepted.ticket)
    fi_name = over_sftp.files[0][1]
    assert (folder / fi_name).read_bytes() == over_sftp.files[0][2]  # the SFTP copy, not the FTP one
    assert _waiting(harness, kit, "FTP") == {name: data for _, name, data in _parts(over_ftp).files}  # untouched
    assert _waiting(harness, kit, "SFTP") == {}


def test_parts_sent_through_another_channel_do_not_complete_a_go(harness, kit, db):
    sub = build(kit, seq="00032")
    _ftps_put(harness, kit, _parts(sub).files)
    assert put(harness.port, kit, _go(sub)) == []  # the GO through SFTP: its home holds no part
    refused = wait_submission(db, sub.go)
    assert refused.status == "rejected" and "PARTS_INCOMPLETE" in str(refused.errors)
    assert set(_waiting(harness, kit, "FTP")) == {name for _, name, _ in _parts(sub).files}  # still there
    _ftps_put(harness, kit, _go(sub).files)  # the GO through FTP takes them
    assert wait_submission(db, sub.go, count=2).status == "accepted"


def test_a_td_cancels_only_in_its_own_channel(harness, kit, db):
    sub = build(kit, seq="00033")
    assert put(harness.port, kit, _parts(sub)) == []
    td = sub.go.replace("GO.", "TD.", 1)
    _ftps_put(harness, kit, [("INTEST", td, b"")])  # a TD through FTP: nothing of its name waits there
    assert put(harness.port, kit, _go(sub)) == []
    assert wait_submission(db, sub.go).status == "accepted"


def test_a_td_clears_a_part_put_in_the_wrong_folder_of_its_home(harness, kit, db):
    """A test FI put into IN by mistake: the GO would take it (and refuse it, ACRF-119); the TD clears it."""
    sub = build(kit, seq="00034")
    folder, fi, data = sub.files[0]
    assert put(harness.port, kit, Submission([("IN", fi, data)])) == []
    assert put(harness.port, kit, Submission([(folder, sub.go.replace("GO.", "TD.", 1), b"")])) == []
    deadline = time.monotonic() + 10
    while (harness.home(kit, "SFTP") / "IN" / fi).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not (harness.home(kit, "SFTP") / "IN" / fi).exists()
    assert put(harness.port, kit, sub) == []  # the right resend, whole
    assert wait_submission(db, sub.go).status == "accepted"
