"""The ops screens: the transfer log of real SFTP submissions (filters, pages, Brussels times), a submission's
detail (files, ticket, ACRF and its error codes, steps), and the defender's bans lifted with a confirmation; in a
real Chromium, and their edges with httpx."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from selenium.webdriver.common.by import By
from sqlalchemy import select

from admin_api.console.formats import BRUSSELS, when
from admin_api.http import Services
from gga.wiring import http_app
from store.database import Database
from store.models import AuditRecord, DefenderAddress, ReceivedFile, TransferEvent
from store.models import Submission as SubmissionRow
from tests import factories
from tests.admin_api.console.browser import Console
from tests.gateway.harness import GatewayHarness, SenderKit, build, put, seed_sender, wait_submission

OPS_NISS = factories.niss(1955, 5, 5, 5)
BAD_TOKEN = {"Authorization": "Bearer not-a-token"}


@dataclass
class Traffic:
    kit: SenderKit
    accepted: SubmissionRow
    rejected: SubmissionRow


@pytest.fixture
def traffic(services: Services, db: Database, demo: dict, tmp_path: Path) -> Iterator[Traffic]:
    """A sender that sent, over SFTP to the running gateway, one good submission and one signed with a
    certificate the gateway does not know (rejected), each answered by its ACRF."""
    kit = seed_sender(db, services, tmp_path)
    harness = GatewayHarness(services).start()
    try:
        good, bad = build(kit, seq="00001"), build(kit, seq="00002", signer=kit.stranger)
        assert put(harness.port, kit, good) == [] and put(harness.port, kit, bad) == []
        accepted, rejected = wait_submission(db, good.go), wait_submission(db, bad.go)
    finally:
        harness.stop()
    assert (accepted.status, rejected.status) == ("accepted", "rejected")
    yield Traffic(kit, accepted, rejected)


def ban(services: Services, address: str) -> None:
    """Failed logins from ``address`` on the admin API until the defender bans it (test_defender_api's way)."""
    attacker = TestClient(http_app(services, None), raise_server_exceptions=False, client=(address, 40000))
    for _ in range(services.settings.defender_max_failures):
        assert attacker.get("/api/v1/transfers", headers=BAD_TOKEN).status_code == 401
    with services.db.read() as session:
        assert session.get(DefenderAddress, address).banned_until is not None


@contextmanager
def signed_client(console_url: str, niss: str, roles: tuple[str, ...] = ()) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=console_url, timeout=15) as client:
        token = csrf_of(client.get("/console/sign-in").text)
        signed = client.post("/console/sign-in", data={"csrf": token, "other_niss": niss, "loa": "eid",
                                                       "roles": list(roles)})
        assert signed.status_code == 303, signed.text
        yield client


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def row_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-id="(\d+)"', html)]


def test_ops_filter_the_log_and_open_a_rejected_submission(browser: Console, traffic: Traffic, db: Database) -> None:
    kit, rejected = traffic.kit, traffic.rejected
    browser.sign_in(OPS_NISS, roles=("ops",))
    browser.press("Journal des transferts")
    assert browser.heading == "Journal des transferts"
    browser.fill(sender=kit.number)
    browser.press("Rechercher")
    assert f"sender={kit.number}" in browser.path
    rows = browser.driver.find_elements(By.CSS_SELECTOR, "table.log tbody tr")
    with db.read() as session:
        mine = session.scalars(select(TransferEvent).where(TransferEvent.sender_number == kit.number)
                               .order_by(TransferEvent.id.desc())).all()
    assert [int(r.get_attribute("data-id")) for r in rows] == [e.id for e in mine], "newest first, all of them"
    assert len(rows) >= 8, "two submissions: logins, parts, signatures, GOs, decisions and ACRFs"
    first = rows[0].find_elements(By.TAG_NAME, "td")[0].text
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", first) and first == when(mine[0].at), "Brussels time"
    assert "Décision" in browser.text and "Dépôt" in browser.text and "Rejeté" in browser.text
    browser.shot("ops-transfers")

    browser.fill(event="submission", result="rejected")
    browser.press("Rechercher")
    (only,) = browser.driver.find_elements(By.CSS_SELECTOR, "table.log tbody tr")
    assert rejected.go_name in only.text and "Page 1 sur 1 (1 résultats)" in browser.text
    only.find_element(By.LINK_TEXT, "Détail").click()
    browser.driver.find_element(By.ID, "submission-title")  # the next page is there
    assert browser.heading.startswith("Ligne ")
    assert f"Soumission {rejected.ticket}" in browser.text
    with db.read() as session:
        files = session.scalars(select(ReceivedFile.name).where(ReceivedFile.submission_id == rejected.id)).all()
    assert len(files) == 3 and all(name in browser.text for name in files), "FI, FS and GO"
    assert rejected.acrf_name and rejected.acrf_name in browser.text
    codes = [e["code"] for e in rejected.errors]
    acrf_ids = [e["error_id"] for e in rejected.errors]
    findings = browser.driver.find_elements(By.CSS_SELECTOR, "table.findings tbody tr")
    assert [f.find_elements(By.TAG_NAME, "td")[1].text for f in findings] == codes and codes
    assert acrf_ids[0] in findings[0].text
    assert "Rejetée" in browser.text and "'error_id'" not in browser.text, "the findings worded, not raw"
    steps = browser.driver.find_elements(By.CSS_SELECTOR, "table.steps tbody tr")
    assert {"Dépôt", "Décision", "Livraison"} <= {s.find_elements(By.TAG_NAME, "td")[1].text for s in steps}
    browser.shot("ops-submission")

    browser.press("NL")
    assert f"Indiening {rejected.ticket}" in browser.text and "Fouten van de ACRF" in browser.text
    browser.press("Terug naar het overdrachtslogboek")
    assert browser.heading == "Overdrachtslogboek"


def test_a_submission_page_by_ticket_and_an_accepted_one_without_errors(console_url: str, traffic: Traffic) -> None:
    accepted = traffic.accepted
    with signed_client(console_url, OPS_NISS, ("ops",)) as client:
        page = client.get(f"/console/ops/submissions/{accepted.ticket}")
        assert page.status_code == 200
        assert "Aucune erreur : la soumission a été acceptée." in page.text and accepted.acrf_name in page.text
        log = client.get("/console/ops/transfers", params={"ticket": accepted.ticket})
        assert set(row_ids(page.text)) == set(row_ids(log.text)) and len(row_ids(log.text)) >= 4
        upload = client.get("/console/ops/transfers", params={"file_name": accepted.go_name, "event": "upload"})
        (upload_id,) = row_ids(upload.text)
        upload_page = client.get(f"/console/ops/transfers/{upload_id}").text
        assert f"Soumission {accepted.ticket}" in upload_page, "the GO's upload leads to the submission it closed"
        assert 'id="submission-link">Lien établi par le fichier reçu de cet expéditeur portant ce nom et cette ' \
               "empreinte SHA-256" in upload_page, "the page says how the line was tied to it"
        decision = row_ids(client.get("/console/ops/transfers", params={"ticket": accepted.ticket,
                                                                        "event": "submission"}).text)[0]
        decision_page = client.get(f"/console/ops/transfers/{decision}").text
        assert f"Soumission {accepted.ticket}" in decision_page and 'id="submission-link"' not in decision_page, \
            "the decision names its ticket: nothing to explain"
        login = row_ids(client.get("/console/ops/transfers", params={"event": "login"}).text)[0]
        assert "Cette ligne ne se rapporte à aucune soumission." in client.get(f"/console/ops/transfers/{login}").text
        assert client.get("/console/ops/submissions/NOSUCHTICKET").status_code == 404
        assert client.get("/console/ops/transfers/2147483647").status_code == 404
        assert client.get("/console/ops/transfers/0").status_code == 422


def test_bad_filters_are_said_next_to_their_fields(console_url: str, demo: dict) -> None:
    with signed_client(console_url, OPS_NISS, ("ops",)) as client:
        page = client.get("/console/ops/transfers", params={"sender": "12ab", "since": "31/02/2026",
                                                             "application": "DMFAX", "until": "01/01/2026"})
        assert page.status_code == 422
        assert 'id="f-sender-error">Le numéro d&#39;expéditeur compte 6 chiffres.' in page.text
        assert 'id="f-since-error">Écrivez une date jj/mm/aaaa' in page.text
        assert 'id="f-application-error">Le code d&#39;application compte 4 lettres' in page.text
        assert 'aria-invalid="true"' in page.text and 'value="12ab"' in page.text, "the typed value stays"
        assert "<table" not in page.text, "no rows for a wrong filter"
        backwards = client.get("/console/ops/transfers", params={"since": "02/01/2026", "until": "01/01/2026"})
        assert backwards.status_code == 422 and 'id="f-until-error">La fin de la période précède' in backwards.text
        client.cookies.set("gga_lang", "en", path="/console")
        english = client.get("/console/ops/transfers", params={"sender": "1"})
        assert 'id="f-sender-error">A sender number has 6 digits.' in english.text


def test_pages_keep_the_filters_and_the_period_is_in_brussels_days(console_url: str, db: Database) -> None:
    day = (datetime.now(BRUSSELS) - timedelta(days=3)).replace(hour=0, minute=0, second=30, microsecond=0)
    with db.session() as session:  # 30 lines in that Brussels day's first minute (23:00 the day before in UTC)
        session.add_all([TransferEvent(event="login", result="refused", protocol="SFTP", technical_user="EXPmany",
                                       at=(day + timedelta(seconds=i)).astimezone(UTC)) for i in range(30)])
        session.add(TransferEvent(event="login", result="refused", protocol="SFTP", technical_user="EXPmany",
                                  at=(day - timedelta(minutes=1)).astimezone(UTC)))
    shown, before = day.strftime("%d/%m/%Y"), (day - timedelta(days=1)).strftime("%d/%m/%Y")
    with signed_client(console_url, OPS_NISS, ("ops",)) as client:
        first = client.get("/console/ops/transfers", params={"technical_user": "EXPmany", "since": shown,
                                                             "until": shown})
        assert len(row_ids(first.text)) == 25 and "Page 1 sur 2 (30 résultats)" in first.text
        assert f"<td>{shown} 00:00</td>" in first.text, "Brussels time, not UTC"
        following = re.search(r'rel="next" href="([^"]+)"', first.text).group(1).replace("&amp;", "&")
        assert "technical_user=EXPmany" in following and "page=2" in following
        second = client.get(following)
        assert len(row_ids(second.text)) == 5 and not set(row_ids(second.text)) & set(row_ids(first.text))
        everything = client.get("/console/ops/transfers", params={"technical_user": "EXPmany"})
        assert "(31 résultats)" in everything.text
        old = client.get("/console/ops/transfers", params={"technical_user": "EXPmany", "until": before})
        assert "(1 résultats)" in old.text and f"<td>{before} 23:59</td>" in old.text
        beyond = client.get("/console/ops/transfers", params={"technical_user": "EXPmany", "page": "0"})
        assert beyond.status_code == 422 and "Cette page n&#39;existe pas." in beyond.text


def test_ops_see_a_banned_address_and_lift_the_ban(browser: Console, services: Services, demo: dict) -> None:
    ban(services, "203.0.113.7")
    browser.sign_in(OPS_NISS, roles=("ops",))
    browser.press("Adresses bloquées")
    (row,) = browser.driver.find_elements(By.CSS_SELECTOR, "table.bans tbody tr")
    assert "203.0.113.7" in row.text and re.search(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", row.text)
    browser.press("Débloquer")
    assert browser.heading == "Débloquer l'adresse 203.0.113.7 ?"
    browser.press("Annuler")
    assert browser.path == "/console/ops/bans" and "203.0.113.7" in browser.text, "cancelled: still banned"
    browser.press("Débloquer").press("Débloquer")
    assert browser.path == "/console/ops/bans"
    assert "L'adresse 203.0.113.7 a bien été débloquée." in browser.text
    assert "Aucune adresse n'est bloquée." in browser.text
    with services.db.read() as session:
        assert session.get(DefenderAddress, "203.0.113.7") is None, "the ban and its failures are gone"
    browser.press("NL")
    assert browser.heading == "Geblokkeerde adressen" and "Er is geen enkel adres geblokkeerd." in browser.text
    browser.press("Blokkeringen in het overdrachtslogboek")
    assert browser.heading == "Overdrachtslogboek" and "Blokkering van adres" in browser.text


def test_lifting_needs_csrf_a_ban_and_the_ops_role(console_url: str, services: Services, demo: dict) -> None:
    ban(services, "2001:db8::7")
    with signed_client(console_url, OPS_NISS, ("ops",)) as client:
        confirm = client.get("/console/ops/bans/lift", params={"address": "2001:db8::7"})
        token = csrf_of(confirm.text)
        assert client.post("/console/ops/bans/lift", data={"address": "2001:db8::7"}).status_code == 403
        unknown = client.post("/console/ops/bans/lift", data={"csrf": token, "address": "198.51.100.9"})
        assert unknown.status_code == 404 and "2001:db8::7" in unknown.text, "the list is shown again"
        invalid = client.post("/console/ops/bans/lift", data={"csrf": token, "address": "not-an-address"})
        assert invalid.status_code == 422
        not_banned = client.get("/console/ops/bans/lift", params={"address": "198.51.100.9"})
        assert "L&#39;adresse 198.51.100.9 n&#39;est pas bloquée." in not_banned.text
        assert 'action="/console/ops/bans/lift"' not in not_banned.text
    with signed_client(console_url, demo["gap_niss"]) as gap:
        token = csrf_of(gap.get("/console/").text)
        refused = gap.post("/console/ops/bans/lift", data={"csrf": token, "address": "2001:db8::7"})
        assert refused.status_code == 403 and 'data-code="FORBIDDEN"' in refused.text
        for path in ("/console/ops/bans", "/console/ops/transfers", "/console/ops/bans/lift?address=2001:db8::7"):
            assert gap.get(path).status_code == 403, path
    with services.db.read() as session:
        assert session.get(DefenderAddress, "2001:db8::7").banned_until is not None, "nothing lifted it"


def test_the_demo_gap_without_the_ops_role_gets_the_403_page(browser: Console, traffic: Traffic,
                                                              demo: dict) -> None:
    browser.sign_in(demo["gap_niss"])
    assert "Journal des transferts" not in browser.text, "no link to the ops screens"
    browser.go("/console/ops/transfers")
    assert browser.heading == "Erreur"
    error = browser.driver.find_element(By.CSS_SELECTOR, "p.error")
    assert error.get_attribute("data-code") == "FORBIDDEN" and traffic.kit.number not in browser.text
    browser.go(f"/console/ops/submissions/{traffic.rejected.ticket}")
    assert browser.heading == "Erreur" and traffic.rejected.ticket not in browser.text


def _audit(db: Database) -> list[tuple[str, str, str | None, object, object]]:
    with db.read() as session:
        return [(r.actor, r.action, r.target, r.before, r.after)
                for r in session.scalars(select(AuditRecord).order_by(AuditRecord.id))]


def _defender(db: Database) -> dict[str, bool]:
    with db.read() as session:
        return {r.address: r.banned_until is not None for r in session.scalars(select(DefenderAddress))}


def test_api_and_console_lift_a_ban_and_list_the_log_alike(console_url: str, services: Services, client: TestClient,
                                                           auth, traffic: Traffic) -> None:  # type: ignore[no-untyped-def]
    ban(services, "203.0.113.1")
    ban(services, "203.0.113.2")
    ops_api = auth(OPS_NISS, roles=["ops"])
    db = services.db
    audit_before, rows_before = _audit(db), _defender(db)
    assert rows_before == {"203.0.113.1": True, "203.0.113.2": True}

    assert client.delete("/api/v1/defender/bans/203.0.113.1", headers=ops_api).status_code == 204
    by_api = _audit(db)[len(audit_before):], _defender(db)
    with signed_client(console_url, OPS_NISS, ("ops",)) as console:
        token = csrf_of(console.get("/console/ops/bans").text)
        assert console.post("/console/ops/bans/lift", data={"csrf": token, "address": "203.0.113.2"}).status_code \
            == 303
        by_console = _audit(db)[len(audit_before) + len(by_api[0]):], _defender(db)
        assert by_api[1] == {"203.0.113.2": True} and by_console[1] == {}, "each lifted its own address's row"
        api_entries = [(a, act, target.replace("203.0.113.1", "203.0.113.2"), b, af)
                       for a, act, target, b, af in by_api[0]]
        assert api_entries == \
            by_console[0] == [(OPS_NISS, "defender.lift", "address:203.0.113.2", None, None)], \
            "the same audit entry, each for its own address"

        for params in ({"sender": traffic.kit.number}, {"sender": traffic.kit.number, "event": "submission"},
                       {"ticket": traffic.rejected.ticket}, {"event": "ban", "result": "ok"}):
            api = client.get("/api/v1/transfers", params=params | {"page_size": 25}, headers=ops_api).json()
            page = console.get("/console/ops/transfers", params=params)
            assert row_ids(page.text) == [e["id"] for e in api["items"]] and api["items"], params
            assert f"({api['total']} résultats)" in page.text


def test_the_submission_page_shows_what_the_api_answers(console_url: str, client: TestClient, auth,
                                                        traffic: Traffic) -> None:  # type: ignore[no-untyped-def]
    """GET /api/v1/submissions/{ticket} and the console's page call one service: the same facts, ACRF, errors
    (code, ACRF number, sentence), files and log lines."""
    ticket = traffic.rejected.ticket
    api = client.get(f"/api/v1/submissions/{ticket}", headers=auth(OPS_NISS, roles=["ops"])).json()
    with signed_client(console_url, OPS_NISS, ("ops",)) as console:
        page = console.get(f"/console/ops/submissions/{ticket}")
    assert page.status_code == 200
    facts = api["submission"]
    assert f"<code>{facts['ticket']}</code>" in page.text and f'data-status="{facts["status"]}"' in page.text
    assert f"<code>{api['acrf']}</code>" in page.text and f"<code>{facts['go']}</code>" in page.text
    shown = re.findall(r"<tr><td><code>([^<]+)</code></td><td><code>([^<]+)</code></td>", page.text)
    assert shown == [(e["error_id"], e["code"]) for e in api["errors"]] and shown
    assert all(str(escape(e["message"])) in page.text for e in api["errors"]), "the same sentence, in French"
    files = re.findall(r'<tr><td class="file"><code>([^<]+)</code>', page.text)
    assert files == [f["name"] for f in api["files"]] and len(files) == 3
    assert row_ids(page.text) == [line["id"] for line in api["log"]] and api["log"]
