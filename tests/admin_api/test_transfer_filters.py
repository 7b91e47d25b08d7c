"""The transfer log's filters (file name, ticket, technical user), the rule that an unknown query parameter
answers 422 on every list endpoint, one submission in detail (GET /api/v1/submissions/{ticket}) and which submission
a line of the log is about."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from admin_api.identity import Caller
from admin_api.ops import submissions, transfers
from kernel.errors import ErrorCode, spec
from store.models import ReceivedFile, Sender, Submission, TransferEvent
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
                              base="DMFA.123456.20260101.00001", path="/x", sha256=name[:2] * 32) for name in (GO, FI)]
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
            TransferEvent(event="upload", result="ok", file_name=FI, sha256="FI" * 32, **mine),
            TransferEvent(event="upload", result="ok", file_name=GO, sha256="GO" * 32, **mine),
            # the same names by the same sender over FTPS, and an earlier FI of other bytes: other submissions'
            TransferEvent(event="upload", result="ok", file_name=FI, sha256="FI" * 32, **mine | {"protocol": "FTPS"}),
            TransferEvent(event="upload", result="ok", file_name=GO, sha256="GO" * 32, **mine | {"protocol": "FTPS"}),
            TransferEvent(event="upload", result="ok", file_name=FI, sha256="F0" * 32, **mine),
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
    assert events(client, auth, file_name=FI) == [("upload", "123456")] * 3 + [("upload", "654321")]
    assert events(client, auth, file_name=FI, sender="654321") == [("upload", "654321")]
    assert events(client, auth, file_name="FI.NONE") == []


def test_ticket_gives_the_submissions_lines_only(client, auth, log):
    """Its uploads are its files over its own channel with their content: the same names over another channel, and
    an earlier attempt with other bytes, showed up too (found by an outside test helper)."""
    assert events(client, auth, ticket="T-1") == [("delivery", "123456"), ("download", "123456"),
                                                   ("submission", "123456"), ("upload", "123456"),
                                                   ("upload", "123456")]
    assert events(client, auth, ticket="T-1", event="submission") == [("submission", "123456")]
    assert events(client, auth, ticket="T-2") == [("submission", "654321")]  # no submission row: the decision
    assert events(client, auth, ticket="T-9") == []


def test_an_unknown_event_or_result_is_422(client, auth, log):
    """``event=bogus`` answered an empty page, as if nothing had happened."""
    for params in ({"event": "bogus"}, {"result": "maybe"}):
        r = client.get("/api/v1/transfers", params=params, headers=auth(roles=["ops"]))
        assert (r.status_code, r.json()["error"]["code"]) == (422, "VALIDATION_ERROR"), r.text
    assert events(client, auth, event="login", result="refused") == [("login", None)]
    assert events(client, auth, event="session", result="ended") == []  # written by the gateway: a filter value


def test_technical_user(client, auth, log):
    assert [e for e, _ in events(client, auth, technical_user="EXPother")] == ["login", "upload"]
    assert len(events(client, auth, technical_user="EXPuser1")) == 8
    assert len(events(client, auth, page=1, page_size=20)) == 11  # the paging dependency's are known


@pytest.mark.parametrize("path", ["/api/v1/transfers", "/api/v1/audit", "/api/v1/submissions",
                                  "/api/v1/domains/1/users", "/api/v1/domains/1/users.csv",
                                  "/api/v1/enterprises/0123456749/domains", "/api/v1/applications"])
def test_unknown_query_parameter_is_422(client, auth, path):
    r = client.get(path, params={"file_nam": "x"}, headers=auth(roles=["ops"]))
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and "file_nam" in error["message"]
    assert [e["field"] for e in error["details"]["errors"]] == ["query.file_nam"]


GO2 = "GO.DMFA.123456.20260101.00002.R.1.1"
FI2 = "FI.DMFA.123456.20260101.00002.R.1.1"
ACRF2 = "ACRF.DMFA.123456.20260101.00002.R.1.1"
FINDING = {"code": "SIGNER_NOT_REGISTERED", "error_id": "ACRF-153", "file_name": FI2,
           "detail": "signed by CN=Stranger", "message": "The signing certificate is not one registered."}


@pytest.fixture
def resent(db, log) -> dict[str, int]:
    """Sender 123456 sent FI2 (bytes a), which a later FI2 (bytes b) superseded before any GO; then FI2 (bytes c)
    and GO2 made T-3, rejected with one ACRF error; then FI2 again (bytes c, the same bytes) and GO2 made T-4,
    accepted. Upload lines are written just after their file, as the gateway does. Returns line ids by name."""
    t0 = datetime.now(UTC) - timedelta(hours=1)
    mine = {"protocol": "SFTP", "sender_number": "123456", "technical_user": "EXPuser1"}
    lines: dict[str, int] = {}
    with db.session() as session:
        sender_id = session.scalar(select(Sender.id).where(Sender.number == "123456"))

        def upload(key: str, name: str, sha: str | None, at: datetime, **row: str) -> ReceivedFile:
            f = ReceivedFile(sender_id=sender_id, channel="SFTP", folder="IN", name=name, kind=name[:2],
                             base="DMFA.123456.20260101.00002", path="/x", sha256=sha, size=10, received_at=at, **row)
            session.add(f)
            event = TransferEvent(event="upload", result="ok", file_name=name, sha256=sha, size=10,
                                  at=at + timedelta(milliseconds=3), **mine)
            session.add(event)
            session.flush()
            lines[key] = event.id
            return f

        upload("a", FI2, "a" * 64, t0, status="superseded")
        upload("b", FI2, "b" * 64, t0 + timedelta(minutes=1), status="superseded")
        subs = []
        for n, (ticket, status) in enumerate((("T-3", "rejected"), ("T-4", "accepted"))):
            at = t0 + timedelta(minutes=10 * (n + 1))
            fi = upload(f"fi{n}", FI2, "c" * 64, at, status="submitted")
            go = upload(f"go{n}", GO2, "d" * 64, at + timedelta(seconds=1), status="submitted")
            sub = Submission(sender_id=sender_id, go_file_id=go.id, base="DMFA.123456.20260101.00002", go_name=GO2,
                             channel="SFTP", application="DMFA", environment="R", ticket=ticket, status=status,
                             errors=[FINDING] if status == "rejected" else [],
                             acrf_name=ACRF2 if status == "rejected" else ACRF2.replace("ACRF", "ACRZ"),
                             created_at=at + timedelta(seconds=1), processed_at=at + timedelta(seconds=2))
            session.add(sub)
            session.flush()
            fi.submission_id = go.submission_id = sub.id
            subs.append(sub)
        session.add(TransferEvent(event="submission", result="rejected", file_name=GO2, details={"ticket": "T-3"},
                                  at=t0 + timedelta(minutes=10, seconds=2), **mine))
        interrupted = TransferEvent(event="upload", result="incomplete", file_name=FI2, **mine)
        refetched = TransferEvent(event="download", result="ok", file_name=ACRF2, **mine)
        unhashed = TransferEvent(event="delete", result="ok", file_name=FI2, at=t0 + timedelta(minutes=15), **mine)
        session.add_all([interrupted, refetched, unhashed])
        session.flush()
        lines |= {"interrupted": interrupted.id, "acrf": refetched.id, "unhashed": unhashed.id}
    return lines


def test_ops_read_a_rejected_submission_in_their_language(client, auth, resent):
    r = client.get("/api/v1/submissions/T-3", headers=auth(roles=["ops"]) | {"Accept-Language": "nl"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["submission"]["ticket"] == "T-3" and body["submission"]["status"] == "rejected"
    assert body["submission"]["errors"] == ["SIGNER_NOT_REGISTERED"] and body["acrf"] == ACRF2
    assert body["errors"] == [{"code": "SIGNER_NOT_REGISTERED", "error_id": "ACRF-153", "file_name": FI2,
                               "detail": "signed by CN=Stranger",
                               "message": spec(ErrorCode.SIGNER_NOT_REGISTERED).nl}], "the code's Dutch sentence"
    assert [(f["name"], f["sha256"][:1], f["status"]) for f in body["files"]] == [
        (FI2, "c", "submitted"), (GO2, "d", "submitted")], "its own files, not the superseded ones nor T-4's"
    log = [(line["event"], line["file_name"]) for line in body["log"]]
    assert ("submission", GO2) in log and ("download", ACRF2) in log and body["more_log"] is False
    assert [line["id"] for line in body["log"]] == sorted(line["id"] for line in body["log"]), "as written"
    listed = client.get("/api/v1/transfers", params={"ticket": "T-3", "page_size": 100},
                        headers=auth(roles=["ops"])).json()
    assert sorted(line["id"] for line in body["log"]) == sorted(line["id"] for line in listed["items"]), \
        "the same lines as the log's ticket filter"
    accepted = client.get("/api/v1/submissions/T-4", headers=auth(roles=["ops"])).json()
    assert accepted["errors"] == [] and accepted["submission"]["status"] == "accepted"


def test_the_detail_is_for_ops_and_an_unknown_ticket_is_404(client, auth, resent):
    for headers in (auth(roles=["operator"]), auth(factories.niss(1980, 1, 1, 1))):
        refused = client.get("/api/v1/submissions/T-3", headers=headers)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "FORBIDDEN"
    assert client.get("/api/v1/submissions/T-3").status_code == 401
    unknown = client.get("/api/v1/submissions/NOPE", headers=auth(roles=["ops"]) | {"Accept-Language": "en"})
    assert unknown.status_code == 404, unknown.text
    assert unknown.json()["error"]["code"] == "NOT_FOUND"
    assert unknown.json()["error"]["message"] == "No submission with ticket NOPE."
    french = client.get("/api/v1/submissions/NOPE", headers=auth(roles=["ops"]))
    assert french.json()["error"]["message"] == "Aucune soumission ne porte le numéro de ticket NOPE."
    assert client.get("/api/v1/submissions/" + "X" * 14, headers=auth(roles=["ops"])).status_code == 422


def test_a_line_of_the_log_leads_to_its_own_submission(db, resent):
    with db.read() as session:
        def link(key: str) -> tuple[str, str] | None:
            found = submissions.submission_of(session, transfers.get(session, resent[key]))
            return (found.ticket, found.kind) if found else None

        assert link("a") is None and link("b") is None, "superseded before any GO: in no submission"
        assert link("fi0") == ("T-3", "file") and link("go0") == ("T-3", "file")
        assert link("fi1") == ("T-4", "file") and link("go1") == ("T-4", "file"), \
            "the same name and bytes sent again: the file received last before the line"
        assert link("acrf") == ("T-3", "acrf") and link("interrupted") is None
        assert link("unhashed") == ("T-3", "name"), "no SHA-256 on the line: by name, said approximate"
        decision = session.scalar(
            select(TransferEvent.id).where(TransferEvent.event == "submission", TransferEvent.file_name == GO2))
        assert submissions.submission_of(session, transfers.get(session, decision)).kind == "decision"
        caller = Caller(niss=factories.niss(1955, 5, 5, 5), platform_roles=frozenset({"ops"}))
        assert submissions.detail(session, caller, "T-3", "fr").errors[0].message == \
            spec(ErrorCode.SIGNER_NOT_REGISTERED).fr
