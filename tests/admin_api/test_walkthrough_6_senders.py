"""Guide VI: creating a sender ("expéditeur"): FTP, SFTP and Web Service channels, with the guide's refusals."""

import pytest

from tests.admin_api import senders as s
from tests.admin_api.world import make_world


@pytest.fixture
def w(db, client, auth):
    return make_world(db, client, auth, with_sender=False)


def url(w, tail=""):
    return f"/api/v1/domains/{w.domain}/sender{tail}"


def error(response):
    return response.status_code, response.json()["error"]["code"]


def test_no_active_sender_yet(client, auth, w):
    response = client.get(url(w), headers=auth(w.gl))
    assert error(response) == (404, "NO_ACTIVE_SENDER")
    assert response.json()["error"]["message"] == "Il n'y a pas d'expéditeur actif pour cette qualité."


def test_a_ftp_channel_created_as_the_confirmation_screen_shows_it(client, auth, w):
    response = client.post(url(w), headers=auth(w.gl), json=s.sender_body("EXPtests001"))
    assert response.status_code == 201, response.text
    sender = response.json()
    assert sender["message"] == "L'expéditeur a bien été créé."
    assert len(sender["sender_number"]) == 6 and sender["sender_number"].isdigit()
    assert sender["contact"]["function"] == "Payroll manager" and sender["contact"]["phone"] == "+3225551234"
    assert sender["technical_user"] == {"name": "EXPtests001", "status": "active"}
    (ftp,) = sender["channels"]
    assert (ftp["type"], ftp["connection_type"]) == ("FTP", "Router")
    cert = ftp["certificate"]
    expected = s.certificate().certificate
    assert cert["owner"] == "Acme payroll signing" and cert["company"] == "Not specified"
    assert cert["issuer"] == "Acme Issuing CA"
    assert cert["serial_decimal"] == str(expected.serial_number)
    assert int(cert["serial_hex"], 16) == expected.serial_number
    assert cert["expires"].startswith(expected.not_valid_after_utc.date().isoformat())
    assert sender["applications"] == [{"code": "PUBL", "name": "Publiato", "channels": ["FTP"],
                                       "preferred_channel": "FTP"}]
    assert client.get(url(w), headers=auth(w.co_gl)).json()["sender_number"] == sender["sender_number"]


def test_b_sftp_channel_added_with_ssh_key_and_preferred_channel_choice(client, auth, w):
    client.post(url(w), headers=auth(w.gl), json=s.sender_body())
    sftp = {"type": "SFTP", "certificate": s.cert_base64_der(), "ssh_public_key": s.ssh_public() + " payroll@acme",
            "applications": [{"code": "PUBL", "preferred": True}, {"code": "DMFA"}]}
    response = client.post(url(w, "/channels"), headers=auth(w.gap), json=sftp)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["message"] == "Le canal a bien été ajouté."
    channel = next(c for c in body["channels"] if c["type"] == "SFTP")
    assert channel["connection_type"] == "Internet" and channel["ssh_public_key"]["loaded"]
    assert channel["ssh_public_key"]["fingerprint"].startswith("SHA256:")
    preferred = {a["code"]: a["preferred_channel"] for a in body["applications"]}
    assert preferred == {"PUBL": "SFTP", "DMFA": "SFTP"}
    assert error(client.post(url(w, "/channels"), headers=auth(w.gap), json=sftp)) == (409, "CHANNEL_EXISTS")


def test_b_sender_with_two_channels_needs_one_preferred_channel_per_application(client, auth, w):
    channels = [{"type": "FTP", "certificate": s.cert_pem(), "applications": [{"code": "DMFA"}]},
                {"type": "SFTP", "certificate": s.cert_pem(), "ssh_public_key": s.ssh_public(),
                 "applications": [{"code": "DMFA"}]}]
    undecided = client.post(url(w), headers=auth(w.gl), json=s.sender_body(channels=channels))
    assert error(undecided) == (422, "PREFERRED_CHANNEL_INVALID")
    assert undecided.json()["error"]["details"]["applications"] == {"DMFA": ["FTP", "SFTP"]}
    channels[1]["applications"] = [{"code": "DMFA", "preferred": True}]
    channels[0]["applications"] = [{"code": "DMFA", "preferred": True}]
    assert error(client.post(url(w), headers=auth(w.gl), json=s.sender_body(channels=channels))) == \
        (422, "PREFERRED_CHANNEL_INVALID")
    channels[0]["applications"] = [{"code": "DMFA", "preferred": False}]
    created = client.post(url(w), headers=auth(w.gl), json=s.sender_body(channels=channels))
    assert created.status_code == 201 and created.json()["applications"][0]["preferred_channel"] == "SFTP"


def test_c_web_service_channel(client, auth, w):
    client.post(url(w), headers=auth(w.gl), json=s.sender_body())
    response = client.post(url(w, "/channels"), headers=auth(w.gl, ), json={
        "type": "WS", "certificate": s.cert_pem("Acme web service"), "applications": [{"code": "DIMN"}]})
    assert response.status_code == 201, response.text
    ws = next(c for c in response.json()["channels"] if c["type"] == "WS")
    assert ws["connection_type"] == "Internet" and ws["certificate"]["owner"] == "Acme web service"
    assert ws["ssh_public_key"] is None
    assert response.json()["message"] == "Le canal a bien été ajouté."


def test_refusals_of_the_guide(client, auth, w):
    def create(body, who=None):
        return client.post(url(w), headers=auth(who or w.gl), json=body)

    assert error(create(s.sender_body(), who=w.user)) == (403, "FORBIDDEN")
    assert error(create(s.sender_body("USRacme001"))) == (422, "TECHNICAL_USER_INVALID")
    assert error(create(s.sender_body("EXP"))) == (422, "TECHNICAL_USER_INVALID")
    bad_cert = s.sender_body(channels=[{"type": "FTP", "certificate": "-----BEGIN CERTIFICATE-----\nAAAA\n"
                                        "-----END CERTIFICATE-----", "applications": [{"code": "PUBL"}]}])
    assert error(create(bad_cert)) == (422, "CERTIFICATE_MALFORMED")
    weak_key = s.sender_body(channels=[{"type": "SFTP", "certificate": s.cert_pem(),
                                        "ssh_public_key": s.weak_rsa_ssh(), "applications": [{"code": "PUBL"}]}])
    assert error(create(weak_key)) == (422, "SSH_KEY_TOO_WEAK")
    no_key = s.sender_body(channels=[{"type": "SFTP", "certificate": s.cert_pem(), "applications": []}])
    assert error(create(no_key)) == (422, "SSH_KEY_INVALID")
    ws_key = s.sender_body(channels=[{"type": "WS", "certificate": s.cert_pem(), "ssh_public_key": s.ssh_public(),
                                      "applications": [{"code": "PUBL"}]}])  # was ignored silently
    assert error(create(ws_key)) == (422, "SSH_KEY_INVALID")
    outside = s.sender_body(channels=[{"type": "FTP", "certificate": s.cert_pem(),
                                       "applications": [{"code": "ZZZZ"}]}])
    assert error(create(outside)) == (422, "APPLICATION_UNKNOWN")  # no catalogue code: not "not in this domain"
    weak_pw = s.sender_body() | {"password": "password"}
    assert error(create(weak_pw)) == (422, "PASSWORD_TOO_WEAK")
    assert create(s.sender_body("EXPacme001")).status_code == 201
    assert error(create(s.sender_body("EXPacme002"))) == (409, "SENDER_EXISTS")
    # the technical user name is unique across the system, whatever the case
    other = client.post(f"/api/v1/domains/{w.domain_b}/sender", headers=auth(w.gap_b),
                        json=s.sender_body("EXPACME001"))
    assert error(other) == (409, "TECHNICAL_USER_TAKEN")
    assert error(client.get(url(w), headers=auth(w.gap_b))) == (403, "FORBIDDEN")


def test_certificate_rollover_and_channel_changes(client, auth, w):
    client.post(url(w), headers=auth(w.gl), json=s.sender_body(channels=[
        {"type": "FTP", "certificate": s.cert_pem(), "applications": [{"code": "PUBL"}, {"code": "DMFA"}]},
        {"type": "SFTP", "certificate": s.cert_pem(), "ssh_public_key": s.ssh_public(),
         "applications": [{"code": "DMFA", "preferred": True}]}]))
    rolled = client.patch(url(w, "/channels/FTP"), headers=auth(w.gl),
                          json={"add_certificate": s.cert_pem("Acme payroll signing 2027")})
    assert rolled.status_code == 200, rolled.text
    ftp = next(c for c in rolled.json()["channels"] if c["type"] == "FTP")
    assert {c["owner"] for c in ftp["certificates"]} == {"Acme payroll signing", "Acme payroll signing 2027"}
    old = s.certificate().certificate.fingerprint(__import__("cryptography.hazmat.primitives.hashes",
                                                             fromlist=["SHA256"]).SHA256()).hex()
    dropped = client.patch(url(w, "/channels"), headers=auth(w.gl), json={"type": "FTP", "remove_certificate": old})
    ftp = next(c for c in dropped.json()["channels"] if c["type"] == "FTP")
    assert [c["owner"] for c in ftp["certificates"]] == ["Acme payroll signing 2027"]
    # removing SFTP moves DMFA's preferred channel to FTP; removing FTP would orphan PUBL; the last channel stays
    moved = client.delete(url(w, "/channels/SFTP"), headers=auth(w.gl))
    assert moved.status_code == 200 and moved.json()["message"] == "Le canal a bien été supprimé."
    assert {a["code"]: a["preferred_channel"] for a in moved.json()["applications"]} == {"DMFA": "FTP",
                                                                                          "PUBL": "FTP"}
    assert error(client.delete(url(w, "/channels/FTP"), headers=auth(w.gl))) == (422, "CHANNEL_REQUIRED")
    assert error(client.delete(url(w, "/channels/WS"), headers=auth(w.gl))) == (404, "CHANNEL_UNKNOWN")


def test_a_patch_that_changes_nothing_is_not_audited(client, auth, w):
    """`{}` and a channel's `plain_ftp: false` where it was false were audited as changes (sender.updated...)."""
    assert client.post(url(w), headers=auth(w.gl), json=s.sender_body()).status_code == 201
    ops = auth(roles=["ops"])

    def changes() -> int:
        return client.get("/api/v1/audit", headers=ops, params={"enterprise_number": w.a}).json()["total"]
    before = changes()
    assert client.patch(url(w), headers=auth(w.gl), json={}).status_code == 200
    assert client.patch(url(w, "/channels/FTP"), headers=auth(w.gl), json={"plain_ftp": False}).status_code == 200
    assert changes() == before
    assert client.patch(url(w), headers=auth(w.gl), json={"contact": {"phone": "+3229999999"}}).status_code == 200
    assert client.patch(url(w, "/channels/FTP"), headers=auth(w.gl), json={"plain_ftp": True}).status_code == 200
    assert changes() == before + 2  # a contact's change and plain FTP opened are changes


def test_block_language_and_delete(client, auth, w):
    created = client.post(url(w), headers=auth(w.gl) | {"Accept-Language": "nl-BE,nl;q=0.9"},
                          json=s.sender_body(channels=[{"type": "FTP", "certificate": s.cert_pem(),
                                                        "applications": [{"code": "PUBL"}, {"code": "DMFA"}]}]))
    assert created.json()["message"] == "De afzender werd aangemaakt."
    # the applications named in the caller's language too (they were French whatever was asked)
    from kernel.catalogue import APPLICATIONS
    differs = 0
    for lang in ("nl", "en", "fr"):
        read = client.get(url(w), headers=auth(w.gl) | {"Accept-Language": lang}).json()
        apps = read["applications"] + [a for c in read["channels"] for a in c["applications"]]
        assert apps and all(a["name"] == APPLICATIONS[a["code"]].name_in(lang) for a in apps), (lang, apps)
        differs += sum(APPLICATIONS[a["code"]].name_in(lang) != APPLICATIONS[a["code"]].name_fr for a in apps)
    assert differs, "the body's applications have the same name in every language: nothing shown"
    blocked = client.patch(url(w), headers=auth(w.gl) | {"Accept-Language": "en"}, json={"status": "blocked"})
    assert blocked.json()["status"] == "blocked" and blocked.json()["message"] == "The sender has been updated."
    tech = client.patch(url(w), headers=auth(w.gl), json={"technical_user_status": "blocked"}).json()
    assert tech["technical_user"]["status"] == "blocked"
    assert client.delete(url(w), headers=auth(w.gl)).status_code == 204
    assert error(client.get(url(w), headers=auth(w.gl))) == (404, "NO_ACTIVE_SENDER")
    assert error(client.post(url(w), headers=auth(w.gl), json=s.sender_body())) == (409, "TECHNICAL_USER_TAKEN")
    assert client.post(url(w), headers=auth(w.gl), json=s.sender_body("EXPacme002")).status_code == 201


def test_a_ftp_or_sftp_channel_keeps_at_least_one_application(client, auth, w):
    """Guide VI: the FTP and SFTP screens require their « Liste des applications * » (the web service's has none)."""
    empty = s.sender_body(channels=[{"type": "FTP", "certificate": s.cert_pem(), "applications": []}])
    refused = client.post(url(w), headers=auth(w.gl), json=empty)
    assert error(refused) == (422, "VALIDATION_ERROR")
    assert refused.json()["error"]["message"] == "Le canal FTP a besoin d'au moins une application."
    assert client.post(url(w), headers=auth(w.gl), json=s.sender_body()).status_code == 201
    ws = client.post(url(w, "/channels"), headers=auth(w.gl), json={"type": "WS", "certificate": s.cert_pem(),
                                                                   "applications": [{"code": "PUBL"}]})
    assert ws.status_code == 201, ws.text  # PUBL is carried elsewhere now: FTP may not drop it all the same
    patch = client.patch(url(w, "/channels/FTP"), headers=auth(w.gl), json={"remove_applications": ["PUBL"]})
    assert error(patch) == (422, "VALIDATION_ERROR")
    publ = next(a for a in client.get(url(w), headers=auth(w.gl)).json()["applications"] if a["code"] == "PUBL")
    assert set(publ["channels"]) == {"FTP", "WS"}  # unchanged


def test_the_last_certificate_and_a_doubled_channel_are_refused_with_their_own_codes(client, auth, w):
    client.post(url(w), headers=auth(w.gl), json=s.sender_body())
    only = s.certificate().certificate.fingerprint(__import__("cryptography.hazmat.primitives.hashes",
                                                              fromlist=["SHA256"]).SHA256()).hex()
    last = client.patch(url(w, "/channels/FTP"), headers=auth(w.gl), json={"remove_certificate": only})
    assert error(last) == (409, "CERTIFICATE_REQUIRED")  # it was CERTIFICATE_MALFORMED: "not readable X.509"
    twice = s.sender_body("EXPacme002", channels=[{"type": "FTP", "certificate": s.cert_pem(),
                                                   "applications": [{"code": "PUBL"}]}] * 2)
    assert error(client.post(f"/api/v1/domains/{w.domain_b}/sender", headers=auth(w.gap_b), json=twice)) == (
        422, "VALIDATION_ERROR")  # a malformed body: nothing exists yet to conflict with


def test_a_channel_left_without_applications_before_the_rule_can_still_be_patched(client, auth, w, db):
    """Only a removal that empties an FTP or SFTP channel is refused: a channel emptied before the rule existed
    refused every later change (a certificate, plain FTP) until an application was added."""
    from sqlalchemy import delete, select

    from store.models import ChannelApplication, SenderChannel
    two = s.sender_body(channels=[{"type": "FTP", "certificate": s.cert_pem(),
                                   "applications": [{"code": "PUBL", "preferred": True}]},
                                  {"type": "WS", "certificate": s.cert_pem(), "applications": [{"code": "PUBL"}]}])
    assert client.post(url(w), headers=auth(w.gl), json=two).status_code == 201
    with db.session() as session:
        ftp = session.scalars(select(SenderChannel.id).where(SenderChannel.type == "FTP")).one()
        session.execute(delete(ChannelApplication).where(ChannelApplication.channel_id == ftp))
    patched = client.patch(url(w, "/channels/FTP"), headers=auth(w.gl), json={"plain_ftp": True})
    assert patched.status_code == 200, patched.text
