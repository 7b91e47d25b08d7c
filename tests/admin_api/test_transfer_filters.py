"""The transfer log's filters (file name, ticket, technical user) and the rule that an unknown query parameter
answers 422 on every list endpoint."""

from __future__ import annotations

import pytest

from store.models import ReceivedFile, Submission, TransferEvent
from tests import factories

GO = "GO.DMFA.123456.20260101.00001.R.1.1"
FI = "FI.DMFA.123456.20260101.00001.R.1.1"
ACRF = "ACRF.DMFA.123456.20260101.00001.R.1.1"


@pytest.fixture
def log(db) -> None:
    """Sender 123456 (EXPuser1) submitted GO + FI (ticket T-1), got an ACRF and downloaded it; sender 654321 used
    the same file name; one unrelated login."""
    with db.session() as session:
        sender = factories.bare_sender(session)
        files = [ReceivedFile(sender_id=sender.id, channel="SFTP", folder="IN", name=name, kind=name[:2],
                              base="DMFA.123456.20260101.00001", path="/x") for name in (GO, FI)]
        session.add_all(files)
        session.flush()
        sub = Submission(sender_id=sender.id, go_file_id=files[0].id, base="DMFA.123456.20260101.00001", go_name=GO,
                         channel="SFTP", application="DMFA", environment="R", ticket="T-1", acrf_name=ACRF)
        session.add(sub)
        session.flush()
        for f in files:
            f.submission_id = sub.id
        mine = {"protocol": "SFTP", "sender_number": "123456", "technical_user": "EXPuser1"}
        session.add_all([
            TransferEvent(event="upload", result="ok", file_name=FI, **mine),
            TransferEvent(event="upload", result="ok", file_name=GO, **mine),
            TransferEvent(event="submission", result="accepted", file_name=GO, details={"ticket": "T-1"}, **mine),
            TransferEvent(event="delivery", result="ok", file_name=ACRF, **mine | {"protocol": "-"}),
            TransferEvent(event="download", result="ok", file_name=ACRF, **mine),
            TransferEvent(event="upload", result="ok", file_name=FI, protocol="FTP", sender_number="654321",
                          technical_user="EXPother"),
            TransferEvent(event="login", result="refused", protocol="SFTP", technical_user="EXPother"),
            TransferEvent(event="submission", result="rejected", protocol="SFTP", sender_number="654321",
                          details={"ticket": "T-2"}),
        ])


def events(client, auth, **params) -> list[tuple[str, str | None]]:
    r = client.get("/api/v1/transfers", params=params, headers=auth(roles=["ops"]))
    assert r.status_code == 200, r.text
    assert r.json()["total"] == len(r.json()["items"])
    return sorted((e["event"], e["sender_number"]) for e in r.json()["items"])


def test_file_name(client, auth, log):
    assert events(client, auth, file_name=FI) == [("upload", "123456"), ("upload", "654321")]
    assert events(client, auth, file_name=FI, sender="654321") == [("upload", "654321")]
    assert events(client, auth, file_name="FI.NONE") == []


def test_ticket_gives_the_submissions_lines_only(client, auth, log):
    assert events(client, auth, ticket="T-1") == [("delivery", "123456"), ("download", "123456"),
                                                   ("submission", "123456"), ("upload", "123456"),
                                                   ("upload", "123456")]
    assert events(client, auth, ticket="T-1", event="submission") == [("submission", "123456")]
    assert events(client, auth, ticket="T-2") == [("submission", "654321")]  # no submission row: the decision
    assert events(client, auth, ticket="T-9") == []


def test_technical_user(client, auth, log):
    assert [e for e, _ in events(client, auth, technical_user="EXPother")] == ["login", "upload"]
    assert len(events(client, auth, technical_user="EXPuser1")) == 5
    assert len(events(client, auth, page=1, page_size=10)) == 8  # the paging dependency's are known


@pytest.mark.parametrize("path", ["/api/v1/transfers", "/api/v1/audit", "/api/v1/submissions",
                                  "/api/v1/domains/1/users", "/api/v1/domains/1/users.csv",
                                  "/api/v1/enterprises/0123456749/domains", "/api/v1/applications"])
def test_unknown_query_parameter_is_422(client, auth, path):
    r = client.get(path, params={"file_nam": "x"}, headers=auth(roles=["ops"]))
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and "file_nam" in error["message"]
    assert [e["field"] for e in error["details"]["errors"]] == ["query.file_nam"]
