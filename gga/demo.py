"""`gga serve --demo`: an enterprise, its GAP, an "Employeur ONSS" domain and a sender with all three channels,
each authorised for every application of the domain, SFTP preferred. Idempotent: a second start reuses it all."""

from __future__ import annotations

import json
import secrets
import string
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy import select

from admin_api.http import Services
from admin_api.identity import Caller
from admin_api.registration.service import Designation, designate
from admin_api.registry import import_extract
from admin_api.sender import service as senders
from admin_api.sender.schemas import ChannelPatch, SenderIn, SenderPatch
from kernel.catalogue import EMPLOYER_ONSS, applications_of_domain
from kernel.settings import Settings
from keys.files import write_private, write_public
from keys.issuing import Issued, load_or_issue
from store.models import Domain, DomainApplication, Enterprise

DEMO_ENTERPRISE = "0403019261"
DEMO_GAP_NISS = "85073003328"
DEMO_ONSS = "1234567-89"
DEMO_TECHNICAL_USER = "EXPdemo001"
DEMO_EXTRACT = {
    "persons": [{"niss": DEMO_GAP_NISS, "first_name": "Anne", "last_name": "Demo"}],
    "enterprises": [{"number": DEMO_ENTERPRISE, "name": "Demo Payroll SA", "address": "Rue de la Loi 1, 1000 Bruxelles",
                     "legal_representatives": [{"niss": DEMO_GAP_NISS, "function": "Administrateur délégué",
                                                "start": "2015-01-01", "end": None}]}],
}
CONTACT = {"last_name": "Demo", "first_name": "Anne", "title": "Mme", "function": "Payroll", "language": "fr",
           "phone": "+3221234567", "emails": ["payroll@demo-payroll.be"]}


@dataclass
class DemoMaterial:
    folder: Path
    certificate: Issued
    ssh_private_key: Path
    ssh_public_key: str
    password: str


def _material(folder: Path) -> DemoMaterial:
    ca = load_or_issue(folder / "demo-ca.pem", folder / "demo-ca.key", "gga demo CA", ca=True)
    cert = load_or_issue(folder / "sender-cert.pem", folder / "sender-cert.key", "Demo Payroll SA batch signing",
                         organization="Demo Payroll SA", issuer=ca)
    key_path = folder / "id_ed25519"
    if not key_path.exists():
        key = ed25519.Ed25519PrivateKey.generate()
        write_private(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                                  serialization.NoEncryption()))
        write_public(folder / "id_ed25519.pub", key.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH) + b" demo-sender\n")
    password_path = folder / "password.txt"
    if not password_path.exists():
        alphabet = string.ascii_letters + string.digits
        write_private(password_path, ("Demo-" + "".join(secrets.choice(alphabet) for _ in range(14)) + "9a").encode())
    return DemoMaterial(folder, cert, key_path, (folder / "id_ed25519.pub").read_text().strip(),
                        password_path.read_text().strip())


def seed(services: Services) -> dict:
    folder = services.settings.resolved_data_dir / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    material = _material(folder)
    gap = Caller(DEMO_GAP_NISS, "eid")
    with services.db.session() as session:
        import_extract(session, DEMO_EXTRACT)
        enterprise = session.get(Enterprise, DEMO_ENTERPRISE)
        assert enterprise is not None
        if enterprise.main_manager_niss is None:
            designate(session, Caller(None), enterprise, Designation(
                DEMO_GAP_NISS, "direction@demo-payroll.be", "+3221234567",
                DEMO_GAP_NISS, "direction@demo-payroll.be", "+3221234567"))
        domain = session.scalar(select(Domain).where(Domain.enterprise_number == DEMO_ENTERPRISE,
                                                     Domain.name == EMPLOYER_ONSS))
        if domain is None:
            domain = Domain(enterprise_number=DEMO_ENTERPRISE, name=EMPLOYER_ONSS, identifier=DEMO_ONSS,
                            applications=[DomainApplication(code=c) for c in applications_of_domain(EMPLOYER_ONSS)])
            session.add(domain)
            session.flush()
        sender = _ensure_sender(session, services, gap, domain, material)
    info = {"enterprise_number": DEMO_ENTERPRISE, "domain_id": domain.id, "sender_number": sender["sender_number"],
            "technical_user": DEMO_TECHNICAL_USER, "password": material.password,
            "ssh_private_key": str(material.ssh_private_key.resolve()),
            "certificate": str((folder / "sender-cert.pem").resolve()),
            "certificate_key": str((folder / "sender-cert.key").resolve()), "gap_niss": DEMO_GAP_NISS,
            "endpoints": endpoints(services.settings)}
    (folder / "sender.json").write_text(json.dumps(info, indent=2) + "\n")
    (folder / "README.txt").write_text(howto(info, services))
    return info


def _ensure_sender(session, services: Services, gap: Caller, domain: Domain, m: DemoMaterial) -> dict:  # type: ignore[no-untyped-def]
    cert = m.certificate.cert_pem().decode()
    if senders.active_sender(session, domain.id) is None:
        apps = applications_of_domain(EMPLOYER_ONSS)
        channels = [{"type": t, "certificate": cert, "ssh_public_key": m.ssh_public_key if t == "SFTP" else None,
                     "applications": [{"code": c, "preferred": t == "SFTP"} for c in apps]}
                    for t in ("SFTP", "FTP", "WS")]
        return senders.create(session, gap, domain.id, SenderIn.model_validate({
            "contact": CONTACT, "technical_user": DEMO_TECHNICAL_USER, "password": m.password,
            "channels": channels}), services.passwords)
    # files may have been made anew: make the sender match them
    senders.update(session, gap, domain.id, SenderPatch(password=m.password, status="active",
                                                         technical_user_status="active"), services.passwords)
    for t in ("SFTP", "FTP", "WS"):
        senders.update_channel(session, gap, domain.id, t, ChannelPatch(
            add_certificate=cert, ssh_public_key=m.ssh_public_key if t == "SFTP" else None))
    return senders.read(session, gap, domain.id)


def endpoints(settings: Settings) -> dict[str, str]:
    """Where a client connects; HTTP at the public URL (also the web-service token audience), not the bind."""
    return {"sftp": settings.sftp_bind, "ftp": settings.ftp_bind, "http": settings.resolved_public_url}


def howto(info: dict, services: Services) -> str:
    s = services.settings
    sftp_host, _, sftp_port = s.sftp_bind.rpartition(":")
    ftp_host, _, ftp_port = s.ftp_bind.rpartition(":")
    folder = s.resolved_data_dir / "demo"
    public = s.resolved_public_url
    name = f"DMFA.{info['sender_number']}.$(date +%Y%m%d).00001.T"
    return f"""gga demo
========
Enterprise {info['enterprise_number']} (Demo Payroll SA), main access manager NISS {info['gap_niss']},
domain "Employeur ONSS" id {info['domain_id']}, sender {info['sender_number']}, technical user
{info['technical_user']} (password in {folder}/password.txt). Everything is in sender.json.

1. Admin API as the GAP
   TOKEN=$(gga token --niss {info['gap_niss']})
   curl -s -H "Authorization: Bearer $TOKEN" {public}/api/v1/domains/{info['domain_id']}/sender

2. A first upload over SFTP (test environment T: folder /INTEST, acknowledgement in /OUTTEST)
   cd {folder}
   NAME={name}
   printf '<DmfAOriginal><Form><Identification>DMFA</Identification></Form></DmfAOriginal>' > FI.$NAME.1.1
   openssl cms -sign -binary -in FI.$NAME.1.1 -signer sender-cert.pem -inkey sender-cert.key -outform DER \\
       | base64 -w0 > FS.$NAME.1.1
   : > GO.$NAME.1
   SFTP="sftp -b - -i id_ed25519 -P {sftp_port} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
   printf 'cd INTEST\\nput FI.%s.1.1\\nput FS.%s.1.1\\nput GO.%s.1\\n' $NAME $NAME $NAME \\
       | $SFTP {info['technical_user']}@{sftp_host}
   sleep 2
   printf 'cd OUTTEST\\nls -l\\nget FO.ACRF.*\\n' | $SFTP {info['technical_user']}@{sftp_host}
   cat FO.ACRF.*
   The FO.ACRF... file is the acknowledgement: ResultCode 1 = accepted, with a 13-character ReferenceNbr.

3. FTPS: curl --ssl-reqd -k -u {info['technical_user']}:PASSWORD -T FI.<name> ftp://{ftp_host}:{ftp_port}/INTEST/

4. Web service: POST {public}/REST/oauth/v5/token with a private_key_jwt client assertion signed by
   sender-cert.key (iss = sub = self-service:expeditor:{info['sender_number']}, aud = that same token URL), then
   PUT {public}/REST/batch/v1/T/files/<name> with the bearer token.
"""
