"""Guide V in the console: a domain's users: search, pages, CSV export, creation, bulk actions with their
confirmation, in a real Chromium and with httpx (cookies as a browser sends them)."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from selenium.webdriver.common.by import By
from sqlalchemy import select

from admin_api.http import Services
from admin_api.identity import Caller
from admin_api.user import service
from admin_api.user.schemas import UserIn
from kernel.i18n import translate
from store.models import AuditRecord, User
from tests import factories
from tests.admin_api.console.browser import Console

PASSWORD = "Secret-pass-123"
SAVED = "Les données de l'utilisateur ont bien été enregistrées"
PEOPLE = [("Dubois", "Élodie", "active"), ("dubois", "Marc", "blocked"), ("Durand", "Zoé", "active"),
          ("Peeters", "Jan", "active"), ("Janssens", "Eva", "blocked")]


def users_url(demo: dict, query: str = "") -> str:
    return f"/console/domains/{demo['domain_id']}/users" + (f"?{query}" if query else "")


def add_users(services: Services, demo: dict, people: list[tuple[str, str, str]], start: int = 100,
              applications: tuple[str, ...] = ("DMFA",)) -> list[str]:
    """Users made through the service itself (the screens under test only read them); their usernames."""
    gap, names = Caller(demo["gap_niss"], "eid"), []
    with services.db.session() as session:
        for i, (last, first, status) in enumerate(people, start):
            username = f"{first}.{last}{i}".lower().replace("é", "e").replace(" ", "")
            service.create_user(session, gap, demo["domain_id"], UserIn(
                niss=factories.niss(1980, 1, 1, i), username=username, password=PASSWORD, last_name=last,
                first_name=first, email=f"{username}@demo-payroll.be", applications=list(applications)),
                services.passwords)
            if status == "blocked":
                service.bulk(session, gap, demo["domain_id"], "block", [username], [])
            names.append(username)
    return names


def rows(browser: Console) -> list[str]:
    found = browser.driver.find_elements(By.CSS_SELECTOR, "tr[data-username]")
    return [r.get_attribute("data-username") for r in found]


def notice(browser: Console) -> str:
    return browser.driver.find_element(By.CSS_SELECTOR, ".notice").text


def bulk(browser: Console, action: str, *usernames: str) -> Console:
    for name in usernames:
        browser.check("users", name)
    browser.fill(action=action)
    return browser.press("Exécuter")


def test_the_gap_creates_a_user_filters_exports_and_pages(browser: Console, demo: dict, services: Services) -> None:
    browser.sign_in(demo["gap_niss"])
    browser.go(users_url(demo))
    assert browser.heading == "Utilisateurs" and "Employeur ONSS" in browser.text and "0403.019.261" in browser.text
    assert "0 utilisateur(s) trouvé(s)." in browser.text
    browser.fill(new_niss="90.02.01-997.04").press("Suivant")  # the guide: NISS first, then the form
    assert browser.heading == "Création d'un utilisateur"
    assert browser.field("niss").get_attribute("value") == "90.02.01-997.04"
    browser.fill(username="jeanne.martin", username_confirm="jeanne.martin", password=PASSWORD,
                 password_confirm=PASSWORD, last_name="Martin", first_name="Jeanne", title="Mme",
                 email="jeanne.martin@demo-payroll.be")
    browser.check("applications", "DMFA").check("applications", "DIMN")
    browser.press("Enregistrer")
    assert notice(browser) == SAVED
    assert rows(browser) == ["jeanne.martin"]
    row = browser.driver.find_element(By.CSS_SELECTOR, "tr[data-username='jeanne.martin']").text
    assert "900201 997 04" in row and "USER" in row and "Actif" in row and "DIMN, DMFA" in row
    assert re.search(r"\b\d\d/\d\d/20\d\d\b", row), "created on, dd/mm/yyyy"

    add_users(services, demo, PEOPLE)
    browser.go(users_url(demo)).fill(last_name="DUB").press("Rechercher")
    assert sorted(rows(browser)) == ["elodie.dubois100", "marc.dubois101"]
    assert "2 utilisateur(s) trouvé(s)." in browser.text
    browser.fill(status="blocked").press("Rechercher")
    assert rows(browser) == ["marc.dubois101"], "last name and status together"
    browser.go(users_url(demo, "status=active&application=DMFA"))
    assert sorted(rows(browser)) == ["elodie.dubois100", "jan.peeters103", "jeanne.martin", "zoe.durand102"]
    browser.shot("5-users")

    link = browser.driver.find_element(By.PARTIAL_LINK_TEXT, "Exporter les utilisateurs")
    cookies = {c["name"]: c["value"] for c in browser.driver.get_cookies()}
    answer = httpx.get(link.get_attribute("href"), cookies=cookies, timeout=10)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert sorted(r["username"] for r in table) == sorted(rows(browser)), "the CSV holds the filtered users"
    assert {r["status"] for r in table} == {"active"} and all("DMFA" in r["applications"] for r in table)
    assert httpx.get(link.get_attribute("href"), timeout=10).status_code == 303, "no session, no export"

    many = add_users(services, demo, [(f"Vermeulen{i:02d}", "Piet", "active") for i in range(20)], start=200)
    browser.go(users_url(demo, "last_name=vermeulen"))
    assert "Page 1 sur 2 (20 résultats)" not in browser.text and "Page 1 sur 1 (20 résultats)" in browser.text
    browser.go(users_url(demo))
    assert "Page 1 sur 2 (26 résultats)" in browser.text and len(rows(browser)) == 20
    first = set(rows(browser))
    browser.press("Page suivante")
    assert "Page 2 sur 2" in browser.text and len(rows(browser)) == 6 and not first & set(rows(browser))
    assert first | set(rows(browser)) >= set(many)


def test_block_unblock_add_an_application_and_delete_with_the_guides_confirmations(
        browser: Console, demo: dict, services: Services) -> None:
    names = add_users(services, demo, [("Peeters", "Jan", "active"), ("Wouters", "Lies", "active")])
    browser.sign_in(demo["gap_niss"])
    browser.go(users_url(demo, "last_name=peeters"))
    bulk(browser, "block", names[0])
    assert browser.heading == "Blocage de l'utilisateur"
    assert "Etes-vous certain de vouloir bloquer le(s) utilisateur(s) suivant(s)?" in browser.text
    assert rows(browser) == [names[0]]
    browser.press("Confirmer")
    assert notice(browser) == "Le blocage du ou des utilisateur(s) a réussi"
    assert browser.path == users_url(demo, "last_name=peeters"), "back to the same filtered list"
    assert "Bloqué" in browser.driver.find_element(By.CSS_SELECTOR, f"tr[data-username='{names[0]}']").text

    bulk(browser, "unblock", names[0]).press("Confirmer")
    assert notice(browser) == "Le déblocage du ou des utilisateur(s) a réussi"
    assert "Actif" in browser.driver.find_element(By.CSS_SELECTOR, f"tr[data-username='{names[0]}']").text

    browser.go(users_url(demo))
    bulk(browser, "add_applications", *names)
    assert browser.heading == "Ajout d'application(s) à un groupe d'utilisateurs"
    browser.press("Confirmer")  # no application chosen: the service's refusal next to the field
    assert browser.driver.find_element(By.ID, "f-applications-error").text
    browser.check("applications", "CHTP").press("Confirmer")
    assert notice(browser) == ("Les applications que vous avez sélectionnées ont été ajoutées aux utilisateurs que "
                               "vous avez sélectionnés.")
    for name in names:
        assert "CHTP, DMFA" in browser.driver.find_element(By.CSS_SELECTOR, f"tr[data-username='{name}']").text

    bulk(browser, "delete", names[1])
    assert "Etes-vous certain de vouloir supprimer le(s) utilisateur(s) suivant(s)?" in browser.text
    browser.press("Annuler")
    assert set(rows(browser)) == set(names), "cancelled: nothing deleted"
    bulk(browser, "delete", names[1]).press("Confirmer")
    assert notice(browser) == "La suppression du ou des utilisateur(s) a réussi"
    assert rows(browser) == [names[0]]
    with services.db.read() as session:
        assert session.scalar(select(User.id).where(User.username == names[1])) is None


def test_the_users_screen_in_dutch_and_refused_to_a_plain_user(browser: Console, demo: dict,
                                                                  services: Services) -> None:
    add_users(services, demo, PEOPLE[:2])
    browser.sign_in(demo["gap_niss"])
    browser.go(users_url(demo, "last_name=dub"))
    browser.press("NL")
    assert browser.heading == "Gebruikers" and browser.path == users_url(demo, "last_name=dub")
    assert "2 gebruiker(s) gevonden." in browser.text and "Geblokkeerd" in browser.text
    assert "De gebruikers exporteren (.csv)" in browser.text and "Een gebruiker toevoegen" in browser.text
    bulk_nl = browser.driver.find_element(By.CSS_SELECTOR, "#f-action option[value='block']").text
    assert bulk_nl == "Gebruiker(s) blokkeren"

    add_users(services, demo, [("Plain", "Paul", "active")], start=7)
    with services.db.read() as session:
        plain = session.scalar(select(User.niss).where(User.username == "paul.plain7"))
    browser.go("/console/")
    browser.press("Afmelden")
    browser.sign_in(plain)
    browser.go(users_url(demo))
    assert browser.driver.find_element(By.CSS_SELECTOR, "[data-code]").get_attribute("data-code") == "FORBIDDEN"
    assert "Gebruikers" not in browser.heading


@contextmanager
def signed(console_url: str, niss: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=console_url, timeout=10) as client:
        client.post("/console/sign-in", data={"csrf": token(client.get("/console/sign-in")), "other_niss": niss,
                                              "loa": "eid"})
        yield client


def token(page: httpx.Response) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def error_of(page: httpx.Response, field: str) -> str:
    found = re.search(rf'id="f-{field}-error">([^<]*)<', page.text)
    return html.unescape(found.group(1)) if found else ""


def form(**values: str) -> dict[str, str]:
    base = {"username": "luc.leroy", "username_confirm": "luc.leroy", "password": PASSWORD,
            "password_confirm": PASSWORD, "last_name": "Leroy", "first_name": "Luc", "niss": factories.niss(),
            "language": "fr", "email": "luc@demo-payroll.be"}
    return base | values


def test_the_creation_form_shows_each_refusal_next_to_its_field(console_url: str, demo: dict,
                                                                 services: Services) -> None:
    taken = add_users(services, demo, [("Dubois", "Marc", "active")])[0]
    new = users_url(demo).replace("/users", "/users/new")
    with signed(console_url, demo["gap_niss"]) as client:
        csrf = token(client.get(new))
        cases = [(form(password_confirm="Other-pass-123"), "password", "Les deux mots de passe"),
                 (form(username_confirm="luc.other"), "username", "Les deux noms d'utilisateur"),
                 (form(password="short", password_confirm="short"), "password", "Mot de passe"),
                 (form(username=taken, username_confirm=taken), "username", "déjà utilisé"),
                 (form(niss="12345678901"), "niss", "NISS"),
                 (form(email="not-an-address"), "email", "e-mail"),
                 (form(last_name=""), "last_name", "obligatoire")]
        for data, field, words in cases:
            answer = client.post(new, data=data | {"csrf": csrf})
            assert answer.status_code in (409, 422), (field, answer.status_code)
            assert words in error_of(answer, field), (field, error_of(answer, field))
            assert PASSWORD not in answer.text and "Other-pass-123" not in answer.text, "passwords never echoed"
        assert client.post(new, data=form()).status_code == 403, "no CSRF token, no user"
        created = client.post(new, data=form() | {"csrf": csrf})
        assert created.status_code == 303 and created.headers["location"] == users_url(demo, "username=luc.leroy")
        assert SAVED in html.unescape(client.get(created.headers["location"]).text)
        again = client.post(new, data=form(niss=factories.niss(1970, 1, 1, 5)) | {"csrf": csrf})
        assert "déjà utilisé" in error_of(again, "username")


def test_list_csv_and_bulk_edge_cases(console_url: str, demo: dict, services: Services) -> None:
    names = add_users(services, demo, PEOPLE[:2])
    with signed(console_url, demo["gap_niss"]) as client:
        bad = client.get(users_url(demo, "niss=123"))
        assert bad.status_code == 422 and "NISS" in error_of(bad, "niss")
        assert client.get(users_url(demo, "status=gone")).status_code == 422
        assert client.get(users_url(demo, "page=0")).status_code == 422
        assert client.get(users_url(demo, "niss=123").replace("/users", "/users.csv")).status_code == 422
        assert client.get("/console/domains/999999/users").status_code == 404
        csrf = token(client.get(users_url(demo)))
        url = users_url(demo, "last_name=dub").replace("/users", "/users/bulk")
        none = client.post(url, data={"csrf": csrf, "action": "block"})
        assert none.status_code == 422 and "Cochez au moins un utilisateur." in error_of(none, "users")
        assert "marc.dubois101" in none.text, "the same filtered list, shown again"
        confirm = url.replace("/bulk", "/bulk/confirm")
        same = client.post(confirm, data={"csrf": csrf, "action": "block", "users": [names[1], "nobody"]})
        assert same.status_code == 303 and same.headers["location"] == users_url(demo, "last_name=dub")
        said = client.get(same.headers["location"]).text
        assert "Aucun utilisateur n'a été modifié." in html.unescape(said) and "nobody : inchangé" in said
        wrong = client.post(confirm, data={"csrf": csrf, "action": "add_applications", "users": names,
                                           "applications": "ZZZZ"})
        assert wrong.status_code == 422 and "pas dans le catalogue" in error_of(wrong, "applications")
        assert client.post(confirm, data={"action": "delete", "users": names}).status_code == 403
        with services.db.read() as session:
            assert len(session.scalars(select(User).where(User.username.in_(names))).all()) == 2


def test_a_plain_user_is_refused_every_users_route(console_url: str, demo: dict, services: Services) -> None:
    names = add_users(services, demo, [("Plain", "Paul", "active"), ("Other", "Olga", "active")], start=7)
    with services.db.read() as session:
        plain = session.scalar(select(User.niss).where(User.username == names[0]))
    with signed(console_url, plain) as client:
        assert client.get(users_url(demo)).status_code == 403
        assert client.get(users_url(demo).replace("/users", "/users.csv")).status_code == 403
        assert client.get(users_url(demo).replace("/users", "/users/new")).status_code == 403
        csrf = token(client.get("/console/"))
        confirm = users_url(demo).replace("/users", "/users/bulk/confirm")
        refused = client.post(confirm, data={"csrf": csrf, "action": "delete", "users": names[1]})
        assert refused.status_code == 403 and 'data-code="FORBIDDEN"' in refused.text
        assert client.post(users_url(demo).replace("/users", "/users/new"),
                           data=form() | {"csrf": csrf}).status_code == 403
        assert client.get(edit_url(demo, names[1])).status_code == 403
        edit = client.post(edit_url(demo, names[1]), data={"csrf": csrf, "last_name": "Hacked"})
        assert edit.status_code == 403 and 'data-code="FORBIDDEN"' in edit.text
    with services.db.read() as session:
        assert session.scalar(select(User.last_name).where(User.username == names[1])) == "Other"


def _state(services: Services, username: str, since: int) -> tuple[dict, list[tuple]]:
    """The user row and the audit entries after ``since``, without ids, times and password hashes."""
    def plain(data: dict | None) -> dict | None:
        return {k: v for k, v in data.items() if k != "id"} if data else data

    with services.db.read() as session:
        user = session.scalar(select(User).where(User.username == username))
        row = {c: getattr(user, c) for c in ("niss", "username", "last_name", "first_name", "last_name_key",
                                             "first_name_key", "title", "language", "email", "local_email",
                                             "type", "status")} | {"applications": sorted(
            a.code for a in user.applications)}
        assert services.passwords.verify(user.password_hash, PASSWORD)
        audit = [(r.actor, r.action, re.sub(r"\d+", "#", r.target), r.enterprise_number, plain(r.before),
                  plain(r.after)) for r in session.scalars(select(AuditRecord).where(
                      AuditRecord.id > since).order_by(AuditRecord.id))]
    return row, audit


def _mark(services: Services) -> int:
    with services.db.read() as session:
        return max(session.scalars(select(AuditRecord.id)).all() or [0])


def _forget(services: Services, username: str) -> None:
    with services.db.session() as session:
        session.delete(session.scalar(select(User).where(User.username == username)))


def test_create_and_block_give_the_same_rows_and_audit_through_the_api_and_the_console(
        client, auth, console_url: str, demo: dict, services: Services) -> None:  # type: ignore[no-untyped-def]
    person = {"niss": factories.niss(1991, 4, 5, 77), "username": "same.person", "password": PASSWORD,
              "last_name": "Lejeune", "first_name": "Chloé", "title": "Mme", "language": "nl",
              "email": "chloe@demo-payroll.be", "applications": ["DMFA", "CHTP"]}
    api = f"/api/v1/domains/{demo['domain_id']}/users"
    mark = _mark(services)
    assert client.post(api, headers=auth(demo["gap_niss"]), json=person).status_code == 201
    blocked = client.post(f"{api}/bulk", headers=auth(demo["gap_niss"]) | {"Accept-Language": "fr"},
                          json={"action": "block", "users": ["same.person"]})
    assert blocked.json()["message"] == translate("bulk.block", "fr")
    through_api = _state(services, "same.person", mark)
    _forget(services, "same.person")

    mark = _mark(services)
    with signed(console_url, demo["gap_niss"]) as browser:
        new = users_url(demo).replace("/users", "/users/new")
        csrf = token(browser.get(new))
        fields = {k: v for k, v in person.items() if k != "applications"} | {
            "username_confirm": "same.person", "password_confirm": PASSWORD}
        created = browser.post(new, data=fields | {"csrf": csrf, "applications": person["applications"]})
        assert created.status_code == 303, created.text
        done = browser.post(users_url(demo).replace("/users", "/users/bulk/confirm"),
                            data={"csrf": csrf, "action": "block", "users": "same.person"})
        assert translate("bulk.block", "fr") in browser.get(done.headers["location"]).text
    through_console = _state(services, "same.person", mark)

    assert through_console == through_api
    assert [a[1] for a in through_api[1]] == ["user.created", "user.block"]
    assert through_api[0]["status"] == "blocked" and through_api[0]["applications"] == ["CHTP", "DMFA"]


def edit_url(demo: dict, username: str, query: str = "") -> str:
    return f"/console/domains/{demo['domain_id']}/users/{username}/edit" + (f"?{query}" if query else "")


def test_the_gap_edits_a_users_data_and_sees_them_in_the_list(browser: Console, demo: dict,
                                                              services: Services) -> None:
    names = add_users(services, demo, [("Peeters", "Jan", "active"), ("Wouters", "Lies", "active")])
    browser.sign_in(demo["gap_niss"])
    browser.go(users_url(demo, "last_name=peeters"))
    before = browser.driver.find_element(By.CSS_SELECTOR, f"tr[data-username='{names[0]}']")
    link = before.find_element(By.LINK_TEXT, "Modifier")
    assert link.get_attribute("aria-label") == "Modifier Jan Peeters"
    html_before = browser.driver.find_element(By.TAG_NAME, "html")
    link.click()
    browser._wait_stale(html_before)
    assert browser.heading == "Modification d'un utilisateur"
    assert browser.path == edit_url(demo, names[0], "last_name=peeters")
    assert browser.field("last_name").get_attribute("value") == "Peeters"
    assert browser.field("email").get_attribute("value") == f"{names[0]}@demo-payroll.be"
    assert names[0] in browser.text and "800101" in browser.text and "(jamais)" in browser.text
    browser.fill(last_name="Peeters-Smet", first_name="Jean", title="M.", language="nl",
                 email="jean.peeters@demo-payroll.be", local_email="jp@local.be")
    browser.shot("5-users-edit")
    browser.press("Enregistrer")
    assert notice(browser) == SAVED
    assert browser.path == users_url(demo, "last_name=peeters"), "back to the same filtered list"
    row = browser.driver.find_element(By.CSS_SELECTOR, f"tr[data-username='{names[0]}']").text
    assert "Peeters-Smet" in row and "Jean" in row
    with services.db.read() as session:
        user = session.scalar(select(User).where(User.username == names[0]))
        assert (user.language, user.email, user.local_email, user.title) == (
            "nl", "jean.peeters@demo-payroll.be", "jp@local.be", "M.")
    browser.go(edit_url(demo, names[0]))
    assert browser.field("language").get_attribute("value") == "nl" and "(jamais)" not in browser.text
    browser.fill(local_email="", title="").press("Enregistrer")  # optional fields left empty: cleared
    assert notice(browser) == SAVED and browser.path == users_url(demo)
    with services.db.read() as session:
        user = session.scalar(select(User).where(User.username == names[0]))
        assert (user.local_email, user.title, user.last_name) == (None, "", "Peeters-Smet")
    browser.go(edit_url(demo, names[1])).press("Annuler")
    assert browser.path == users_url(demo) and "Wouters" in browser.text


def test_the_edit_form_shows_each_refusal_next_to_its_field(console_url: str, demo: dict,
                                                            services: Services) -> None:
    name = add_users(services, demo, [("Dubois", "Marc", "active")])[0]
    url = edit_url(demo, name, "last_name=dub&page=1")
    with signed(console_url, demo["gap_niss"]) as client:
        page = client.get(url)
        assert page.status_code == 200 and 'value="Dubois"' in page.text
        csrf = token(page)
        good = {"last_name": "Dubois", "first_name": "Marc", "title": "", "language": "fr",
                "email": f"{name}@demo-payroll.be", "local_email": ""}
        cases = [(good | {"email": "not-an-address"}, "email", "e-mail"),
                 (good | {"local_email": "nope"}, "local_email", "e-mail"),
                 (good | {"last_name": ""}, "last_name", "obligatoire"),
                 (good | {"title": "T" * 21}, "title", "20"),
                 (good | {"language": "xx"}, "language", "valeur non admise")]
        for data, field, words in cases:
            answer = client.post(url, data=data | {"csrf": csrf})
            assert answer.status_code == 422, (field, answer.status_code)
            assert words in error_of(answer, field), (field, error_of(answer, field))
            assert 'action="/console/domains/' in answer.text and "?last_name=dub&amp;page=1" in answer.text
        kept = client.post(url, data=good | {"csrf": csrf, "email": "not-an-address", "first_name": "Marco"})
        assert 'value="Marco"' in kept.text and 'value="not-an-address"' in kept.text, "what was typed stays"
        assert client.post(url, data=good | {"last_name": "X"}).status_code == 403, "no CSRF token, no change"
        sneaky = client.post(url, data=good | {"csrf": csrf, "username": "other.name", "niss": factories.niss()})
        assert sneaky.status_code == 303 and sneaky.headers["location"] == users_url(demo, "last_name=dub&page=1")
        assert SAVED in html.unescape(client.get(sneaky.headers["location"]).text)
        assert client.get(edit_url(demo, "ghost.user")).status_code == 404
        assert client.post(edit_url(demo, "ghost.user"), data=good | {"csrf": csrf}).status_code == 404
    with services.db.read() as session:
        user = session.scalar(select(User).where(User.username == name))
        assert (user.username, user.last_name, user.first_name) == (name, "Dubois", "Marc"), "only edited fields"


def test_an_edit_gives_the_same_row_and_audit_through_the_api_and_the_console(
        client, auth, console_url: str, demo: dict, services: Services) -> None:  # type: ignore[no-untyped-def]
    """The same change once by ``PATCH /api/v1/…/users/{username}`` (only the changed fields) and once by the
    console's form (every field): the same row, the same audit entry."""
    person = [("Lejeune", "Chloé", "active")]
    name = add_users(services, demo, person, start=40)[0]
    change = {"last_name": "Lejeune-Martin", "language": "nl", "email": "chloe.lm@demo-payroll.be",
              "local_email": "chloe@local.be", "title": "Mme"}
    mark = _mark(services)
    api = client.patch(f"/api/v1/domains/{demo['domain_id']}/users/{name}", headers=auth(demo["gap_niss"]),
                       json=change)
    assert api.status_code == 200, api.text
    through_api = _state(services, name, mark)
    _forget(services, name)
    assert add_users(services, demo, person, start=40) == [name]

    mark = _mark(services)
    with signed(console_url, demo["gap_niss"]) as browser:
        url = edit_url(demo, name)
        csrf = token(browser.get(url))
        saved = browser.post(url, data={"first_name": "Chloé"} | change | {"csrf": csrf})
        assert saved.status_code == 303, saved.text
        assert SAVED in html.unescape(browser.get(saved.headers["location"]).text)
    through_console = _state(services, name, mark)

    assert through_console == through_api
    row, audit = through_api
    assert [a[1] for a in audit] == ["user.updated"]
    assert (row["last_name"], row["last_name_key"], row["language"], row["local_email"]) == (
        "Lejeune-Martin", "lejeune-martin", "nl", "chloe@local.be")
    assert audit[0][4]["last_name"] == "Lejeune" and audit[0][5]["last_name"] == "Lejeune-Martin"
