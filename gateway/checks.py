"""The checks a submission goes through when its GO arrives; each finding carries its ACRF code."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from gateway.acrf import Finding
from gateway.naming import ENVIRONMENTS, parse
from kernel.catalogue import APPLICATIONS
from kernel.errors import ErrorCode, GGAError
from keys.cms import VerificationPolicy, file_digest, verify_detached
from store.directory import SenderInfo
from store.models import ReceivedFile


@dataclass
class SubmissionFiles:
    go: ReceivedFile
    data: list[ReceivedFile] = field(default_factory=list)  # FI
    signatures: list[ReceivedFile] = field(default_factory=list)  # FS
    refused: list[ReceivedFile] = field(default_factory=list)  # parts refused while streaming (too large)

    def all(self) -> list[ReceivedFile]:
        return [*self.data, *self.signatures, self.go]


@dataclass
class CheckContext:
    sender: SenderInfo
    channel: str
    files: SubmissionFiles
    already_accepted: bool
    max_age_days: int
    policy: VerificationPolicy
    now: datetime


def check(ctx: CheckContext) -> list[Finding]:
    go = parse(ctx.files.go.name)
    findings: list[Finding] = []
    if go.sender != ctx.sender.number:
        findings.append(Finding(ErrorCode.SENDER_NUMBER_MISMATCH, str(go),
                                f"{go.sender} is not sender {ctx.sender.number}"))
    findings += _environment(ctx.files, go.environment)
    findings += _application(ctx, go.application, str(go))
    findings += _date(go.creation_date(), go.day, str(go), ctx)
    if ctx.already_accepted:
        findings.append(Finding(ErrorCode.NAME_ALREADY_ACCEPTED, str(go), go.base))
    findings += _parts(ctx, go.total or 0, go.environment)
    return findings


def _environment(files: SubmissionFiles, environment: str) -> list[Finding]:
    if environment not in ENVIRONMENTS:
        return [Finding(ErrorCode.ENVIRONMENT_INVALID, files.go.name, f"'{environment}'")]
    expected = ENVIRONMENTS[environment]
    code = ErrorCode.PRODUCTION_FILE_IN_TEST_FOLDER if environment == "R" else ErrorCode.TEST_FILE_IN_WRONG_FOLDER
    return [Finding(code, f.name, f"in /{f.folder}, expected /{expected}") for f in files.all() if f.folder != expected]


def _application(ctx: CheckContext, application: str, name: str) -> list[Finding]:
    if application not in APPLICATIONS:
        return [Finding(ErrorCode.APPLICATION_NOT_AUTHORISED, name, f"unknown application {application}")]
    if not ctx.sender.may_send(ctx.channel, application):
        return [Finding(ErrorCode.APPLICATION_NOT_AUTHORISED, name, f"{application} on the {ctx.channel} channel")]
    return []


def _date(day, raw: str, name: str, ctx: CheckContext) -> list[Finding]:  # type: ignore[no-untyped-def]
    today = ctx.now.date()
    if day is None:
        return [Finding(ErrorCode.FILE_DATE_INVALID, name, f"{raw} is not a date")]
    if day > today + timedelta(days=1):  # a day of slack: senders date files in Belgian time
        return [Finding(ErrorCode.FILE_DATE_INVALID, name, f"{raw} is in the future")]
    if day < today - timedelta(days=ctx.max_age_days):
        return [Finding(ErrorCode.FILE_DATE_INVALID, name, f"{raw} is older than {ctx.max_age_days} days")]
    return []


def _parts(ctx: CheckContext, total: int, environment: str) -> list[Finding]:
    files, findings = ctx.files, []
    by_part = {}
    for f in files.data:
        if f.total != total:
            findings.append(Finding(ErrorCode.PARTS_INCOMPLETE, f.name, f"part of {f.total}, the GO says {total}"))
        else:
            by_part[f.part] = f
    too_large = {f.part: f for f in files.refused if f.error_code == ErrorCode.FILE_TOO_LARGE}
    for number in range(1, total + 1):
        if number in too_large:
            findings.append(Finding(ErrorCode.FILE_TOO_LARGE, too_large[number].name, "refused while receiving"))
        elif number not in by_part:
            findings.append(Finding(ErrorCode.PARTS_INCOMPLETE, files.go.name, f"FI part {number} of {total} "
                                    "is missing"))
    signatures = {parse(f.name).with_kind("FI"): f for f in files.signatures}
    for part in by_part.values():
        fs = signatures.get(parse(part.name))
        if fs is None:
            # FTP reports a cut data connection as complete: there the signature is the proof, even in S
            if environment != "S" or ctx.channel == "FTP":
                findings.append(Finding(ErrorCode.SIGNATURE_MISSING, part.name))
        else:
            findings += _signature(ctx, part, fs)
        findings += _identification(part)
    return findings


def _signature(ctx: CheckContext, data: ReceivedFile, fs: ReceivedFile) -> list[Finding]:
    channel = ctx.sender.channels.get(ctx.channel)
    certificates = list(channel.certificates) if channel else []

    def digest_of(algorithm: str) -> bytes:
        if algorithm == "sha256" and data.sha256:
            return bytes.fromhex(data.sha256)
        return file_digest(Path(data.path), algorithm)  # another digest: the one re-read, rare

    try:
        verify_detached(Path(fs.path).read_bytes(), digest_of, certificates, at=ctx.now, policy=ctx.policy)
    except GGAError as err:
        return [Finding(err.code, data.name, err.message)]
    return []


def _identification(data: ReceivedFile) -> list[Finding]:
    """When the FI is XML with Form/Identification, it must name the file's application."""
    app = APPLICATIONS.get(parse(data.name).application)
    path = Path(data.path)
    with path.open("rb") as f:
        head = f.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"<") or app is None:
        return []
    try:
        found = _form_identification(path)
    except DefusedXmlException:
        return [Finding(ErrorCode.XML_UNSAFE, data.name)]
    except SyntaxError:  # ParseError: malformed XML is the application's to judge
        return []
    if found is not None and app.form_identification and found.strip().upper() != app.form_identification:
        return [Finding(ErrorCode.APPLICATION_CONTENT_MISMATCH, data.name,
                        f"Form/Identification is {found.strip()!r}, the name says {app.code}")]
    return []


def _form_identification(path: Path) -> str | None:
    stack: list[str] = []
    for event, element in iterparse(str(path), events=("start", "end"), forbid_dtd=True):
        tag = element.tag.rsplit("}", 1)[-1]
        if event == "start":
            stack.append(tag)
            continue
        if tag == "Identification" and len(stack) >= 2 and stack[-2] == "Form":
            return element.text or ""
        stack.pop()
        element.clear()
    return None


def now() -> datetime:
    return datetime.now(UTC)
