"""Guide III (role of the GAP) and IV (designating access managers, GL, and co-managers, Co-GL)."""

import pytest

from tests import factories
from tests.admin_api.world import make_world

PERSON = {"title": "Mme", "language": "nl", "email": "new@a.be"}


@pytest.fixture
def w(db, client, auth):
    return make_world(db, client, auth)


def users(client, auth, w, who, **filters):
    response = client.get(f"/api/v1/domains/{w.domain}/users", headers=auth(who), params=filters)
    assert response.status_code == 200, response.text
    return {u["username"]: u for u in response.json()["items"]}


def test_iii_gap_is_access_manager_of_every_domain_without_being_a_user(client, auth, w):
    domain = client.post(f"/api/v1/enterprises/{w.a}/domains", headers=auth(w.gap),
                         json={"name": "Secrétariat social agréé", "identifier": "SSA-01"}).json()
    assert client.get(f"/api/v1/domains/{domain['id']}/users", headers=auth(w.gap)).json()["total"] == 0
    # a code of the catalogue this kind of domain does not offer, and a code of no catalogue: each told as it is
    for apps, refusal in ((["PUBL"], "APPLICATION_NOT_IN_DOMAIN"), (["ZZZZ"], "APPLICATION_UNKNOWN")):
        made = client.post(f"/api/v1/domains/{domain['id']}/users", headers=auth(w.gap), json={
            "niss": w.gl, "username": "gilles.ssa", "password": "Secret-pass-2026", "last_name": "Local",
            "first_name": "Gilles", "applications": apps, **PERSON})
        assert (made.status_code, made.json()["error"]["code"]) == (422, refusal), made.text
        kind = client.post(f"/api/v1/enterprises/{w.a}/domains", headers=auth(w.gap), json={
            "name": "Secrétariat social agréé", "identifier": "SSA-09", "applications": apps})
        assert (kind.status_code, kind.json()["error"]["code"]) == (422, refusal), kind.text
    assert client.get(f"/api/v1/domains/{domain['id']}/users", headers=auth(w.co_gap)).status_code == 200
    # the domain's GL of another domain is not manager here
    assert client.get(f"/api/v1/domains/{domain['id']}/users", headers=auth(w.gl)).status_code == 403
    # nor sees it, in the enterprise's list of domains or in the enterprise itself; the GAP and co-GAPs see all
    for who, sees in ((w.gap, True), (w.co_gap, True), (w.gl, False), (w.co_gl, False)):
        for url, read in ((f"/api/v1/enterprises/{w.a}/domains", lambda r: r.json()["items"]),
                          (f"/api/v1/enterprises/{w.a}", lambda r: r.json()["domains"])):
            ids = [d["id"] for d in read(client.get(url, headers=auth(who)))]
            assert (domain["id"] in ids, w.domain in ids) == (sees, True), (who, url)


def test_iv_a_gl_who_is_a_plain_user_of_another_domain_still_sees_only_the_domain_they_manage(client, auth, w):
    """Their user role there made them look like the GAP to the domain list: every domain of the enterprise showed."""
    other = client.post(f"/api/v1/enterprises/{w.a}/domains", headers=auth(w.gap),
                        json={"name": "Secrétariat social agréé", "identifier": "SSA-02"}).json()
    third = client.post(f"/api/v1/enterprises/{w.a}/domains", headers=auth(w.gap),
                        json={"name": "Employeur ONSS", "identifier": "2222222-22"}).json()
    made = client.post(f"/api/v1/domains/{third['id']}/users", headers=auth(w.gap), json={
        "niss": w.gl, "username": "gilles.user", "password": "Secret-pass-2026", "last_name": "Local",
        "first_name": "Gilles", "applications": ["DMFA"], **PERSON})
    assert made.status_code == 201, made.text
    for url, read in ((f"/api/v1/enterprises/{w.a}/domains", lambda r: r.json()["items"]),
                      (f"/api/v1/enterprises/{w.a}", lambda r: r.json()["domains"])):
        assert [d["id"] for d in read(client.get(url, headers=auth(w.gl)))] == [w.domain], url
    assert {d["id"] for d in client.get(f"/api/v1/enterprises/{w.a}/domains", headers=auth(w.gap)).json()[
        "items"]} == {w.domain, other["id"], third["id"]}


def test_iii_co_main_managers_are_designated_by_the_gap_only(client, auth, w):
    url = f"/api/v1/enterprises/{w.a}/co-main-managers"
    other = factories.niss(1988, 8, 8, 1)
    assert client.post(url, headers=auth(w.co_gap), json={"niss": other}).status_code == 403
    assert client.post(url, headers=auth(w.gap), json={"niss": w.co_gap}).json()["error"]["code"] == \
        "CO_MAIN_MANAGER_EXISTS"
    himself = client.post(url, headers=auth(w.gap), json={"niss": w.gap}).json()["error"]  # said "already co-GAP"
    assert himself["code"] == "CO_MAIN_MANAGER_EXISTS" and himself["message"].startswith(
        "Cette personne est le Gestionnaire d'Accès Principal")
    added = client.post(url, headers=auth(w.gap), json={"niss": other, "contact": {"email": "o@a.be",
                                                                                   "phone": "021111111"}})
    assert added.status_code == 201
    assert {c["niss"] for c in client.get(f"/api/v1/enterprises/{w.a}", headers=auth(w.gap)).json()[
        "co_main_access_managers"]} == {w.co_gap, other}
    assert client.delete(f"{url}/{other}", headers=auth(w.gap)).status_code == 204
    assert client.get(f"/api/v1/enterprises/{w.a}/domains", headers=auth(other)).status_code == 403


def test_iv_a_change_the_access_manager(client, auth, w):
    new_gl = factories.niss(1993, 3, 3, 3)
    response = client.put(f"/api/v1/domains/{w.domain}/local-manager", headers=auth(w.gap), json={
        "niss": new_gl, "username": "nina.new", "last_name": "New", "first_name": "Nina", **PERSON})
    assert response.status_code == 200, response.text
    assert response.json()["type"] == "GL" and response.json()["message"] == "Le Gestionnaire d'Accès a été modifié."
    listed = users(client, auth, w, w.gap)
    assert listed["nina.new"]["type"] == "GL"
    assert listed["gilles.local"]["type"] == "USER"  # the former GL stays as a user
    assert client.get(f"/api/v1/domains/{w.domain}/users", headers=auth(w.gl)).status_code == 403
    # the GL does not designate the GL
    assert client.put(f"/api/v1/domains/{w.domain}/local-manager", headers=auth(new_gl),
                      json={"niss": w.user}).status_code == 403
    # an existing user can be promoted by NISS alone
    promoted = client.put(f"/api/v1/domains/{w.domain}/local-manager", headers=auth(w.co_gap), json={"niss": w.user})
    assert promoted.status_code == 200 and promoted.json()["username"] == "ursula.user"
    missing = client.put(f"/api/v1/domains/{w.domain}/local-manager", headers=auth(w.gap),
                         json={"niss": factories.niss(1994, 4, 4, 4)})
    assert missing.status_code == 422 and "username" in missing.json()["error"]["details"]["missing"]


def test_iv_b_designate_additional_access_managers(client, auth, w):
    extra = factories.niss(1995, 5, 5, 5)
    response = client.post(f"/api/v1/domains/{w.domain}/co-local-managers", headers=auth(w.gl), json={
        "niss": extra, "username": "eric.extra", "last_name": "Extra", "first_name": "Éric", **PERSON})
    assert response.status_code == 201, response.text
    assert response.json()["message"] == "La personne a été désignée comme co-Gestionnaire d'Accès."
    assert users(client, auth, w, w.gl, type="Co-GL").keys() == {"cora.colocale", "eric.extra"}
    # the new co-manager can manage users at once; a co-manager cannot appoint co-managers
    assert client.get(f"/api/v1/domains/{w.domain}/users", headers=auth(extra)).status_code == 200
    assert client.post(f"/api/v1/domains/{w.domain}/co-local-managers", headers=auth(extra),
                       json={"niss": w.user}).status_code == 403


def test_iv_c_remove_additional_access_managers(client, auth, w):
    bulk = client.post(f"/api/v1/domains/{w.domain}/users/bulk", headers=auth(w.gl),
                       json={"action": "delete", "users": ["cora.colocale", "gilles.local"]})
    assert bulk.status_code == 200
    results = {r["username"]: r for r in bulk.json()["results"]}
    assert results["cora.colocale"]["result"] == "done"
    assert results["gilles.local"] == {"username": "gilles.local", "result": "refused",
                                       "code": "LOCAL_MANAGER_NOT_DELETABLE"}
    assert bulk.json()["message"].startswith("Action effectuée pour 1 utilisateur(s) ; 1 refusé(s)")  # not "a réussi"
    assert "cora.colocale" not in users(client, auth, w, w.gap)
    assert client.get(f"/api/v1/domains/{w.domain}/users", headers=auth(w.co_gl)).status_code == 403


def test_iv_c_remove_through_the_co_manager_resource(client, auth, w):
    formatted = f"{w.co_gl[:2]}.{w.co_gl[2:4]}.{w.co_gl[4:6]}-{w.co_gl[6:9]}.{w.co_gl[9:]}"  # as on the eID card
    url = f"/api/v1/domains/{w.domain}/co-local-managers/{formatted}"
    assert client.delete(url, headers=auth(w.co_gl)).status_code == 403
    assert client.delete(url, headers=auth(w.gap)).status_code == 204
    assert client.delete(url, headers=auth(w.gap)).status_code == 404
    garbage = client.delete(f"/api/v1/domains/{w.domain}/co-local-managers/not-a-niss", headers=auth(w.gap))
    assert garbage.status_code == 422


def test_an_onss_number_is_one_enterprises_domain_and_a_domain_needs_an_application(client, auth, db):
    """The glossary: a domain "Employeur ONSS" is identified by its ONSS number, which is one employer's. Enterprise
    B could add A's number as a domain of its own; and a domain with no application could never be used."""
    from tests.admin_api.world import make_world
    w = make_world(db, client, auth, with_sender=False)
    taken = client.post(f"/api/v1/enterprises/{w.b}/domains", headers=auth(w.gap_b),
                        json={"name": "Employeur ONSS", "identifier": "1234567-89"})  # A's
    assert (taken.status_code, taken.json()["error"]["code"]) == (409, "DOMAIN_EXISTS")
    assert taken.json()["error"]["message"].startswith("Ce numéro ONSS est celui d'une autre entreprise")  # it said
    # "the enterprise already has this domain", of an enterprise that had not
    empty = client.post(f"/api/v1/enterprises/{w.b}/domains", headers=auth(w.gap_b),
                        json={"name": "Employeur ONSS", "identifier": "7654321-11", "applications": []})
    assert (empty.status_code, empty.json()["error"]["code"]) == (422, "VALIDATION_ERROR")
    assert empty.json()["error"]["message"] == "Un domaine a besoin d'au moins une application."


def test_the_database_keeps_an_onss_number_to_one_enterprise(client, auth, db):
    """Two GAPs adding the same number at once both pass the service's check; the partial unique index holds (and
    answers DOMAIN_EXISTS); other kinds of domain may share an identifier."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    from admin_api.http import conflict
    from store.models import Domain
    from tests.admin_api.world import make_world
    w = make_world(db, client, auth, with_sender=False)
    with pytest.raises(IntegrityError) as raised, db.session() as session:
        session.add(Domain(enterprise_number=w.b, name="Employeur ONSS", identifier="1234567-89"))  # A's
    assert conflict(raised.value).code == "DOMAIN_EXISTS"
    with db.session() as session:
        session.add_all([Domain(enterprise_number=n, name="Other", identifier="X1") for n in (w.a, w.b)])


def test_a_blocked_user_is_not_unblocked_by_a_designation_and_a_repeat_is_no_change(client, auth, db):
    """Naming a blocked user GL or Co-GL unblocked them silently (guide V.c: unblocking is its own confirmed
    action); naming the current GL or a Co-GL again answered "modifié" and wrote an audit record."""
    from tests.admin_api.world import make_world
    w = make_world(db, client, auth, with_sender=False)
    base = f"/api/v1/domains/{w.domain}"
    blocked = client.post(f"{base}/users/bulk", headers=auth(w.gl), json={"action": "block", "users": ["ursula.user"]})
    assert blocked.status_code == 200, blocked.text

    def refused(response):  # type: ignore[no-untyped-def]
        return response.status_code, response.json()["error"]["code"], response.json()["error"]["message"]
    assert refused(client.put(f"{base}/local-manager", headers=auth(w.gap), json={"niss": w.user})) == (
        409, "USER_EXISTS", "Cette personne est bloquée : débloquez-la d'abord.")
    assert refused(client.post(f"{base}/co-local-managers", headers=auth(w.gap), json={"niss": w.user}))[:2] == (
        409, "USER_EXISTS")
    users = client.get(f"{base}/users", headers=auth(w.gl), params={"username": "ursula"}).json()["items"]
    assert [(u["type"], u["status"]) for u in users] == [("USER", "blocked")]
    assert refused(client.put(f"{base}/local-manager", headers=auth(w.gap), json={"niss": w.gl}))[:2] == (
        409, "USER_EXISTS")
    assert refused(client.post(f"{base}/co-local-managers", headers=auth(w.gap), json={"niss": w.co_gl}))[2] == (
        "Cette personne est déjà co-Gestionnaire d'Accès du domaine.")
