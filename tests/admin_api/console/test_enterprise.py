"""Guide III (the GAP's home: co-GAPs, the domains) and IV (a domain's GL and co-GLs) in the console: a real
Chromium walks the screens; httpx checks the refusals and the edge cases; one test finds the API and the console
leave the same rows and the same audit trail."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from sqlalchemy import select

from store.models import AuditRecord, Domain, Person, User
from tests import factories
from tests.admin_api.console.browser import Console

ENTERPRISE = "0403019261"
CO_GAP = factories.niss(1981, 5, 6, 31)
GL, GL_2, CO_GL = factories.niss(1990, 7, 8, 41), factories.niss(1992, 2, 2, 42), factories.niss(1991, 9, 10, 51)
USER = factories.niss(2001, 11, 12, 61)


def _register(db, *people: tuple[str, str, str]) -> None:  # type: ignore[no-untyped-def]
    with db.session() as session:
        for niss, first, last in people:
            session.add(Person(niss=niss, first_name=first, last_name=last))


def _token(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


@contextmanager
def _signed(console_url: str, niss: str) -> Iterator[httpx.Client]:
    """An httpx client signed in to the console (the development issuer's form)."""
    with httpx.Client(base_url=console_url, timeout=10) as client:
        token = _token(client.get("/console/sign-in").text)
        assert client.post("/console/sign-in", data={"csrf": token, "other_niss": niss, "loa": "eid"}) \
            .status_code == 303
        yield client


def _post(client: httpx.Client, page: str, action: str, form: dict) -> httpx.Response:
    """Post ``form`` as the page's form would (its CSRF token read from the page)."""
    return client.post(action, data=form | {"csrf": _token(client.get(page).text)})


def _manager(browser: Console, niss: str, username: str, first: str, last: str, email: str) -> None:
    browser.fill(niss=niss, username=username, first_name=first, last_name=last, email=email)
    browser.check("applications", "DMFA")
    browser.press("Enregistrer")
    summary = browser.driver.find_element("id", "designated").text
    assert username in summary and niss[:6] + " " + niss[6:9] in summary and "DMFA" in summary
    browser.press("Confirmer")


def test_the_gap_manages_co_gaps_creates_a_domain_and_designates_its_managers(browser: Console, demo: dict,
                                                                               db) -> None:  # type: ignore[no-untyped-def]
    _register(db, (CO_GAP, "Colette", "Adjointe"))
    browser.sign_in(demo["gap_niss"])
    browser.go(f"/console/enterprises/{ENTERPRISE}")
    assert browser.heading == "Entreprise Demo Payroll SA"
    assert "0403.019.261" in browser.text and "Anne Demo (850730 033 28)" in browser.text
    assert "Employeur ONSS" in browser.text and "1234567-89" in browser.text

    browser.fill(niss="12345678901").press("Ajouter un Co-Gestionnaire d'Accès Principal")
    error = browser.driver.find_element("id", "f-niss-error")
    assert "NISS" in error.text and browser.field("niss").get_attribute("aria-invalid") == "true"
    assert browser.field("niss").get_attribute("value") == "12345678901", "the form keeps what was typed"
    browser.fill(niss=CO_GAP, **{"contact.email": "colette@demo-payroll.be", "contact.phone": "+32 2 123 45 68"})
    browser.press("Ajouter un Co-Gestionnaire d'Accès Principal")
    assert "La personne a été désignée comme Co-Gestionnaire d'Accès Principal." in browser.text
    assert "Colette Adjointe" in browser.text and "810506 031" in browser.text

    browser.fill(name="Secrétariat social agréé", identifier="SSA-2026-01").press("Créer un domaine")
    assert "Le domaine Secrétariat social agréé (SSA-2026-01) a été créé." in browser.text
    rows = browser.driver.find_elements("css selector", "#domains + table tbody tr")
    assert len(rows) == 2 and "Gestionnaire d'Accès Principal (aucun désigné)" in rows[1].text
    browser.shot("3-enterprise")

    browser.press("Secrétariat social agréé")
    assert browser.heading == "Domaine Secrétariat social agréé SSA-2026-01"
    browser.press("Désigner le Gestionnaire d'Accès")
    _manager(browser, GL, "gilles.local", "Gilles", "Local", "gilles@demo-payroll.be")
    assert "La personne a été désignée comme Gestionnaire d'Accès." in browser.text, "guide IV: désigné"
    browser.press("Changer de Gestionnaire d'Accès")
    _manager(browser, GL_2, "greta.gestion", "Greta", "Gestion", "greta@demo-payroll.be")
    assert "Le Gestionnaire d'Accès a été modifié." in browser.text, "guide IV a: modifié"
    browser.press("Ajouter un co-Gestionnaire d'Accès")
    _manager(browser, CO_GL, "cora.colocale", "Cora", "Colocale", "cora@demo-payroll.be")
    assert "La personne a été désignée comme co-Gestionnaire d'Accès." in browser.text
    gl_table = browser.driver.find_element("css selector", "#gl + table").text
    assert "Greta" in gl_table and "920202 042" in gl_table and "Actif" in gl_table
    assert "Cora" in browser.driver.find_element("css selector", "#co-gls + table").text
    browser.shot("4-domain")

    browser.press("Demo Payroll SA (0403.019.261)")
    assert "Greta Gestion" in browser.text, "the domain list names its GL"
    browser.press("Retirer")
    assert "Êtes-vous certain de vouloir retirer Colette Adjointe" in browser.text
    browser.press("Confirmer")
    assert "Le Co-Gestionnaire d'Accès Principal a été retiré." in browser.text
    assert "Colette Adjointe" not in browser.text and "Aucun Co-Gestionnaire d'Accès Principal." in browser.text
    with db.read() as session:
        actions = [a for a in session.scalars(select(AuditRecord.action).order_by(AuditRecord.id))]
    assert actions[-7:] == ["enterprise.co_main_manager.added", "domain.created", "domain.local_manager.set",
                            "user.local_manager.replaced", "domain.local_manager.set",
                            "domain.co_local_manager.added", "enterprise.co_main_manager.removed"]


def test_the_same_pages_in_dutch_and_the_guide_confirmation_in_dutch(browser: Console, demo: dict) -> None:
    browser.sign_in(demo["gap_niss"])
    browser.go(f"/console/enterprises/{ENTERPRISE}").press("NL")
    assert browser.heading == "Onderneming Demo Payroll SA"
    assert "Werkgever RSZ" in browser.text and "Co-hoofdtoegangsbeheerders" in browser.text
    browser.press("Werkgever RSZ")
    assert browser.heading.startswith("Domein Werkgever RSZ")
    browser.press("De Toegangsbeheerder aanduiden")
    assert browser.driver.find_element("css selector", "label[for=f-username]").text == "Gebruikersnaam"
    browser.fill(niss=GL, username="gilles.local", first_name="Gilles", last_name="Local",
                 email="gilles@demo-payroll.be", language="nl")
    browser.press("Opslaan")
    assert browser.heading == "Aanduiding van de Toegangsbeheerder" and "Nederlands" in browser.text
    browser.press("Bevestigen")
    assert "De persoon werd aangeduid als Toegangsbeheerder." in browser.text
    assert browser.driver.find_element("tag name", "html").get_attribute("lang") == "nl"


def test_a_plain_domain_user_is_refused_the_management_pages(console_url: str, demo: dict, client, auth) -> None:  # type: ignore[no-untyped-def]
    created = client.post(f"/api/v1/domains/{demo['domain_id']}/users", headers=auth(demo["gap_niss"]), json={
        "niss": USER, "username": "ursula.user", "password": "Secret-pass-2026", "last_name": "User",
        "first_name": "Ursula", "email": "ursula@demo-payroll.be", "applications": ["DMFA"]})
    assert created.status_code == 201, created.text
    with _signed(console_url, USER) as user:
        for page in (f"/console/enterprises/{ENTERPRISE}", f"/console/domains/{demo['domain_id']}",
                     f"/console/domains/{demo['domain_id']}/local-manager/new"):
            refused = user.get(page)
            assert refused.status_code == 403 and 'data-code="FORBIDDEN"' in refused.text, page
            assert "Vos rôles ici ne vous permettent pas" in refused.text
        token = _token(user.get("/console/").text)
        posted = user.post(f"/console/enterprises/{ENTERPRISE}/domains",
                           data={"csrf": token, "name": "Employeur ONSS", "identifier": "1234567-89"})
        assert posted.status_code == 403
    listed = client.get(f"/api/v1/enterprises/{ENTERPRISE}/domains", headers=auth(demo["gap_niss"])).json()["items"]
    assert len(listed) == 1, "the refused form created nothing"


def test_refusals_show_next_to_their_field(console_url: str, demo: dict, db) -> None:  # type: ignore[no-untyped-def]
    page = f"/console/enterprises/{ENTERPRISE}"
    with _signed(console_url, demo["gap_niss"]) as gap:
        bad = _post(gap, page, f"{page}/domains", {"name": "Employeur ONSS", "identifier": "12-34"})
        assert bad.status_code == 422 and 'id="f-identifier-error"' in bad.text
        twice = _post(gap, page, f"{page}/domains", {"name": "Employeur ONSS", "identifier": "123456789"})
        assert twice.status_code == 422
        assert re.search(r'id="f-identifier-error">L&#39;entreprise a déjà ce domaine.<', twice.text), twice.text
        unknown = _post(gap, page, f"{page}/domains", {"name": "Boulangerie", "identifier": "X"})
        assert re.search(r'id="f-name-error">Ce type de domaine n&#39;existe pas', unknown.text)
        itself = _post(gap, page, f"{page}/co-main-managers", {"niss": demo["gap_niss"]})
        assert re.search(r'id="f-niss-error">Cette personne est le Gestionnaire d&#39;Accès Principal', itself.text)
        half = _post(gap, page, f"{page}/co-main-managers", {"niss": CO_GAP, "contact.email": "x@a.be"})
        assert half.status_code == 422 and 'id="f-contact-phone-error"' in half.text
        new = f"/console/domains/{demo['domain_id']}/local-manager/new"
        missing = _post(gap, new, new, {"niss": GL, "username": "gilles.local"})
        assert missing.status_code == 422
        for name in ("last_name", "first_name", "email"):
            assert f'id="f-{name}-error">Obligatoire : la personne n&#39;est pas encore utilisateur' in missing.text
        assert 'id="f-username-error"' not in missing.text
        gone = _post(gap, page, f"{page}/co-main-managers/{CO_GAP}/remove", {})
        assert gone.status_code == 404 and "Cette personne n&#39;est pas Co-Gestionnaire" in gone.text
        forged = gap.post(f"{page}/domains", data={"name": "Employeur ONSS", "identifier": "7654321-00"})
        assert forged.status_code == 403, "no CSRF token, no domain"
    with db.read() as session:
        assert session.scalars(select(Domain.identifier)).all() == ["1234567-89"]
        assert session.scalars(select(User).where(User.niss == GL)).first() is None


def test_a_local_manager_adds_co_managers_but_does_not_designate_the_gl(console_url: str, demo: dict, client,
                                                                        auth, db) -> None:  # type: ignore[no-untyped-def]
    domain = demo["domain_id"]
    put = client.put(f"/api/v1/domains/{domain}/local-manager", headers=auth(demo["gap_niss"]), json={
        "niss": GL, "username": "gilles.local", "last_name": "Local", "first_name": "Gilles",
        "email": "gilles@demo-payroll.be"})
    assert put.status_code == 200, put.text
    with _signed(console_url, GL) as gl:
        page = gl.get(f"/console/domains/{domain}")
        assert page.status_code == 200 and "Ajouter un co-Gestionnaire d&#39;Accès" in page.text
        assert "local-manager/new" not in page.text, "the GL is not offered to change the GL"
        assert gl.get(f"/console/domains/{domain}/local-manager/new").status_code == 403
        new = f"/console/domains/{domain}/co-local-managers/new"
        form = {"niss": CO_GL, "username": "cora.colocale", "last_name": "Colocale", "first_name": "Cora",
                "email": "cora@demo-payroll.be", "language": "nl"}
        preview = _post(gl, new, new, form)
        assert preview.status_code == 200 and "Désignation d&#39;un co-Gestionnaire d&#39;Accès" in preview.text
        back = _post(gl, new, new, form | {"back": "1"})
        assert back.status_code == 200 and 'value="cora.colocale"' in back.text, "Précédent: the form as typed"
        with db.read() as session:
            assert session.scalars(select(User).where(User.niss == CO_GL)).first() is None, "nothing yet"
        added = _post(gl, new, new, form | {"confirmed": "1"})
        assert added.status_code == 303 and added.headers["location"] == f"/console/domains/{domain}"
        shown = gl.get(added.headers["location"]).text
        assert "La personne a été désignée comme co-Gestionnaire d&#39;Accès." in shown
        remove = f"/console/domains/{domain}/co-local-managers/{CO_GL}/remove"
        assert "Êtes-vous certain" in gl.get(remove).text
        removed = _post(gl, remove, remove, {})
        assert removed.status_code == 303
        assert "La suppression de l&#39;utilisateur a réussi." in gl.get(removed.headers["location"]).text
        enterprise = gl.get(f"/console/enterprises/{ENTERPRISE}")
        assert enterprise.status_code == 200 and 'id="co-gap-form"' not in enterprise.text
        assert 'id="domain-form"' not in enterprise.text, "only the GAP and co-GAPs create domains"


def _trail(db, since: int) -> list[tuple]:  # type: ignore[no-untyped-def]
    """The audit entries after ``since``: who, what, on what kind of row, the facts without ids or times."""
    drop = {"id", "domain_id", "created_at", "updated_at", "username", "identifier"}
    with db.read() as session:
        rows = session.scalars(select(AuditRecord).where(AuditRecord.id > since).order_by(AuditRecord.id)).all()
        return [(r.actor, r.action, r.target.split(":")[0], r.enterprise_number,
                 {k: v for k, v in (r.before or {}).items() if k not in drop},
                 {k: v for k, v in (r.after or {}).items() if k not in drop}) for r in rows]


def _last_audit(db) -> int:  # type: ignore[no-untyped-def]
    with db.read() as session:
        return session.scalar(select(AuditRecord.id).order_by(AuditRecord.id.desc()).limit(1)) or 0


def _domain_rows(db, identifier: str) -> tuple:  # type: ignore[no-untyped-def]
    with db.read() as session:
        domain = session.scalars(select(Domain).where(Domain.identifier == identifier)).one()
        gl = session.scalars(select(User).where(User.domain_id == domain.id)).one()
        return (domain.enterprise_number, domain.name, sorted(a.code for a in domain.applications),
                (gl.niss, gl.type, gl.status, gl.first_name, gl.last_name, gl.email, gl.language,
                 sorted(a.code for a in gl.applications)))


def test_the_api_and_the_console_leave_the_same_rows_and_audit_entries(console_url: str, demo: dict, client,
                                                                         auth, db) -> None:  # type: ignore[no-untyped-def]
    gap = demo["gap_niss"]
    person = {"niss": GL, "last_name": "Local", "first_name": "Gilles", "email": "gilles@demo-payroll.be",
              "language": "nl"}
    start = _last_audit(db)
    made = client.post(f"/api/v1/enterprises/{ENTERPRISE}/domains", headers=auth(gap),
                       json={"name": "Secrétariat social agréé", "identifier": "API-1"})
    assert made.status_code == 201, made.text
    put = client.put(f"/api/v1/domains/{made.json()['id']}/local-manager", headers=auth(gap),
                     json=person | {"username": "gl.api", "applications": ["DMFA"]})
    assert put.status_code == 200, put.text
    middle = _last_audit(db)
    page = f"/console/enterprises/{ENTERPRISE}"
    with _signed(console_url, gap) as console:
        assert _post(console, page, f"{page}/domains", {"name": "Secrétariat social agréé",
                                                         "identifier": "WEB-1"}).status_code == 303
        with db.read() as session:
            web_id = session.scalar(select(Domain.id).where(Domain.identifier == "WEB-1"))
        new = f"/console/domains/{web_id}/local-manager/new"
        form = person | {"username": "gl.web", "applications": "DMFA"}
        assert _post(console, new, new, form).status_code == 200, "Enregistrer shows the summary"
        answer = _post(console, new, new, form | {"confirmed": "1"})
        assert answer.status_code == 303, answer.text
    assert _domain_rows(db, "API-1") == _domain_rows(db, "WEB-1")
    through_api, through_console = _trail(db, start)[:2], _trail(db, middle)
    assert [entry[1] for entry in through_api] == ["domain.created", "domain.local_manager.set"]
    assert through_console == through_api
