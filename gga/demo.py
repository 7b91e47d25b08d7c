"""`gga serve --demo`: an enterprise, its GAP, an "Employeur ONSS" domain and a sender with all three channels,
each authorised for every application of the domain, SFTP preferred. Idempotent: a second start reuses it all."""

from __future__ import annotations

import json
import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from string import Template

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


class _HowTo(Template):
    delimiter = "@"  # the shell's $ and {} stay as written


HOWTO = _HowTo(r"""gga demo
========
Enterprise @enterprise (Demo Payroll SA), main access manager NISS @gap, domain "Employeur ONSS" id @domain,
sender @sender, technical user @user (password in password.txt). Everything is in sender.json.

Web console: open @public/console/ in a browser; the development sign-in page lists the demo's people (pick
the main access manager, NISS @gap, level eID) and the platform roles operator and ops.

Commands are indented by four spaces: run them in order in one bash shell, starting in the folder you cloned
gga-gateway into (the one holding .venv). They need OpenSSH sftp, curl, openssl and base64.

0. Set up: the gga command, this folder, a sample DmfA file, the gateway's published signing certificate
    GGA="$PWD/.venv/bin/gga"
    cd @folder
    printf '<DmfAOriginal><Form><Identification>DMFA</Identification></Form></DmfAOriginal>' > dmfa.xml
    curl -sS -f @public/api/v1/gateway/certificate > gateway.pem
    SEQ=$(LC_ALL=C tr -dc 0-9A-Z </dev/urandom | head -c 4)
    mkdir -p acrf
   SEQ makes today's names new: a name is accepted once per sender, day and environment.

1. Admin API as the main access manager (GAP)
    ADMIN_TOKEN=$($GGA token --niss @gap --data-dir @data)
    curl -sS -f -H "Authorization: Bearer $ADMIN_TOKEN" @public/api/v1/domains/@domain/sender

Where the acknowledgement (ACRF) goes: to the return folder of the application's preferred channel, whatever
channel the files came by. The demo prefers SFTP for every application, so every ACRF below is read over SFTP in
/OUTTEST (test environment T; production R uses /IN and /OUT). To have ACRFs on FTPS or the web service, make that
channel preferred (PATCH @public/api/v1/domains/@domain/sender/channels/FTP with {"preferred_for": ["DMFA"]}).
These two commands define how to read it (SFTP) and check the gateway's signature on it (openssl):
    SFTP="sftp -b - -i id_ed25519 -P @sftp_port -o StrictHostKeyChecking=accept-new \
        -o UserKnownHostsFile=ssh_known_hosts @user@@@sftp_host"
    read_acrf() { F=; for i in $(seq 30); do echo '-get OUTTEST/F?.ACRF.* acrf/' | $SFTP >/dev/null 2>&1; \
        F=$(grep -l "<FileName>GO.$NAME.1</FileName>" acrf/FO.ACRF.* 2>/dev/null) && break; sleep 1; done; \
        cat "$F"; }
    verify_acrf() { base64 -d "acrf/FS.${F#acrf/FO.}" > acrf.p7s && \
        openssl cms -verify -binary -inform DER -in acrf.p7s -content "$F" -CAfile gateway.pem -out /dev/null; }
   In the ACRF: FileName = your GO, ReferenceNbr = the 13-character ticket, ResultCode 1 = accepted (0 = rejected,
   with an Error per problem: ErrorID ACRF-nnn and ErrorDescription). Deleting a return file picks it up.

2. SFTP (OpenSSH sftp): FI + its signature FS + the empty GO into /INTEST
    NAME=DMFA.@sender.$(date -u +%Y%m%d).${SEQ}1.T
    cp dmfa.xml FI.$NAME.1.1
    openssl cms -sign -binary -in FI.$NAME.1.1 -signer sender-cert.pem -inkey sender-cert.key -outform DER \
        | base64 > FS.$NAME.1.1
    : > GO.$NAME.1
    printf 'put FI.%s.1.1 INTEST/\nput FS.%s.1.1 INTEST/\nput GO.%s.1 INTEST/\n' $NAME $NAME $NAME | $SFTP
    read_acrf
    verify_acrf
   Names (PP.AAAA.SSSSSS.YYYYMMDD.NNNNN.E[.T.n]); today, with SEQ=A1B2, they are FI.DMFA.@sender.@today.A1B21.T.1.1,
   FS.DMFA.@sender.@today.A1B21.T.1.1 and GO.DMFA.@sender.@today.A1B21.T.1. The FS is base64 of a detached CMS
   signature over the FI's exact bytes, made with the certificate registered for the channel.

3. FTPS (curl, explicit TLS; the password is the technical user's)
    NAME=DMFA.@sender.$(date -u +%Y%m%d).${SEQ}2.T
    cp dmfa.xml FI.$NAME.1.1
    openssl cms -sign -binary -in FI.$NAME.1.1 -signer sender-cert.pem -inkey sender-cert.key -outform DER \
        | base64 > FS.$NAME.1.1
    : > GO.$NAME.1
    curl -sS -f --ssl-reqd @ftp_tls -u @user:$(cat password.txt) \
        -T "{FI.$NAME.1.1,FS.$NAME.1.1,GO.$NAME.1}" @ftp_url/INTEST/
    read_acrf
   @ftp_note
   The FTPS return folder (empty here: the ACRF went to SFTP), listed with curl, then with lftp:
    curl -sS -f --ssl-reqd @ftp_tls -u @user:$(cat password.txt) @ftp_url/OUTTEST/
    lftp -u @user,$(cat password.txt) -e "set ftp:ssl-force true; @lftp_tls; ls OUTTEST; bye" @ftp_url

4. Web service (curl): a bearer token for a private_key_jwt client assertion, then one PUT per file
    ASSERTION=$($GGA client assertion --sender sender.json)
    TOKEN=$(curl -sS -f -d grant_type=client_credentials -d client_assertion=$ASSERTION \
        -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
        @public/REST/oauth/v5/token | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
    NAME=DMFA.@sender.$(date -u +%Y%m%d).${SEQ}3.T
    cp dmfa.xml FI.$NAME.1.1
    openssl cms -sign -binary -in FI.$NAME.1.1 -signer sender-cert.pem -inkey sender-cert.key -outform DER \
        | base64 > FS.$NAME.1.1
    : > GO.$NAME.1
    for f in FI.$NAME.1.1 FS.$NAME.1.1 GO.$NAME.1; do \
        curl -sS -f -T $f -H "Authorization: Bearer $TOKEN" @public/REST/batch/v1/T/files/$f; echo; done
    read_acrf
   The assertion is a JWT signed with sender-cert.key (RS256): iss = sub = self-service:expeditor:@sender,
   aud = @public/REST/oauth/v5/token, exp within 60 s, a fresh jti (gga/client/transports.py shows it in Python
   with PyJWT). The GO's answer carries the ticket (the ACRF's ReferenceNbr) and acrf_channel, where the ACRF goes.
   Return files of a channel preferred for an application: GET @public/REST/batch/v1/T/returns, then GET or DELETE
   .../returns/<name> with the same bearer token.

5. The one-liner: the reference client names, signs, uploads, waits for the ACRF wherever it goes, checks its
   signature and prints the result as JSON (exit 0 accepted, 1 rejected, 2 transport error)
    $GGA client send dmfa.xml --sender sender.json --application DMFA --channel ws --out acrf
   --channel sftp|ftps|ws; `$GGA client fetch --sender sender.json --channel sftp --out acrf` downloads and picks
   up every return file. The FTPS certificate is trusted on first use (pinned in known_ftps.json) unless --ca names
   it (@data/keys/tls.pem).
""")


def howto(info: dict, services: Services) -> str:
    """The demo's README.txt: every indented command runs as written (tests/gga/test_demo_howto.py runs them)."""
    s = services.settings
    sftp_host, _, sftp_port = s.sftp_bind.rpartition(":")
    ftp_host, _, ftp_port = s.ftp_bind.rpartition(":")
    data = s.resolved_data_dir
    local = ftp_host in ("127.0.0.1", "localhost")
    # the FTPS certificate names localhost: verified there; elsewhere curl is told to accept it (-k)
    ftp_url = f"ftp://{'localhost' if local else ftp_host}:{ftp_port}"
    ftp_tls = f"--cacert {data}/keys/tls.pem" if local else "-k"
    lftp_tls = f"set ssl:ca-file {data}/keys/tls.pem" if local else "set ssl:verify-certificate false"
    ftp_note = (f"--cacert checks the gateway's own FTPS certificate ({data}/keys/tls.pem), which names localhost."
                if local else "-k: the gateway's own FTPS certificate names localhost only.")
    return HOWTO.substitute(
        enterprise=info["enterprise_number"], gap=info["gap_niss"], domain=info["domain_id"],
        sender=info["sender_number"], user=info["technical_user"], folder=data / "demo", data=data,
        public=s.resolved_public_url, sftp_host=sftp_host, sftp_port=sftp_port, ftp_url=ftp_url, ftp_tls=ftp_tls,
        ftp_note=ftp_note, lftp_tls=lftp_tls, today=datetime.now(UTC).strftime("%Y%m%d"))
