"""Input an outside tester got accepted (stop 26): digits that are not ASCII digits, control and invisible characters
in names, PATCH fields the resource does not let change (answered 200 and ignored), a confirmation that was not
``true``, an expired certificate registered for signing, plain FTP asked for on another channel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests import factories
from tests.admin_api import senders
from tests.admin_api.world import World, make_world
from tests.keys import pki


@pytest.fixture
def w(db, api, auth) -> World:
    return make_world(db, api, auth)


def _refused(response: httpx.Response, status: int, code: str) -> dict:
    assert (response.status_code, response.json()["error"]["code"]) == (status, code), response.text
    return response.json()["error"]


@pytest.mark.parametrize("identifier", ["１２３４５６７-８９", "١٢٣٤٥٦٧-٨٩", "1234567-8９"])
def test_an_onss_number_in_other_digits_is_refused(api, auth, w, identifier):
    """Stored as typed, full-width or Arabic-Indic digits got past "one ONSS number, one enterprise"."""
    _refused(api.post(f"/api/v1/enterprises/{w.a}/domains", headers=auth(w.gap),
                      json={"name": "Employeur ONSS", "identifier": identifier}), 422, "INVALID_ONSS_NUMBER")


def test_a_phone_number_in_other_digits_is_refused(api, auth, w):
    _refused(api.patch(f"/api/v1/domains/{w.domain}/sender", headers=auth(w.gap),
                       json={"contact": {"phone": "+３２２１２３４５６７"}}), 422, "VALIDATION_ERROR")


@pytest.mark.parametrize("name", ["A\u0000B", "A\nB", "A\tB", "abc\u202edcba", "Jo\u200bhn", "A\u2028B"])
def test_a_name_with_a_control_or_invisible_character_is_refused(api, auth, w, name):
    error = _refused(api.post(f"/api/v1/domains/{w.domain}/users", headers=auth(w.gl), json={
        "niss": factories.niss(1999, 1, 1, 7), "username": "nina.new", "password": "Secret-pass-2026",
        "last_name": name, "first_name": "Nina", "email": "nina@a.be"}), 422, "VALIDATION_ERROR")
    assert f"U+{ord(next(c for c in name if not c.isalnum())):04X}" in error["message"]
    _refused(api.patch(f"/api/v1/domains/{w.domain}/sender", headers=auth(w.gap),
                       json={"contact": {"last_name": name}}), 422, "VALIDATION_ERROR")


def test_names_people_write_still_pass(api, auth, w):
    """Accents, apostrophes, hyphens, the zero-width joiners some scripts write names with, the direction marks
    pasted with Arabic or Hebrew names, a soft hyphen."""
    names = ["D'Hondt-Van Acker", "Ñúñez Ødegård", "مهر\u200cداد", "\u200fכהן\u200f", "Vander\u00admeulen"]
    for n, name in enumerate(names):
        response = api.post(f"/api/v1/domains/{w.domain}/users", headers=auth(w.gl), json={
            "niss": factories.niss(1999, 1, 1 + n, 7), "username": f"person.{n}", "password": "Secret-pass-2026",
            "last_name": name, "first_name": "Nina", "email": "nina@a.be"})
        assert response.status_code == 201 and response.json()["last_name"] == name, response.text


@pytest.mark.parametrize("body", [{"technical_user": "EXPrename"}, {"sender_number": "000001"},
                                  {"contact": {"fax_number": "+3221234567"}}])
def test_a_sender_patch_naming_what_it_cannot_change_is_refused(api, auth, w, body):
    """Answered 200 and ignored: the caller believed the technical user renamed."""
    _refused(api.patch(f"/api/v1/domains/{w.domain}/sender", headers=auth(w.gap), json=body), 422,
             "VALIDATION_ERROR")
    assert api.get(f"/api/v1/domains/{w.domain}/sender", headers=auth(w.gap)).json()["technical_user"]["name"] == \
        "EXPworld01"


def test_plain_ftp_asked_for_a_channel_that_is_not_ftp_is_refused(api, auth, w):
    error = _refused(api.patch(f"/api/v1/domains/{w.domain}/sender/channels/SFTP", headers=auth(w.gap),
                               json={"plain_ftp": True}), 422, "VALIDATION_ERROR")
    assert error["details"]["field"] == "plain_ftp"
    assert api.patch(f"/api/v1/domains/{w.domain}/sender/channels/FTP", headers=auth(w.gap),
                     json={"plain_ftp": True}).json()["channels"][0]["plain_ftp"] is True


@pytest.mark.parametrize("confirm", ["true", "yes", 1])
def test_only_a_json_true_confirms(api, auth, w, confirm):
    body = {"enterprise_number": w.c, "main_access_manager": "self",
            "contact": {"email": "direction@a.be", "phone": "+3221234567"}, "confirm": confirm}
    _refused(api.post("/api/v1/registrations", headers=auth(w.lr_c), json=body), 422, "VALIDATION_ERROR")
    _refused(api.put(f"/api/v1/enterprises/{w.a}/main-access-manager", headers=auth(w.gap), json={
        "main_access_manager": "self", "contact": body["contact"], "confirm": confirm}), 422, "VALIDATION_ERROR")


def test_an_expired_certificate_is_refused_for_signing(api, auth, w):
    """Registered without a word, it could sign no file the gateway accepts."""
    now = datetime.now(UTC)
    old = pki.sender("Old payroll signing", not_before=now - timedelta(days=400), not_after=now - timedelta(days=1))
    error = _refused(api.patch(f"/api/v1/domains/{w.domain}/sender/channels/FTP", headers=auth(w.gap),
                               json={"add_certificate": old.cert_pem().decode()}), 400, "CERTIFICATE_EXPIRED")
    assert error["details"]["field"] == "certificate" and "expiré" in error["message"]
    _refused(api.post(f"/api/v1/domains/{w.domain_b}/sender", headers=auth(w.gap_b), json=senders.sender_body(
        "EXPother01", [{"type": "FTP", "certificate": old.cert_pem().decode(), "applications": [{"code": "DMFA"}]}])),
        400, "CERTIFICATE_EXPIRED")


def test_a_method_a_route_does_not_take_is_405_with_its_code(api, auth, w):
    """It was 405 with VALIDATION_ERROR, "a field is missing or has not the expected form"."""
    answer = api.put(f"/api/v1/domains/{w.domain}/users", headers=auth(w.gl) | {"Accept-Language": "nl"}, json={})
    assert (answer.status_code, answer.json()["error"]["code"]) == (405, "METHOD_NOT_ALLOWED")
    assert "niet toegelaten" in answer.json()["error"]["message"] and "GET" in answer.headers["allow"]


def test_a_body_over_the_limit_is_told_in_the_callers_language(api, auth, w):
    """413 BODY_TOO_LARGE was always in English."""
    answer = api.post(f"/api/v1/domains/{w.domain}/users", headers=auth(w.gl) | {"Accept-Language": "fr"},
                      content=b"{" + b" " * (2 << 20) + b"}")
    assert (answer.status_code, answer.json()["error"]["code"]) == (413, "BODY_TOO_LARGE")
    assert answer.json()["error"]["message"].startswith("Le corps de la requête peut faire au plus ")


def test_an_expired_certificate_registered_already_is_no_error_to_add_again(api, auth, w, db):
    """Registered while valid, expired since: adding it again is the nothing it was (a repeated request, the
    demo's start on an old data folder), not CERTIFICATE_EXPIRED."""
    from sqlalchemy import select

    from keys.certificates import describe
    from store.models import ChannelCertificate, Sender, SenderChannel

    now = datetime.now(UTC)
    old = pki.sender("Old payroll signing", not_before=now - timedelta(days=400), not_after=now - timedelta(days=1))
    info = describe(old.certificate)
    with db.session() as session:
        channel = session.scalars(select(SenderChannel).join(Sender).where(
            Sender.number == w.sender, SenderChannel.type == "FTP")).one()
        channel.certificates.append(ChannelCertificate(pem=old.cert_pem().decode(), fingerprint=info.fingerprint_sha256,
                                                       not_after=info.expires))
    again = api.patch(f"/api/v1/domains/{w.domain}/sender/channels/FTP", headers=auth(w.gap),
                      json={"add_certificate": old.cert_pem().decode()})
    assert again.status_code == 200, again.text
