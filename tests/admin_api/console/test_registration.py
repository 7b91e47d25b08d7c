"""Guide I and II in the console: the standard procedure with eID, the exceptional procedure (ticket, PDF), the
contact centre's queue; a real Chromium for the walks, httpx for the edges, and the API/console parity."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import select

from admin_api.registry import import_extract
from store.database import Database
from store.models import AuditRecord, Enterprise, RegistrationRequest
from tests import factories
from tests.admin_api.console.browser import Console
from tests.admin_api.test_walkthrough_2_exceptional import pdf_text

OPERATOR = factories.niss(1950, 5, 5, 9)
LR, STAFF = factories.niss(1972, 1, 1, 1), factories.niss(1992, 2, 2, 5)
ACME, BETA = factories.enterprise_number(123456), factories.enterprise_number(654321)
BAD_NUMBER = ACME[:-1] + str((int(ACME[-1]) + 1) % 10)  # the check digits fail


@pytest.fixture
def acme(db: Database) -> dict:
    """Two unregistered enterprises of the register with the same legal representative, Élise Dupont."""
    with db.session() as session:
        import_extract(session, {
            "persons": [{"niss": LR, "first_name": "Élise", "last_name": "Dupont"},
                        {"niss": STAFF, "first_name": "Sam", "last_name": "Staff"}],
            "enterprises": [{"number": n, "name": name, "address": "Rue Haute 1, 1000 Bruxelles",
                             "legal_representatives": [{"niss": LR, "function": "Gérante", "start": "2010-01-01"}]}
                            for n, name in ((ACME, "Acme SA"), (BETA, "Beta SRL"))]})
    return {"number": ACME, "other": BETA, "lr": LR, "staff": STAFF}


def csrf(page: httpx.Response) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


@contextmanager
def console(url: str, niss: str | None = None, roles: tuple[str, ...] = (), lang: str = "fr"
            ) -> Iterator[httpx.Client]:
    """A person's httpx session on the console (signed in through the development sign-in when ``niss``)."""
    with httpx.Client(base_url=url, timeout=20, headers={"Accept-Language": lang}) as client:
        if niss:
            token = csrf(client.get("/console/sign-in"))
            signed = client.post("/console/sign-in", data={"csrf": token, "other_niss": niss, "loa": "eid",
                                                           "roles": list(roles)})
            assert signed.status_code == 303
        yield client


def exceptional_form(number: str, manager: dict | None = None, **changes: str) -> dict:
    form = {"legal_representative.niss": LR, "legal_representative.first_name": "Elise",
            "legal_representative.last_name": "DUPONT", "enterprise_number": number, "manager": "self",
            "contact.email": "direction@acme.be", "contact.phone": "+32 2 123 45 67", "confirm": "true"}
    if manager:
        form |= {"manager": "other"} | {f"main_access_manager.{k}": v for k, v in manager.items()}
    return form | changes


def post_form(client: httpx.Client, page: str, form: dict) -> httpx.Response:
    return client.post(page, data=form | {"csrf": csrf(client.get(page))})


def error_of(html: str, field: str) -> str:
    found = re.search(rf'id="f-{re.escape(field)}-error">([^<]*)<', html)
    return found.group(1) if found else ""


def test_the_legal_representative_registers_the_enterprise_with_eid(browser: Console, acme: dict, db) -> None:
    browser.sign_in(LR, loa="eid")
    browser.go("/console/registrations/new")
    assert browser.heading == "Désigner un Gestionnaire d'Accès Principal"
    browser.press("Désigner un Gestionnaire d'Accès Principal avec mon eID")
    assert browser.path == "/console/registrations/new/standard"
    assert "Moi-même (Élise Dupont)" in browser.text and "720101 001 " in browser.text, "the NISS shown formatted"
    browser.fill(**{"enterprise_number": BAD_NUMBER, "contact.email": "direction@acme.be",
                    "contact.phone": "+32 2 123 45 67"})
    browser.press("Enregistrer mon entreprise dans CSAM")
    error = browser.driver.find_element(By.ID, "f-enterprise_number-error")
    assert "entreprise" in error.text.lower() and error.is_displayed()
    assert browser.field("enterprise_number").get_attribute("aria-invalid") == "true"
    assert browser.field("contact.email").get_attribute("value") == "direction@acme.be", "the form keeps its values"

    dotted = f"{ACME[:4]}.{ACME[4:7]}.{ACME[7:]}"
    browser.fill(enterprise_number=dotted).press("Enregistrer mon entreprise dans CSAM")
    assert "Oui, je confirme" in browser.text
    assert browser.driver.find_element(By.ID, "f-confirm-error").text, "the consent is required, next to its box"
    browser.check("confirm", "true").press("Enregistrer mon entreprise dans CSAM")

    assert browser.heading == "Gestionnaire d'Accès Principal désigné !"
    assert "Votre entreprise, Acme SA, est maintenant activée dans CSAM. Vous vous êtes vous-même désigné(e)" \
        in browser.text
    assert dotted in browser.text and "direction@acme.be" in browser.text
    with db.read() as session:
        enterprise = session.get(Enterprise, ACME)
        assert (enterprise.main_manager_niss, enterprise.main_manager_phone) == (LR, "+3221234567")


def test_an_exceptional_request_then_the_operator_approves_one_and_rejects_one(
        browser: Console, acme: dict, console_url: str, db) -> None:
    browser.go("/console/registrations/new").press(
        "Suivez alors cette procédure pour désigner un Gestionnaire d'Accès Principal")
    browser.fill(**{k: v for k, v in exceptional_form(ACME, {"niss": STAFF, "email": "gap@acme.be",
                                                            "phone": "0475 12 34 56"}).items()
                    if k not in ("manager", "confirm")})
    browser.check("manager", "other").check("confirm", "true").press("Enregistrer mon entreprise dans CSAM")
    assert browser.heading == "Finalisation de la demande"
    ticket = browser.driver.find_element(By.ID, "ticket").text
    assert re.fullmatch(r"[0-9A-Z]{13}", ticket)
    assert f"sous le numéro de ticket {ticket}" in browser.text and "Avenue Fonsny 20" in browser.text
    link = browser.driver.find_element(By.LINK_TEXT, "Télécharger le document").get_attribute("href")
    assert link == f"{console_url}/console/registrations/{ticket}/document"
    pdf = httpx.get(link, timeout=20)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and ticket in pdf_text(pdf.content)

    browser.sign_in(OPERATOR, roles=("operator",))
    browser.press("Demandes à traiter")
    assert browser.heading == "Demandes de la procédure exceptionnelle"
    article = browser.driver.find_element(By.ID, f"request-{ticket}").text
    assert "Elise DUPONT — 720101 001 " in article and "Sam Staff — 920202 005 " in article
    assert f"Acme SA ({ACME[:4]}.{ACME[4:7]}.{ACME[7:]})" in article
    browser.shot("1-2-registration")

    with console(console_url) as anonymous:
        other = post_form(anonymous, "/console/registrations/new/exceptional", exceptional_form(BETA))
        assert other.status_code == 303
        beta = other.headers["location"].split("/")[-2]
    browser.go("/console/registrations/queue")
    decide(browser, beta, "Refuser")  # no reason given
    assert browser.driver.find_element(By.ID, f"reason-{beta}-error").text, "the reason is required, next to it"
    browser.driver.find_element(By.ID, f"reason-{beta}").send_keys("Formulaire non signé")
    decide(browser, beta, "Refuser")
    assert f"La demande {beta} est refusée" in browser.text
    decide(browser, ticket, "Approuver")
    assert f"La demande {ticket} est approuvée" in browser.text
    assert "Aucune demande en attente." in browser.text

    browser.go(f"/console/registrations/status?ticket={beta.lower()}")
    assert "Refusée" in browser.text and "Formulaire non signé" in browser.text
    assert re.search(r"Décidée le\n?\s*\d\d/\d\d/20\d\d \d\d:\d\d", browser.text)
    with db.read() as session:
        assert session.get(Enterprise, ACME).main_manager_niss == STAFF
        assert session.get(Enterprise, BETA).main_manager_niss is None
        assert session.get(RegistrationRequest, beta).reason == "Formulaire non signé"


def decide(browser: Console, ticket: str, button: str) -> None:
    before = browser.driver.find_element(By.TAG_NAME, "html")
    browser.driver.find_element(By.XPATH, f"//article[@id='request-{ticket}']//button[normalize-space()='{button}']"
                                ).click()
    browser._wait_stale(before)


def test_the_queue_is_for_operators_only(console_url: str, acme: dict, db) -> None:
    with console(console_url) as anonymous:
        ticket = post_form(anonymous, "/console/registrations/new/exceptional",
                           exceptional_form(ACME)).headers["location"].split("/")[-2]
        assert anonymous.get("/console/registrations/queue").status_code == 303, "sign in first"
    with console(console_url, LR) as lr:
        refused = lr.get("/console/registrations/queue")
        assert refused.status_code == 403 and 'data-code="FORBIDDEN"' in refused.text
        token = csrf(lr.get("/console/registrations/status"))
        approve = lr.post(f"/console/registrations/queue/{ticket}/approve", data={"csrf": token})
        assert approve.status_code == 403
        reject = lr.post(f"/console/registrations/queue/{ticket}/reject", data={"csrf": token, "reason": "x"})
        assert reject.status_code == 403
    with console(console_url, OPERATOR, ("operator",)) as operator:
        assert operator.post(f"/console/registrations/queue/{ticket}/approve", data={}).status_code == 403, "CSRF"
        token = csrf(operator.get("/console/registrations/queue"))
        assert operator.post(f"/console/registrations/queue/{ticket}/approve", data={"csrf": token}
                             ).status_code == 303
        again = operator.post(f"/console/registrations/queue/{ticket}/approve", data={"csrf": token})
        assert again.status_code == 409 and "REQUEST_ALREADY_DECIDED" not in again.text
    with db.read() as session:
        assert session.get(RegistrationRequest, ticket).status == "approved"


def test_form_errors_are_shown_next_to_their_fields(console_url: str, acme: dict) -> None:
    with console(console_url) as anonymous:
        page = "/console/registrations/new/exceptional"
        bad = post_form(anonymous, page, exceptional_form(
            BAD_NUMBER, {"niss": "12345678901", "email": "not-an-address", "phone": "12"},
            **{"legal_representative.first_name": ""}))
        assert bad.status_code == 422
        for name in ("enterprise_number", "legal_representative.first_name", "main_access_manager.niss",
                     "main_access_manager.email", "main_access_manager.phone"):
            assert error_of(bad.text, name.replace(".", "-")), name
        assert not error_of(bad.text, "main_access_manager"), "the 'self' branch of the union says nothing"
        assert 'value="not-an-address"' in bad.text

        mismatch = post_form(anonymous, page, exceptional_form(ACME, **{"legal_representative.last_name": "Durand"}))
        assert mismatch.status_code == 422 and error_of(mismatch.text, "legal_representative-last_name")
        unknown = post_form(anonymous, page, exceptional_form(factories.enterprise_number(999)))
        assert unknown.status_code == 404 and error_of(unknown.text, "enterprise_number")
        stranger = post_form(anonymous, page, exceptional_form(ACME, **{"legal_representative.niss": STAFF,
                                                                      "legal_representative.first_name": "Sam",
                                                                      "legal_representative.last_name": "Staff"}))
        assert stranger.status_code == 403 and error_of(stranger.text, "legal_representative-niss")
        unconfirmed = post_form(anonymous, page, exceptional_form(ACME, confirm=""))
        assert unconfirmed.status_code == 422 and error_of(unconfirmed.text, "confirm")

        missing = anonymous.get("/console/registrations/status", params={"ticket": "NOSUCHTICKET1"})
        assert missing.status_code == 404 and error_of(missing.text, "ticket")
        assert anonymous.get("/console/registrations/NOSUCHTICKET1/document").status_code == 404
    with httpx.Client(base_url=console_url, timeout=20) as client:  # the legal representative without eID
        token = csrf(client.get("/console/sign-in"))
        client.post("/console/sign-in", data={"csrf": token, "other_niss": LR, "loa": "low"})
        page = client.get("/console/registrations/new/standard")
        assert "la procédure standard demande une connexion" in page.text
        answer = client.post("/console/registrations/new/standard", data={
            "csrf": csrf(page), "enterprise_number": ACME, "manager": "self", "contact.email": "d@acme.be",
            "contact.phone": "022222222", "confirm": "true"})
        assert answer.status_code == 403 and "eID" in answer.text


def test_the_same_screens_in_dutch(browser: Console, acme: dict, console_url: str) -> None:
    browser.go("/console/registrations/new").press("NL")
    assert browser.heading == "Een Hoofdtoegangsbeheerder aanduiden"
    browser.press("Volg dan deze procedure om een Hoofdtoegangsbeheerder aan te duiden")
    browser.fill(**{"enterprise_number": BAD_NUMBER, "contact.email": "directie@acme.be"})
    browser.press("Mijn onderneming in CSAM registreren")
    assert browser.driver.find_element(By.ID, "f-enterprise_number-error").text
    assert "Verbeter de aangeduide velden." in browser.text and "Ja, ik bevestig" in browser.text
    with console(console_url, lang="nl") as client:
        client.cookies.set("gga_lang", "nl", path="/console")
        ticket = post_form(client, "/console/registrations/new/exceptional",
                           exceptional_form(ACME)).headers["location"].split("/")[-2]
        assert "Afronding van de aanvraag" in client.get(f"/console/registrations/{ticket}/requested").text
        pdf = client.get(f"/console/registrations/{ticket}/document")
        assert "Hoofdtoegangsbeheerder" in pdf_text(pdf.content), "the PDF in the person's language"


def _rows(db: Database, number: str, ticket: str) -> dict:
    """What a registration leaves behind, with the enterprise number and ticket blanked (they differ by design)."""
    with db.read() as session:
        request = session.get(RegistrationRequest, ticket)
        enterprise = session.get(Enterprise, number)
        audit = session.scalars(select(AuditRecord).where(AuditRecord.enterprise_number == number)
                                .order_by(AuditRecord.id)).all()
        facts = {
            "request": [request.procedure, request.status, request.requester_niss, request.requester_email,
                        request.requester_phone, request.manager_niss, request.manager_email, request.manager_phone,
                        request.language, request.decided_by, request.reason, request.decided_at is not None],
            "enterprise": [enterprise.main_manager_niss, enterprise.main_manager_email,
                           enterprise.main_manager_phone, enterprise.registered_at is not None],
            "audit": [[a.actor, a.action, a.target, a.before, a.after] for a in audit]}
    return json.loads(json.dumps(facts, default=str).replace(ticket, "<ticket>").replace(number, "<number>"))


def test_the_api_and_the_console_leave_the_same_rows_and_audit(client, auth, console_url: str, acme: dict,
                                                               db) -> None:
    manager = {"niss": STAFF, "email": "gap@acme.be", "phone": "+32475123456"}
    body = {"legal_representative": {"niss": LR, "first_name": "Elise", "last_name": "DUPONT"},
            "enterprise_number": ACME, "main_access_manager": manager,
            "contact": {"email": "direction@acme.be", "phone": "+3221234567"}, "confirm": True}
    by_api = client.post("/api/v1/registrations/exceptional", json=body).json()["ticket"]
    assert client.post(f"/api/v1/registrations/{by_api}/approve",
                       headers=auth(OPERATOR, roles=["operator"])).status_code == 200

    with console(console_url) as anonymous:
        answer = post_form(anonymous, "/console/registrations/new/exceptional", exceptional_form(BETA, manager))
        by_console = answer.headers["location"].split("/")[-2]
    with console(console_url, OPERATOR, ("operator",)) as operator:
        token = csrf(operator.get("/console/registrations/queue"))
        assert operator.post(f"/console/registrations/queue/{by_console}/approve",
                             data={"csrf": token}).status_code == 303

    api_rows, console_rows = _rows(db, ACME, by_api), _rows(db, BETA, by_console)
    assert [a[1] for a in api_rows["audit"]] == ["registration.exceptional.requested",
                                                 "enterprise.main_manager.designated",
                                                 "registration.exceptional.approved"]
    assert api_rows == console_rows


def test_standard_procedure_for_another_person_then_already_registered(console_url: str, acme: dict, db) -> None:
    page = "/console/registrations/new/standard"
    form = {"enterprise_number": ACME, "manager": "other", "main_access_manager.niss": STAFF,
            "main_access_manager.email": "gap@acme.be", "main_access_manager.phone": "0475 12 34 56",
            "contact.email": "direction@acme.be", "contact.phone": "022222222", "confirm": "true"}
    with console(console_url, LR) as lr:
        done = post_form(lr, page, form)
        assert done.status_code == 200 and "Vous avez désigné Sam Staff comme Gestionnaire" in done.text
        assert "920202 005 " in done.text, "the GAP's NISS formatted"
        again = post_form(lr, page, form | {"main_access_manager.niss": LR})
        assert again.status_code == 409
        assert "Sam Staff" in error_of(again.text, "enterprise_number"), "the guide names the current GAP"
    with db.read() as session:
        assert session.get(Enterprise, ACME).main_manager_niss == STAFF
