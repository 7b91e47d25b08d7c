"""Guide VI in the console: the sender wizard with its certificate confirmation screen, the sender's page (block,
unblock, applications per channel, preferred channels, removing a channel), in a real Chromium and with TestClient;
the console and /api/v1 make the same rows and audit entries."""

from __future__ import annotations

import html
import re
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from fastapi.testclient import TestClient
from selenium.webdriver.common.by import By
from sqlalchemy import select

from admin_api.console import formats
from admin_api.http import Services
from store.models import AuditRecord, Sender
from tests.admin_api import senders as s
from tests.admin_api.console.browser import Console
from tests.factories import niss
from tests.keys import pki

ENTERPRISE = "0403019261"
PASSWORD = "Batch-Sender-2026"
CONTACT = {"last_name": "Peeters", "first_name": "Els", "title": "Mme", "function": "Payroll", "language": "nl",
           "phone": "+32 2 555 12 34", "email1": "els.peeters@demo-payroll.be"}


def _new_domain(client: TestClient, auth, demo: dict, identifier: str = "7654321-01") -> int:  # type: ignore[no-untyped-def]
    """Another "Employeur ONSS" domain of the demo enterprise, made as the API makes it, with no sender."""
    made = client.post(f"/api/v1/enterprises/{ENTERPRISE}/domains", headers=auth(demo["gap_niss"]),
                       json={"name": "Employeur ONSS", "identifier": identifier})
    assert made.status_code == 201, made.text
    return made.json()["id"]


def _material(folder: Path) -> tuple[object, Path, Path, str]:
    """A real signing certificate (issued by a test CA) and a real ed25519 SSH key, as files a person uploads."""
    cert = pki.sender("Els Peeters batch signing", organization="Demo Payroll SA", issuer=pki.ca("Demo Test CA"))
    cert_file = folder / "signing.cer"
    cert_file.write_bytes(cert.cert_pem())
    public = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    key_file = folder / "id_ed25519.pub"
    key_file.write_text(public + " els@demo\n")
    return cert, cert_file, key_file, public


def _upload(browser: Console, name: str, path: Path) -> None:
    browser.driver.find_element(By.NAME, name).send_keys(str(path))


def _error(browser: Console, field_id: str) -> str:
    return browser.driver.find_element(By.ID, f"f-{field_id}-error").text


def test_the_gap_creates_a_sender_through_the_wizard_sees_the_certificate_then_blocks_it(
        browser: Console, client: TestClient, auth, demo: dict, services: Services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    domain = _new_domain(client, auth, demo)
    cert, cert_file, key_file, public = _material(tmp_path)
    garbage = tmp_path / "not-a-cert.cer"
    garbage.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    browser.sign_in(demo["gap_niss"])
    browser.go(f"/console/domains/{domain}/sender")
    assert browser.heading == "Création d'un utilisateur technique"
    assert "Il n'y a pas d'expéditeur actif pour cette qualité." in browser.text
    assert "0403.019.261" in browser.text and "7654321-01" in browser.text
    browser.fill(**CONTACT, technical_user="EXPels001", technical_user_confirm="EXPels001", password=PASSWORD,
                 password_confirm=PASSWORD)
    browser.check("channels", "FTP").check("channels", "SFTP")
    _upload(browser, "FTP.certificate_file", garbage)
    browser.check("FTP.applications", "PUBL").check("FTP.applications", "DMFA").check("SFTP.applications", "DMFA")
    browser.fill(**{"SFTP.certificate": cert.cert_pem().decode(), "preferred.DMFA": "SFTP"})
    _upload(browser, "SFTP.ssh_key_file", key_file)
    browser.press("Suivant")

    assert _error(browser, "FTP-certificate") == "Le certificat n'est pas un certificat X.509 lisible."
    assert browser.field("FTP.certificate").get_attribute("aria-invalid") == "true"
    assert browser.field("last_name").get_attribute("value") == "Peeters", "what was typed stays"
    assert browser.field("SFTP.ssh_public_key").get_attribute("value").startswith(public), "the key file is kept"
    browser.fill(password=PASSWORD, password_confirm=PASSWORD, **{"FTP.certificate": ""})
    _upload(browser, "FTP.certificate_file", cert_file)
    browser.press("Suivant")

    assert browser.heading == "Confirmation"
    text = browser.text
    serial = cert.certificate.serial_number
    for shown in ("Propriétaire du certificat\nEls Peeters batch signing", "Nom de l'entreprise\nDemo Payroll SA",
                  "Fournisseur du certificat\nDemo Test CA",
                  f"Date d'expiration du certificat\n{formats.when(cert.certificate.not_valid_after_utc, False)}",
                  f"Numéro de série (format décimal)\n{serial}",
                  "Type de connexion\nRouter", "Type de connexion\nInternet", "Clé publique SSH\nchargée",
                  "Nom d'utilisateur\nEXPels001"):
        assert shown in text, shown
    hex_shown = re.search(r"Numéro de série \(format hexadécimal\)\n([0-9A-F]+)", text).group(1)
    assert int(hex_shown, 16) == serial
    assert "canal préférentiel : SFTP" in text and "canal préférentiel : FTP" in text
    with services.db.read() as session:
        assert session.scalar(select(Sender).where(Sender.domain_id == domain)) is None, "nothing saved yet"
    browser.shot("6-sender-certificate")
    browser.press("Confirmer")

    assert browser.heading == "Expéditeur"
    assert "L'expéditeur a bien été créé." in browser.text
    with services.db.read() as session:
        sender = session.scalar(select(Sender).where(Sender.domain_id == domain))
        assert sender is not None and sender.technical_user == "EXPels001"
        preferred = {(c.type, a.code): a.preferred for c in sender.channels for a in c.applications}
    assert preferred == {("FTP", "PUBL"): True, ("FTP", "DMFA"): False, ("SFTP", "DMFA"): True}
    assert f"Numéro d'expéditeur\n{sender.number}" in browser.text and "Statut\nActif" in browser.text
    browser.shot("6-sender")

    browser.press("Bloquer l'expéditeur")
    assert "L'expéditeur a bien été bloqué." in browser.text and "Statut\nBloqué" in browser.text
    with services.db.read() as session:
        assert session.get(Sender, sender.id).status == "blocked"
    browser.press("Débloquer l'expéditeur")
    assert "L'expéditeur a bien été débloqué." in browser.text and "Statut\nActif" in browser.text

    browser.press("NL")
    assert browser.heading == "Afzender"
    assert "Afzendernummer" in browser.text and "Serienummer (hexadecimaal formaat)" in browser.text
    assert "De afzender blokkeren" in browser.text


def test_a_plain_domain_user_is_refused_the_sender_page(browser: Console, client: TestClient, auth,  # type: ignore[no-untyped-def]
                                                        demo: dict) -> None:
    user = niss(1990, 1, 1, 7)
    made = client.post(f"/api/v1/domains/{demo['domain_id']}/users", headers=auth(demo["gap_niss"]), json={
        "niss": user, "username": "ursula.user", "last_name": "User", "first_name": "Ursula", "email": "u@demo.be",
        "password": PASSWORD, "applications": ["DMFA"]})
    assert made.status_code == 201, made.text
    browser.sign_in(user)
    browser.go(f"/console/domains/{demo['domain_id']}/sender")
    assert "Vos rôles ici ne vous permettent pas de consulter l'expéditeur de ce domaine." in browser.text
    assert demo["technical_user"] not in browser.text and "Bloquer" not in browser.text
    _sign_in(client, user)
    assert client.get(f"/console/domains/{demo['domain_id']}/sender").status_code == 403
    form = {"csrf": _token(client.get("/console/").text), "status": "blocked"}
    assert client.post(f"/console/domains/{demo['domain_id']}/sender/status", data=form).status_code == 403
    assert client.post(f"/console/domains/{demo['domain_id']}/sender/review", data=form).status_code == 403


# -- TestClient: the same console, forms posted as a browser posts them -------------------------------------------
def _token(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def _sign_in(client: TestClient, niss: str) -> str:
    signed = client.post("/console/sign-in", data={"csrf": _token(client.get("/console/sign-in").text),
                                                   "other_niss": niss, "loa": "eid"}, follow_redirects=False)
    assert signed.status_code == 303
    return _token(client.get("/console/").text)


def _wizard_form(csrf: str, **extra: object) -> dict:
    return {"csrf": csrf, **CONTACT, "technical_user": "EXPparity02", "technical_user_confirm": "EXPparity02",
            "password": PASSWORD, "password_confirm": PASSWORD, "channels": ["FTP", "SFTP"],
            "FTP.certificate": s.cert_pem(), "FTP.applications": ["PUBL", "DMFA"],
            "SFTP.certificate": s.cert_pem(), "SFTP.ssh_public_key": s.ssh_public(),
            "SFTP.applications": ["DMFA"], "preferred.DMFA": "SFTP", **extra}


def _field_error(page: str, field_id: str) -> str:
    found = re.search(rf'id="f-{re.escape(field_id)}-error">([^<]+)<', page)
    assert found, f"no error next to {field_id}"
    return html.unescape(found.group(1))


def test_refusals_are_shown_next_to_their_fields(client: TestClient, auth, demo: dict) -> None:  # type: ignore[no-untyped-def]
    domain = _new_domain(client, auth, demo)
    csrf = _sign_in(client, demo["gap_niss"])
    url = f"/console/domains/{domain}/sender/review"
    taken = client.post(url, data=_wizard_form(csrf, technical_user="EXPdemo001",
                                               technical_user_confirm="EXPdemo001"))
    assert taken.status_code == 409
    assert "Ce nom d'utilisateur technique est déjà utilisé." in _field_error(taken.text, "technical_user")
    weak_key = client.post(url, data=_wizard_form(csrf, **{"SFTP.ssh_public_key": s.weak_rsa_ssh()}))
    assert weak_key.status_code == 422
    assert "2048 bits" in _field_error(weak_key.text, "SFTP-ssh_public_key")
    not_a_key = client.post(url, data=_wizard_form(csrf, **{"SFTP.ssh_public_key": "ssh-ed25519 AAAA@@"}))
    assert "OpenSSH" in _field_error(not_a_key.text, "SFTP-ssh_public_key")
    weak_cert = pki.weak("encryption").cert_pem().decode()
    refused = client.post(url, data=_wizard_form(csrf, **{"SFTP.certificate": weak_cert}))
    assert refused.status_code == 400 and "ne peut pas signer" in _field_error(refused.text, "SFTP-certificate")
    typed = client.post(url, data=_wizard_form(csrf, password_confirm="Other-Pass-2026", email1="not-an-email",
                                               **{"preferred.DMFA": ""}))
    assert typed.status_code == 422
    assert _field_error(typed.text, "password_confirm") == "Les deux mots de passe diffèrent."
    assert "e-mail" in _field_error(typed.text, "email1").lower()
    undecided = client.post(url, data=_wizard_form(csrf, **{"preferred.DMFA": ""}))
    assert "canal préférentiel" in _field_error(undecided.text, "preferred-DMFA")
    none = client.post(url, data=_wizard_form(csrf, channels=[]))
    assert _field_error(none.text, "channels") == "Choisissez au moins un canal."
    der = client.post(url, data=_wizard_form(csrf, **{"FTP.certificate": ""}), files={
        "FTP.certificate_file": ("payroll.cer", s.certificate().certificate.public_bytes(
            serialization.Encoding.DER), "application/pkix-cert")})
    assert der.status_code == 200 and "Acme Issuing CA" in der.text, "a binary .cer is read too"
    forged = client.post(f"/console/domains/{domain}/sender/confirm", data={"csrf": csrf, "pending": "x" * 40})
    assert "La confirmation a expiré" in forged.text
    with client.app.state.services.db.read() as session:  # type: ignore[attr-defined]
        assert session.scalar(select(Sender).where(Sender.domain_id == domain)) is None


def test_previous_brings_the_form_back_filled_in(client: TestClient, auth, demo: dict) -> None:  # type: ignore[no-untyped-def]
    domain = _new_domain(client, auth, demo)
    csrf = _sign_in(client, demo["gap_niss"])
    confirm = client.post(f"/console/domains/{domain}/sender/review", data=_wizard_form(csrf))
    assert confirm.status_code == 200 and "Confirmation" in confirm.text
    assert PASSWORD not in confirm.text, "the password travels encrypted"
    pending = re.search(r'name="pending" value="([^"]+)"', confirm.text).group(1)
    back = client.post(f"/console/domains/{domain}/sender/back", data={"csrf": csrf, "pending": pending})
    assert back.status_code == 200 and 'value="EXPparity02"' in back.text and 'value="Peeters"' in back.text
    assert re.search(r'name="preferred.DMFA".*?<option value="SFTP" selected', back.text, re.S)


def test_the_sender_page_changes_applications_preferred_channels_and_removes_a_channel(
        client: TestClient, auth, demo: dict, services: Services) -> None:  # type: ignore[no-untyped-def]
    csrf = _sign_in(client, demo["gap_niss"])
    base = f"/console/domains/{demo['domain_id']}/sender"
    page = client.get(base)
    assert page.status_code == 200 and demo["sender_number"] in page.text and "EXPdemo001" in page.text
    every = [c for c in re.findall(r'name="WS.applications" value="([A-Z]{4})"', page.text)]
    kept = [c for c in every if c != "PUBL"]
    changed = client.post(f"{base}/channels/WS/applications", data={"csrf": csrf, "WS.applications": kept},
                          follow_redirects=True)
    assert "Le canal a bien été modifié." in changed.text
    api = client.get(f"/api/v1/domains/{demo['domain_id']}/sender", headers=auth(demo["gap_niss"])).json()
    publ = next(a for a in api["applications"] if a["code"] == "PUBL")
    assert sorted(publ["channels"]) == ["FTP", "SFTP"]
    moved = client.post(f"{base}/preferred", data={"csrf": csrf, "preferred.PUBL": "FTP"}, follow_redirects=True)
    assert "Le canal a bien été modifié." in moved.text
    api = client.get(f"/api/v1/domains/{demo['domain_id']}/sender", headers=auth(demo["gap_niss"])).json()
    assert next(a for a in api["applications"] if a["code"] == "PUBL")["preferred_channel"] == "FTP"
    removed = client.post(f"{base}/channels/FTP/remove", data={"csrf": csrf}, follow_redirects=True)
    assert "Le canal a bien été supprimé." in removed.text
    api = client.get(f"/api/v1/domains/{demo['domain_id']}/sender", headers=auth(demo["gap_niss"])).json()
    assert [c["type"] for c in api["channels"]] == ["SFTP", "WS"]
    assert next(a for a in api["applications"] if a["code"] == "PUBL")["preferred_channel"] == "SFTP"
    orphan = client.post(f"{base}/channels/SFTP/remove", data={"csrf": csrf})
    assert orphan.status_code == 409 and "autorisez d'abord cette ou ces application(s) sur un autre canal" in \
        html.unescape(orphan.text)
    assert client.post(f"{base}/status", data={"status": "blocked"}).status_code == 403, "CSRF on every form"

    add = {"csrf": csrf, "add.type": "FTP", "add.applications": ["PUBL", "DMFA"], "add.preferred": ["PUBL"]}
    bad = client.post(f"{base}/channels/review", data=add | {"add.certificate": "no certificate"})
    assert bad.status_code == 422 and "X.509" in _field_error(bad.text, "add-certificate")
    review = client.post(f"{base}/channels/review", data=add, files={"add.certificate_file": (
        "payroll.cer", s.cert_pem().encode(), "application/x-pem-file")})
    assert review.status_code == 200 and "Ajout d'un canal" in html.unescape(review.text)
    assert "Acme Issuing CA" in review.text and "Router" in review.text
    assert [c["type"] for c in client.get(f"/api/v1/domains/{demo['domain_id']}/sender", headers=auth(
        demo["gap_niss"])).json()["channels"]] == ["SFTP", "WS"], "nothing added before « Confirmer »"
    pending = re.search(r'name="pending" value="([^"]+)"', review.text).group(1)
    added = client.post(f"{base}/channels/confirm", data={"csrf": csrf, "pending": pending}, follow_redirects=True)
    assert "Le canal a bien été ajouté." in added.text
    api = client.get(f"/api/v1/domains/{demo['domain_id']}/sender", headers=auth(demo["gap_niss"])).json()
    assert next(a for a in api["applications"] if a["code"] == "PUBL")["preferred_channel"] == "FTP"
    assert next(a for a in api["applications"] if a["code"] == "DMFA")["preferred_channel"] == "SFTP"


# -- one service call per action: the API and the console make the same rows and audit entries --------------------
def _rows(services: Services, domain: int) -> tuple[dict, list[tuple]]:
    with services.db.read() as session:
        sender = session.scalar(select(Sender).where(Sender.domain_id == domain))
        assert sender is not None
        rows = {"status": sender.status, "contact": sender.contact, "technical_user_status":
                sender.technical_user_status, "channels": sorted(
                    (c.type, c.plain_ftp, c.ssh_fingerprint, tuple(x.fingerprint for x in c.certificates),
                     tuple(sorted((a.code, a.preferred) for a in c.applications))) for c in sender.channels)}
        audit = [(r.action, r.actor, r.enterprise_number, r.target.replace(sender.number, "N"),
                  _anonymous(r.after, sender.number)) for r in session.scalars(
            select(AuditRecord).where(AuditRecord.target.like(f"sender:{sender.number}%")).order_by(AuditRecord.id))]
    return rows, audit


def _anonymous(view: dict | None, number: str) -> dict | None:
    """The audit's state with what differs by construction (the sender number, the technical user) left out."""
    return None if view is None else {k: v for k, v in view.items() if k not in ("number", "technical_user")}


def test_api_and_console_create_the_same_sender_rows_and_audit(client: TestClient, auth, demo: dict,  # type: ignore[no-untyped-def]
                                                               services: Services) -> None:
    by_api, by_console = _new_domain(client, auth, demo, "7654321-02"), _new_domain(client, auth, demo, "7654321-03")
    body = {"contact": {**{k: v for k, v in CONTACT.items() if k != "email1"}, "emails": [CONTACT["email1"]]},
            "technical_user": "EXPparity01", "password": PASSWORD,
            "channels": [{"type": "FTP", "certificate": s.cert_pem(),
                          "applications": [{"code": "PUBL"}, {"code": "DMFA"}]},
                         {"type": "SFTP", "certificate": s.cert_pem(), "ssh_public_key": s.ssh_public(),
                          "applications": [{"code": "DMFA", "preferred": True}]}]}
    made = client.post(f"/api/v1/domains/{by_api}/sender", headers=auth(demo["gap_niss"]), json=body)
    assert made.status_code == 201, made.text
    csrf = _sign_in(client, demo["gap_niss"])
    confirm = client.post(f"/console/domains/{by_console}/sender/review", data=_wizard_form(csrf))
    pending = re.search(r'name="pending" value="([^"]+)"', confirm.text).group(1)
    created = client.post(f"/console/domains/{by_console}/sender/confirm", data={"csrf": csrf, "pending": pending},
                          follow_redirects=False)
    assert created.status_code == 303 and created.headers["location"] == f"/console/domains/{by_console}/sender"
    api_rows, api_audit = _rows(services, by_api)
    console_rows, console_audit = _rows(services, by_console)
    assert api_rows == console_rows
    assert [a[0] for a in api_audit] == ["sender.created"], "the confirmation screen's dry run left no trace"
    assert api_audit == console_audit
