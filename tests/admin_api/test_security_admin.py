"""Issue 12 (13c, 13d) on the admin API over a real HTTP server: ids past the id columns' range answer 404/422, not
500 (PostgreSQL's INTEGER stops at 2**31 - 1, SQLite's at 2**63 - 1); the CSV export never lets a spreadsheet run a
cell, whatever blanks or line breaks come before the formula."""

from __future__ import annotations

import csv
import io
import re

import httpx
import pytest

from admin_api.http import MAX_ROW_ID
from admin_api.identity import Caller
from admin_api.user import service as user_service
from admin_api.user.schemas import UserIn
from tests import factories
from tests.admin_api.world import PASSWORD, World, make_world

HUGE = [2**31, 2**63, 10**23]


@pytest.fixture
def w(db, api, auth) -> World:
    return make_world(db, api, auth, with_sender=False)


def integer_id_routes(api: httpx.Client) -> list[tuple[str, str]]:
    """(method, path template) of every /api/v1 route with an integer path parameter, from the OpenAPI document."""
    found = []
    for path, operations in api.get("/api/v1/openapi.json").json()["paths"].items():
        for method, operation in operations.items():
            params = operation.get("parameters", [])
            if any(p["in"] == "path" and p["schema"].get("type") == "integer" for p in params):
                found.append((method.upper(), path))
    return found


def test_ids_past_the_columns_range_answer_404_or_422(api, auth, w):
    routes = integer_id_routes(api)
    assert ("GET", "/api/v1/domains/{domain_id}") in routes and len(routes) >= 10
    headers = auth(w.gap, roles=["ops", "operator"])
    failures = []
    for method, template in routes:
        for value in HUGE:
            path = re.sub(r"\{[a-z_]*id\}", str(value), template).format(
                niss=w.co_gl, channel_type="SFTP", username="ursula.user")
            try:
                response = api.request(method, path, headers=headers,
                                       json={} if method in ("POST", "PUT", "PATCH") else None)
            except httpx.TransportError as exc:  # uvicorn closes the connection after an unexpected failure
                failures.append(f"{method} {template} {value}: {exc}")
                continue
            if response.status_code not in (404, 422) or response.json()["error"]["code"] not in (
                    "NOT_FOUND", "VALIDATION_ERROR"):
                failures.append(f"{method} {template} {value}: {response.status_code}")
    assert not failures, failures


def test_the_largest_id_still_reaches_the_database(api, auth, w):
    response = api.get(f"/api/v1/domains/{MAX_ROW_ID}", headers=auth(w.gap))
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"
    assert api.get(f"/api/v1/domains/{MAX_ROW_ID + 1}", headers=auth(w.gap)).status_code == 422


# (last name, first name, username); the risky one of each (the others are plain) must come back behind a quote
USERS = [(" =HYPERLINK(\"http://x\")", "Eve", "eve.blank"), ("Mallory", "\n=1+2", "mallory.lf"),
         ("\t=SUM(A1)", "Tab", "tab.user"), ("\rplain", "Cr", "cr.user"), ("Plus", "  +3221", "plus.user"),
         ("@cmd", "At", "at.user"), ("Minus", "Mona", "-minus.user"), ("Atname", "Ann", "@at.name")]
RISKY = {" =HYPERLINK(\"http://x\")", "\n=1+2", "\t=SUM(A1)", "\rplain", "  +3221", "@cmd", "-minus.user",
         "@at.name"}


FORMULA = ("=", "+", "-", "@")


def test_the_csv_export_quotes_every_cell_a_spreadsheet_would_run(api, auth, w, db, services):
    for i, (last, first, username) in enumerate(USERS):
        body = {"niss": factories.niss(1982, 2, 2, 300 + i), "username": username, "password": PASSWORD,
                "last_name": last, "first_name": first, "title": " -x", "language": "fr", "email": f"u{i}@a.be",
                "applications": []}
        if any(c in last + first for c in "\t\r\n"):  # refused by the API since stop 26: a row stored before
            with db.session() as session:
                user_service.create_user(session, Caller(w.gl, "eid"), w.domain, UserIn.model_construct(**body),
                                         services.passwords)
            continue
        created = api.post(f"/api/v1/domains/{w.domain}/users", headers=auth(w.gl), json=body)
        assert created.status_code == 201, created.text
        assert created.json()["last_name"] == last  # stored as given: only the export is neutralised
    exported = api.get(f"/api/v1/domains/{w.domain}/users.csv", headers=auth(w.gl))
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"), newline="")))
    by_username = {r["username"].removeprefix("'"): r for r in rows}
    for user in USERS:
        row = by_username[user[2]]
        for column, value in zip(("last_name", "first_name", "username"), user, strict=True):
            assert row[column] == ("'" + value if value in RISKY else value), (column, row)
        assert row["title"] == "' -x"
    for row in rows:  # no cell of the export starts a formula
        for value in row.values():
            assert value[:1] == "'" or (value[:1] not in ("\t", "\r") and value.lstrip()[:1] not in FORMULA), row


@pytest.mark.parametrize("path", ["users", "users.csv"])
def test_a_nul_in_a_users_filter_is_refused_before_any_answer(api, auth, w, path):
    """PostgreSQL refuses a NUL in a string: the CSV export had already sent its 200 and header, and the manager got
    an empty file that read as "no user matches"."""
    answer = api.get(f"/api/v1/domains/{w.domain}/{path}", params={"last_name": "a\x00b"}, headers=auth(w.gap))
    assert (answer.status_code, answer.json()["error"]["code"]) == (422, "VALIDATION_ERROR")


def test_a_domain_name_or_identifier_longer_than_its_column_is_refused(api, auth, w):
    for body in ({"name": "Secrétariat social agréé", "identifier": "9" * 41},
                 {"name": "N" * 101, "identifier": "123"}):
        answer = api.post(f"/api/v1/enterprises/{w.a}/domains", json=body, headers=auth(w.gap))
        assert (answer.status_code, answer.json()["error"]["code"]) == (422, "VALIDATION_ERROR"), answer.text


def test_a_second_channel_of_one_type_racing_the_first_gets_channel_exists(db, api, auth):
    """Two requests adding the same channel both pass the check before either commits: the database's unique rule
    refuses the second, with the business code (it was the generic CONFLICT)."""
    from sqlalchemy import select
    from sqlalchemy.exc import IntegrityError

    from admin_api.http import conflict
    from store.models import Sender, SenderChannel

    world = make_world(db, api, auth)  # with its sender and channels
    with db.session() as session:
        channel = session.scalars(select(SenderChannel).join(Sender).where(Sender.domain_id == world.domain)).first()
        sender_id, kind = channel.sender_id, channel.type
    with pytest.raises(IntegrityError) as refused, db.session() as session:
        session.add(SenderChannel(sender_id=sender_id, type=kind))
    assert conflict(refused.value).code == "CHANNEL_EXISTS"


def test_a_name_whose_folded_key_is_longer_than_the_name_is_kept_and_found(api, auth, w):
    """Folding for the case- and accent-free key decomposes some characters into many ("ﷺ" into 18): a 10-character
    last name (and a 100-character one of "ﬃ") made a key over its column's 100 characters, a 500 on PostgreSQL.
    Both are kept, found by a prefix, and a PATCH to such a first name is taken."""
    names = {"arabic": "ﷺ" * 10, "ligature": "ﬃ" * 100}
    for n, last in enumerate(names.values()):
        created = api.post(f"/api/v1/domains/{w.domain}/users", headers=auth(w.gl), json={
            "niss": factories.niss(1984, 3, n + 1, 70 + n), "username": f"folded.{n}", "password": PASSWORD,
            "last_name": last, "first_name": "F", "title": "M.", "language": "fr", "email": "f@a.be",
            "applications": ["DMFA"]})
        assert created.status_code == 201, created.text
        found = api.get(f"/api/v1/domains/{w.domain}/users", headers=auth(w.gl), params={"last_name": last[:3]})
        assert [u["username"] for u in found.json()["items"]] == [f"folded.{n}"], found.text
    patched = api.patch(f"/api/v1/domains/{w.domain}/users/folded.0", headers=auth(w.gl),
                        json={"first_name": "ﬃ" * 60})
    assert patched.status_code == 200, patched.text
