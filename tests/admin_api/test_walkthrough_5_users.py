"""Guide V: users: create, search, export, add/remove applications, block/unblock, delete."""

import csv
import io

import pytest
from sqlalchemy import select

from store.models import User
from tests import factories
from tests.admin_api.world import PASSWORD, make_world


@pytest.fixture
def w(db, client, auth):
    return make_world(db, client, auth)


def new_user(niss, username, last="Martin", first="Jeanne", apps=("DMFA",), password=PASSWORD):
    return {"niss": niss, "username": username, "password": password, "last_name": last, "first_name": first,
            "title": "Mme", "language": "fr", "email": f"{username}@a.be", "applications": list(apps)}


def test_a_create_a_user(client, auth, w, db):
    url = f"/api/v1/domains/{w.domain}/users"
    niss = factories.niss(1999, 9, 9, 9)
    created = client.post(url, headers=auth(w.co_gl), json=new_user(niss, "jeanne.martin", apps=("dmfa", "DIMN")))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["type"] == "USER" and body["status"] == "active" and body["applications"] == ["DIMN", "DMFA"]
    assert "password" not in body and "password_hash" not in body
    with db.session() as session:
        stored = session.scalar(select(User.password_hash).where(User.username == "jeanne.martin"))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored

    def code(response):
        return response.status_code, response.json()["error"]["code"]

    assert code(client.post(url, headers=auth(w.gl), json=new_user(niss, "other"))) == (409, "USER_EXISTS")
    assert code(client.post(url, headers=auth(w.gl), json=new_user(factories.niss(), "jeanne.martin"))) == \
        (409, "USERNAME_TAKEN")
    assert code(client.post(url, headers=auth(w.gl), json=new_user(factories.niss(), "weak", password="short"))) == \
        (422, "PASSWORD_TOO_WEAK")
    no_password = {k: v for k, v in new_user(factories.niss(), "nopass").items() if k != "password"}
    assert code(client.post(url, headers=auth(w.gl), json=no_password)) == (422, "VALIDATION_ERROR")  # not "weak"
    assert code(client.post(url, headers=auth(w.gl), json=new_user(factories.niss(), "xx1", apps=("ZZZZ",)))) == \
        (422, "APPLICATION_UNKNOWN")
    assert code(client.post(url, headers=auth(w.user), json=new_user(factories.niss(), "xx2"))) == (403, "FORBIDDEN")
    assert code(client.post(url, headers=auth(w.gl), json=new_user("12345678901", "xx3"))) == (422, "INVALID_NISS")


def test_a_users_of_another_enterprise_are_invisible(client, auth, w):
    assert client.get(f"/api/v1/domains/{w.domain}/users", headers=auth(w.gap_b)).status_code == 403
    assert client.post(f"/api/v1/domains/{w.domain}/users", headers=auth(w.gap_b),
                       json=new_user(factories.niss(), "intruder")).status_code == 403
    assert client.get(f"/api/v1/domains/{w.domain_b}/users", headers=auth(w.gap)).status_code == 403


def seed_users(client, auth, w):
    people = [("Dubois", "Élodie", ("DMFA",)), ("dubois", "Marc", ("DIMN",)), ("Durand", "Zoé", ()),
              ("Peeters", "Jan", ("DMFA", "DIMN")), ("Robert'); DROP TABLE users;--", "Bobby", ())]
    for i, (last, first, apps) in enumerate(people):
        r = client.post(f"/api/v1/domains/{w.domain}/users", headers=auth(w.gl),
                        json=new_user(factories.niss(1980, 1, 1, 100 + i), f"user{i}", last, first, apps))
        assert r.status_code == 201, r.text


def search(client, auth, w, **params):
    response = client.get(f"/api/v1/domains/{w.domain}/users", headers=auth(w.gl), params=params)
    assert response.status_code == 200, response.text
    return response.json()


def names(result):
    return [u["username"] for u in result["items"]]


def test_a_list_with_every_filter_of_the_guide_and_pages(client, auth, w):
    seed_users(client, auth, w)
    assert search(client, auth, w)["total"] == 8  # 5 + GL, Co-GL, the world's user
    assert names(search(client, auth, w, last_name="DUB")) == ["user0", "user1"]  # case-insensitive prefix
    assert names(search(client, auth, w, first_name="elo")) == ["user0"]  # accent-insensitive
    assert names(search(client, auth, w, username="user3")) == ["user3"]
    assert names(search(client, auth, w, type="GL")) == ["gilles.local"]
    assert names(search(client, auth, w, niss=f"{factories.niss(1980, 1, 1, 103)}")) == ["user3"]
    assert names(search(client, auth, w, application="DIMN")) == ["user1", "user3"]
    assert names(search(client, auth, w, last_name="du", application="dmfa")) == ["user0"]
    client.post(f"/api/v1/domains/{w.domain}/users/bulk", headers=auth(w.gl), json={"action": "block",
                                                                                   "users": ["user2"]})
    assert names(search(client, auth, w, status="blocked")) == ["user2"]
    assert names(search(client, auth, w, last_name="Robert'); DROP TABLE users;--")) == ["user4"]
    assert names(search(client, auth, w, last_name="%")) == []  # LIKE wildcards are literal
    first = search(client, auth, w, page=1, page_size=3)
    second = search(client, auth, w, page=2, page_size=3)
    assert first["total"] == 8 and len(first["items"]) == 3 and not set(names(first)) & set(names(second))
    bad = client.get(f"/api/v1/domains/{w.domain}/users", headers=auth(w.gl), params={"type": "ADMIN"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "VALIDATION_ERROR"
    bad_niss = client.get(f"/api/v1/domains/{w.domain}/users", headers=auth(w.gl), params={"niss": "123"})
    assert bad_niss.json()["error"]["code"] == "INVALID_NISS"


def test_a_csv_export_opens_in_a_spreadsheet(client, auth, w):
    seed_users(client, auth, w)
    client.post(f"/api/v1/domains/{w.domain}/users", headers=auth(w.gl),
                json=new_user(factories.niss(1980, 1, 1, 200), "formula", "=HYPERLINK(\"x\")", "Eve"))
    response = client.get(f"/api/v1/domains/{w.domain}/users.csv", headers=auth(w.gl), params={"last_name": "d"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:7] == ["last_name", "first_name", "username", "type", "niss", "status", "applications"]
    assert [r[2] for r in rows[1:]] == ["user0", "user1", "user2"]
    assert rows[1][1] == "Élodie" and rows[1][4] == factories.niss(1980, 1, 1, 100)[:6] + " " + \
        factories.niss(1980, 1, 1, 100)[6:9] + " " + factories.niss(1980, 1, 1, 100)[9:]
    everything = client.get(f"/api/v1/domains/{w.domain}/users.csv", headers=auth(w.gl)).content.decode("utf-8-sig")
    assert "'=HYPERLINK" in everything  # never a live formula
    assert client.get(f"/api/v1/domains/{w.domain}/users.csv", headers=auth(w.user)).status_code == 403


def bulk(client, auth, w, action, users, applications=(), who=None):
    response = client.post(f"/api/v1/domains/{w.domain}/users/bulk", headers=auth(who or w.gl),
                           json={"action": action, "users": users, "applications": list(applications)})
    return response


def test_b_add_or_remove_applications(client, auth, w):
    seed_users(client, auth, w)
    added = bulk(client, auth, w, "add_applications", ["user0", "user3", "ghost"], ["DIMN"]).json()
    assert [r["result"] for r in added["results"]] == ["done", "unchanged", "not_found"]
    assert added["message"].startswith("Action effectuée pour 1 utilisateur(s) ; 1 refusé(s) ou introuvable(s)")
    assert names(search(client, auth, w, application="DIMN")) == ["user0", "user1", "user3"]
    assert bulk(client, auth, w, "add_applications", ["user0", "user2"], ["DIMN"]).json()["message"].startswith(
        "Les applications que vous avez sélectionnées ont été ajoutées")  # each as asked: the guide's sentence
    removed = bulk(client, auth, w, "remove_applications", ["user0", "user3"], ["DMFA"]).json()
    assert removed["summary"] == {"done": 2, "unchanged": 0, "refused": 0, "not_found": 0}
    assert "DMFA" not in search(client, auth, w, username="user0")["items"][0]["applications"]
    outside = bulk(client, auth, w, "add_applications", ["user0"], ["NOPE"])
    assert outside.status_code == 422 and outside.json()["error"]["code"] == "APPLICATION_UNKNOWN"
    assert outside.json()["error"]["message"] == "Ces codes d'application ne sont pas dans le catalogue : NOPE."
    assert bulk(client, auth, w, "add_applications", ["user0"], []).status_code == 422


def test_b_a_co_manager_changes_no_manager_s_applications_not_even_their_own(client, auth, w):
    """As for their data and blocking them: the GL's and the co-managers' applications are for those who manage
    managers (a co-manager could otherwise strip the GL's or give themselves every application of the domain)."""
    seed_users(client, auth, w)
    for action in ("add_applications", "remove_applications"):
        by_co = bulk(client, auth, w, action, ["gilles.local", "cora.colocale", "user0"], ["DIMN"], who=w.co_gl)
        assert [(r["result"], r.get("code")) for r in by_co.json()["results"]] == [
            ("refused", "FORBIDDEN"), ("refused", "FORBIDDEN"), ("done", None)]
    by_gap = bulk(client, auth, w, "add_applications", ["cora.colocale"], ["DIMN"], who=w.gap).json()
    assert by_gap["results"][0]["result"] in ("done", "unchanged")


def test_c_block_and_unblock(client, auth, w):
    seed_users(client, auth, w)
    blocked = bulk(client, auth, w, "block", ["user0", "user1"]).json()
    assert blocked["message"] == "Le blocage du ou des utilisateur(s) a réussi"
    assert {u["username"] for u in search(client, auth, w, status="blocked")["items"]} == {"user0", "user1"}
    assert bulk(client, auth, w, "block", ["user0"]).json()["results"][0]["result"] == "unchanged"
    unblocked = bulk(client, auth, w, "unblock", ["user0"]).json()
    assert unblocked["message"] == "Le déblocage du ou des utilisateur(s) a réussi"
    # a co-manager manages users, not managers; nobody blocks the GL
    by_co = bulk(client, auth, w, "block", ["gilles.local", "user2"], who=w.co_gl).json()
    assert [r.get("code") for r in by_co["results"]] == ["LOCAL_MANAGER_NOT_DELETABLE", None]
    # one of the two left as it was: not the guide's "a réussi", which would claim both
    assert by_co["message"] == ("Action effectuée pour 1 utilisateur(s) ; 1 refusé(s) ou introuvable(s), laissé(s) "
                                "tel(s) quel(s) : voir le résultat de chacun."), by_co
    assert bulk(client, auth, w, "block", ["cora.colocale"], who=w.co_gl).json()["results"][0]["code"] == "FORBIDDEN"
    # a blocked manager loses their rights at once
    bulk(client, auth, w, "block", ["cora.colocale"], who=w.gap)
    assert client.get(f"/api/v1/domains/{w.domain}/users", headers=auth(w.co_gl)).status_code == 403


def test_d_delete_users(client, auth, w):
    seed_users(client, auth, w)
    deleted = bulk(client, auth, w, "delete", ["user0", "user1"]).json()
    assert deleted["message"] == "La suppression du ou des utilisateur(s) a réussi"
    assert search(client, auth, w, last_name="dubois")["total"] == 0
    assert bulk(client, auth, w, "delete", ["user0"]).json()["results"][0]["result"] == "not_found"
    assert bulk(client, auth, w, "delete", ["user2"], who=w.user).status_code == 403


def test_every_change_is_audited(client, auth, w):
    seed_users(client, auth, w)
    bulk(client, auth, w, "block", ["user0"])
    ops = auth(factories.niss(1960, 6, 6, 6), roles=["ops"])
    audit = client.get("/api/v1/audit", headers=ops, params={"action": "user.block"}).json()
    assert audit["total"] == 1
    entry = audit["items"][0]
    assert entry["actor"] == w.gl and entry["before"]["status"] == "active" and entry["after"]["status"] == "blocked"
    assert entry["enterprise_number"] == w.a
    assert client.get("/api/v1/audit", headers=auth(w.gap)).status_code == 403
    # its filters read numbers as the rest of the API does (written with dots and spaces they found nothing)
    dotted, spaced = f"{w.a[:4]}.{w.a[4:7]}.{w.a[7:]}", f"{w.gl[:6]} {w.gl[6:9]} {w.gl[9:]}"
    found = client.get("/api/v1/audit", headers=ops, params={"action": "user.block", "enterprise_number": dotted,
                                                              "actor": spaced}).json()
    assert found["total"] == 1, found
    wrong = client.get("/api/v1/audit", headers=ops, params={"enterprise_number": "123"}).json()
    assert wrong["error"]["code"] == "INVALID_ENTERPRISE_NUMBER", wrong


def user_url(w, username):
    return f"/api/v1/domains/{w.domain}/users/{username}"


def test_e_edit_a_users_data(client, auth, w):
    """Modifier: the fields sent change, checked as at creation; a blank optional one is cleared; the audit keeps
    the data before and after."""
    created = client.post(f"/api/v1/domains/{w.domain}/users", headers=auth(w.gl), json=new_user(
        factories.niss(1985, 5, 5, 5), "jeanne.martin") | {"local_email": "jm@local.be"}).json()
    read = client.get(user_url(w, "jeanne.martin"), headers=auth(w.co_gl))
    assert read.status_code == 200 and read.json() == created
    changed = client.patch(user_url(w, "jeanne.martin"), headers=auth(w.co_gl), json={
        "last_name": "Dupont", "first_name": "Émilie", "language": "nl", "email": "emilie@b.be", "local_email": ""})
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["last_name"], body["first_name"], body["language"], body["email"], body["local_email"]) == (
        "Dupont", "Émilie", "nl", "emilie@b.be", None)
    assert body["title"] == "Mme" and body["applications"] == ["DMFA"] and body["niss"] == created["niss"]
    assert body["updated_at"] and body["created_at"] == created["created_at"]
    assert names(search(client, auth, w, last_name="dup", first_name="emil")) == ["jeanne.martin"], "folded keys"
    cleared = client.patch(user_url(w, "jeanne.martin"), headers=auth(w.gl), json={"title": None}).json()
    assert cleared["title"] == "" and cleared["last_name"] == "Dupont", "absent fields stay"

    ops = auth(factories.niss(1960, 6, 6, 6), roles=["ops"])
    audit = client.get("/api/v1/audit", headers=ops, params={"action": "user.updated"}).json()
    assert audit["total"] == 2
    first = audit["items"][-1]  # newest first
    assert first["actor"] == w.co_gl and first["target"] == f"user:{created['id']}"
    assert (first["before"]["last_name"], first["before"]["local_email"]) == ("Martin", "jm@local.be")
    assert (first["after"]["last_name"], first["after"]["local_email"]) == ("Dupont", None)
    same = client.patch(user_url(w, "jeanne.martin"), headers=auth(w.gl), json={"last_name": "Dupont"})
    assert same.status_code == 200
    assert client.get("/api/v1/audit", headers=ops, params={"action": "user.updated"}).json()["total"] == 2, \
        "nothing changed, nothing audited"


def test_e_an_edit_is_refused_field_by_field(client, auth, w):
    url = user_url(w, "ursula.user")

    def refused(payload, who=None):
        response = client.patch(url, headers=auth(who or w.gl) | {"Accept-Language": "fr"}, json=payload)
        error = response.json()["error"]
        return response.status_code, error["code"], [e["field"] for e in error["details"].get("errors", [])]

    assert refused({"email": "not-an-address"}) == (422, "VALIDATION_ERROR", ["email"])
    assert refused({"local_email": "nope"}) == (422, "VALIDATION_ERROR", ["local_email"])
    assert refused({"last_name": ""}) == (422, "VALIDATION_ERROR", ["last_name"]), "a needed field is not cleared"
    assert refused({"email": None}) == (422, "VALIDATION_ERROR", ["email"])
    assert refused({"title": "T" * 21}) == (422, "VALIDATION_ERROR", ["title"])
    assert refused({"language": "xx"}) == (422, "VALIDATION_ERROR", ["language"])
    assert refused({"username": "other.name"}) == (422, "VALIDATION_ERROR", ["username"]), "identifiers stay"
    assert refused({"niss": factories.niss()}) == (422, "VALIDATION_ERROR", ["niss"])
    assert refused({"applications": ["DIMN"]}) == (422, "VALIDATION_ERROR", ["applications"])
    assert client.get(url, headers=auth(w.gl)).json()["email"] == "x@a.be", "nothing changed"

    ghost = client.patch(user_url(w, "ghost.user"), headers=auth(w.gl) | {"Accept-Language": "fr"},
                         json={"last_name": "X"})
    assert ghost.status_code == 404 and ghost.json()["error"]["code"] == "NOT_FOUND"
    assert "ghost.user" in ghost.json()["error"]["message"]
    assert client.get(user_url(w, "ghost.user"), headers=auth(w.gl)).status_code == 404
    other_domain = f"/api/v1/domains/{w.domain_b}/users/ursula.user"
    assert client.patch(other_domain, headers=auth(w.gap_b), json={"last_name": "X"}).status_code == 404, \
        "a user is found in the domain of the path only"
    assert refused({"last_name": "X"}, who=w.gap_b)[:2] == (403, "FORBIDDEN")
    assert refused({"last_name": "X"}, who=w.user)[:2] == (403, "FORBIDDEN")
    # a co-manager manages users, not managers (as for blocking); the GL and the GAP do
    gl = client.patch(user_url(w, "gilles.local"), headers=auth(w.co_gl), json={"email": "gl@a.be"})
    assert gl.status_code == 403 and gl.json()["error"]["code"] == "FORBIDDEN"
    assert client.patch(user_url(w, "gilles.local"), headers=auth(w.gap), json={"email": "gl@a.be"}).json()[
        "email"] == "gl@a.be"
    assert client.patch(user_url(w, "cora.colocale"), headers=auth(w.gl), json={"title": "Mme"}).status_code == 200
