"""One scenario table, three protocols: the same uploads give the same ACRF results over SFTP, FTPS and the
web service, and acknowledgements follow the application's preferred channel, not the upload's."""

from datetime import UTC, datetime, timedelta

import pytest

from admin_api.identity import Caller
from admin_api.sender import service as senders
from admin_api.sender.schemas import SenderPatch
from tests.gateway.clients import CHANNELS, LoginRefused
from tests.gateway.harness import build, error_ids, wait_any_acrf

BOMB = b"""<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><DmfAOriginal>&b;
</DmfAOriginal>"""
NOT_ON_CHANNEL = {"SFTP": "CHTP", "FTP": "WECH", "WS": "CHTP"}  # authorised elsewhere, not on this channel
FUTURE = (datetime.now(UTC) + timedelta(days=5)).strftime("%Y%m%d")

# name: (build arguments, expected result: ResultCode and ErrorIDs, where the ACRF must land)
SCENARIOS = {
    "accepted": ({}, ("1", []), "SFTP"),
    "multi-part": ({"parts": 3}, ("1", []), "SFTP"),
    "preferred channel elsewhere (DIMN -> FTP)": ({"app": "DIMN", "content": b"flat"}, ("1", []), "FTP"),
    "preferred channel elsewhere (ZIMA -> WS)": ({"app": "ZIMA", "content": b"flat"}, ("1", []), "WS"),
    "ACRF-108 sender number": ({"sender": "123456"}, ("0", ["ACRF-108"]), "SFTP"),
    "ACRF-117 environment letter": ({"env": "X", "folder": "INTEST"}, ("0", ["ACRF-117"]), "SFTP"),
    "ACRF-118 production file in INTEST": ({"env": "R", "folder": "INTEST"}, ("0", ["ACRF-118"] * 3), "SFTP"),
    "ACRF-119 test file in IN": ({"env": "T", "folder": "IN"}, ("0", ["ACRF-119"] * 3), "SFTP"),
    "ACRF-129 content of another application": ({"app": "DIMN"}, ("0", ["ACRF-129"]), "FTP"),
    "ACRF-153 foreign certificate": ({"signer": "stranger"}, ("0", ["ACRF-153"]), "SFTP"),
    "ACRF-154 application not on this channel": ({"app": "per-channel", "content": b"flat"}, ("0", ["ACRF-154"]),
                                                 "preferred"),
    "certificate expired": ({"signer": "expired"}, ("0", ["CERTIFICATE_EXPIRED"]), "SFTP"),
    "no FS": ({"sign": False}, ("0", ["SIGNATURE_MISSING"]), "SFTP"),
    "date in the future": ({"day": FUTURE}, ("0", ["FILE_DATE_INVALID"]), "SFTP"),
    "XML with entities": ({"content": BOMB}, ("0", ["XML_UNSAFE"]), "SFTP"),
    "missing part": ({"parts": 2, "drop": [2, 3]}, ("0", ["PARTS_INCOMPLETE"]), "SFTP"),
    "tampered content": ({"tamper": True}, ("0", ["SIGNATURE_INVALID"]), "SFTP"),
}


def make(kit, channel, args):
    args = dict(args)
    drop, tamper = args.pop("drop", []), args.pop("tamper", False)
    if args.get("app") == "per-channel":
        args["app"] = NOT_ON_CHANNEL[channel]
    if args.get("signer") in ("stranger", "expired"):
        args["signer"] = getattr(kit, args["signer"])
    sub = build(kit, **args)
    sub.files = [f for i, f in enumerate(sub.files) if i not in drop]
    if tamper:
        folder, name, data = sub.files[0]
        sub.files[0] = (folder, name, data + b" ")
    return sub


@pytest.fixture(params=list(CHANNELS))
def channel(request, harness, kit):
    return CHANNELS[request.param](harness, kit)


@pytest.mark.parametrize(("args", "expected", "lands"), SCENARIOS.values(), ids=SCENARIOS.keys())
def test_scenario(harness, kit, channel, args, expected, lands):
    sub = make(kit, channel.name, args)
    assert channel.upload(sub) == []
    where, acrf = wait_any_acrf(harness, kit)
    assert (acrf.findtext("ResultCode"), error_ids(acrf)) == expected
    if lands == "preferred":
        lands = {"CHTP": "FTP", "WECH": "WS"}[NOT_ON_CHANNEL[channel.name]]
    assert where == lands


def test_duplicate_name(harness, kit, channel):
    channel.upload(build(kit))
    assert wait_any_acrf(harness, kit)[1].findtext("ResultCode") == "1"
    channel.upload(build(kit))
    assert error_ids(wait_any_acrf(harness, kit, count=2)[1]) == ["NAME_ALREADY_ACCEPTED"]


def test_td_cancels(harness, kit, channel):
    sub = build(kit)
    go = sub.files.pop()
    channel.upload(sub)
    td = build(kit)
    td.files = [(go[0], "TD" + go[1][2:], b"")]
    channel.upload(td)
    sub.files = [go]
    channel.upload(sub)
    assert error_ids(wait_any_acrf(harness, kit)[1]) == ["PARTS_INCOMPLETE"]


def test_traversal_and_bad_names_are_refused_at_once(harness, kit, channel, tmp_path):
    sub = build(kit)
    _, name, data = sub.files[0]
    attempts = [("..", name), ("INTEST", "../../" + name), ("INTEST", "not-a-batch-file"), ("OUTTEST", name)]
    for target_folder, target in attempts:
        probe = build(kit)
        probe.files = [(target_folder, target, data)]
        errors = channel.upload(probe)
        assert len(errors) == 1, (target_folder, target, errors)
    assert not any(p.name == name for p in harness.gateway.spool.root.rglob("*") if "applications" in p.parts)


def test_wrong_credentials(harness, kit, channel):
    with pytest.raises(LoginRefused):
        channel.upload(build(kit), password="Wrong-password-42")


def test_blocked_sender(harness, kit, channel, db):
    from store.models import Domain, Enterprise

    with db.session() as session:
        gap = session.get(Enterprise, session.get(Domain, kit.domain_id).enterprise_number).main_manager_niss
        senders.update(session, Caller(gap, "eid"), kit.domain_id, SenderPatch(status="blocked"),
                       harness.services.passwords)
    with pytest.raises(LoginRefused):
        channel.upload(build(kit))
