"""Signing in and out, the language switch and CSRF, in a real Chromium and with httpx (cookies as sent)."""

from __future__ import annotations

import re
from urllib.parse import unquote

import httpx

from tests.admin_api.console.browser import Console


def test_the_demo_gap_signs_in_sees_their_enterprise_and_signs_out(browser: Console, demo: dict) -> None:
    browser.go("/console/")
    assert browser.path.startswith("/console/sign-in"), "a page that needs a person sends to the sign-in first"
    browser.sign_in(demo["gap_niss"])
    assert browser.heading == "Mes accès"
    assert "Demo Payroll SA (0403.019.261)" in browser.text
    assert "Gestionnaire d'accès principal" in browser.text
    browser.shot("home")
    browser.press("Se déconnecter")
    assert browser.path.startswith("/console/sign-in")
    browser.go("/console/")
    assert browser.path.startswith("/console/sign-in"), "signed out: the session cookie is gone"


def test_the_language_switch_shows_the_same_page_in_dutch_then_english(browser: Console, demo: dict) -> None:
    browser.sign_in(demo["gap_niss"])
    browser.press("NL")
    assert browser.heading == "Mijn toegangen"
    assert "Hoofdtoegangsbeheerder" in browser.text
    assert browser.driver.find_element("tag name", "html").get_attribute("lang") == "nl"
    browser.go("/console/")
    assert browser.heading == "Mijn toegangen", "the choice stays for the next pages"
    browser.press("EN")
    assert browser.heading == "My access"


def test_a_form_posted_without_its_csrf_token_is_refused(console_url: str, demo: dict) -> None:
    with httpx.Client(base_url=console_url, timeout=10) as client:
        page = client.get("/console/sign-in")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        form = {"other_niss": demo["gap_niss"], "loa": "eid", "next": "/console/"}
        refused = client.post("/console/sign-in", data=form)
        assert refused.status_code == 403 and "Ce formulaire a expiré" in refused.text
        forged = client.post("/console/sign-in", data=form | {"csrf": token + "x"})
        assert forged.status_code == 403 and "gga_session" not in forged.cookies
        signed = client.post("/console/sign-in", data=form | {"csrf": token})
        assert signed.status_code == 303 and signed.headers["location"] == "/console/"


def test_session_cookie_is_httponly_samesite_and_signed(console_url: str, demo: dict) -> None:
    with httpx.Client(base_url=console_url, timeout=10) as client:
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/console/sign-in").text).group(1)
        signed = client.post("/console/sign-in", data={"csrf": token, "other_niss": demo["gap_niss"], "loa": "eid"})
        header = next(h for h in signed.headers.get_list("set-cookie") if h.startswith("gga_session="))
        assert "HttpOnly" in header and "SameSite=lax" in header and "Path=/console" in header
        assert "Secure" not in header, "plain http on loopback: Secure would lose the cookie"
        assert client.get("/console/").status_code == 200
        client.cookies.set("gga_session", client.cookies["gga_session"][:-2] + "AA", path="/console")
        assert client.get("/console/").status_code == 303, "a tampered session is no session"


def test_sign_in_refuses_an_invalid_niss_next_to_the_field(browser: Console, demo: dict) -> None:
    browser.go("/console/sign-in").fill(other_niss="12345678901")
    browser.press("Se connecter")
    error = browser.driver.find_element("id", "f-other_niss-error")
    assert error.text == "Ce NISS n'est pas valide."
    assert browser.field("other_niss").get_attribute("aria-invalid") == "true"


def test_next_never_leaves_the_console(console_url: str, demo: dict) -> None:
    with httpx.Client(base_url=console_url, timeout=10) as client:
        for target in ("https://evil.example/", "//evil.example/", "/api/v1/enterprises"):
            # signing in renews the token: each form is read from its page
            token = re.search(r'name="csrf" value="([^"]+)"', client.get("/console/sign-in").text).group(1)
            answer = client.post("/console/sign-in", data={"csrf": token, "other_niss": demo["gap_niss"],
                                                           "next": target})
            assert answer.headers["location"] == "/console/"
        assert client.get("/console/language/nl", params={"next": "//evil.example"}).headers["location"] == \
            "/console/"


def test_after_a_post_the_language_switch_returns_to_the_form_page(console_url: str, demo: dict) -> None:
    with httpx.Client(base_url=console_url, timeout=10) as client:
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/console/sign-in").text).group(1)
        page = client.post("/console/sign-in", data={"csrf": token, "other_niss": "12345678901"},
                           headers={"referer": f"{console_url}/console/sign-in?next=/console/"})
        assert page.status_code == 422
        link = re.search(r'href="/console/language/nl\?next=([^"]+)"', page.text).group(1)
        assert unquote(link) == "/console/sign-in?next=/console/", "a GET of the form's page, not the POST's"
        assert client.get(f"/console/language/nl?next={link}").headers["location"] == unquote(link)


def test_the_language_switch_keeps_every_filter_and_the_page(console_url: str, demo: dict) -> None:
    with httpx.Client(base_url=console_url, timeout=10) as client:
        page = client.get("/console/sign-in", params={"next": "/console/domains/1/users?last_name=a&page=2"})
        link = re.search(r'href="/console/language/en\?next=([^"]+)"', page.text).group(1)
        back = client.get(f"/console/language/en?next={link}").headers["location"]
        assert back == f"/console/sign-in?{page.request.url.query.decode()}", "the same page, with its whole query"
        assert unquote(back) == "/console/sign-in?next=/console/domains/1/users?last_name=a&page=2"
