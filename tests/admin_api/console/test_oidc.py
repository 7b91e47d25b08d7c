"""Production sign-in: OpenID Connect code flow with PKCE against a real provider on 127.0.0.1, development issuer
off. A real Chromium goes through it; httpx plays the browser for the refusals (cookies as sent)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from itsdangerous import URLSafeTimedSerializer
from selenium.webdriver.common.by import By

from admin_api.console.web import secret
from admin_api.http import Services
from kernel.settings import Settings
from tests.admin_api.console.browser import Console
from tests.admin_api.console.oidc_provider import TestProvider, s256
from tests.gga.test_http_limits import running

CALLBACK = "/console/oidc/callback"


@pytest.fixture
def provider() -> Iterator[TestProvider]:
    with TestProvider().running() as started:
        yield started


@pytest.fixture
def settings(data_dir: Path, database_url: str, provider: TestProvider) -> Settings:
    """The root fixture's settings with sign-in through the test provider only (no development issuer)."""
    return Settings(data_dir=data_dir, database_url=database_url, dev_issuer=False, argon2_time_cost=1,
                    argon2_memory_cost=1024, argon2_parallelism=1, oidc_issuer=provider.issuer,
                    oidc_client_id=provider.client_id, oidc_name="Test IdP")


@pytest.fixture
def console_url(services: Services, demo: dict, provider: TestProvider) -> Iterator[str]:
    """The console on uvicorn; its callback address exists once it listens, then the provider registers it."""
    provider.claims = {"sub": demo["gap_niss"], "acr": "eid", "name": "Demo GAP"}
    with running(services) as port:
        url = f"http://127.0.0.1:{port}"
        services.settings.public_url = url
        provider.redirect_uris.add(url + CALLBACK)
        yield url


def authorized(client: httpx.Client, next: str = "/console/") -> str:
    """Start at the console, pass the provider (another site: none of the console's cookies): the callback URL."""
    to_provider = client.get("/console/oidc/login", params={"next": next})
    assert to_provider.status_code == 303, to_provider.text
    back = httpx.get(to_provider.headers["location"], timeout=10)
    assert back.status_code == 302
    return back.headers["location"]


def session_of(client: httpx.Client, settings: Settings) -> dict:
    signer = URLSafeTimedSerializer(secret(settings), salt="gga-console-session")
    return signer.loads(client.cookies["gga_session"])


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return parts._replace(query=urlencode(query)).geturl()


def test_a_person_signs_in_through_the_provider_in_chromium(browser: Console, provider: TestProvider,
                                                             demo: dict) -> None:
    browser.go("/console/")
    assert browser.path.startswith("/console/sign-in?next=")
    assert browser.driver.find_elements(By.ID, "dev-sign-in") == [], "development issuer off: no person picker"
    browser.shot("sign-in-oidc")
    browser.press("Se connecter avec Test IdP")
    deadline = time.monotonic() + 15
    while browser.path != "/console/" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert browser.path == "/console/" and browser.heading == "Mes accès"
    assert "Demo Payroll SA (0403.019.261)" in browser.text and "Gestionnaire d'accès principal" in browser.text
    asked = provider.authorizations[0]
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) == 43
    assert asked["redirect_uri"] == browser.base + CALLBACK and asked["scope"] == "openid profile"
    assert asked["nonce"] and asked["state"] and asked["ui_locales"] == "fr"
    assert provider.verifier_checks == [True], "the token request carried the verifier of the S256 challenge"
    cookies = {c["name"]: c for c in browser.driver.get_cookies()}
    assert "gga_oidc" not in cookies, "the login cookie is used once"
    assert cookies["gga_session"]["httpOnly"] and cookies["gga_session"]["sameSite"] == "Lax"


def test_the_sign_in_page_offers_only_the_provider_and_the_dev_form_is_refused(console_url: str, demo: dict,
                                                                                services: Services) -> None:
    with httpx.Client(base_url=console_url, timeout=10) as client:
        page = client.get("/console/sign-in", params={"next": "/console/enterprises/0403019261"})
        assert 'href="/console/oidc/login?next=/console/enterprises/0403019261"' in page.text
        assert "Se connecter avec Test IdP" in page.text and 'id="dev-sign-in"' not in page.text
        token = client.cookies["gga_csrf"]
        posted = client.post("/console/sign-in", data={"csrf": token, "other_niss": demo["gap_niss"], "loa": "eid",
                                                       "roles": "ops"})
        assert posted.status_code == 303 and posted.headers["location"] == "/console/sign-in"
        assert "gga_session" not in client.cookies
        assert client.get("/console/").status_code == 303, "still nobody signed in"


def test_the_login_cookie_is_short_lived_httponly_and_only_for_the_callback(console_url: str,
                                                                            services: Services) -> None:
    with httpx.Client(base_url=console_url, timeout=10) as client:
        answer = client.get("/console/oidc/login", params={"next": "https://evil.example/"})
        header = next(h for h in answer.headers.get_list("set-cookie") if h.startswith("gga_oidc="))
        assert "HttpOnly" in header and "SameSite=lax" in header and "Path=/console/oidc" in header
        assert "Max-Age=600" in header and "Secure" not in header
        pending = URLSafeTimedSerializer(secret(services.settings), salt="gga-console-oidc").loads(
            client.cookies["gga_oidc"])
        assert pending["next"] == "/console/", "next never leaves the console"
        query = parse_qs(urlsplit(answer.headers["location"]).query)
        assert query["code_challenge"] == [s256(pending["verifier"])] and query["state"] == [pending["state"]]
        assert query["nonce"] == [pending["nonce"]] and query["client_id"] == ["gga-console"]


def test_an_intercepted_code_is_useless_without_the_verifier(console_url: str, provider: TestProvider,
                                                             services: Services, demo: dict) -> None:
    with httpx.Client(base_url=console_url, timeout=10) as client:
        stolen = parse_qs(urlsplit(back := authorized(client)).query)["code"][0]
        refused = httpx.post(f"{provider.issuer}/token", timeout=10, data={
            "grant_type": "authorization_code", "code": stolen, "redirect_uri": console_url + CALLBACK,
            "client_id": "gga-console", "code_verifier": "a-guess-that-is-long-enough-to-be-a-verifier-0123"})
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
        assert provider.verifier_checks == [False]
        late = client.get(back)
        assert late.status_code == 400 and 'data-code="signin.oidc_token"' in late.text, "the code was burnt"
        assert "gga_session" not in client.cookies
        without = parse_qs(urlsplit(authorized(client)).query)["code"][0]
        missing = httpx.post(f"{provider.issuer}/token", timeout=10, data={
            "grant_type": "authorization_code", "code": without, "redirect_uri": console_url + CALLBACK,
            "client_id": "gga-console"})
        assert missing.status_code == 400 and provider.verifier_checks == [False, False]
        signed = client.get(authorized(client, next="/console/ops/transfers"))
        assert signed.status_code == 303 and signed.headers["location"] == "/console/ops/transfers"
        assert provider.verifier_checks == [False, False, True]
        session = session_of(client, services.settings)
        assert (session["niss"], session["loa"], session["roles"]) == (demo["gap_niss"], "eid", [])


def test_a_tampered_state_is_refused_and_the_login_cookie_is_used_once(console_url: str,
                                                                      provider: TestProvider) -> None:
    with httpx.Client(base_url=console_url, timeout=10) as client:
        back = authorized(client)
        tampered = client.get(with_query(back, state="forged"))
        assert tampered.status_code == 400 and "ne correspond pas à votre demande" in tampered.text
        assert 'data-code="signin.oidc_state"' in tampered.text
        assert "gga_session" not in client.cookies and "gga_oidc" not in client.cookies
        replayed = client.get(back)
        assert replayed.status_code == 400 and "a expiré ou a été commencée dans un autre navigateur" in replayed.text
        assert provider.verifier_checks == [], "no code was exchanged"
    with httpx.Client(base_url=console_url, timeout=10) as started, \
            httpx.Client(base_url=console_url, timeout=10) as elsewhere:
        other = elsewhere.get(authorized(started))
        assert other.status_code == 400 and 'data-code="signin.oidc_expired"' in other.text, "another browser"


@pytest.mark.parametrize(("change", "expected"), [
    ({"aud": "another-client"}, "signin.oidc_token"),
    ({"nonce": "a-nonce-of-another-sign-in"}, "signin.oidc_token"),
    ({"iss": "http://127.0.0.1:1"}, "signin.oidc_token"),
    ({"exp": 1_000_000}, "signin.oidc_token"),
    ({"sub": "12345678901"}, "signin.oidc_niss"),
    ("other key", "signin.oidc_token"),
    ("access_denied", "signin.oidc_refused"),
])
def test_a_token_that_does_not_check_out_is_the_error_page(console_url: str, provider: TestProvider,
                                                           change: dict | str, expected: str) -> None:
    if change == "other key":
        provider.signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif change == "access_denied":
        provider.refuse = change
    else:
        provider.id_token_changes = change
    with httpx.Client(base_url=console_url, timeout=10, headers={"Accept-Language": "en"}) as client:
        answer = client.get(authorized(client))
        assert answer.status_code == 400 and f'data-code="{expected}"' in answer.text
        assert "gga_session" not in client.cookies
        if expected == "signin.oidc_refused":
            assert "The sign-in was refused or cancelled (access_denied)." in answer.text
        else:
            assert provider.verifier_checks == [True], "the code was exchanged: the ID token itself was refused"


def test_platform_roles_and_level_of_assurance_come_from_the_claims(console_url: str, provider: TestProvider,
                                                                     services: Services, demo: dict) -> None:
    provider.claims |= {"acr": "urn:be:fedict:iam:fas:Level200", "roles": ["ops", "superuser"]}
    with httpx.Client(base_url=console_url, timeout=10) as client:
        assert client.get(authorized(client)).status_code == 303
        session = session_of(client, services.settings)
        assert session["niss"] == demo["gap_niss"] and session["loa"] == "low" and session["roles"] == ["ops"]
        assert "Surveillance : transferts et adresses bloquées" in client.get("/console/").text
    services.settings.oidc_eid_acr = "urn:be:fedict:iam:fas:Level450,urn:be:fedict:iam:fas:Level500"
    provider.claims |= {"acr": "urn:be:fedict:iam:fas:Level500", "roles": "operator"}
    with httpx.Client(base_url=console_url, timeout=10) as client:
        assert client.get(authorized(client)).status_code == 303
        assert session_of(client, services.settings)["loa"] == "eid"
        assert session_of(client, services.settings)["roles"] == ["operator"]


def test_a_confidential_client_authenticates_at_the_token_endpoint(console_url: str, provider: TestProvider,
                                                                   services: Services) -> None:
    provider.client_secret = "s3cret:with/odd=chars"
    with httpx.Client(base_url=console_url, timeout=10) as client:
        refused = client.get(authorized(client))
        assert refused.status_code == 400 and 'data-code="signin.oidc_token"' in refused.text
        services.settings.oidc_client_secret = provider.client_secret
        assert client.get(authorized(client)).status_code == 303 and "gga_session" in client.cookies


def test_an_unreachable_provider_is_the_error_page(console_url: str, services: Services) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    services.settings.oidc_issuer = f"http://127.0.0.1:{closed}"
    with httpx.Client(base_url=console_url, timeout=30) as client:
        answer = client.get("/console/oidc/login")
        assert answer.status_code == 502 and "Le service de connexion ne répond pas" in answer.text
        services.settings.oidc_issuer = None
        assert 'data-code="signin.oidc_off"' in client.get("/console/oidc/login").text
        assert "Se connecter avec" not in client.get("/console/sign-in").text
