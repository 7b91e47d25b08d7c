"""Guide I: designating the main access manager (GAP), standard procedure."""

import pytest
from sqlalchemy import select

from admin_api.registry import import_extract
from store.models import OutboxMail
from tests import factories

CONTACT = {"email": "direction@acme.be", "phone": "+32 2 123 45 67"}


@pytest.fixture
def acme(db):
    lr, former, staff = factories.niss(1970, 1, 1, 1), factories.niss(1971, 1, 1, 3), factories.niss(1990, 2, 2, 5)
    number = factories.enterprise_number(403019)
    with db.session() as session:
        import_extract(session, {
            "persons": [{"niss": lr, "first_name": "Léa", "last_name": "Legal"},
                        {"niss": staff, "first_name": "Sam", "last_name": "Staff"}],
            "enterprises": [{"number": number, "name": "Acme SA", "address": "Rue Haute 1", "legal_representatives": [
                {"niss": lr, "function": "Administrateur", "start": "2010-01-01", "end": None},
                {"niss": former, "function": "Administrateur", "start": "2010-01-01", "end": "2019-01-01"}]}]})
    return {"number": number, "lr": lr, "former": former, "staff": staff}


def body(number, manager="self", confirm=True):
    return {"enterprise_number": number, "main_access_manager": manager, "contact": CONTACT, "confirm": confirm}


def mails(db):
    with db.session() as session:
        return [(m.recipient, m.subject) for m in session.scalars(select(OutboxMail).order_by(OutboxMail.id))]


def test_a_prerequisites_eid_and_current_legal_function(client, auth, acme):
    url = "/api/v1/registrations"
    assert client.post(url, json=body(acme["number"])).json()["error"]["code"] == "UNAUTHENTICATED"
    low = client.post(url, headers=auth(acme["lr"], loa="low"), json=body(acme["number"]))
    assert (low.status_code, low.json()["error"]["code"]) == (403, "EID_REQUIRED")
    staff = client.post(url, headers=auth(acme["staff"]), json=body(acme["number"]))
    assert (staff.status_code, staff.json()["error"]["code"]) == (403, "NOT_LEGAL_REPRESENTATIVE")
    former = client.post(url, headers=auth(acme["former"]), json=body(acme["number"]))
    assert former.json()["error"]["code"] == "NOT_LEGAL_REPRESENTATIVE"
    unknown = client.post(url, headers=auth(acme["lr"]), json=body(factories.enterprise_number(999)))
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "ENTERPRISE_UNKNOWN")


def test_b_legal_representative_designates_self(client, auth, acme, db):
    unconfirmed = client.post("/api/v1/registrations", headers=auth(acme["lr"]), json=body(acme["number"],
                                                                                            confirm=False))
    assert unconfirmed.json()["error"]["code"] == "CONFIRMATION_REQUIRED"
    dotted = f"{acme['number'][:4]}.{acme['number'][4:7]}.{acme['number'][7:]}"
    response = client.post("/api/v1/registrations", headers=auth(acme["lr"]), json=body(dotted))
    assert response.status_code == 201, response.text
    result = response.json()
    assert result["main_access_manager"]["niss"] == acme["lr"]
    assert result["main_access_manager"]["name"] == "Léa Legal"
    assert "Vous vous êtes vous-même désigné(e) comme Gestionnaire d'Accès Principal" in result["message"]
    assert "direction@acme.be" in result["message"]
    assert len(result["ticket"]) == 13
    assert mails(db) == [("direction@acme.be", "CSAM: vous êtes Gestionnaire d'Accès Principal")]
    enterprise = client.get(f"/api/v1/enterprises/{acme['number']}", headers=auth(acme["lr"])).json()
    assert enterprise["registered"] and enterprise["main_access_manager"]["phone"] == "+3221234567"


def test_b_already_registered_names_the_gap_and_the_gap_cannot_redesignate_self(client, auth, acme):
    assert client.post("/api/v1/registrations", headers=auth(acme["lr"]), json=body(acme["number"])).status_code == 201
    again = client.post("/api/v1/registrations", headers=auth(acme["lr"]), json=body(acme["number"]))
    assert (again.status_code, again.json()["error"]["code"]) == (409, "ALREADY_MAIN_ACCESS_MANAGER")
    assert "déjà connu comme Gestionnaire d'Accès Principal" in again.json()["error"]["message"]
    other = client.post("/api/v1/registrations", headers=auth(acme["lr"]), json=body(
        acme["number"], {"niss": acme["staff"], "email": "x@acme.be", "phone": "022222222"}))
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "ENTERPRISE_ALREADY_REGISTERED"
    assert other.json()["error"]["details"]["main_access_manager"] == "Léa Legal"


def test_c_legal_representative_designates_another_person(client, auth, acme, db):
    # a person with a bad e-mail: the answer opened with "possible values: 'self'" (the union's other branch)
    wrong = client.post("/api/v1/registrations", headers=auth(acme["lr"]) | {"Accept-Language": "en"}, json=body(
        acme["number"], {"niss": acme["staff"], "email": "nope", "phone": "+32475123456"})).json()["error"]
    assert wrong["code"] == "VALIDATION_ERROR" and "e-mail" in wrong["message"].lower(), wrong
    assert "'self'" not in wrong["message"], wrong
    typo = client.post("/api/v1/registrations", headers=auth(acme["lr"]) | {"Accept-Language": "en"},
                       json=body(acme["number"], "slef")).json()["error"]  # not an object: the literal's values
    assert "'self'" in typo["message"], typo
    manager = {"niss": acme["staff"], "email": "gap@acme.be", "phone": "+32475123456"}
    response = client.post("/api/v1/registrations", headers=auth(acme["lr"]), json=body(acme["number"], manager))
    assert response.status_code == 201, response.text
    assert response.json()["main_access_manager"]["niss"] == acme["staff"]
    assert "Vous avez désigné Sam Staff comme Gestionnaire d'Accès Principal" in response.json()["message"]
    assert sorted(r for r, _ in mails(db)) == ["direction@acme.be", "gap@acme.be"]
    # the designated person now acts as GAP; the requester, not a manager, still may read as legal representative
    assert client.get(f"/api/v1/enterprises/{acme['number']}/domains", headers=auth(acme["staff"])).status_code == 200
    assert client.get(f"/api/v1/enterprises/{acme['number']}/domains", headers=auth(acme["lr"])).status_code == 403


def test_change_of_main_access_manager_by_a_legal_representative(client, auth, acme):
    client.post("/api/v1/registrations", headers=auth(acme["lr"]), json=body(acme["number"]))
    url = f"/api/v1/enterprises/{acme['number']}/main-access-manager"
    new = {"main_access_manager": {"niss": acme["staff"], "email": "gap@acme.be", "phone": "022222222"},
           "contact": CONTACT, "confirm": True}
    assert client.put(url, headers=auth(acme["staff"]), json=new).json()["error"]["code"] == "FORBIDDEN"
    assert client.put(url, headers=auth(acme["lr"], loa="low"), json=new).json()["error"]["code"] == "EID_REQUIRED"
    changed = client.put(url, headers=auth(acme["lr"]), json=new)
    assert changed.status_code == 200 and changed.json()["niss"] == acme["staff"]
    same = client.put(url, headers=auth(acme["lr"]), json=new)
    assert same.json()["error"]["code"] == "ALREADY_MAIN_ACCESS_MANAGER"
