"""Signed submissions over SFTP, from upload to ACRF, with real clients (asyncssh and OpenSSH sftp)."""

import re
import subprocess
import time

from keys.certificates import load_certificate
from keys.cms import verify_detached
from tests.gateway.harness import build, error_ids, openssh_sftp, put, wait_submission
from tests.keys import pki


def test_accepted_submission_gets_a_signed_acrf_on_the_preferred_channel(harness, kit, db):
    sub = build(kit)
    assert put(harness.port, kit, sub) == []
    acrf = harness.wait_acrf(kit)
    wait_submission(db, sub.go)  # the parts move and the bus hears of it after the ACRF
    assert acrf.findtext("FileName") == sub.go
    assert acrf.findtext("ResultCode") == "1" and error_ids(acrf) == []
    assert re.fullmatch(r"[0-9A-Z]{13}", acrf.findtext("ReferenceNbr"))
    (fo,) = harness.acrfs(kit)
    assert re.fullmatch(r"FO\.ACRF\.999999\.\d{8}\.[0-9A-Z]{5}\.T", fo.name)
    fs = fo.parent / ("FS" + fo.name[2:])
    gateway_cert = harness.gateway.identity.certificate
    assert verify_detached(fs.read_bytes(), pki.digest_of(fo.read_bytes()), [gateway_cert],
                           at=gateway_cert.not_valid_before_utc.replace(year=gateway_cert.not_valid_before_utc.year + 1)
                           ) == gateway_cert
    # the application got the files and a manifest; the upload folder is empty again
    ticket = acrf.findtext("ReferenceNbr")
    spool = harness.gateway.spool.application_folder("DMFA", "T", ticket)
    assert sorted(p.name for p in spool.iterdir()) == sorted([n for _, n, _ in sub.files] + ["manifest.json"])
    assert list((harness.home(kit) / "INTEST").iterdir()) == []
    deadline = time.monotonic() + 10  # the outbox relay publishes just after the acceptance is committed
    while not any(p["ticket"] == ticket for _, p in harness.gateway.bus.recent):
        assert time.monotonic() < deadline, "the accepted event never reached the bus"
        time.sleep(0.02)
    assert harness.gateway.bus.recent[-1][0] == "submission.accepted"


def test_multi_part_submission(harness, kit):
    sub = build(kit, parts=3, seq="0000A")
    assert put(harness.port, kit, sub) == []
    acrf = harness.wait_acrf(kit)
    assert acrf.findtext("ResultCode") == "1"
    assert len(acrf.find("Files")) == 3


def test_openssh_sftp_client_with_openssl_signature(harness, kit, tmp_path):
    sub = build(kit, sign=False, seq="00SSH")
    fi_name, fi_data = sub.files[0][1], sub.files[0][2]
    (tmp_path / fi_name).write_bytes(fi_data)
    der = pki.openssl_sign(fi_data, kit.certificate, tmp_path)
    (tmp_path / ("FS" + fi_name[2:])).write_text(__import__("base64").encodebytes(der).decode())  # wrapped base64
    (tmp_path / sub.go).write_bytes(b"")
    batch = f"cd INTEST\nput {fi_name}\nput FS{fi_name[2:]}\nput {sub.go}\n"
    ssh = openssh_sftp(harness.port, kit.technical_user, kit.ssh_key_path)
    result = subprocess.run(ssh, input=batch, text=True, capture_output=True, cwd=tmp_path, timeout=60)
    assert result.returncode == 0 and result.stderr == "", result.stderr  # nothing said where nothing was refused
    harness.wait_acrf(kit)
    get = subprocess.run(ssh, input="cd OUTTEST\nls -l\nget FO.ACRF.*\n", text=True, capture_output=True,
                         cwd=tmp_path, timeout=60)
    assert get.returncode == 0, get.stderr
    (fo,) = tmp_path.glob("FO.ACRF.*")
    assert "<ResultCode>1</ResultCode>" in fo.read_text()
    assert "GO.ACRF." in get.stdout  # ls -l lists the set: FO, FS, GO


def test_openssh_sftp_shows_why_an_upload_was_refused(harness, kit, tmp_path):
    """OpenSSH's sftp printed only 'dest open "/INTEST/FI.bad": Failure': the code never reached its user."""
    fi_name = build(kit, seq="00SSE").files[0][1]
    fs_name = "FS" + fi_name[2:]
    for name, size in (("FI.bad", 100), (fi_name, 100), (fs_name, 3 << 20)):
        (tmp_path / name).write_bytes(b"D" * size)
    ssh = openssh_sftp(harness.port, kit.technical_user, kit.ssh_key_path)
    for batch, told in (("put FI.bad /INTEST/FI.bad\n", "FILE_NAME_INVALID: FI.bad: "),
                        (f"put {fi_name} /INTEST/{fi_name}\n", None),
                        (f"put {fi_name} /INTEST/{fi_name}\n", "FILE_ALREADY_RECEIVED: "),
                        (f"put {fs_name} /INTEST/{fs_name}\n", "FILE_TOO_LARGE: ")):
        result = subprocess.run(ssh, input=batch, text=True, capture_output=True, cwd=tmp_path, timeout=60)
        if told is None:
            assert result.returncode == 0 and result.stderr == "", result.stderr
        else:  # once, whatever the writes the client had in flight after the first refused
            assert result.returncode != 0 and result.stderr.count(told) == 1, result.stderr


def test_gateway_signature_checks_with_openssl(harness, kit, tmp_path):
    put(harness.port, kit, build(kit))
    harness.wait_acrf(kit)
    (fo,) = harness.acrfs(kit)
    fs = fo.parent / ("FS" + fo.name[2:])
    (tmp_path / "sig.der").write_bytes(__import__("base64").b64decode(fs.read_bytes()))
    (tmp_path / "gw.pem").write_bytes(harness.gateway.identity.cert_pem())
    verified = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in",
                               str(tmp_path / "sig.der"), "-content", str(fo), "-CAfile", str(tmp_path / "gw.pem"),
                               "-purpose", "any", "-out", "/dev/null"], capture_output=True)
    assert verified.returncode == 0, verified.stderr
    assert load_certificate(harness.gateway.identity.cert_pem()).subject == harness.gateway.identity.certificate.subject
