"""The checks a submission goes through when its GO arrives, on files built in memory (no database, no server)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.acrf import Finding
from gateway.checks import CheckContext, SubmissionFiles, check
from gateway.naming import parse
from kernel.errors import ErrorCode
from keys.cms import VerificationPolicy, fs_file, sign_detached
from keys.issuing import Issued
from store.directory import ChannelInfo, SenderInfo
from store.models import ReceivedFile
from tests.keys import pki

NUMBER = "123456"
MAX_AGE = 30
DMFA_XML = b"<?xml version='1.0'?><DmfAOriginal><Form><Identification>DMFA</Identification></Form></DmfAOriginal>"
FOLDERS = {"R": "IN", "T": "INTEST", "S": "INTEST-S"}


@dataclass(frozen=True)
class Certificates:
    signer: Issued
    expired: Issued
    stranger: Issued  # not registered on any channel
    ws_only: Issued  # registered on the WS channel only


@pytest.fixture(scope="module")
def certs() -> Certificates:
    ca = pki.ca("Checks test CA")
    now = datetime.now(UTC)
    return Certificates(pki.sender("checks signing", issuer=ca),
                        pki.sender("checks old", kind="ec", issuer=ca, not_before=now - timedelta(days=800),
                                   not_after=now - timedelta(days=1)),
                        pki.sender("checks stranger", kind="ec", issuer=ca),
                        pki.sender("checks ws", kind="ec", issuer=ca))


@pytest.fixture(scope="module")
def sender(certs: Certificates) -> SenderInfo:
    def channel(kind: str, apps: set[str], preferred: set[str], *extra: Issued) -> ChannelInfo:
        return ChannelInfo(kind, None, (certs.signer.certificate, certs.expired.certificate,
                                        *(c.certificate for c in extra)),
                           frozenset(apps), frozenset(preferred), plain_ftp=False)

    return SenderInfo(7, NUMBER, 3, "EXPchecks", "", True, {
        "SFTP": channel("SFTP", {"DMFA", "DIMN", "ZIMA"}, {"DMFA"}),
        "FTP": channel("FTP", {"DIMN", "CHTP", "DMFA", "ZIMA"}, {"DIMN"}),
        # the WS channel knows one more signer; no certificate at all on WS would be a different sender
        "WS": ChannelInfo("WS", None, (certs.ws_only.certificate,), frozenset({"DMFA", "ZIMA", "WECH"}),
                          frozenset({"ZIMA", "WECH"}), plain_ftp=False),
    })


def day(offset: int = 0, base: datetime | None = None) -> str:
    return ((base or datetime.now(UTC)) + timedelta(days=offset)).strftime("%Y%m%d")


class Builder:
    """Writes FI/FS files to a folder and makes the ReceivedFile rows the pipeline would have recorded."""

    def __init__(self, folder: Path, certs: Certificates):
        self.folder, self.certs = folder, certs
        self.next_id = 1

    def row(self, name: str, folder: str, content: bytes | None, *, sha256: str | None = None,
            status: str = "received", error_code: str | None = None) -> ReceivedFile:
        parsed = parse(name)
        path = ""
        if content is not None:
            target = self.folder / name
            target.write_bytes(content)
            path = str(target)
        self.next_id += 1
        return ReceivedFile(id=self.next_id, sender_id=7, channel="SFTP", folder=folder, name=name, kind=parsed.kind,
                            base=parsed.base, total=parsed.total, part=parsed.part, path=path,
                            size=len(content or b""),
                            sha256=sha256 if sha256 is not None or content is None else
                            hashlib.sha256(content).hexdigest(),
                            status=status, error_code=error_code)

    def submission(self, *, app: str = "DMFA", env: str = "T", sender: str = NUMBER, created: str | None = None,
                   seq: str = "00001", parts: int = 1, content: bytes = DMFA_XML, sign: bool = True,
                   signer: Issued | None = None, folder: str | None = None) -> SubmissionFiles:
        folder = folder or FOLDERS.get(env, "INTEST")
        base = f"{app}.{sender}.{created or day()}.{seq}.{env}"
        files = SubmissionFiles(self.row(f"GO.{base}.{parts}", folder, b""))
        for n in range(1, parts + 1):
            data = content if parts == 1 else content + f"<!-- part {n} -->".encode()
            files.data.append(self.row(f"FI.{base}.{parts}.{n}", folder, data))
            if sign:
                files.signatures.append(self.row(f"FS.{base}.{parts}.{n}", folder, self.fs(data, signer)))
        return files

    def fs(self, data: bytes, signer: Issued | None = None) -> bytes:
        who = signer or self.certs.signer
        return fs_file(sign_detached(data, who.certificate, who.key))


@pytest.fixture
def make(tmp_path: Path, certs: Certificates) -> Builder:
    return Builder(tmp_path, certs)


def run(sender: SenderInfo, files: SubmissionFiles, channel: str = "SFTP", already: bool = False,
        now: datetime | None = None) -> list[Finding]:
    return check(CheckContext(sender, channel, files, already, MAX_AGE, VerificationPolicy(), now or datetime.now(UTC)))


def at_utc(hour: int, minute: int = 0) -> datetime:
    """The next moment at this UTC time of day (never earlier than now: the test certificates start now)."""
    now = datetime.now(UTC)
    moment = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return moment if moment >= now else moment + timedelta(days=1)


def codes(findings: list[Finding]) -> list[str]:
    return [str(f.code) for f in findings]


# -- a clean submission -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("env", "parts", "app", "channel"), [
    ("T", 1, "DMFA", "SFTP"), ("R", 3, "DMFA", "SFTP"), ("S", 2, "ZIMA", "WS"), ("T", 1, "CHTP", "FTP"),
])
def test_a_clean_submission_has_no_findings(sender, make, certs, env, parts, app, channel):
    signer = certs.ws_only if channel == "WS" else None
    content = DMFA_XML if app == "DMFA" else b"a flat file"
    assert run(sender, make.submission(env=env, parts=parts, app=app, content=content, signer=signer),
               channel) == []


def test_a_clean_submission_really_is_checked(sender, make):
    """The same submission as above, with its one FS left out: the checks do look at the files."""
    files = make.submission()
    files.signatures.clear()
    assert codes(run(sender, files)) == ["SIGNATURE_MISSING"]


# -- the name ---------------------------------------------------------------------------------------------------------
def test_another_senders_number(sender, make):
    findings = run(sender, make.submission(sender="654321"))
    assert codes(findings) == ["SENDER_NUMBER_MISMATCH"]
    assert findings[0].error_id == "ACRF-108"
    assert findings[0].file_name == f"GO.DMFA.654321.{day()}.00001.T.1"
    assert "654321" in findings[0].detail and NUMBER in findings[0].detail


def test_an_environment_that_is_not_r_t_or_s(sender, make):
    files = make.submission(env="X", folder="INTEST")
    findings = run(sender, files)
    assert codes(findings) == ["ENVIRONMENT_INVALID"]
    assert findings[0].error_id == "ACRF-117" and findings[0].file_name == files.go.name


def test_a_production_file_in_a_test_folder(sender, make):
    files = make.submission(env="R", folder="INTEST")
    findings = run(sender, files)
    assert codes(findings) == ["PRODUCTION_FILE_IN_TEST_FOLDER"] * 3  # FI, FS and GO: each is named
    assert {f.file_name for f in findings} == {f.name for f in files.all()}
    assert {f.error_id for f in findings} == {"ACRF-118"}
    assert "in /INTEST, expected /IN" in findings[0].detail


@pytest.mark.parametrize(("env", "folder"), [("T", "INTEST-S"), ("S", "INTEST"), ("T", "IN"), ("S", "IN")])
def test_a_test_file_in_the_wrong_folder(sender, make, env, folder):
    findings = run(sender, make.submission(env=env, folder=folder, sign=env != "S"))
    assert codes(findings) == ["TEST_FILE_IN_WRONG_FOLDER"] * (2 if env == "S" else 3)
    assert {f.error_id for f in findings} == {"ACRF-119"}


def test_only_the_misplaced_file_is_named(sender, make):
    files = make.submission(env="T")
    files.data[0].folder = "INTEST-S"
    findings = run(sender, files)
    assert [(f.code, f.file_name, f.detail) for f in findings] == [
        (ErrorCode.TEST_FILE_IN_WRONG_FOLDER, files.data[0].name, "in /INTEST-S, expected /INTEST")]


def test_an_unknown_application(sender, make):
    findings = run(sender, make.submission(app="XXXX", content=b"flat"))
    assert codes(findings) == ["APPLICATION_NOT_AUTHORISED"]
    assert findings[0].error_id == "ACRF-154" and "unknown application XXXX" in findings[0].detail


def test_an_application_not_on_that_channel(sender, make):
    files = make.submission(app="CHTP", content=b"flat")  # CHTP is on the FTP channel only
    assert run(sender, files, "FTP") == []
    findings = run(sender, files, "SFTP")
    assert codes(findings) == ["APPLICATION_NOT_AUTHORISED"]
    assert findings[0].detail == "CHTP on the SFTP channel"


# -- the creation date ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("created", "why"), [
    ("20261340", "{} is not a date"),
    ("20250229", "{} is not a date"),
    (1, "{} is in the future"),
    (400, "{} is in the future"),
    (-MAX_AGE - 1, f"{{}} is older than {MAX_AGE} days"),
])
def test_an_invalid_creation_date(sender, make, created, why):
    """At noon UTC, Belgium's day is the UTC day: tomorrow is the future (a day of slack for everyone let it in)."""
    noon = at_utc(12)
    created = day(created, noon) if isinstance(created, int) else created  # days from that day
    findings = run(sender, make.submission(created=created), now=noon)
    assert codes(findings) == ["FILE_DATE_INVALID"]
    assert findings[0].detail == why.format(created)


@pytest.mark.parametrize("offset", [0, -MAX_AGE])
def test_the_edges_of_the_date_window_are_accepted(sender, make, offset):
    """Today and exactly the maximum age."""
    noon = at_utc(12)
    assert run(sender, make.submission(created=day(offset, noon)), now=noon) == []


def test_a_file_dated_in_belgian_time_is_taken_once_the_day_has_begun_in_belgium(sender, make):
    """23:30 UTC is already the next day in Brussels (00:30 in winter, 01:30 in summer): a file dated that day is
    not in the future; the day after it is."""
    late = at_utc(23, 30)
    assert run(sender, make.submission(created=day(1, late)), now=late) == []
    findings = run(sender, make.submission(created=day(2, late)), now=late)
    assert codes(findings) == ["FILE_DATE_INVALID"] and findings[0].detail == f"{day(2, late)} is in the future"


# -- the submission's history ---------------------------------------------------------------------------------------
def test_a_name_already_accepted(sender, make):
    files = make.submission()
    findings = run(sender, files, already=True)
    assert codes(findings) == ["NAME_ALREADY_ACCEPTED"]
    assert findings[0].file_name == files.go.name and findings[0].detail == parse(files.go.name).base


# -- the parts --------------------------------------------------------------------------------------------------------
def test_a_missing_part(sender, make):
    files = make.submission(parts=3)
    del files.data[1], files.signatures[1]
    findings = run(sender, files)
    assert [(f.code, f.file_name, f.detail) for f in findings] == [
        (ErrorCode.PARTS_INCOMPLETE, files.go.name, "FI part 2 of 3 is missing")]


def test_no_part_at_all(sender, make):
    files = make.submission(parts=2)
    files.data.clear()
    files.signatures.clear()
    assert codes(run(sender, files)) == ["PARTS_INCOMPLETE", "PARTS_INCOMPLETE"]


def test_a_part_of_another_total(sender, make):
    files = make.submission(parts=1)
    stray = make.submission(parts=2, seq="00001")  # same base, FI ...2.1 and ...2.2
    files.data[:] = [stray.data[0]]
    files.signatures[:] = [stray.signatures[0]]
    findings = run(sender, files)
    assert [(f.code, f.file_name) for f in findings] == [
        (ErrorCode.PARTS_INCOMPLETE, stray.data[0].name),  # "part of 2, the GO says 1"
        (ErrorCode.PARTS_INCOMPLETE, files.go.name),  # and part 1 of 1 is still missing
    ]
    assert findings[0].detail == "part of 2, the GO says 1"


def test_a_part_refused_as_too_large(sender, make):
    files = make.submission(parts=2)
    big = files.data.pop(1)
    files.signatures.pop(1)
    files.refused.append(make.row(big.name, big.folder, None, status="refused", error_code="FILE_TOO_LARGE"))
    findings = run(sender, files)
    assert [(f.code, f.file_name, f.error_id) for f in findings] == [
        (ErrorCode.FILE_TOO_LARGE, big.name, "ACRF-184")]


def test_a_part_refused_for_another_reason_is_missing(sender, make):
    files = make.submission(parts=2)
    cut = files.data.pop(1)
    files.signatures.pop(1)
    files.refused.append(make.row(cut.name, cut.folder, None, status="refused", error_code="UPLOAD_INCOMPLETE"))
    assert codes(run(sender, files)) == ["PARTS_INCOMPLETE"]


# -- signatures -------------------------------------------------------------------------------------------------------
def test_an_unsigned_part_outside_simulation(sender, make):
    files = make.submission(parts=2, sign=False)
    findings = run(sender, files)
    assert [(f.code, f.file_name) for f in findings] == [(ErrorCode.SIGNATURE_MISSING, d.name) for d in files.data]


@pytest.mark.parametrize("channel", ["SFTP", "WS", "FTP"])
def test_no_signature_needed_in_simulation(sender, make, channel):
    """The contract's "FS may be omitted only in environment S", on every channel (FTP demanded it there)."""
    assert run(sender, make.submission(env="S", sign=False), channel) == []


def test_a_signature_in_simulation_is_still_verified(sender, make):
    files = make.submission(env="S")
    files.signatures[0] = make.row(files.signatures[0].name, "INTEST-S", make.fs(b"something else"))
    assert codes(run(sender, files)) == ["SIGNATURE_INVALID"]


def test_tampered_content(sender, make):
    files = make.submission()
    tampered = DMFA_XML.replace(b"DmfAOriginal", b"DmfAOriginaX")
    fi = files.data[0]
    files.data[0] = make.row(fi.name, fi.folder, tampered)  # signed before, changed after
    findings = run(sender, files)
    assert [(f.code, f.file_name) for f in findings] == [(ErrorCode.SIGNATURE_INVALID, fi.name)]


def test_the_digest_used_is_the_one_computed_while_streaming(sender, make):
    """The file on disk matches its FS; the digest recorded while it streamed does not: that one counts."""
    files = make.submission()
    files.data[0].sha256 = hashlib.sha256(b"what really arrived").hexdigest()
    assert codes(run(sender, files)) == ["SIGNATURE_INVALID"]


def test_a_signer_not_registered(sender, make, certs):
    findings = run(sender, make.submission(signer=certs.stranger))
    assert codes(findings) == ["SIGNER_NOT_REGISTERED"]
    assert findings[0].error_id == "ACRF-153"


def test_a_signer_registered_on_another_channel_only(sender, make, certs):
    files = make.submission(signer=certs.ws_only)
    assert run(sender, files, "WS") == []
    assert codes(run(sender, files, "SFTP")) == ["SIGNER_NOT_REGISTERED"]


def test_an_expired_certificate(sender, make, certs):
    findings = run(sender, make.submission(signer=certs.expired))
    assert codes(findings) == ["CERTIFICATE_EXPIRED"]
    assert "expired on" in findings[0].detail


def test_a_certificate_is_judged_at_the_reception_of_the_files_not_at_a_later_decision(sender, make, certs):
    """A decision retried a day later (the database was down) refused a signature whose certificate was valid
    when the files came, and expired since."""
    files = make.submission(signer=certs.expired)
    expired_on = certs.expired.certificate.not_valid_after_utc
    at_reception = CheckContext(sender, "SFTP", files, False, MAX_AGE, VerificationPolicy(), datetime.now(UTC),
                                received_at=expired_on - timedelta(hours=1))
    assert codes(check(at_reception)) == []


def test_a_certificate_is_judged_at_the_reception_of_the_signature_not_of_the_go(sender, make, certs):
    """The FS came while its certificate was valid, the GO after it expired: the files were refused
    (CERTIFICATE_EXPIRED), judged at the GO's reception where the contract says at theirs."""
    files = make.submission(signer=certs.expired)
    expired_on = certs.expired.certificate.not_valid_after_utc
    files.signatures[0].received_at = expired_on - timedelta(minutes=1)
    go_after = CheckContext(sender, "SFTP", files, False, MAX_AGE, VerificationPolicy(), datetime.now(UTC),
                            received_at=expired_on + timedelta(minutes=1))
    assert codes(check(go_after)) == []
    files.signatures[0].received_at = expired_on + timedelta(seconds=1)  # signed files that came too late
    assert codes(check(go_after)) == ["CERTIFICATE_EXPIRED"]


def test_one_bad_part_of_several(sender, make, certs):
    files = make.submission(parts=3)
    third = Path(files.data[2].path).read_bytes()
    files.signatures[2] = make.row(files.signatures[2].name, "INTEST", make.fs(third, certs.stranger))
    findings = run(sender, files)
    assert [(f.code, f.file_name) for f in findings] == [(ErrorCode.SIGNER_NOT_REGISTERED, files.data[2].name)]


# -- the content ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("content", [
    b"<?xml version='1.0'?><DmfAOriginal><Form><Identification>DIMONA</Identification></Form></DmfAOriginal>",
    b"\xef\xbb\xbf  <a xmlns='urn:x'><Form><Identification>ZIMA</Identification></Form></a>",
])
def test_form_identification_naming_another_application(sender, make, content):
    files = make.submission(content=content)
    findings = run(sender, files)
    assert [(f.code, f.file_name, f.error_id) for f in findings] == [
        (ErrorCode.APPLICATION_CONTENT_MISMATCH, files.data[0].name, "ACRF-129")]


@pytest.mark.parametrize("app", ["PUBL", "CHTP", "ECAR", "DUCN", "RCAD"])
def test_an_application_without_its_own_identification_still_refuses_another_one(sender, make, app):
    """A DmfA (Form/Identification DMFA) named DUCN, PUBL...: those applications have no value of their own in the
    catalogue, and the check was skipped for them."""
    files = make.submission(app=app)
    findings = [f for f in run(sender, files) if f.code == ErrorCode.APPLICATION_CONTENT_MISMATCH]
    assert [(f.file_name, f.error_id) for f in findings] == [(files.data[0].name, "ACRF-129")]
    own = b"<Batch><Form><Identification>%s</Identification></Form></Batch>" % app.encode()
    unknown = b"<Batch><Form><Identification>LOCAL-42</Identification></Form></Batch>"
    for content in (own, unknown):  # its own code, or a value no catalogue application uses: not contradicted
        assert ErrorCode.APPLICATION_CONTENT_MISMATCH not in {f.code for f in run(sender, make.submission(
            app=app, content=content, seq="00002" if content == own else "00003"))}


@pytest.mark.parametrize("content", [
    b"<DmfAOriginal><Form><Identification> dmfa </Identification></Form></DmfAOriginal>",  # case and blanks
    b"<DmfAOriginal><Identification>DIMONA</Identification></DmfAOriginal>",  # not under Form
    b"<DmfAOriginal><Form><Other>DIMONA</Other></Form></DmfAOriginal>",  # no Identification
    b"<DmfAOriginal><Form><Identification>DMFA</Identification>",  # malformed: the application's to judge
    b"DMFA flat file, not XML <Form><Identification>DIMONA</Identification></Form>",
])
def test_content_that_does_not_contradict_the_name(sender, make, content):
    assert run(sender, make.submission(content=content)) == []


@pytest.mark.parametrize("content", [
    b"<?xml version='1.0'?><!DOCTYPE a [<!ENTITY x 'y'>]><a><Form><Identification>&x;</Identification></Form></a>",
    b"<?xml version='1.0'?><!DOCTYPE a SYSTEM 'file:///etc/passwd'><a/>",
    b"<!DOCTYPE lolz [<!ENTITY lol 'lol'><!ENTITY lol2 '&lol;&lol;'>]><lolz>&lol2;</lolz>",
])
def test_xml_with_a_dtd_or_entities(sender, make, content):
    files = make.submission(content=content)
    findings = run(sender, files)
    assert [(f.code, f.file_name) for f in findings] == [(ErrorCode.XML_UNSAFE, files.data[0].name)]


def test_findings_add_up(sender, make, certs):
    """Every check runs: a submission wrong in several ways is told all of them at once."""
    files = make.submission(sender="654321", created="20261340", signer=certs.stranger)
    assert codes(run(sender, files, already=True)) == [
        "SENDER_NUMBER_MISMATCH", "FILE_DATE_INVALID", "NAME_ALREADY_ACCEPTED", "SIGNER_NOT_REGISTERED"]
