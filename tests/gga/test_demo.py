import json
from pathlib import Path

from cryptography import x509

from gga.demo import seed
from tests.gga.test_demo_howto import commands


def test_demo_seed_is_idempotent_and_writes_sender_json(services, data_dir):
    first = seed(services)
    second = seed(services)
    assert first == second
    info = json.loads((data_dir / "demo" / "sender.json").read_text())
    assert set(info) == {"enterprise_number", "domain_id", "sender_number", "technical_user", "password",
                         "ssh_private_key", "certificate", "certificate_key", "gap_niss", "endpoints"}
    for key in ("ssh_private_key", "certificate", "certificate_key"):
        assert Path(info[key]).is_absolute() and Path(info[key]).exists()
    assert info["technical_user"].startswith("EXP") and len(info["sender_number"]) == 6
    with services.db.session() as session:
        from admin_api.identity import Caller
        from admin_api.sender.service import read

        sender = read(session, Caller(info["gap_niss"], "eid"), info["domain_id"])
    assert {c["type"] for c in sender["channels"]} == {"FTP", "SFTP", "WS"}
    assert all(a["preferred_channel"] == "SFTP" and len(a["channels"]) == 3 for a in sender["applications"])
    cert = x509.load_pem_x509_certificate(Path(info["certificate"]).read_bytes())
    assert all(c["certificate"]["serial_decimal"] == str(cert.serial_number) for c in sender["channels"])
    howto = (data_dir / "demo" / "README.txt").read_text()
    assert "-i id_ed25519" in howto and "openssl cms -sign" in howto and "<<EOF" not in howto
    assert info["endpoints"] == {"sftp": services.settings.sftp_bind, "ftp": services.settings.ftp_bind,
                                 "http": services.settings.resolved_public_url}
    steps = "\n".join(commands(howto))  # tests/gga/test_demo_howto.py runs them
    for needed in ('GGA="$PWD/.venv/bin/gga"', "--ssl-reqd", "/REST/oauth/v5/token", "/REST/batch/v1/T/files/",
                   "/api/v1/gateway/certificate", "openssl cms -verify", "client send", "FS.$NAME.1.1", "GO.$NAME.1"):
        assert needed in steps, needed
    assert "PASSWORD" not in steps and "<name>" not in steps  # no placeholder to fill in
    assert "preferred channel" in howto and "acrf_channel" in howto  # where the ACRF goes
