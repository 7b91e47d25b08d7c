"""What a sender's content may not get past (issue 12): a DTD in any encoding or after any blanks, a form of another
application, an attached signature carrying other content, an assertion signed by a key of the wrong type; weak
certificates registered before the rule still work and are logged. Real signed submissions over SFTP, then the
parsers fuzzed and timed on adversarial inputs."""

from __future__ import annotations

import codecs
import contextlib
import logging
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest
from asn1crypto import cms as asn1_cms
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser
from defusedxml.ElementTree import fromstring as defused_fromstring
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from gateway.checks import _identification
from gateway.naming import parse
from kernel.errors import ErrorCode, GGAError
from keys.certificates import fingerprint, pem
from keys.cms import fs_file
from store.models import ChannelCertificate, Sender, SenderChannel
from store.models import ReceivedFile as ReceivedFileRow
from tests.gateway.harness import build, error_ids, put
from tests.keys import pki

FORM = "<DmfAOriginal><Form><Identification>{}</Identification></Form></DmfAOriginal>"
LAUGHS = "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
BILLION_LAUGHS = (f'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">{LAUGHS}]>'
                  + FORM.format("&lol9;"))
EXTERNAL = ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            + FORM.format("&xxe;"))


def declared(text: str, encoding: str) -> str:
    return text.replace('<?xml version="1.0"?>', f'<?xml version="1.0" encoding="{encoding}"?>')


DTD_CASES = {
    "100 leading blanks + DTD": b" " * 100 + BILLION_LAUGHS.encode(),
    "UTF-16 LE with BOM + DTD": codecs.BOM_UTF16_LE + declared(BILLION_LAUGHS, "UTF-16").encode("utf-16-le"),
    "UTF-16 BE with BOM + DTD": codecs.BOM_UTF16_BE + declared(BILLION_LAUGHS, "UTF-16").encode("utf-16-be"),
    "UTF-16 without BOM + DTD": declared(BILLION_LAUGHS, "UTF-16").encode("utf-16-le"),
    "UTF-16 without BOM, blanks first + external entity": ("\r\n  " + EXTERNAL).encode("utf-16-be"),
    "UTF-32 with BOM + DTD": BILLION_LAUGHS.encode("utf-32"),
    "billion laughs": BILLION_LAUGHS.encode(),
    "external entity": EXTERNAL.encode(),
    "a DTD after a comment": ("<!-- a comment -->\n" + EXTERNAL.removeprefix('<?xml version="1.0"?>')).encode(),
    "an 8-bit file declaring UTF-16": declared('<?xml version="1.0"?>' + FORM.format("DMFA"), "UTF-16").encode(),
}
DIMONA = '<?xml version="1.0"?>' + FORM.format("DIMONA")
FORM_CASES = {  # in a file named DMFA: (content, what the ACRF says)
    "DIMONA form": (DIMONA.encode(), ["ACRF-129"]),
    "DIMONA form after 100 blanks": (b" " * 100 + DIMONA.encode(), ["ACRF-129"]),
    "DIMONA form in UTF-16 with BOM": (declared(DIMONA, "UTF-16").encode("utf-16"), ["ACRF-129"]),
    "DIMONA form in UTF-16 without BOM": (declared(DIMONA, "UTF-16").encode("utf-16-be"), ["ACRF-129"]),
    "DIMONA form in UTF-32": (declared(DIMONA, "UTF-32").encode("utf-32"), ["ACRF-129"]),
    "DIMONA form in ISO-8859-1": (declared(DIMONA, "ISO-8859-1").replace("<Form>", "<!-- é --><Form>")
                                  .encode("latin-1"), ["ACRF-129"]),
    "a DMFA form hidden in the first form": (
        b"<r><Form><X><Form><Identification>DMFA</Identification></Form></X>"
        b"<Identification>DIMONA</Identification></Form></r>", ["ACRF-129"]),
    "DMFA form in UTF-16 with BOM (accepted)": (declared(FORM.format("DMFA"), "UTF-16").encode("utf-16"), []),
    "DMFA form after blanks (accepted)": (b"\n\n   " + FORM.format("DMFA").encode(), []),
}


def outcomes(harness, kit, subs, timeout: float = 30) -> dict[str, tuple[str, list[str]]]:  # type: ignore[no-untyped-def]
    """Once every submission has its ACRF (DMFA in T: SFTP's OUTTEST): GO name -> (ResultCode, error ids)."""
    folder = harness.home(kit) / "OUTTEST"
    deadline = time.monotonic() + timeout
    while len(triggers := list(folder.glob("GO.ACRF.*"))) < len(subs):
        assert time.monotonic() < deadline, f"{len(triggers)} ACRFs of {len(subs)}"
        time.sleep(0.05)
    found = {}
    for trigger in triggers:
        acrf = defused_fromstring((folder / ("FO" + trigger.name[2:])).read_bytes())
        found[acrf.findtext("FileName")] = (acrf.findtext("ResultCode"), error_ids(acrf))
    return found


def submit_each(harness, kit, cases: dict[str, bytes]) -> dict[str, tuple[str, list[str]]]:  # type: ignore[no-untyped-def]
    """One signed submission per case, all over SFTP; case -> (ResultCode, error ids)."""
    subs = {case: build(kit, seq=f"X{n:04d}", content=content) for n, (case, content) in enumerate(cases.items(), 1)}
    for sub in subs.values():
        assert put(harness.port, kit, sub) == []
    found = outcomes(harness, kit, list(subs.values()))
    return {case: found[sub.go] for case, sub in subs.items()}


def test_a_dtd_is_refused_in_any_encoding_after_any_blanks(harness, kit):
    assert submit_each(harness, kit, DTD_CASES) == {case: ("0", ["XML_UNSAFE"]) for case in DTD_CASES}


def test_the_first_form_is_found_in_any_encoding(harness, kit):
    expected = {case: ("0" if ids else "1", ids) for case, (_, ids) in FORM_CASES.items()}
    assert submit_each(harness, kit, {case: content for case, (content, _) in FORM_CASES.items()}) == expected


# -- signatures ------------------------------------------------------------------------------------------------------
def attached_with_other_content(content: bytes, who) -> bytes:  # type: ignore[no-untyped-def]
    """An attached signature of ``content`` whose encapsulated copy is then swapped: the signed attributes still
    carry the FI's digest, so only the embedded bytes differ."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs7

    der = (pkcs7.PKCS7SignatureBuilder().set_data(content).add_signer(who.certificate, who.key, hashes.SHA256())
           .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary]))
    info = asn1_cms.ContentInfo.load(der)
    info["content"]["encap_content_info"]["content"] = FORM.format("DIMONA").encode()
    return fs_file(info.dump(force=True))


def test_an_attached_signature_carrying_other_content_is_refused(harness, kit):
    sub = build(kit)
    (folder, name, _), fi = sub.files[1], sub.files[0][2]
    sub.files[1] = (folder, name, attached_with_other_content(fi, kit.certificate))
    assert put(harness.port, kit, sub) == []
    acrf = harness.wait_acrf(kit)
    assert error_ids(acrf) == ["SIGNATURE_INVALID"]
    assert "embedded content" in acrf.find("Error").findtext("ErrorDescription")


def register_directly(db, kit, channel: str, cert) -> None:  # type: ignore[no-untyped-def]
    """As a certificate registered before the rule: written to the database, not through the admin API."""
    with db.session() as session:
        row = session.scalar(select(SenderChannel).join(Sender, SenderChannel.sender_id == Sender.id)
                             .where(Sender.number == kit.number, SenderChannel.type == channel))
        row.certificates.append(ChannelCertificate(pem=pem(cert), fingerprint=fingerprint(cert),
                                                   not_after=cert.not_valid_after_utc))


def test_a_weak_certificate_registered_before_still_signs_and_is_logged(harness, kit, db, caplog):
    weak = pki.weak("rsa1024")
    register_directly(db, kit, "SFTP", weak.certificate)
    sub = build(kit, signer=weak)
    with caplog.at_level(logging.WARNING, logger="keys.cms"):
        assert put(harness.port, kit, sub) == []
        acrf = harness.wait_acrf(kit)
    assert acrf.findtext("ResultCode") == "1", error_ids(acrf)
    assert any(fingerprint(weak.certificate) in r.getMessage() and "RSA key of 1024 bits" in r.getMessage()
               for r in caplog.records if r.name == "keys.cms")


def test_an_ec_assertion_for_an_rsa_registered_sender_is_refused_not_a_crash(harness, kit):
    now = int(time.time())
    subject = f"self-service:expeditor:{kit.number}"
    claims = {"iss": subject, "sub": subject, "aud": f"{harness.http_url}/REST/oauth/v5/token", "iat": now,
              "exp": now + 120, "jti": uuid.uuid4().hex}
    signed = jwt.encode(claims, pki.sender("an EC key", kind="ec").key, algorithm="ES256")
    response = httpx.post(f"{harness.http_url}/REST/oauth/v5/token", timeout=10, data={
        "grant_type": "client_credentials", "client_assertion": signed,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"})
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "ASSERTION_INVALID"


# -- the parsers, fuzzed and timed (no server) ------------------------------------------------------------------------
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MiB = 1 << 20
FI_NAME = "FI.DMFA.123456.20260101.00001.T.1.1"
SEGMENTS = st.sampled_from(["FI", "FS", "GO", "TD", "DMFA", "dmfa", "123456", "12345", "20260101", "00001",
                            "00000", "0000A", "T", "R", "S", "1", "2", "9", "0", "", " ", "/", "é", "\x00"])


@FUZZ
@given(st.one_of(st.text(max_size=80), st.lists(st.one_of(SEGMENTS, st.text(max_size=5)), max_size=10)
                 .map(".".join)))
def test_any_name_is_a_batch_name_or_invalid(name):
    try:
        parsed = parse(name)
    except GGAError as err:
        assert err.code == ErrorCode.FILE_NAME_INVALID
        return
    assert str(parsed) == name and parse(str(parsed)) == parsed


PROLOG_TOKENS = st.lists(st.sampled_from([
    '<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>', "<?xml version='1.0' encoding='latin-1'?>",
    "<?xml version='1.0' encoding='\x00'?>", "<?xml version='1.0' encoding='ISO-2022-JP'?>", "<?xml encoding='x",
    "<?pi x?>", "<!--", "-->", "<!-- c -->", "<!DOCTYPE a>", "<!DOCTYPE a [", "]>", "<!ENTITY e 'x'>", "<!", "<?",
    "?>", " ", "\n", "\t", "<", ">", "<a>", "</a>", "<Form>", "</Form>", "<Identification>", "</Identification>",
    "DIMONA", "DMFA", "&e;", "x", "é", "\x00", "<![CDATA[", "]]>", "\ufeff"]), max_size=25).map("".join)
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le",
                             "utf-32-be", "latin-1"])


@pytest.fixture(scope="module")
def fi_path() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder) / FI_NAME


def content_findings(path: Path, content: bytes) -> list[str]:
    path.write_bytes(content)
    return [str(f.code) for f in _identification(ReceivedFileRow(name=FI_NAME, path=str(path)))]


def expat_sees_a_dtd(text: str) -> bool:
    """The oracle: a parser given the right characters (blanks before the declaration forgiven) meets a DTD."""
    parser = DefusedXMLParser(forbid_dtd=True)
    try:
        parser.feed(text.lstrip(" \t\r\n\ufeff"))
        parser.close()
    except DefusedXmlException:
        return True
    except SyntaxError:
        return False
    return False


@FUZZ
@given(st.one_of(st.binary(max_size=300).map(lambda b: (b, None)),
                 st.tuples(PROLOG_TOKENS, ENCODINGS).map(lambda t: (t[0].encode(t[1], "replace"), t))))
def test_any_fi_gets_findings_and_no_dtd_gets_through(fi_path, case):
    content, source = case
    findings = content_findings(fi_path, content)
    assert set(findings) <= {"XML_UNSAFE", "APPLICATION_CONTENT_MISMATCH"}
    if source is not None:
        text, encoding = source
        decoded = content.decode(encoding, "replace")
        if expat_sees_a_dtd(decoded):
            assert "XML_UNSAFE" in findings, (text, encoding)


def fill(unit: str, size: int = MiB) -> str:
    return unit * (size // len(unit.encode()))


ADVERSARIAL_XML = {
    "unclosed comment": ("<!--" + fill("x", MiB - 4)).encode(),
    "unclosed processing instruction": ("<?a " + fill("x", MiB - 4)).encode(),
    "processing instructions": fill("<?a?>").encode(),
    "comments": fill("<!---->").encode(),
    "comment openers": fill("<!-").encode(),
    "blanks": fill(" ").encode(),
    "UTF-16 blanks": fill(" ", MiB // 2).encode("utf-16-le"),
    "UTF-32 blanks then a DTD": (fill(" ", MiB // 4 - 16) + "<!DOCTYPE a>").encode("utf-32-be"),
    "a root name without end": ("<" + fill("a", MiB - 1)).encode(),
    "nested forms": fill("<Form>").encode(),
    "nested identifications": ("<Form>" + fill("<Identification>", MiB - 6)).encode(),
    "DOCTYPE words in comments": fill("<!--<!DOCTYPE-->").encode(),
}


@pytest.mark.parametrize("content", ADVERSARIAL_XML.values(), ids=ADVERSARIAL_XML.keys())
def test_a_crafted_mebibyte_fi_is_checked_within_a_second(fi_path, content):
    assert len(content) <= MiB
    fi_path.write_bytes(content)
    started = time.thread_time()  # CPU time of this thread: other load on the machine does not count
    with contextlib.suppress(GGAError):
        _identification(ReceivedFileRow(name=FI_NAME, path=str(fi_path)))
    assert time.thread_time() - started < 1.0

