"""The legal representative designates another main access manager from the enterprise's page (guide I, the same
service as PUT /api/v1/enterprises/{n}/main-access-manager); nobody else is offered or allowed it."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from store.models import AuditRecord, Enterprise
from tests import factories
from tests.admin_api.console.browser import Console

NEW_GAP = factories.niss(1990, 2, 14, 77)


def _gap_and_audit(services) -> tuple[str | None, list[tuple[str, str]]]:  # type: ignore[no-untyped-def]
    with services.db.read() as session:
        gap = session.get(Enterprise, "0403019261").main_manager_niss
        audit = [(r.action, r.target) for r in session.scalars(select(AuditRecord).order_by(AuditRecord.id))]
    return gap, audit


def test_the_legal_representative_designates_another_gap(browser: Console, demo: dict, services) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in(demo["gap_niss"])  # the demo's GAP is also its legal representative
    browser.go("/console/enterprises/0403019261").press("Désigner un autre Gestionnaire d'Accès Principal")
    assert browser.heading == "Changer de Gestionnaire d'Accès Principal"
    browser.fill(**{"main_access_manager.niss": NEW_GAP, "main_access_manager.email": "new.gap@demo-payroll.be",
                    "main_access_manager.phone": "+3221230000", "contact.email": "direction@demo-payroll.be",
                    "contact.phone": "+3221234567"})
    submit = browser.driver.find_element("css selector", "main form button[type=submit]").text
    browser.press(submit)
    assert browser.driver.find_element("id", "f-confirm-error").text, "the consent is asked for first"
    assert _gap_and_audit(services)[0] == demo["gap_niss"], "nothing changed without the consent"
    browser.check("confirm", "true")
    browser.press(submit)
    assert browser.path == "/console/enterprises/0403019261"
    assert "est désormais Gestionnaire d'Accès Principal" in browser.text
    gap, audit = _gap_and_audit(services)
    assert gap == NEW_GAP and audit[-1] == ("enterprise.main_manager.designated", "enterprise:0403019261")


def test_api_and_console_change_the_gap_alike(console_url: str, demo: dict, services, client, auth) -> None:  # type: ignore[no-untyped-def]
    body = {"main_access_manager": {"niss": NEW_GAP, "email": "new.gap@demo-payroll.be", "phone": "+3221230000"},
            "contact": {"email": "direction@demo-payroll.be", "phone": "+3221234567"}, "confirm": True}
    before = len(_gap_and_audit(services)[1])
    answer = client.put("/api/v1/enterprises/0403019261/main-access-manager", json=body,
                        headers=auth(demo["gap_niss"]))
    assert answer.status_code == 200, answer.text
    by_api = _gap_and_audit(services)
    back = dict(body, main_access_manager=dict(body["main_access_manager"], niss=demo["gap_niss"]))
    assert client.put("/api/v1/enterprises/0403019261/main-access-manager", json=back,
                      headers=auth(demo["gap_niss"])).status_code == 200
    middle = len(_gap_and_audit(services)[1])
    with httpx.Client(base_url=console_url, timeout=20) as console:
        token = re.search(r'name="csrf" value="([^"]+)"', console.get("/console/sign-in").text).group(1)
        console.post("/console/sign-in", data={"csrf": token, "other_niss": demo["gap_niss"], "loa": "eid"})
        posted = console.post("/console/registrations/change/0403019261", data={
            "csrf": console.cookies["gga_csrf"], "manager": "other", "main_access_manager.niss": NEW_GAP,
            "main_access_manager.email": "new.gap@demo-payroll.be", "main_access_manager.phone": "+3221230000",
            "contact.email": "direction@demo-payroll.be", "contact.phone": "+3221234567", "confirm": "true"})
        assert posted.status_code == 303, posted.text[-500:]
    by_console = _gap_and_audit(services)
    assert by_api[0] == by_console[0] == NEW_GAP
    assert by_api[1][before:] == by_console[1][middle:], "the same audit entries"


def test_only_the_legal_representative_is_offered_and_allowed_the_change(console_url: str, demo: dict, client,  # type: ignore[no-untyped-def]
                                                                          auth, services) -> None:
    co_gap = factories.niss(1988, 3, 3, 21)
    assert client.post("/api/v1/enterprises/0403019261/co-main-managers", json={"niss": co_gap},
                       headers=auth(demo["gap_niss"])).status_code == 201
    with httpx.Client(base_url=console_url, timeout=20) as console:
        token = re.search(r'name="csrf" value="([^"]+)"', console.get("/console/sign-in").text).group(1)
        console.post("/console/sign-in", data={"csrf": token, "other_niss": co_gap, "loa": "eid"})
        page = console.get("/console/enterprises/0403019261")
        assert page.status_code == 200 and "Désigner un autre Gestionnaire" not in page.text
        refused = console.post("/console/registrations/change/0403019261", data={
            "csrf": console.cookies["gga_csrf"], "manager": "self", "contact.email": "x@demo-payroll.be",
            "contact.phone": "+3221234567", "confirm": "true"})
        assert refused.status_code == 403
    assert _gap_and_audit(services)[0] == demo["gap_niss"]
