"""The checks a submission goes through when its GO arrives; each finding carries its ACRF code."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from gateway.acrf import Finding, detail
from gateway.naming import ENVIRONMENTS, parse
from kernel.catalogue import APPLICATIONS, Application
from kernel.clock import belgian_day
from kernel.errors import ErrorCode, GGAError
from keys.cms import VerificationPolicy, file_digest, verify_detached
from store.directory import SenderInfo


class Part(Protocol):
    """A received file as the checks read it: a ``store.models.ReceivedFile`` or the pipeline's plain copy."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def folder(self) -> str: ...
    @property
    def total(self) -> int | None: ...
    @property
    def part(self) -> int | None: ...
    @property
    def path(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def error_code(self) -> str | None: ...
    @property
    def received_at(self) -> datetime | None: ...


@dataclass
class SubmissionFiles:
    go: Part
    data: list[Part] = field(default_factory=list)  # FI
    signatures: list[Part] = field(default_factory=list)  # FS
    refused: list[Part] = field(default_factory=list)  # parts refused while streaming (too large)

    def all(self) -> list[Part]:
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
    received_at: datetime | None = None  # the GO's reception: for a signature whose own reception is unknown

    @property
    def signed_at(self) -> datetime:
        """A decision retried later (a day at most) judges the certificate as it was when the files came."""
        return self.received_at or self.now


def check(ctx: CheckContext) -> list[Finding]:
    go = parse(ctx.files.go.name)
    findings: list[Finding] = []
    if go.sender != ctx.sender.number:
        findings.append(Finding(ErrorCode.SENDER_NUMBER_MISMATCH, str(go),
                                detail("sender", found=go.sender, sender=ctx.sender.number)))
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
    return [Finding(code, f.name, detail("folder", folder=f.folder, expected=expected))
            for f in files.all() if f.folder != expected]


def _application(ctx: CheckContext, application: str, name: str) -> list[Finding]:
    if application not in APPLICATIONS:
        return [Finding(ErrorCode.APPLICATION_NOT_AUTHORISED, name, detail("application.unknown",
                                                                          application=application))]
    if not ctx.sender.may_send(ctx.channel, application):
        return [Finding(ErrorCode.APPLICATION_NOT_AUTHORISED, name, detail("application.channel",
                                                                          application=application,
                                                                          channel=ctx.channel))]
    return []


def _date(day, raw: str, name: str, ctx: CheckContext) -> list[Finding]:  # type: ignore[no-untyped-def]
    today = belgian_day(ctx.now)  # senders date their files in Belgian time: not a day of slack for everyone
    if day is None:
        return [Finding(ErrorCode.FILE_DATE_INVALID, name, detail("date.invalid", day=raw))]
    if day > today:
        return [Finding(ErrorCode.FILE_DATE_INVALID, name, detail("date.future", day=raw))]
    if day < today - timedelta(days=ctx.max_age_days):
        return [Finding(ErrorCode.FILE_DATE_INVALID, name, detail("date.old", day=raw, days=ctx.max_age_days))]
    return []


def _parts(ctx: CheckContext, total: int, environment: str) -> list[Finding]:
    files, findings = ctx.files, []
    by_part = {}
    for f in files.data:
        if f.total != total:
            findings.append(Finding(ErrorCode.PARTS_INCOMPLETE, f.name, detail("part.total", total=f.total,
                                                                               expected=total)))
        else:
            by_part[f.part] = f
    too_large = {f.part: f for f in files.refused if f.error_code == ErrorCode.FILE_TOO_LARGE}
    for number in range(1, total + 1):
        if number in too_large:
            findings.append(Finding(ErrorCode.FILE_TOO_LARGE, too_large[number].name, detail("part.too_large")))
        elif number not in by_part:
            findings.append(Finding(ErrorCode.PARTS_INCOMPLETE, files.go.name, detail("part.missing", part=number,
                                                                                      total=total)))
    signatures = {parse(f.name).with_kind("FI"): f for f in files.signatures}
    for part in by_part.values():
        fs = signatures.get(parse(part.name))
        if fs is None:
            if environment != "S":  # the contract's one exception, on every channel (docs/decisions.md)
                findings.append(Finding(ErrorCode.SIGNATURE_MISSING, part.name))
        else:
            findings += _signature(ctx, part, fs)
        findings += _identification(part)
    return findings


def _signature(ctx: CheckContext, data: Part, fs: Part) -> list[Finding]:
    channel = ctx.sender.channels.get(ctx.channel)
    certificates = list(channel.certificates) if channel else []

    def digest_of(algorithm: str) -> bytes:
        if algorithm == "sha256" and data.sha256:
            return bytes.fromhex(data.sha256)
        return file_digest(Path(data.path), algorithm)  # another digest: the one re-read, rare

    try:
        # the certificate is judged when the signature came (contract 5: "at reception"), not at the GO's later
        # reception: one that expired in between refused files signed while it was valid
        verify_detached(Path(fs.path).read_bytes(), digest_of, certificates, at=fs.received_at or ctx.signed_at,
                        policy=ctx.policy)
    except GGAError as err:
        return [Finding(err.code, data.name, err.message)]
    return []


def _identification(data: Part) -> list[Finding]:
    """An XML FI has a safe prolog (no DTD, no entities), and its Form/Identification names the file's application."""
    app = APPLICATIONS.get(parse(data.name).application)
    path = Path(data.path)
    try:
        xml = xml_prolog(path)
    except XmlUnsafe as exc:
        return [Finding(ErrorCode.XML_UNSAFE, data.name, str(exc))]
    if xml is None or app is None:
        return []
    try:  # an application without a value of its own: a Form near the start only (a file without one was parsed
        # whole for a check that could not refuse it: 70 s for 500 MiB, in the decision's write turn at times)
        found = _form_identification(path, xml, None if app.form_identification else PROLOG_LIMIT)
    except DefusedXmlException:
        return [Finding(ErrorCode.XML_UNSAFE, data.name)]
    except SyntaxError:  # ParseError: malformed XML is the application's to judge
        return []
    if found is not None and _names_another(app, found.strip().upper()):
        return [Finding(ErrorCode.APPLICATION_CONTENT_MISMATCH, data.name, detail(
            "identification", found=found.strip(), expected=app.form_identification or app.code,
            application=app.code))]
    return []


# what a Form/Identification may say: an application's own value where it has one, else any catalogue code
_IDENTIFIED = frozenset(name for a in APPLICATIONS.values() for name in (a.code, a.form_identification) if name)


def _names_another(app: Application, found: str) -> bool:
    """The element names another application: not this one's value where it has one (DIMONA for DIMN); where it
    has none (DUCN, PUBL...), another catalogue application (a DmfA's DMFA in a file named DUCN was accepted)."""
    if app.form_identification:
        return found != app.form_identification
    return found in _IDENTIFIED and found != app.code


# -- is it XML, in which encoding, and is its prolog safe ------------------------------------------------------------
PROLOG_LIMIT = 1 << 20  # characters before the root element (real prologs: a declaration, maybe a comment)
_CHUNK = 1 << 16
# XML 1.0 appendix F: a byte order mark, or the zero bytes around the first character ('<' or a blank, ASCII)
_BOMS = ((b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\xef\xbb\xbf", "utf-8"),
         (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe", "utf-16-le"))
_ZEROS = {(True, True, True, False): "utf-32-be", (False, True, True, True): "utf-32-le",
          (True, False, True, False): "utf-16-be", (False, True, False, True): "utf-16-le",
          (True, True, False, True): None, (True, False, True, True): None}  # UCS-4 in 2143/3412 order
_EBCDIC = b"\x4c\x6f\xa7\x94"  # '<?xm' in EBCDIC
# blanks (and stray byte order marks, as characters or as UTF-8 bytes read as Latin-1: skipping more only makes the
# scan look further), comments and processing instructions; anchored with match() and followed by nothing, the star
# never backtracks: one pass, each lazy body read once (an unclosed one to the end of the text, once per read)
_BLANKS = " \t\r\n\ufeff"
_MISC = re.compile(f"(?:[{_BLANKS}]+|\xef\xbb\xbf|<\\?.*?\\?>|<!--.*?-->)*", re.DOTALL)
_DTD_WORDS = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_DECLARED = re.compile(r"<\?xml\s[^>]*?\bencoding\s*=\s*[\"']([^\"']*)[\"']")
_MORE = -1  # the prolog goes on past what was read


class XmlUnsafe(Exception):
    """The FI is XML whose prolog declares a DTD or entities, or cannot be checked (encoding, length)."""


@dataclass(frozen=True)
class XmlFile:
    encoding: str  # the Python codec the document is read with
    bom: int  # bytes of byte order mark to skip


def xml_prolog(path: Path) -> XmlFile | None:
    """None when the file is not XML (its first non-blank character is not '<'); the encoding when it is and its
    prolog (everything before the root element) is safe; XmlUnsafe otherwise."""
    with path.open("rb") as f:
        encoding, bom = _detect(f.read(4))
        f.seek(bom)
        # an 8-bit document is scanned as Latin-1: every byte is a character and the markup is ASCII
        decoder = codecs.getincrementaldecoder(encoding or "latin-1")(errors="replace")
        text, size, resume = "", _CHUNK, 0
        while True:
            chunk = f.read(size)
            complete = len(chunk) < size
            text += decoder.decode(chunk, final=complete)
            root, resume = _root_index(text, complete, resume)
            if root != _MORE:
                break
            if len(text) > PROLOG_LIMIT:
                raise XmlUnsafe(f"no root element within the first {PROLOG_LIMIT} characters")
            size *= 2  # an unclosed comment is read again from its start: doubling keeps the total linear
    if root is None:
        return None
    return XmlFile(encoding or _declared_encoding(text[:root]), bom)


def _detect(head: bytes) -> tuple[str | None, int]:
    """(codec, BOM length); codec None for an 8-bit document, whose declaration names its encoding."""
    for mark, encoding in _BOMS:
        if head.startswith(mark):
            return (None if encoding == "utf-8" else encoding), len(mark)
    if head == _EBCDIC:
        raise XmlUnsafe("EBCDIC XML is not accepted")
    if len(head) == 4:
        zeros = tuple(b == 0 for b in head)
        if zeros in _ZEROS:
            if _ZEROS[zeros] is None:
                raise XmlUnsafe("UCS-4 in an unusual byte order is not accepted")
            return _ZEROS[zeros], 0
    return None, 0


def _root_index(text: str, complete: bool, start: int) -> tuple[int | None, int]:
    """(where the root element starts, None when this is not XML or _MORE when the text read ends in the prolog;
    where to resume once more text is read)."""
    i = _MISC.match(text, start).end()  # type: ignore[union-attr]  # * always matches
    if len(text) - i < 4 and not complete:  # "<!--" and "<!D" must not be told apart on a cut
        return _MORE, i
    if text.startswith(("<?", "<!--"), i):  # not closed
        return (None if complete else _MORE), i  # an unclosed comment in a whole file: no XML at all
    if text.startswith("<!", i):  # DOCTYPE, ENTITY, ELEMENT...: no DTD of any kind
        raise XmlUnsafe(f"{text[i:i + 40]!r} before the root element")
    if not text.startswith("<", i):
        return None, i
    found = _DTD_WORDS.search(text, 0, i)  # even inside a comment or a processing instruction
    if found:
        raise XmlUnsafe(f"{found.group(0)!r} in the prolog")
    return i, i


def _declared_encoding(prolog: str) -> str:
    """An 8-bit document's encoding: UTF-8 unless its declaration names another in which ASCII stays ASCII (a
    stateful or multi-byte one could hide markup the Latin-1 scan did not see)."""
    declared = _DECLARED.match(prolog.lstrip(_BLANKS))
    if declared is None:
        return "utf-8"
    label = declared.group(1)[:40]
    try:
        name = codecs.lookup(label).name
    except (LookupError, ValueError):  # ValueError: a NUL in the name
        raise XmlUnsafe(f"unknown encoding {label!r}") from None
    if name in ("utf-8", "ascii") or name.startswith(("iso8859-", "cp125")):
        return name
    raise XmlUnsafe(f"encoding {label!r} does not match the file (UTF-8, UTF-16, UTF-32, ISO-8859-x, windows-125x)")


class _FirstForm:
    """Parser target: the text of the Identification child of the first Form element (document order) having one;
    forms nested in that Form, or Identifications deeper in it, do not count."""

    def __init__(self) -> None:
        self.depth, self.form = 0, 0  # form: depth of the Form being looked at, 0 when none
        self.parts: list[str] | None = None
        self.found: str | None = None

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self.depth += 1
        name = tag.rsplit("}", 1)[-1]
        if not self.form and name == "Form":
            self.form = self.depth
        elif self.form and self.depth == self.form + 1 and name == "Identification" and self.parts is None:
            self.parts = []

    def data(self, text: str) -> None:
        if self.parts is not None and self.found is None:
            self.parts.append(text)

    def end(self, tag: str) -> None:
        if self.parts is not None and self.depth == self.form + 1 and self.found is None:
            self.found = "".join(self.parts)
        if self.depth == self.form:
            self.form, self.parts = 0, None  # a Form without Identification: the next one counts
        self.depth -= 1

    def close(self) -> str | None:
        return self.found


def _form_identification(path: Path, xml: XmlFile, limit: int | None = None) -> str | None:
    """Streams the document, decoded as ``xml_prolog`` decided, until the first form's Identification (or past
    ``limit`` bytes)."""
    target = _FirstForm()
    parser = DefusedXMLParser(target=target, forbid_dtd=True)
    decoder = codecs.getincrementaldecoder(xml.encoding)(errors="replace")
    leading = True
    read = 0
    with path.open("rb") as f:
        f.seek(xml.bom)
        while target.found is None and (limit is None or read < limit):
            chunk = f.read(_CHUNK)
            read += len(chunk)
            text = decoder.decode(chunk, final=not chunk)
            if leading:  # blanks before the declaration: a strict parser stops there, a lenient one reads on
                text = text.lstrip(_BLANKS)
                leading = not text
            if text:
                parser.feed(text)  # str: expat takes the encoding decided here, not the declared one
            if not chunk:
                break
    return target.found


def now() -> datetime:
    return datetime.now(UTC)
