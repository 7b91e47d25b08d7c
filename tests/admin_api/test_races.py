"""Promises under racing requests, over a real uvicorn on loopback (the in-process test client hides when the
answer leaves): one winner per invariant, the losers answered 409 with the business code, and every 2xx write
readable at once."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select

from store.models import Sender, User
from tests.admin_api import senders
from tests.admin_api.world import make_world
from tests.gga.test_http_limits import running

RACERS = 8


@pytest.fixture
def live(services):
    """The admin API on a real socket, configured as `gga serve` runs it."""
    with running(services) as port:
        yield f"http://127.0.0.1:{port}"


def race(calls) -> list[httpx.Response]:  # type: ignore[no-untyped-def]
    """Start every call at once (a barrier), each on its own connection."""
    barrier = threading.Barrier(len(calls))

    def run(call):  # type: ignore[no-untyped-def]
        with httpx.Client(timeout=60) as http:
            barrier.wait(10)
            return call(http)

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def outcome(responses: list[httpx.Response]) -> Counter:
    return Counter((r.status_code, r.json().get("error", {}).get("code") if r.status_code >= 400 else None)
                   for r in responses)


def test_one_sender_per_domain(db, client, auth, live):
    w = make_world(db, client, auth, with_sender=False)
    bodies = [senders.sender_body(f"EXPrace{n:03d}") for n in range(RACERS)]
    responses = race([lambda http, b=b: http.post(f"{live}/api/v1/domains/{w.domain}/sender",
                                                  headers=auth(w.gap), json=b) for b in bodies])
    assert outcome(responses) == Counter({(201, None): 1, (409, "SENDER_EXISTS"): RACERS - 1}), [
        r.text for r in responses]
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Sender).where(Sender.status != "deleted")) == 1


def test_one_user_per_username(db, client, auth, live):
    w = make_world(db, client, auth, with_sender=False)
    from tests import factories

    bodies = [{"niss": factories.niss(1985, 1, n + 1, 10 + n), "username": "same.name", "password": "Secret-pass-2026",
               "last_name": "Race", "first_name": f"R{n}", "title": "M.", "language": "fr", "email": "r@a.be",
               "applications": ["DMFA"]} for n in range(RACERS)]
    responses = race([lambda http, b=b: http.post(f"{live}/api/v1/domains/{w.domain}/users", headers=auth(w.gl),
                                                  json=b) for b in bodies])
    assert outcome(responses) == Counter({(201, None): 1, (409, "USERNAME_TAKEN"): RACERS - 1}), [
        r.text for r in responses]


def test_replacing_the_local_manager_leaves_exactly_one(db, client, auth, live):
    w = make_world(db, client, auth, with_sender=False)
    from tests import factories

    person = {"title": "M.", "language": "fr", "email": "x@a.be"}
    bodies = [{"niss": factories.niss(1970, 2, n + 1, 20 + n), "username": f"gl.{n}", "last_name": "Gl",
               "first_name": f"G{n}", **person} for n in range(RACERS)]
    responses = race([lambda http, b=b: http.put(f"{live}/api/v1/domains/{w.domain}/local-manager",
                                                 headers=auth(w.gap), json=b) for b in bodies])
    assert {r.status_code for r in responses} == {200}, [r.text for r in responses]
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(User).where(
            User.domain_id == w.domain, User.type == "GL")) == 1


def test_one_main_access_manager_per_enterprise(db, client, auth, live):
    w = make_world(db, client, auth, with_sender=False)
    from store.models import LegalFunction

    with db.session() as session:  # the unregistered enterprise C has one legal representative
        assert session.scalar(select(func.count()).select_from(LegalFunction).where(
            LegalFunction.enterprise_number == w.c)) >= 1
    contact = {"email": "c@c.be", "phone": "+3221234567"}
    body = {"enterprise_number": w.c, "main_access_manager": "self", "contact": contact, "confirm": True}
    responses = race([lambda http: http.post(f"{live}/api/v1/registrations", headers=auth(w.lr_c), json=body)
                      for _ in range(RACERS)])
    counts = outcome(responses)
    assert counts[(201, None)] == 1 and sum(counts.values()) == RACERS, [r.text for r in responses]
    assert {code for (status, code) in counts if status != 201} <= {"ENTERPRISE_ALREADY_REGISTERED",
                                                                     "ALREADY_MAIN_ACCESS_MANAGER"}


def test_every_created_registration_is_readable_at_once(db, client, auth, live):
    """Create-then-read 100 times over real sockets: the 201 leaves after the commit, so no read misses."""
    w = make_world(db, client, auth, with_sender=False)
    from tests import factories
    from tests.factories import registry_extract

    numbers = [factories.enterprise_number(600000 + n) for n in range(100)]
    reps = {n: factories.niss(1960, 1 + i % 12, 1 + i % 28, i % 997) for i, n in enumerate(numbers)}
    from admin_api.registry import import_extract

    with db.session() as session:
        import_extract(session, registry_extract({n: [reps[n]] for n in numbers},
                                                 {r: ("Rita", f"Rep{i}") for i, r in enumerate(reps.values())}))
    misses = 0
    with httpx.Client(timeout=30) as http:
        for n in numbers:
            created = http.post(f"{live}/api/v1/registrations/exceptional", json={
                "legal_representative": {"niss": reps[n], "first_name": "Rita",
                                         "last_name": f"Rep{numbers.index(n)}"},
                "enterprise_number": n, "main_access_manager": "self",
                "contact": {"email": "r@r.be", "phone": "+3221234567"}, "confirm": True})
            assert created.status_code == 201, created.text
            read = http.get(f"{live}/api/v1/registrations/{created.json()['ticket']}")
            misses += read.status_code != 200
    assert misses == 0
    assert w.a


def test_one_sender_per_technical_user(db, client, auth, live):
    w = make_world(db, client, auth, with_sender=False)
    domains = [w.domain] + [client.post(f"/api/v1/enterprises/{w.a}/domains", headers=auth(w.gap), json={
        "name": "Employeur ONSS", "identifier": f"12345{n:02d}-89"}).json()["id"] for n in range(RACERS - 1)]
    responses = race([lambda http, d=d: http.post(f"{live}/api/v1/domains/{d}/sender", headers=auth(w.gap),
                                                  json=senders.sender_body("EXPsame001")) for d in domains])
    assert outcome(responses) == Counter({(201, None): 1, (409, "TECHNICAL_USER_TAKEN"): RACERS - 1}), [
        r.text for r in responses]


def test_an_exceptional_request_is_decided_once_when_operators_approve_and_reject_at_once(db, client, auth, live):
    w = make_world(db, client, auth, with_sender=False)
    operator = auth("85010100110", roles=["operator"])
    decide = [lambda http, n=n: http.post(f"{live}/api/v1/registrations/{w.ticket}/{'approve' if n % 2 else 'reject'}",
                                          headers=operator, json=None if n % 2 else {"reason": "not signed"})
              for n in range(RACERS)]
    responses = race(decide)
    counts = outcome(responses)
    assert counts[(200, None)] == 1 and sum(counts.values()) == RACERS, [r.text for r in responses]
    assert {code for (status, code) in counts if status != 200} == {"REQUEST_ALREADY_DECIDED"}
    (winner,) = [r for r in responses if r.status_code == 200]
    from store.models import Enterprise, RegistrationRequest
    with db.session() as session:
        request = session.get(RegistrationRequest, w.ticket)
        registered = session.get(Enterprise, w.c).main_manager_niss == w.lr_c
    assert request.status == winner.json()["status"]  # the answer given is the decision kept
    assert registered == (request.status == "approved")  # registered exactly when approved


def test_a_person_made_gap_while_added_as_co_gap_is_never_both(db, client, auth, live):
    """The legal representative designates N as GAP while the GAP adds N as co-GAP, at once: N ends as GAP or as
    co-GAP, never both (the co-GAP addition read the GAP unlocked, then a designation that had not yet seen the new
    co-GAP row kept it; 4 races in 6 on PostgreSQL)."""
    from store.models import CoMainManager, Enterprise
    from tests import factories

    w = make_world(db, client, auth, with_sender=False)
    gap = w.gap
    for n in range(6):
        person = factories.niss(1986, 4, n + 1, 40 + n)
        designation = {"main_access_manager": {"niss": person, "email": "n@a.be", "phone": "+3221234567"},
                       "contact": {"email": "direction@a.be", "phone": "+3221234567"}, "confirm": True}
        responses = race([
            lambda http, body=designation: http.put(f"{live}/api/v1/enterprises/{w.a}/main-access-manager",
                                                    headers=auth(w.lr), json=body),
            lambda http, p=person, g=gap: http.post(f"{live}/api/v1/enterprises/{w.a}/co-main-managers",
                                                    headers=auth(g), json={"niss": p})])
        assert responses[0].status_code == 200, responses[0].text
        assert responses[1].status_code in (201, 403, 409), responses[1].text  # 403: no longer GAP when it ran
        with db.session() as session:
            assert session.get(Enterprise, w.a).main_manager_niss == person
            assert session.get(CoMainManager, (w.a, person)) is None, n
        gap = person
