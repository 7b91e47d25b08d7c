"""Every route of /api/v1 x every role, with the expected allow/deny written out.

"allow" means the policy let the call through (any answer but 401/403); "deny" means 403 (401 when anonymous).
Callers act on enterprise A; ``gap_b`` is the GAP of enterprise B (tenant isolation).
"""

from __future__ import annotations

import pytest

from admin_api.app import create_app
from store.models import Base
from tests import factories
from tests.admin_api import senders
from tests.admin_api.world import PASSWORD, World, make_world

CALLERS = ["anonymous", "lr", "gap", "co_gap", "gl", "co_gl", "user", "operator", "ops", "stranger", "gap_b"]
MANAGERS = {"gap", "co_gap", "gl", "co_gl"}
PUBLIC = set(CALLERS)
CONTACT = {"email": "c@a.be", "phone": "021234567"}


def person(niss: str, username: str) -> dict:
    return {"niss": niss, "username": username, "last_name": "New", "first_name": "Person", "email": "n@a.be",
            "password": PASSWORD, "applications": ["DMFA"]}


def designation() -> dict:
    return {"main_access_manager": {"niss": factories.niss(1999, 1, 1, 1), "email": "g@a.be", "phone": "021234567"},
            "contact": CONTACT, "confirm": True}


# (method, route path, concrete path, body, allowed callers)
MATRIX: list[tuple[str, str, str, object, set[str]]] = [
    ("POST", "/registrations", "/registrations", lambda w: {"enterprise_number": w.a, "main_access_manager": "self",
                                                              "contact": CONTACT, "confirm": True}, {"lr", "gap"}),
    ("POST", "/registrations/exceptional", "/registrations/exceptional", lambda w: {
        "legal_representative": {"niss": w.lr_c, "first_name": "Carla", "last_name": "Exception"},
        "enterprise_number": w.c, "main_access_manager": "self", "contact": CONTACT, "confirm": True}, PUBLIC),
    ("GET", "/registrations/{ticket}", "/registrations/{w.ticket}", None, PUBLIC),
    ("GET", "/registrations/{ticket}/document", "/registrations/{w.ticket}/document", None, PUBLIC),
    ("POST", "/registrations/{ticket}/approve", "/registrations/{w.ticket}/approve", None, {"operator"}),
    ("POST", "/registrations/{ticket}/reject", "/registrations/{w.ticket}/reject", {"reason": "unsigned"},
     {"operator"}),
    ("GET", "/enterprises/{number}", "/enterprises/{w.a}", None, MANAGERS | {"lr", "operator"}),
    ("PUT", "/enterprises/{number}/main-access-manager", "/enterprises/{w.a}/main-access-manager",
     lambda w: designation(), {"lr", "gap"}),
    ("POST", "/enterprises/{number}/co-main-managers", "/enterprises/{w.a}/co-main-managers",
     lambda w: {"niss": factories.niss(1998, 1, 1, 1)}, {"gap"}),
    ("DELETE", "/enterprises/{number}/co-main-managers/{niss}", "/enterprises/{w.a}/co-main-managers/{w.co_gap}",
     None, {"gap"}),
    ("GET", "/enterprises/{number}/domains", "/enterprises/{w.a}/domains", None, MANAGERS),
    ("POST", "/enterprises/{number}/domains", "/enterprises/{w.a}/domains",
     {"name": "Employeur ONSS", "identifier": "1111111-11"}, {"gap", "co_gap"}),
    ("GET", "/domains/{domain_id}", "/domains/{w.domain}", None, MANAGERS),
    ("PUT", "/domains/{domain_id}/local-manager", "/domains/{w.domain}/local-manager",
     lambda w: person(factories.niss(1997, 1, 1, 1), "new.gl"), {"gap", "co_gap"}),
    ("POST", "/domains/{domain_id}/co-local-managers", "/domains/{w.domain}/co-local-managers",
     lambda w: person(factories.niss(1996, 1, 1, 1), "new.cogl"), {"gap", "co_gap", "gl"}),
    ("DELETE", "/domains/{domain_id}/co-local-managers/{niss}", "/domains/{w.domain}/co-local-managers/{w.co_gl}",
     None, {"gap", "co_gap", "gl"}),
    ("GET", "/domains/{domain_id}/users", "/domains/{w.domain}/users", None, MANAGERS),
    ("GET", "/domains/{domain_id}/users.csv", "/domains/{w.domain}/users.csv", None, MANAGERS),
    ("POST", "/domains/{domain_id}/users", "/domains/{w.domain}/users",
     lambda w: person(factories.niss(1995, 1, 1, 1), "new.user"), MANAGERS),
    ("GET", "/domains/{domain_id}/users/{username}", "/domains/{w.domain}/users/ursula.user", None, MANAGERS),
    ("PATCH", "/domains/{domain_id}/users/{username}", "/domains/{w.domain}/users/ursula.user",
     {"last_name": "Renamed", "local_email": ""}, MANAGERS),
    ("POST", "/domains/{domain_id}/users/bulk", "/domains/{w.domain}/users/bulk",
     {"action": "block", "users": ["ursula.user"]}, MANAGERS),
    ("GET", "/domains/{domain_id}/sender", "/domains/{w.domain}/sender", None, MANAGERS),
    ("POST", "/domains/{domain_id}/sender", "/domains/{w.domain}/sender", lambda w: senders.sender_body("EXPnew001"),
     MANAGERS),
    ("PATCH", "/domains/{domain_id}/sender", "/domains/{w.domain}/sender", {"status": "active"}, MANAGERS),
    ("DELETE", "/domains/{domain_id}/sender", "/domains/{w.domain}/sender", None, MANAGERS),
    ("POST", "/domains/{domain_id}/sender/channels", "/domains/{w.domain}/sender/channels",
     lambda w: {"type": "WS", "certificate": senders.cert_pem(), "applications": [{"code": "DIMN"}]}, MANAGERS),
    ("PATCH", "/domains/{domain_id}/sender/channels/{channel_type}", "/domains/{w.domain}/sender/channels/FTP",
     {"plain_ftp": False}, MANAGERS),
    ("PATCH", "/domains/{domain_id}/sender/channels", "/domains/{w.domain}/sender/channels",
     {"type": "FTP", "plain_ftp": False}, MANAGERS),
    ("DELETE", "/domains/{domain_id}/sender/channels/{channel_type}", "/domains/{w.domain}/sender/channels/FTP",
     None, MANAGERS),
    ("GET", "/applications", "/applications", None, PUBLIC),
    ("GET", "/audit", "/audit", None, {"ops"}),
    ("GET", "/transfers", "/transfers", None, {"ops"}),
    ("GET", "/transfers/{transfer_id}", "/transfers/1", None, {"ops"}),
    ("GET", "/submissions", "/submissions", None, {"ops"}),
    ("GET", "/submissions/{ticket}", "/submissions/NOSUCHTICKET", None, {"ops"}),  # ops: 404, others refused first
    ("GET", "/gateway/certificate", "/gateway/certificate", None, PUBLIC),
    ("POST", "/returns", "/returns?sender_number={w.sender}&application=DMFA&environment=T", None, {"ops"}),
    ("GET", "/defender/bans", "/defender/bans", None, {"ops"}),
    ("DELETE", "/defender/bans/{address}", "/defender/bans/203.0.113.9", None, {"ops"}),
]


def headers_for(who: str, w: World, auth) -> dict:  # type: ignore[no-untyped-def]
    if who == "anonymous":
        return {}
    if who in ("operator", "ops"):
        return auth(factories.niss(1955, 5, 5, 5), roles=[who])
    return auth(getattr(w, who))


def empty(db) -> None:  # type: ignore[no-untyped-def]
    with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.mark.parametrize(("method", "route", "path", "body", "allowed"), MATRIX,
                         ids=[f"{m} {r}" for m, r, *_ in MATRIX])
def test_role_matrix(db, client, auth, method, route, path, body, allowed):
    """Every caller on one route. A refused call changes nothing (the policy runs before any write), so the
    world is made anew only after an allowed write."""
    w = make_world(db, client, auth)
    for who in CALLERS:
        url = "/api/v1" + path.format(w=w)
        payload = body(w) if callable(body) else body
        response = client.request(method, url, headers=headers_for(who, w, auth), json=payload)
        if who in allowed:
            assert response.status_code not in (401, 403), (who, response.text)
            assert response.status_code < 500, (who, response.text)
            if method != "GET":
                empty(db)
                w = make_world(db, client, auth)
        elif who == "anonymous":
            assert response.status_code == 401, (who, response.text)
        else:
            assert response.status_code == 403, (who, response.text)
            assert response.json()["error"]["code"] in ("FORBIDDEN", "NOT_LEGAL_REPRESENTATIVE"), who


def test_matrix_covers_every_route(services):
    paths = create_app(services).openapi()["paths"]
    routes = {(method.upper(), path.removeprefix("/api/v1")) for path, ops in paths.items()
              if path.startswith("/api/v1") for method in ops}
    covered = {(m, r) for m, r, *_ in MATRIX}
    assert routes == covered
