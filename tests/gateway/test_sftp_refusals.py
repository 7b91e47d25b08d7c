"""Each refusal the ACRF reports, with its ACRF number where the real channel has one; nothing accepted is lost."""

from datetime import UTC, datetime, timedelta

import asyncssh
import pytest

from keys.cms import fs_file
from tests.gateway.harness import DMFA_XML, build, error_ids, log_rows, put, sftp_call, today
from tests.keys import pki

BOMB = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<DmfAOriginal><Form><Identification>&lol2;</Identification></Form></DmfAOriginal>"""


def tomorrow_plus(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y%m%d")


CASES = {
    "ACRF-108 sender number": (dict(sender="123456"), "ACRF-108"),
    "ACRF-117 environment letter": (dict(env="X", folder="INTEST"), "ACRF-117"),
    "ACRF-118 production file in a test folder": (dict(env="R", folder="INTEST"), "ACRF-118"),
    "ACRF-119 test file in the production folder": (dict(env="T", folder="IN"), "ACRF-119"),
    "ACRF-129 application does not match the content": (dict(app="DIMN"), "ACRF-129"),
    "ACRF-153 certificate not the sender's": ("stranger", "ACRF-153"),
    "ACRF-154 application not allowed on the channel": (dict(app="CHTP", content=b"plain"), "ACRF-154"),
    "ACRF-154 unknown application": (dict(app="ABCD", content=b"plain"), "ACRF-154"),
    "certificate expired": ("expired", "CERTIFICATE_EXPIRED"),
    "SHA-1 signature (openssl -md sha1)": ("sha1", "DIGEST_TOO_WEAK"),
    "no FS": (dict(sign=False), "SIGNATURE_MISSING"),
    "date in the future": (dict(day=tomorrow_plus(3)), "FILE_DATE_INVALID"),
    "date too old": (dict(day="20200101"), "FILE_DATE_INVALID"),
    "not a date": (dict(day="20261340"), "FILE_DATE_INVALID"),
    "entity expansion in the XML": (dict(content=BOMB), "XML_UNSAFE"),
}


@pytest.mark.parametrize(("change", "expected"), CASES.values(), ids=CASES.keys())
def test_refusal_codes(harness, kit, change, expected, tmp_path):
    if change == "sha1":
        sub = build(kit, sign=False)
        der = pki.openssl_sign(sub.files[0][2], kit.certificate, tmp_path, digest="sha1")
        sub.files.insert(1, ("INTEST", "FS" + sub.files[0][1][2:], fs_file(der)))
    elif change == "stranger":
        sub = build(kit, signer=kit.stranger)
    elif change == "expired":
        sub = build(kit, signer=kit.expired)
    else:
        sub = build(kit, **change)
    assert put(harness.port, kit, sub) == []
    app = change.get("app", "DMFA") if isinstance(change, dict) else "DMFA"
    channel = {"DIMN": "FTP", "CHTP": "FTP"}.get(app, "SFTP")  # the application's preferred channel
    folder = "OUT" if change == dict(env="R", folder="INTEST") else "OUTTEST"
    acrf = harness.wait_acrf(kit, channel=channel, folder=folder)
    assert acrf.findtext("ResultCode") == "0"
    assert expected in error_ids(acrf), acrf
    assert all(e.findtext("ErrorDescription") for e in acrf.findall("Error"))


def test_tampered_content_is_refused(harness, kit):
    sub = build(kit)
    folder, name, _ = sub.files[0]
    sub.files[0] = (folder, name, DMFA_XML.replace(b"DMFA", b"DMFA "))
    put(harness.port, kit, sub)
    assert error_ids(harness.wait_acrf(kit)) == ["SIGNATURE_INVALID"]


def test_garbage_signature(harness, kit):
    sub = build(kit)
    folder, name, data = sub.files[1]
    sub.files[1] = (folder, name, data[: len(data) // 3])
    put(harness.port, kit, sub)
    assert error_ids(harness.wait_acrf(kit)) == ["SIGNATURE_MALFORMED"]


def test_missing_part(harness, kit):
    sub = build(kit, parts=2)
    del sub.files[2:4]  # part 2 and its FS
    put(harness.port, kit, sub)
    acrf = harness.wait_acrf(kit)
    assert error_ids(acrf) == ["PARTS_INCOMPLETE"]
    assert "partie FI 2 de 2" in acrf.find("Error").findtext("ErrorDescription")  # the contact's language: fr


def test_parts_numbered_for_another_total(harness, kit):
    sub = build(kit, parts=2)
    sub.files[-1] = (sub.files[-1][0], sub.files[-1][1][:-1] + "3", b"")  # GO says 3 parts
    put(harness.port, kit, sub)
    assert "PARTS_INCOMPLETE" in error_ids(harness.wait_acrf(kit))


def test_too_large_is_refused_while_streaming_and_in_the_acrf(harness, kit):
    harness.gateway.settings.max_file_mb = 1
    sub = build(kit, content=b"x" * (1024 * 1024 + 10))
    errors = put(harness.port, kit, sub)
    assert errors and "FILE_TOO_LARGE" in errors[0]
    acrf = harness.wait_acrf(kit)
    assert "ACRF-184" in error_ids(acrf)
    assert not any(p.name.startswith("FI.") for p in (harness.home(kit) / "INTEST").iterdir())


def test_name_is_accepted_once_per_sender_date_and_environment(harness, kit):
    put(harness.port, kit, build(kit))
    assert harness.wait_acrf(kit).findtext("ResultCode") == "1"
    put(harness.port, kit, build(kit))
    assert error_ids(harness.wait_acrf(kit, count=2)) == ["NAME_ALREADY_ACCEPTED"]
    put(harness.port, kit, build(kit, env="S"))  # same name in another environment is another submission
    assert harness.wait_acrf(kit, folder="OUTTEST-S").findtext("ResultCode") == "1"


def test_rejected_name_can_be_sent_again(harness, kit):
    put(harness.port, kit, build(kit, sign=False))
    assert harness.wait_acrf(kit).findtext("ResultCode") == "0"
    put(harness.port, kit, build(kit))
    assert harness.wait_acrf(kit, count=2).findtext("ResultCode") == "1"


def test_simulation_environment_may_omit_the_signature(harness, kit):
    put(harness.port, kit, build(kit, env="S", sign=False))
    assert harness.wait_acrf(kit, folder="OUTTEST-S").findtext("ResultCode") == "1"


def test_a_refused_upload_is_logged_under_the_file_name_as_an_accepted_one(harness, kit, db):
    """Accepted uploads are logged with the bare name, refusals were logged with the folder in front: the
    transfers API's file_name filter (an exact match) found no refusal. The folder asked for is kept beside."""
    name = f"FO.DMFA.{kit.number}.{today()}.00001.T.1.1"  # a return file's kind: refused as an upload

    async def send(sftp):  # type: ignore[no-untyped-def]
        with pytest.raises(asyncssh.SFTPError, match="FILE_NAME_INVALID"):
            await sftp.open(f"/INTEST/{name}", "wb")
        return "refused"
    assert sftp_call(harness.port, kit, send) == "refused"
    (row,) = log_rows(db, event="upload", name=name, count=1)
    assert (row.result, row.file_name, row.error_code) == ("refused", name, "FILE_NAME_INVALID")
    assert row.details["path"] == f"/INTEST/{name}"
