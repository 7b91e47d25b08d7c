"""The transfer log for ops, and return files posted by applications."""

import zipfile

from tests import factories
from tests.gateway.harness import build, put

OPS = factories.niss(1960, 6, 6, 6)


def test_transfer_log_lists_every_step_with_filters(harness, kit, client, auth):
    put(harness.port, kit, build(kit))
    harness.wait_acrf(kit)
    ops = auth(OPS, roles=["ops"])
    everything = client.get("/api/v1/transfers", headers=ops, params={"sender": kit.number, "page_size": 100}).json()
    kinds = {(e["event"], e["result"]) for e in everything["items"]}
    assert {("login", "ok"), ("upload", "ok"), ("submission", "accepted"), ("delivery", "ok")} <= kinds
    upload = next(e for e in everything["items"] if e["event"] == "upload" and e["file_name"].startswith("FI."))
    assert upload["protocol"] == "SFTP" and upload["technical_user"] == kit.technical_user
    assert len(upload["sha256"]) == 64 and upload["size"] > 0 and upload["remote_address"].startswith("127.0.0.1")
    assert upload["application"] == "DMFA" and upload["environment"] == "T" and upload["duration_ms"] is not None
    accepted = client.get("/api/v1/transfers", headers=ops, params={"result": "accepted"}).json()
    assert accepted["total"] == 1 and accepted["items"][0]["details"]["ticket"]
    assert client.get(f"/api/v1/transfers/{upload['id']}", headers=ops).json()["sha256"] == upload["sha256"]
    assert client.get("/api/v1/transfers", headers=ops, params={"environment": "R"}).json()["total"] == 0
    assert client.get("/api/v1/transfers", headers=ops, params={"sender": "12"}).status_code == 422
    assert client.get("/api/v1/transfers", headers=auth(OPS, roles=["operator"])).status_code == 403
    assert client.get("/api/v1/transfers/999999", headers=ops).status_code == 404


def test_application_return_is_signed_and_delivered_on_the_preferred_channel(harness, kit, client, auth):
    ops = auth(OPS, roles=["ops"])
    response = client.post("/api/v1/returns", headers=ops, content=b"<Notification>ok</Notification>",
                           params={"sender_number": kit.number, "application": "DIMN", "environment": "T"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["channel"] == "FTP" and body["name"].startswith("FO.NOTI.999999.")
    folder = harness.home(kit, "FTP") / "OUTTEST"
    assert (folder / body["name"]).read_bytes() == b"<Notification>ok</Notification>"
    assert {p.name[:2] for p in folder.iterdir()} == {"FO", "FS", "GO"}


def test_large_returns_go_out_zipped_as_co(harness, kit, client, auth):
    harness.gateway.returns.zip_threshold = 1000
    client.app.state.services.returns = harness.gateway
    response = client.post("/api/v1/returns", headers=auth(OPS, roles=["ops"]), content=b"n" * 5000,
                           params={"sender_number": kit.number, "application": "DMFA", "environment": "R",
                                   "type": "NOTI"})
    name = response.json()["name"]
    assert name.startswith("CO.NOTI.999999.")
    with zipfile.ZipFile(harness.home(kit, "SFTP") / "OUT" / name) as archive:
        (inner,) = archive.namelist()
        assert inner == "FO" + name[2:] and archive.read(inner) == b"n" * 5000


def test_return_refusals(harness, kit, client, auth):
    ops = auth(OPS, roles=["ops"])
    unknown = client.post("/api/v1/returns", headers=ops, content=b"x",
                          params={"sender_number": "000001", "application": "DMFA", "environment": "T"})
    assert unknown.status_code == 404
    outside = client.post("/api/v1/returns", headers=ops, content=b"x",
                          params={"sender_number": kit.number, "application": "AOAT", "environment": "T"})
    assert outside.json()["error"]["code"] == "APPLICATION_NOT_AUTHORISED"
    # found by an outside test helper: an ACRF signed by the gateway for a GO never sent (a forged "accepted"), an
    # application no catalogue knows told "not authorised", an empty return delivered
    params = {"sender_number": kit.number, "application": "DMFA", "environment": "T"}
    forged = b"<ACRF><FileName>GO.DMFA.x</FileName><ReferenceNbr>FAKEFAKEFAKE1</ReferenceNbr><ResultCode>1</ResultCode>"
    for content, extra, code in ((forged, {"type": "ACRF"}, "VALIDATION_ERROR"),
                                 (b"x", {"application": "XXXX"}, "APPLICATION_UNKNOWN"),
                                 (b"", {}, "VALIDATION_ERROR")):
        refused = client.post("/api/v1/returns", headers=ops, content=content, params=params | extra)
        assert (refused.status_code, refused.json()["error"]["code"]) == (422, code), refused.text
    assert list((harness.home(kit, "SFTP") / "OUTTEST").iterdir()) == []


def test_a_return_over_its_limit_is_refused_whole_or_chunked(harness, kit, client, auth):
    harness.services.settings.return_max_mb = 1
    params = {"sender_number": kit.number, "application": "DMFA", "environment": "T"}
    ops = auth(OPS, roles=["ops"])
    declared = client.post("/api/v1/returns", headers=ops, content=b"r" * ((1 << 20) + 1), params=params)
    chunked = client.post("/api/v1/returns", headers=ops, params=params,
                          content=iter([b"r" * (1 << 19)] * 3))  # no Content-Length: counted as it comes
    for answer in (declared, chunked):
        assert answer.status_code == 413 and answer.json()["error"]["code"] == "BODY_TOO_LARGE", answer.text
    assert list((harness.home(kit, "SFTP") / "OUTTEST").iterdir()) == []


def test_a_channel_with_return_files_waiting_is_not_removed_until_they_are_picked_up(harness, kit, client, auth):
    """Removing a channel, or the whole sender, left its waiting return files where no channel reaches them (its
    login refused, the other channels' folders empty)."""
    from tests import factories
    from tests.gateway.harness import sftp_call
    gap = factories.niss(1970, 4, 4, 44)
    delivered = client.post("/api/v1/returns", headers=auth(factories.niss(1960, 6, 6, 6), roles=["ops"]),
                            content=b"<N>important</N>", params={"sender_number": kit.number, "application": "DMFA",
                                                                 "environment": "T"})
    assert delivered.status_code == 201, delivered.text
    url = f"/api/v1/domains/{kit.domain_id}/sender/channels/SFTP"  # DMFA prefers SFTP: the set waits there
    refused = client.delete(url, headers=auth(gap))
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "RETURNS_WAITING"), refused.text
    assert refused.json()["error"]["details"]["count"] == 3  # FO, FS, GO
    # deleting the whole sender took its login with the files still there: refused the same way
    sender_url = f"/api/v1/domains/{kit.domain_id}/sender"
    whole = client.delete(sender_url, headers=auth(gap) | {"Accept-Language": "en"})
    assert (whole.status_code, whole.json()["error"]["code"]) == (409, "RETURNS_WAITING"), whole.text
    assert whole.json()["error"]["message"].startswith("Return files wait in the sender's folders")
    assert client.get(sender_url, headers=auth(gap)).json()["status"] == "active"

    async def pick_up(sftp):  # type: ignore[no-untyped-def]
        for name in await sftp.listdir("/OUTTEST"):
            if not name.startswith("."):
                await sftp.remove(f"/OUTTEST/{name}")
        return "picked up"
    assert sftp_call(harness.port, kit, pick_up) == "picked up"
    assert client.delete(url, headers=auth(gap)).status_code == 200
    assert client.delete(sender_url, headers=auth(gap)).status_code == 204  # nothing waits now


def test_a_go_whose_sender_is_deleted_before_its_decision_is_still_answered(harness, kit, db, client, auth,
                                                                             monkeypatch):
    """A GO recorded just before its sender's deletion was decided on a sender the directory no longer returned:
    an assertion failed at every retry, the submission never answered (found by a review helper). Deleting a
    sender with a submission in flight is refused; one landing right after the deletion's check is answered
    SENDER_BLOCKED."""
    from sqlalchemy import select, update

    from gateway.pipeline import IntakePipeline
    from store.models import Sender, Submission
    from tests.gateway.harness import error_ids
    held: list[int] = []
    monkeypatch.setattr(IntakePipeline, "schedule", lambda self, sid: held.append(sid))
    assert put(harness.port, kit, build(kit)) == []
    assert held, "the GO's submission was not recorded"
    gap = factories.niss(1970, 4, 4, 44)
    refused = client.delete(f"/api/v1/domains/{kit.domain_id}/sender", headers=auth(gap))
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "RETURNS_WAITING"), refused.text
    with db.session() as session:  # as if deleted right after its check: the GO landed meanwhile
        session.execute(update(Sender).where(Sender.number == kit.number).values(status="deleted"))
    monkeypatch.undo()
    harness.gateway.pipeline.schedule(held[0])
    acrf = harness.wait_acrf(kit)
    assert acrf.findtext("ResultCode") == "0" and "SENDER_BLOCKED" in error_ids(acrf), error_ids(acrf)
    with db.session() as session:
        assert session.scalar(select(Submission.status).where(Submission.id == held[0])) != "received"
