"""A small world every admin test can start from: enterprise A with all the guide's roles, enterprise B."""

from __future__ import annotations

from dataclasses import dataclass

from admin_api.registry import import_extract
from store.database import Database
from tests import factories

PASSWORD = "Secret-pass-2026"


@dataclass
class World:
    a: str
    b: str
    lr: str  # legal representative of A (not a manager)
    gap: str  # GAP of A (also a legal representative)
    co_gap: str
    gl: str
    co_gl: str
    user: str
    stranger: str
    gap_b: str
    c: str = ""  # unregistered enterprise with a pending exceptional request
    lr_c: str = ""
    ticket: str = ""
    sender: str = ""
    domain: int = 0
    domain_b: int = 0


def make_world(db: Database, client, auth, with_sender: bool = True) -> World:  # type: ignore[no-untyped-def]
    w = World(a=factories.enterprise_number(403019), b=factories.enterprise_number(555001),
              lr=factories.niss(1970, 1, 2, 11), gap=factories.niss(1980, 3, 4, 21),
              co_gap=factories.niss(1981, 5, 6, 31), gl=factories.niss(1990, 7, 8, 41),
              co_gl=factories.niss(1991, 9, 10, 51), user=factories.niss(2001, 11, 12, 61),
              stranger=factories.niss(1975, 1, 1, 71), gap_b=factories.niss(1966, 6, 6, 81))
    names = {w.lr: ("Luc", "Legal"), w.gap: ("Gaby", "Principal"), w.co_gap: ("Colette", "Adjointe"),
             w.gl: ("Gilles", "Local"), w.co_gl: ("Cora", "Colocale"), w.user: ("Ursula", "User"),
             w.gap_b: ("Bob", "Other")}
    w.c, w.lr_c = factories.enterprise_number(777001), factories.niss(1960, 2, 2, 91)
    names[w.lr_c] = ("Carla", "Exception")
    with db.session() as session:
        import_extract(session, factories.registry_extract(
            {w.a: [w.lr, w.gap], w.b: [w.gap_b], w.c: [w.lr_c]}, names))

    def ok(response, status=201):  # type: ignore[no-untyped-def]
        assert response.status_code == status, response.text
        return response.json()

    contact = {"email": "direction@a.be", "phone": "+3221234567"}
    ok(client.post("/api/v1/registrations", headers=auth(w.gap), json={
        "enterprise_number": w.a, "main_access_manager": "self", "contact": contact, "confirm": True}))
    ok(client.post("/api/v1/registrations", headers=auth(w.gap_b), json={
        "enterprise_number": w.b, "main_access_manager": "self", "contact": contact, "confirm": True}))
    ok(client.post(f"/api/v1/enterprises/{w.a}/co-main-managers", headers=auth(w.gap), json={"niss": w.co_gap}))
    w.domain = ok(client.post(f"/api/v1/enterprises/{w.a}/domains", headers=auth(w.gap),
                              json={"name": "Employeur ONSS", "identifier": "1234567-89"}))["id"]
    w.domain_b = ok(client.post(f"/api/v1/enterprises/{w.b}/domains", headers=auth(w.gap_b),
                                json={"name": "Employeur ONSS", "identifier": "7654321-00"}))["id"]
    person = {"title": "M.", "language": "fr", "email": "x@a.be"}
    ok(client.put(f"/api/v1/domains/{w.domain}/local-manager", headers=auth(w.gap), json={
        "niss": w.gl, "username": "gilles.local", "last_name": "Local", "first_name": "Gilles", **person}), 200)
    ok(client.post(f"/api/v1/domains/{w.domain}/co-local-managers", headers=auth(w.gap), json={
        "niss": w.co_gl, "username": "cora.colocale", "last_name": "Colocale", "first_name": "Cora", **person}))
    ok(client.post(f"/api/v1/domains/{w.domain}/users", headers=auth(w.gl), json={
        "niss": w.user, "username": "ursula.user", "password": PASSWORD, "last_name": "User",
        "first_name": "Ursula", "applications": ["DMFA"], **person}))
    from tests.admin_api import senders

    if with_sender:
        w.sender = ok(client.post(f"/api/v1/domains/{w.domain}/sender", headers=auth(w.gap), json=senders.sender_body(
            "EXPworld01", [{"type": "FTP", "certificate": senders.cert_pem(), "applications": [{"code": "DMFA"}]},
                           {"type": "SFTP", "certificate": senders.cert_pem(), "ssh_public_key": senders.ssh_public(),
                            "applications": [{"code": "DMFA", "preferred": True}, {"code": "DIMN"}]}])))[
            "sender_number"]
    w.ticket = ok(client.post("/api/v1/registrations/exceptional", json={
        "legal_representative": {"niss": w.lr_c, "first_name": "Carla", "last_name": "Exception"},
        "enterprise_number": w.c, "main_access_manager": "self", "contact": contact, "confirm": True}))["ticket"]
    return w
