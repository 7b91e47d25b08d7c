"""Odd input a signed-in person (or anyone, on the public forms) can send answers a page, never a 500."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from admin_api.console.web import CSRF_COOKIE


@pytest.fixture
def gap(console_url: str, demo: dict) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=console_url, timeout=20) as client:
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/console/sign-in").text).group(1)
        client.post("/console/sign-in", data={"csrf": token, "other_niss": demo["gap_niss"], "loa": "eid",
                                              "roles": ["operator", "ops"]})
        yield client


@pytest.mark.parametrize("path", [
    "/console/domains/99999999999999999999", "/console/domains/99999999999999999999/local-manager/new",
    "/console/registrations/queue?page=99999999999999999999", "/console/registrations/queue?page=0",
    "/console/ops/transfers?until=31/12/9999", "/console/ops/transfers?since=01/01/0001"])
def test_huge_ids_and_pages_are_refused_with_a_page(gap: httpx.Client, path: str) -> None:
    answer = gap.get(path)
    assert answer.status_code == 422 and "<h1>" in answer.text


def test_a_field_named_like_a_group_of_fields_is_not_a_500(console_url: str, demo: dict) -> None:
    with httpx.Client(base_url=console_url, timeout=20) as client:
        client.get("/console/registrations/new/exceptional")
        answer = client.post("/console/registrations/new/exceptional", data={
            "csrf": client.cookies[CSRF_COOKIE], "contact": "x", "contact.email": "y"})
        assert answer.status_code == 422, answer.status_code


def test_a_token_of_one_wizard_is_refused_by_another(gap: httpx.Client, demo: dict) -> None:
    """The sealed request of an added channel posted to the sender wizard's Back/Confirm: « expired », not a 500."""
    page = gap.get(f"/console/domains/{demo['domain_id']}/sender")
    csrf = gap.cookies[CSRF_COOKIE]
    assert page.status_code == 200
    for step in ("back", "confirm", "channels/back", "channels/confirm"):
        answer = gap.post(f"/console/domains/{demo['domain_id']}/sender/{step}",
                          data={"csrf": csrf, "pending": "gAAAAABbogus"})
        assert answer.status_code in (200, 422) and "expir" in answer.text.lower(), (step, answer.status_code)


def test_a_sealed_request_is_confirmed_only_for_its_kind_domain_and_person(gap: httpx.Client, demo: dict,
                                                                          services) -> None:  # type: ignore[no-untyped-def]
    from admin_api.console.senders import seal
    from admin_api.sender.schemas import ChannelIn

    channel = ChannelIn(type="WS", certificate="not read before the confirmation")
    domain = demo["domain_id"]
    wrong = {"confirm": seal(services.settings, channel, domain, demo["gap_niss"]),  # another kind
             "channels/confirm": seal(services.settings, channel, domain + 1, demo["gap_niss"]),  # another domain
             "channels/back": seal(services.settings, channel, domain, "85073003427")}  # another person
    for step, token in wrong.items():
        answer = gap.post(f"/console/domains/{domain}/sender/{step}", data={"csrf": gap.cookies[CSRF_COOKIE],
                                                                     "pending": token})
        assert answer.status_code in (200, 422) and "expir" in answer.text.lower(), (step, answer.status_code)


def test_a_nul_character_in_a_filter_is_not_a_500(gap: httpx.Client, client, auth, demo: dict) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL refuses NUL in text: 422 with its own sentence on both faces (SQLite just finds nothing)."""
    console = gap.get("/console/ops/transfers", params={"file_name": "a\x00b"})
    api = client.get(f"/api/v1/domains/{demo['domain_id']}/users", params={"last_name": "a\x00b"},
                     headers=auth(demo["gap_niss"]))
    for answer in (console, api):
        assert answer.status_code in (200, 422), answer.status_code
    if services_on_postgres(client):
        assert console.status_code == api.status_code == 422
        assert "caractère nul" in console.text and api.json()["error"]["code"] == "VALIDATION_ERROR"


def services_on_postgres(client) -> bool:  # type: ignore[no-untyped-def]
    return client.app.state.services.db.url.startswith("postgresql")
