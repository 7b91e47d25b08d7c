"""Weak signing certificates (issue 12): refused at registration; one registered before the rule keeps signing until
its rollover, flagged in the sender's answer."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

import pytest
from sqlalchemy import select

from keys.certificates import fingerprint, pem
from keys.cms import fs_file, verify_detached
from keys.issuing import Issued
from store.directory import SenderDirectory
from store.models import ChannelCertificate, Sender, SenderChannel
from tests.admin_api import senders as s
from tests.admin_api.world import make_world
from tests.keys import pki

KINDS = {"rsa1024": "RSA key of 1024 bits (at least 2048)",
         "encryption": "key usage allows neither digitalSignature nor nonRepudiation",
         "ca": "a CA certificate (basic constraints CA=true)"}


@cache
def weak(kind: str) -> Issued:
    return pki.weak(kind)


@pytest.fixture
def w(db, client, auth):
    return make_world(db, client, auth, with_sender=False)


def url(w, tail=""):  # type: ignore[no-untyped-def]
    return f"/api/v1/domains/{w.domain}/sender{tail}"


def refusal(response) -> tuple[int, str, list[str]]:  # type: ignore[no-untyped-def]
    error = response.json()["error"]
    return response.status_code, error["code"], error["details"].get("weaknesses", [])


@pytest.mark.parametrize("kind", KINDS)
def test_a_weak_certificate_is_refused_wherever_it_is_registered(client, auth, w, kind):
    cert = weak(kind).cert_pem().decode()
    expected = (400, "CERTIFICATE_WEAK", [KINDS[kind]])
    body = s.sender_body(channels=[{"type": "FTP", "certificate": cert, "applications": [{"code": "PUBL"}]}])
    assert refusal(client.post(url(w), headers=auth(w.gl), json=body)) == expected
    assert client.post(url(w), headers=auth(w.gl), json=s.sender_body()).status_code == 201
    added = client.post(url(w, "/channels"), headers=auth(w.gl),
                        json={"type": "WS", "certificate": cert, "applications": [{"code": "PUBL"}]})
    assert refusal(added) == expected
    rolled = client.patch(url(w, "/channels/FTP"), headers=auth(w.gl), json={"add_certificate": cert})
    assert refusal(rolled) == expected
    channels = client.get(url(w), headers=auth(w.gl)).json()["channels"]
    assert [len(c["certificates"]) for c in channels] == [1]  # nothing of it was kept


def test_a_weak_certificate_registered_before_still_signs_and_is_flagged(client, auth, w, db):
    assert client.post(url(w), headers=auth(w.gl), json=s.sender_body()).status_code == 201
    with db.session() as session:  # as the rule found it: already in the database
        channel = session.scalar(select(SenderChannel).join(Sender, SenderChannel.sender_id == Sender.id)
                                 .where(Sender.domain_id == w.domain, SenderChannel.type == "FTP"))
        for kind in KINDS:
            cert = weak(kind).certificate
            channel.certificates.append(ChannelCertificate(pem=pem(cert), fingerprint=fingerprint(cert),
                                                           not_after=cert.not_valid_after_utc))
    view = client.get(url(w), headers=auth(w.gl)).json()
    flagged = {c["owner"]: c["weaknesses"] for c in view["channels"][0]["certificates"]}
    assert flagged == {"Acme payroll signing": []} | {f"weak {kind}": [why] for kind, why in KINDS.items()}
    sender = SenderDirectory(db).by_number(view["sender_number"])
    assert sender is not None
    for kind in KINDS:
        signed = fs_file(pki.sign(b"content", weak(kind)))
        assert verify_detached(signed, pki.digest_of(b"content"), sender.channels["FTP"].certificates,
                               at=datetime.now(UTC)) == weak(kind).certificate
