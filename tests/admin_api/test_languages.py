"""The same refusal and the same confirmation in French, Dutch and English, chosen by Accept-Language (French
when absent), over the real app; the ACRF in the sender contact's language."""

import pytest
from sqlalchemy import select

from admin_api.policy import Action
from admin_api.registry import import_extract
from kernel.i18n import ACTIONS
from store.models import OutboxMail, Sender
from tests import factories
from tests.admin_api.world import make_world
from tests.gateway.harness import build, error_ids
from tests.gateway.test_pipeline_decisions import intake  # noqa: F401 (the fixture)

LANGUAGES = {None: "fr", "fr-BE": "fr", "nl-BE,nl;q=0.9": "nl", "en-GB,en;q=0.8": "en", "de-DE,nl;q=0.5": "nl"}
PERSON = {"title": "Mme", "language": "nl", "email": "new@a.be"}


@pytest.fixture
def w(db, client, auth):
    return make_world(db, client, auth, with_sender=False)


def asked(auth, who, accept_language):  # type: ignore[no-untyped-def]
    return auth(who) | ({"Accept-Language": accept_language} if accept_language else {})


def refusal(response, status, code):  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    return error


@pytest.mark.parametrize("accept", LANGUAGES)
def test_a_404_speaks_the_callers_language(client, auth, w, accept):
    error = refusal(client.get("/api/v1/domains/999999", headers=asked(auth, w.gap, accept)), 404, "NOT_FOUND")
    assert error["details"] == {"domain_id": 999999}
    assert error["message"] == {"fr": "Le domaine 999999 n'existe pas.", "nl": "Domein 999999 bestaat niet.",
                                "en": "No domain 999999."}[LANGUAGES[accept]]


@pytest.mark.parametrize("accept", LANGUAGES)
def test_an_invalid_niss_names_the_field_once_in_the_language(client, auth, w, accept):
    body = {"niss": "85073003327", "username": "x.y", "last_name": "Y", "first_name": "X", **PERSON}
    response = client.put(f"/api/v1/domains/{w.domain}/local-manager", headers=asked(auth, w.gap, accept), json=body)
    error = refusal(response, 422, "INVALID_NISS")
    expected = {"fr": "NISS : Ce n'est pas un NISS valide (numéro de registre national ou bis, chiffres de "
                      "contrôle modulo 97).",
                "nl": "INSZ: Geen geldig INSZ (rijksregister- of bisnummer, controlecijfers modulo 97).",
                "en": "NISS: Not a valid NISS (national or bis number, check digits mod 97)."}[LANGUAGES[accept]]
    assert error["message"] == expected
    assert error["details"]["errors"] == [{"field": "niss", "type": "INVALID_NISS", "message": expected}]


@pytest.mark.parametrize("accept", LANGUAGES)
def test_an_invalid_number_in_a_path_names_its_field_in_the_language(client, auth, w, accept):
    response = client.get("/api/v1/enterprises/0403.019.262", headers=asked(auth, w.gap, accept))
    error = refusal(response, 422, "INVALID_ENTERPRISE_NUMBER")
    assert error["message"] == {
        "fr": "numéro d'entreprise : Ce n'est pas un numéro d'entreprise valide (10 chiffres, modulo 97).",
        "nl": "ondernemingsnummer: Geen geldig ondernemingsnummer (10 cijfers, modulo 97).",
        "en": "enterprise number: Not a valid enterprise number (10 digits, mod 97)."}[LANGUAGES[accept]]


def test_validation_messages_name_fields_as_a_person_would(client, auth, w):
    url = f"/api/v1/domains/{w.domain}/users"
    body = {"niss": factories.niss(1994, 4, 4, 4), "username": "ab", "password": "Secret-pass-2026",
            "last_name": "L" * 101, "first_name": "Z", "email": "not-an-address", "language": "xx", "title": "M."}
    errors = refusal(client.post(url, headers=asked(auth, w.gl, "nl"), json=body), 422,
                     "VALIDATION_ERROR")["details"]["errors"]
    by_field = {e["field"]: e["message"] for e in errors}
    assert by_field["last_name"] == "naam: hoogstens 100 teken(s)"
    assert by_field["email"] == "e-mail: is geen geldig e-mailadres"
    assert by_field["language"].startswith("taal: waarde niet toegelaten; mogelijke waarden: 'fr', 'nl'")
    assert by_field["username"] == "gebruikersnaam: minstens 3 teken(s)"
    missing = refusal(client.post(url, headers=asked(auth, w.gl, "en"), json={}), 422, "VALIDATION_ERROR")
    assert "niss: this field is required" not in missing["message"] and missing["message"].endswith(
        "this field is required")
    text = refusal(client.get("/api/v1/domains/abc", headers=asked(auth, w.gl, "fr")), 422, "VALIDATION_ERROR")
    assert text["message"] == "numéro du domaine : doit être un nombre entier"
    phone = refusal(client.post("/api/v1/registrations/exceptional", headers={"Accept-Language": "en"}, json={
        "legal_representative": {"niss": w.lr_c, "first_name": "Carla", "last_name": "Exception"},
        "enterprise_number": w.c, "main_access_manager": "self", "contact": {"email": "c@a.be", "phone": "call me"},
        "confirm": True}), 422, "VALIDATION_ERROR")
    assert phone["message"] == "phone (contact person): 6 to 20 digits, optionally starting with +"


@pytest.mark.parametrize("accept", LANGUAGES)
def test_a_403_says_in_words_what_the_roles_do_not_allow(client, auth, w, accept):
    response = client.post(f"/api/v1/enterprises/{w.a}/co-main-managers", headers=asked(auth, w.co_gap, accept),
                           json={"niss": factories.niss(1995, 5, 5, 5)})
    error = refusal(response, 403, "FORBIDDEN")
    assert error["details"]["action"] == "manage_co_main_managers"  # the stable name stays in the details
    assert "manage_co_main_managers" not in error["message"]
    assert error["message"] == {
        "fr": "Vos rôles ici ne vous permettent pas de désigner ou retirer des Co-Gestionnaires d'Accès Principaux.",
        "nl": "Uw rollen hier laten niet toe om co-Hoofdtoegangsbeheerders aan te duiden of te verwijderen.",
        "en": "Your roles here do not allow you to designate or remove co main access managers.",
    }[LANGUAGES[accept]]


def test_every_action_is_said_in_words():
    assert set(ACTIONS) == {str(a) for a in Action}


@pytest.mark.parametrize("accept", LANGUAGES)
def test_a_co_access_manager_designated_is_confirmed_in_the_language(client, auth, w, accept):
    response = client.post(f"/api/v1/domains/{w.domain}/co-local-managers", headers=asked(auth, w.gap, accept),
                           json={"niss": w.user})
    assert response.status_code == 201, response.text
    assert response.json()["message"] == {
        "fr": "La personne a été désignée comme co-Gestionnaire d'Accès.",
        "nl": "De persoon werd aangeduid als co-Toegangsbeheerder.",
        "en": "The person has been designated as co access manager.",
    }[LANGUAGES[accept]]


@pytest.mark.parametrize("accept", LANGUAGES)
def test_the_first_access_manager_is_designated_then_changed(client, auth, w, accept):
    domain = client.post(f"/api/v1/enterprises/{w.a}/domains", headers=auth(w.gap),
                         json={"name": "Secrétariat social agréé", "identifier": "SSA-01"}).json()["id"]
    url, language = f"/api/v1/domains/{domain}/local-manager", LANGUAGES[accept]
    first = client.put(url, headers=asked(auth, w.gap, accept), json={
        "niss": factories.niss(1996, 6, 6, 6), "username": "first.gl", "last_name": "First", "first_name": "F",
        **PERSON})
    assert first.status_code == 200, first.text
    assert first.json()["message"] == {"fr": "La personne a été désignée comme Gestionnaire d'Accès.",
                                       "nl": "De persoon werd aangeduid als Toegangsbeheerder.",
                                       "en": "The person has been designated as access manager."}[language]
    second = client.put(url, headers=asked(auth, w.gap, accept), json={
        "niss": factories.niss(1997, 7, 7, 7), "username": "second.gl", "last_name": "Second", "first_name": "S",
        **PERSON})
    assert second.status_code == 200, second.text
    assert second.json()["message"] == {"fr": "Le Gestionnaire d'Accès a été modifié.",
                                        "nl": "De Toegangsbeheerder werd gewijzigd.",
                                        "en": "The access manager has been changed."}[language]


def in_register(db, lr: str, enterprise: int, names: tuple[str, str]) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """An enterprise and its legal representative in the register extract: (their NISS, its number)."""
    number = factories.enterprise_number(enterprise)
    with db.session() as session:
        import_extract(session, factories.registry_extract({number: [lr]}, {lr: names}))
    return lr, number


def test_the_exceptional_request_and_its_pdf_in_dutch(client, db, auth):
    lr, number = in_register(db, factories.niss(1962, 2, 2, 92), 777002, ("Nele", "Uitzondering"))
    response = client.post("/api/v1/registrations/exceptional", headers={"Accept-Language": "nl"}, json={
        "legal_representative": {"niss": lr, "first_name": "Nele", "last_name": "Uitzondering"},
        "enterprise_number": number, "main_access_manager": "self",
        "contact": {"email": "nele@a.be", "phone": "+3221234567"}, "confirm": True})
    assert response.status_code == 201, response.text
    ticket = response.json()["ticket"]
    assert response.json()["message"].startswith(f"Uw aanvraag werd met succes geregistreerd onder ticketnummer "
                                                 f"{ticket}.")
    pdf = client.get(f"/api/v1/registrations/{ticket}/document", headers={"Accept-Language": "nl"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    french = client.get(f"/api/v1/registrations/{ticket}/document")
    assert french.status_code == 200 and french.content != pdf.content
    operator = auth(factories.niss(1970, 1, 1, 1), roles=["operator"]) | {"Accept-Language": "en"}
    rejected = client.post(f"/api/v1/registrations/{ticket}/reject", headers=operator, json={"reason": "Niet getekend"})
    assert rejected.status_code == 200, rejected.text
    with db.session() as session:  # the requester's language, not the operator's
        subjects = session.scalars(select(OutboxMail.subject).where(OutboxMail.recipient == "nele@a.be")).all()
    assert subjects == [f"CSAM: aanvraag {ticket} geweigerd"]


def test_a_standard_registration_mails_in_the_language_it_was_made_in(client, db, auth):
    lr, number = in_register(db, factories.niss(1963, 3, 3, 93), 777003, ("Jan", "Standaard"))
    response = client.post("/api/v1/registrations", headers=auth(lr) | {"Accept-Language": "nl"}, json={
        "enterprise_number": number, "main_access_manager": "self",
        "contact": {"email": "jan@a.be", "phone": "+3221234567"}, "confirm": True})
    assert response.status_code == 201, response.text
    with db.session() as session:
        subjects = session.scalars(select(OutboxMail.subject).where(OutboxMail.recipient == "jan@a.be")).all()
    assert subjects == ["CSAM: u bent Hoofdtoegangsbeheerder"]


def test_the_acrf_speaks_the_sender_contacts_language(intake, db):  # noqa: F811 (the fixture)
    with db.session() as session:
        sender = session.scalar(select(Sender).where(Sender.number == intake.kit.number))
        sender.contact = {**sender.contact, "language": "nl"}
    dimona = b"<Dimona><Form><Identification>DIMN</Identification></Form></Dimona>"  # names itself DIMN
    files = build(intake.kit, app="DIMN", content=dimona)
    sub = intake.submit(files)
    assert sub.status == "rejected"
    _, _, acrf = intake.only_acrf()
    assert error_ids(acrf) == ["ACRF-129"]  # the stable key
    described = acrf.findtext("Error/ErrorDescription")
    assert described.startswith("APPLICATION_CONTENT_MISMATCH: Form/Identification in de XML noemt de toepassing")
    assert "Form/Identification is 'DIMN'; verwacht 'DIMONA' voor toepassing DIMN" in described
    assert sub.errors[0]["detail"] == "Form/Identification is 'DIMN'; expected 'DIMONA' for application DIMN"
