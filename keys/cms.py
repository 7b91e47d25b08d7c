"""Detached CMS/PKCS#7 signatures (the ``FS`` files): parse, verify from a streamed digest, and sign.

``cryptography`` can sign but has no public CMS verifier: the SignedData is parsed with asn1crypto and the
signature checked with ``cryptography`` (``../shared/LIBRARY-NOTES.md``). Verification never reads the content: the
caller gives the digest it computed while the file streamed in.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from asn1crypto import cms as asn1_cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa, utils
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.verification import ExtensionPolicy, PolicyBuilder, Store, VerificationError

from kernel.errors import ErrorCode, GGAError
from keys.certificates import fingerprint, weaknesses

HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "md5": hashes.MD5, "sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256,
    "sha384": hashes.SHA384, "sha512": hashes.SHA512,
}
MAX_PSS_SALT = 1024  # bytes: the most a 8192-bit key's PSS signature can hold
_LABEL = re.compile(rb"[A-Z0-9 ]*")  # a marker's label; it holds no "-", so each label byte is read once
log = logging.getLogger(__name__)


def refuse(code: ErrorCode, message: str | None = None) -> GGAError:
    return GGAError(code, message)


def file_digest(path: Path, name: str) -> bytes:
    """Fallback for a digest algorithm that was not computed while streaming (rare: SHA-384/512 signers)."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, name).digest()


def _marker(data: bytes, word: bytes, start: int) -> tuple[int, int] | None:
    """The first ``-----<word> LABEL-----`` at or after ``start``: (where it begins, where it ends)."""
    prefix = b"-----" + word + b" "
    at = data.find(prefix, start)
    while at >= 0:
        label_end = _LABEL.match(data, at + len(prefix)).end()  # type: ignore[union-attr]  # * always matches
        if label_end > at + len(prefix) and data.startswith(b"-----", label_end):
            return at, label_end + 5
        at = data.find(prefix, label_end)
    return None


def armoured(data: bytes) -> bytes | None:
    """What lies between the first BEGIN marker and the first END marker after it, found in linear time.

    A regular expression with a lazy body retried from every BEGIN was quadratic on BEGIN lines without END
    (a 1 MiB FS took minutes): with no END after the first BEGIN, no later BEGIN can have one either.
    """
    begin = _marker(data, b"BEGIN", 0)
    if begin is None:
        return None
    end = _marker(data, b"END", begin[1])
    return None if end is None else data[begin[1]:end[0]]


def signature_der(data: bytes) -> bytes:
    """The FS content as DER: base64 on one line or wrapped (CR, LF, CRLF), PEM armour, or raw DER. A text FS may
    start with a UTF-8 byte order mark (Windows editors write one): it is no part of the base64."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    body = armoured(data)
    if body is not None:
        data = body
    elif data[:1] == b"\x30":
        return data
    compact = b"".join(data.split())
    if not compact:
        raise refuse(ErrorCode.SIGNATURE_MALFORMED, "The FS file is empty.")
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise refuse(ErrorCode.SIGNATURE_MALFORMED, "The FS file is not base64 of a CMS signature.") from exc


@dataclass
class VerificationPolicy:
    allow_sha1: bool = False
    trust_store: list[x509.Certificate] = field(default_factory=list)
    crls: list[x509.CertificateRevocationList] = field(default_factory=list)


@dataclass(frozen=True)
class SignerIdentity:
    issuer: asn1_x509.Name | None  # the issuer Name as the signature encodes it
    serial: int | None
    key_identifier: bytes | None

    def matches(self, cert: x509.Certificate) -> bool:
        if self.key_identifier is not None:
            try:
                ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
            except x509.ExtensionNotFound:
                return False
            return ski == self.key_identifier
        if self.issuer is None or cert.serial_number != self.serial:
            return False
        # the same bytes are the same Name; only differing encodings need the normalised comparison (RFC 5280
        # 7.1), which cost a third of a signature's check for every FS
        issuer = cert.issuer.public_bytes()
        return self.issuer.dump() == issuer or self.issuer.hashable == asn1_x509.Name.load(issuer).hashable


@dataclass(frozen=True)
class ParsedSigner:
    identity: SignerIdentity
    digest_name: str
    signature_algo: str
    pss_mgf_hash: str | None  # RSA-PSS: the hash of its mask generation function (MGF1), as its parameters say
    signature: bytes
    signed_attrs_der: bytes | None
    message_digest: bytes | None
    embedded: list[x509.Certificate]
    content: bytes | None = None  # an attached signature's encapsulated content


def _pss_mgf_hash(algo: object, digest_name: str) -> str:
    """RSA-PSS's parameters: its hash must be the signer's digest; MGF1's hash may differ (``openssl cms -keyopt
    rsa_mgf1_md:...``). The salt length declared is only bounded: the verification finds the one used (a salt of 0 is
    valid, and one of 2**70 made the check crash)."""
    params = algo["parameters"]  # type: ignore[index]
    if not 0 <= params["salt_length"].native <= MAX_PSS_SALT:
        raise refuse(ErrorCode.SIGNATURE_MALFORMED, "The RSA-PSS salt length is out of range.")
    if params["hash_algorithm"]["algorithm"].native != digest_name:
        raise refuse(ErrorCode.SIGNATURE_MALFORMED, "The RSA-PSS hash differs from the signer's digest algorithm.")
    mgf = params["mask_gen_algorithm"]
    if mgf["algorithm"].native != "mgf1" or mgf["parameters"]["algorithm"].native not in HASHES:
        raise refuse(ErrorCode.SIGNATURE_MALFORMED, "Unknown RSA-PSS mask generation function.")
    return mgf["parameters"]["algorithm"].native


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def parse(data: bytes) -> ParsedSigner:
    """The (single) signer of a detached SignedData; any unreadable input is SIGNATURE_MALFORMED."""
    der = signature_der(data)
    try:
        return _parse(der)
    except GGAError:
        raise
    except Exception as exc:  # asn1crypto parses lazily: any structural fault surfaces here
        raise refuse(ErrorCode.SIGNATURE_MALFORMED, f"The FS file is not a CMS signature ({type(exc).__name__}).") \
            from exc


def _parse(der: bytes) -> ParsedSigner:
    # asn1crypto parses lazily: every field below is read here, inside parse(), so a structural fault still
    # surfaces as SIGNATURE_MALFORMED; decoding the whole structure (.native) cost 1.7 ms of a 2.1 ms parse
    info = asn1_cms.ContentInfo.load(der, strict=True)
    if info["content_type"].native != "signed_data":
        raise refuse(ErrorCode.SIGNATURE_MALFORMED, "The CMS content is not SignedData.")
    signed = info["content"]
    signers = list(signed["signer_infos"])
    if len(signers) != 1:
        raise refuse(ErrorCode.SIGNATURE_MALFORMED, f"Expected one signer, found {len(signers)}.")
    si = signers[0]
    sid = si["sid"]
    if sid.name == "issuer_and_serial_number":
        identity = SignerIdentity(sid.chosen["issuer"], sid.chosen["serial_number"].native, None)
    else:
        identity = SignerIdentity(None, None, sid.chosen.native)
    attrs_der, message_digest = None, None
    if len(si["signed_attrs"]):  # present and not empty (its .native decoded every attribute)
        attrs_der = b"\x31" + _der_length(len(si["signed_attrs"].contents)) + si["signed_attrs"].contents
        for attr in si["signed_attrs"]:
            if attr["type"].native == "message_digest":
                message_digest = attr["values"][0].native
        if message_digest is None:
            raise refuse(ErrorCode.SIGNATURE_MALFORMED, "Signed attributes without a message digest.")
    algo = si["signature_algorithm"]
    mgf_hash = _pss_mgf_hash(algo, si["digest_algorithm"]["algorithm"].native) \
        if algo.signature_algo == "rsassa_pss" else None
    embedded = [x509.load_der_x509_certificate(c.chosen.dump()) for c in (signed["certificates"] or [])
                if c.name == "certificate"]
    content = signed["encap_content_info"]["content"].native
    if content is not None and not isinstance(content, bytes):
        raise refuse(ErrorCode.SIGNATURE_MALFORMED, "The signature encapsulates content that is not data.")
    return ParsedSigner(identity, si["digest_algorithm"]["algorithm"].native, algo.signature_algo, mgf_hash,
                        si["signature"].native, attrs_der, message_digest, embedded, content)


def verify_detached(fs_data: bytes, digest_of: Callable[[str], bytes], registered: Sequence[x509.Certificate], *,
                    at: datetime, policy: VerificationPolicy | None = None) -> x509.Certificate:
    """Check an FS against its content's digest; return the registered certificate that signed it.

    Refusals, each with its own code: SIGNATURE_MALFORMED, DIGEST_TOO_WEAK, SIGNER_NOT_REGISTERED,
    SIGNATURE_INVALID (also: an attached signature embedding other bytes than the content), CERTIFICATE_NOT_YET_VALID,
    CERTIFICATE_EXPIRED, CHAIN_UNTRUSTED, CERTIFICATE_REVOKED. A weak certificate (``weaknesses``) that verifies is
    logged as a warning.
    """
    policy = policy or VerificationPolicy()
    signer = parse(fs_data)
    hash_cls = HASHES.get(signer.digest_name)
    if hash_cls is None:
        raise refuse(ErrorCode.SIGNATURE_MALFORMED, f"Unknown digest algorithm {signer.digest_name}.")
    if signer.digest_name == "md5" or (signer.digest_name == "sha1" and not policy.allow_sha1):
        raise refuse(ErrorCode.DIGEST_TOO_WEAK, f"The signature uses {signer.digest_name.upper()}; use SHA-256.")
    try:  # an issuer Name is read only if its bytes differ from a certificate's
        candidates = [c for c in registered if signer.identity.matches(c)]
    except Exception as exc:
        raise refuse(ErrorCode.SIGNATURE_MALFORMED, f"The signer's issuer is not a Name ({type(exc).__name__}).") \
            from exc
    if not candidates:
        raise refuse(ErrorCode.SIGNER_NOT_REGISTERED)
    refused: GGAError | None = None
    for cert in candidates:  # a certificate renewed on the same key matches twice during its rollover
        try:
            _check_signature(signer, cert, hash_cls(), digest_of(signer.digest_name))
            _check_attached(signer, digest_of)
            _check_certificate(cert, at, policy, signer.embedded)
        except GGAError as err:
            refused = err  # the newest registered certificate's refusal is the one told
            continue
        warn_if_weak(cert, "FS signature")
        return cert
    assert refused is not None
    raise refused


def certificate_refusal(cert: x509.Certificate, at: datetime, policy: VerificationPolicy) -> GGAError | None:
    """What an FS signer's certificate is refused for besides its signature (dates, the trust store's chain,
    revocation), for another use of the same registered certificates: the web service's client assertion."""
    try:
        _check_certificate(cert, at, policy, [])
    except GGAError as err:
        return err
    return None


def _check_certificate(cert: x509.Certificate, at: datetime, policy: VerificationPolicy,
                       intermediates: list[x509.Certificate]) -> None:
    """Valid at ``at``, chaining to the trust store (when there is one), not revoked."""
    _check_validity(cert, at)
    chain = _check_chain(cert, intermediates, policy.trust_store, at) if policy.trust_store else []
    _check_revocation(cert, policy, chain)


def _check_signature(signer: ParsedSigner, cert: x509.Certificate, algorithm: hashes.HashAlgorithm,
                     content_digest: bytes) -> None:
    if signer.signed_attrs_der is not None:
        if signer.message_digest != content_digest:
            raise refuse(ErrorCode.SIGNATURE_INVALID, "The file content does not match the signature's digest.")
        data, prehashed = signer.signed_attrs_der, False
    else:
        data, prehashed = content_digest, True
    key = cert.public_key()
    hash_arg = utils.Prehashed(algorithm) if prehashed else algorithm
    try:
        if isinstance(key, rsa.RSAPublicKey) and signer.signature_algo == "rsassa_pss":
            mgf = HASHES[signer.pss_mgf_hash or signer.digest_name]()
            key.verify(signer.signature, data, padding.PSS(padding.MGF1(mgf), padding.PSS.AUTO), hash_arg)
        elif isinstance(key, rsa.RSAPublicKey) and signer.signature_algo == "rsassa_pkcs1v15":
            key.verify(signer.signature, data, padding.PKCS1v15(), hash_arg)
        elif isinstance(key, ec.EllipticCurvePublicKey) and signer.signature_algo == "ecdsa":
            key.verify(signer.signature, data, ec.ECDSA(hash_arg))
        elif isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):  # no CMS tool here makes them
            raise refuse(ErrorCode.SIGNATURE_INVALID, "An EdDSA certificate signs web-service assertions only; "
                         "sign files with an RSA or EC certificate registered on the channel.")
        else:
            raise refuse(ErrorCode.SIGNATURE_INVALID, "The signature algorithm does not fit the certificate's key.")
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError, OverflowError) as exc:
        raise refuse(ErrorCode.SIGNATURE_INVALID, "The signature does not verify with the certificate.") from exc


def _check_attached(signer: ParsedSigner, digest_of: Callable[[str], bytes]) -> None:
    """An attached signature must carry the FI itself: whoever reads the FS alone must not get other bytes."""
    if signer.content is not None and hashlib.sha256(signer.content).digest() != digest_of("sha256"):
        raise refuse(ErrorCode.SIGNATURE_INVALID, "The FS is an attached signature whose embedded content is not "
                     "the FI's content; send a detached signature of the FI.")


def warn_if_weak(cert: x509.Certificate, use: str) -> None:
    """A weak certificate registered before the rule still verifies until its rollover, but each use is logged."""
    found = weaknesses(cert)
    if found:
        log.warning("%s verified with weak certificate %s (%s): %s", use, fingerprint(cert),
                    cert.subject.rfc4514_string(), "; ".join(found))


def _check_validity(cert: x509.Certificate, at: datetime) -> None:
    if at < cert.not_valid_before_utc:
        raise refuse(ErrorCode.CERTIFICATE_NOT_YET_VALID,
                     f"The signing certificate is valid from {cert.not_valid_before_utc.isoformat()}.")
    if at > cert.not_valid_after_utc:
        raise refuse(ErrorCode.CERTIFICATE_EXPIRED,
                     f"The signing certificate expired on {cert.not_valid_after_utc.isoformat()}.")


def _check_chain(cert: x509.Certificate, intermediates: list[x509.Certificate], trust: list[x509.Certificate],
                 at: datetime) -> list[x509.Certificate]:
    """The verified chain, the signing certificate first, the trusted CA last."""
    verifier = (PolicyBuilder().store(Store(trust)).time(at)
                .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(),
                                    ee_policy=ExtensionPolicy.permit_all())
                .build_client_verifier())
    try:
        return verifier.verify(cert, [c for c in intermediates if c != cert]).chain
    except VerificationError as exc:
        raise refuse(ErrorCode.CHAIN_UNTRUSTED, f"The signing certificate does not chain to a trusted CA: {exc}") \
            from exc


def _check_revocation(cert: x509.Certificate, policy: VerificationPolicy, chain: list[x509.Certificate]) -> None:
    """Against the CRLs of its issuer. With a trust store, a CRL counts when a CA of the verified chain signed it:
    the intermediate that issued the certificate usually signs its CRL, and only the root is in the store."""
    for crl in policy.crls:
        if crl.issuer != cert.issuer:
            continue
        issuers = [ca for ca in [*policy.trust_store, *chain[1:]] if ca.subject == crl.issuer]
        if policy.trust_store and not any(crl.is_signature_valid(ca.public_key()) for ca in issuers):
            log.warning("a CRL of %s is ignored: no CA of the verified chain signed it", crl.issuer.rfc4514_string())
            continue  # a CRL no trusted CA signed says nothing
        if crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None:
            raise refuse(ErrorCode.CERTIFICATE_REVOKED)


def sign_detached(content: bytes, certificate: x509.Certificate, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
                  algorithm: hashes.HashAlgorithm | None = None) -> bytes:
    """DER SignedData over the exact bytes (Binary: no LF -> CRLF conversion), detached."""
    return (pkcs7.PKCS7SignatureBuilder().set_data(content)
            .add_signer(certificate, key, algorithm or hashes.SHA256())
            .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]))


def fs_file(der: bytes) -> bytes:
    """An FS file as the gateway writes it: base64 of the DER on one line."""
    return base64.b64encode(der)
