"""Every console route either is one of the few public pages (sign-in, the exceptional procedure, a request's status)
or sends an anonymous visitor to the sign-in page, and refuses a POST without its CSRF token: found by walking the
console's routes, so a route added tomorrow is checked with no change here."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.routing import APIRoute

from admin_api.console.app import create_console

PUBLIC = {  # pages the guide lets anyone open, signed in or not
    ("GET", "/sign-in"), ("POST", "/sign-in"), ("POST", "/sign-out"), ("GET", "/language/{code}"),
    ("GET", "/oidc/login"), ("GET", "/oidc/callback"), ("GET", "/registrations/new"),
    ("GET", "/registrations/new/exceptional"), ("POST", "/registrations/new/exceptional"),
    ("GET", "/registrations/status"), ("GET", "/registrations/{ticket}/requested"),
    ("GET", "/registrations/{ticket}/document"),
}
SAMPLES = {"code": "nl", "ticket": "T000000000000", "number": "0403019261", "niss": "85073003328", "domain_id": "1",
           "channel_type": "SFTP", "transfer_id": "1", "username": "ursula.user"}


def _routes(services) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    console = create_console(services)
    found = []
    for included in console.routes:
        for route in getattr(included, "original_router", None).routes if hasattr(included, "original_router") \
                else []:
            if isinstance(route, APIRoute):
                found += [(method, route.path) for method in sorted(route.methods)]
    return found


def _url(path: str) -> str:
    return "/console" + re.sub(r"\{(\w+)\}", lambda m: SAMPLES[m.group(1)], path)


def test_the_walk_finds_the_console_routes(services) -> None:  # type: ignore[no-untyped-def]
    routes = _routes(services)
    assert len(routes) > 40 and ("GET", "/domains/{domain_id}/users") in routes
    assert set(routes) >= PUBLIC, "a public page listed here no longer exists"


def test_every_private_route_sends_an_anonymous_visitor_to_sign_in(console_url: str, services) -> None:  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=console_url, timeout=10) as client:
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/console/sign-in").text).group(1)
        private = [(m, p) for m, p in _routes(services) if (m, p) not in PUBLIC]
        for method, path in private:
            answer = client.request(method, _url(path), data={"csrf": token} if method == "POST" else None)
            assert answer.status_code == 303 and answer.headers["location"].startswith("/console/sign-in"), \
                (method, path, answer.status_code)


@pytest.mark.parametrize("signed", [False, True])
def test_every_post_without_its_csrf_token_is_refused(console_url: str, services, demo: dict,  # type: ignore[no-untyped-def]
                                                      signed: bool) -> None:
    with httpx.Client(base_url=console_url, timeout=10) as client:
        if signed:
            token = re.search(r'name="csrf" value="([^"]+)"', client.get("/console/sign-in").text).group(1)
            client.post("/console/sign-in", data={"csrf": token, "other_niss": demo["gap_niss"], "loa": "eid"})
        for method, path in _routes(services):
            if method == "POST":
                answer = client.post(_url(path), data={"anything": "x"})
                assert answer.status_code == 403 and "CSRF_REFUSED" in answer.text, (path, answer.status_code)
