"""Every error code of the product, in one place.

The same code reaches the HTTP API (``{"error": {"code": ...}}``), the JSON log line and, for batch files, the
``Error/ErrorID`` of the ACRF acknowledgement (as the real channel's ``ACRF-nnn`` where it has one).
``docs/errors.md`` is generated from this table (``python -m kernel.errors``) and a test keeps them in sync.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    # generic
    VALIDATION_ERROR = "VALIDATION_ERROR"
    NOT_FOUND = "NOT_FOUND"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    CONFLICT = "CONFLICT"
    # identifiers
    INVALID_NISS = "INVALID_NISS"
    INVALID_ENTERPRISE_NUMBER = "INVALID_ENTERPRISE_NUMBER"
    INVALID_ONSS_NUMBER = "INVALID_ONSS_NUMBER"
    # registration (guide I, II)
    EID_REQUIRED = "EID_REQUIRED"
    ENTERPRISE_UNKNOWN = "ENTERPRISE_UNKNOWN"
    NOT_LEGAL_REPRESENTATIVE = "NOT_LEGAL_REPRESENTATIVE"
    LEGAL_REPRESENTATIVE_NAME_MISMATCH = "LEGAL_REPRESENTATIVE_NAME_MISMATCH"
    ENTERPRISE_ALREADY_REGISTERED = "ENTERPRISE_ALREADY_REGISTERED"
    ALREADY_MAIN_ACCESS_MANAGER = "ALREADY_MAIN_ACCESS_MANAGER"
    ENTERPRISE_NOT_REGISTERED = "ENTERPRISE_NOT_REGISTERED"
    CONFIRMATION_REQUIRED = "CONFIRMATION_REQUIRED"
    REQUEST_ALREADY_DECIDED = "REQUEST_ALREADY_DECIDED"
    # managers, domains, users (guide III, IV, V)
    CO_MAIN_MANAGER_EXISTS = "CO_MAIN_MANAGER_EXISTS"
    DOMAIN_KIND_UNKNOWN = "DOMAIN_KIND_UNKNOWN"
    DOMAIN_EXISTS = "DOMAIN_EXISTS"
    APPLICATION_UNKNOWN = "APPLICATION_UNKNOWN"
    APPLICATION_NOT_IN_DOMAIN = "APPLICATION_NOT_IN_DOMAIN"
    USERNAME_TAKEN = "USERNAME_TAKEN"
    USER_EXISTS = "USER_EXISTS"
    PASSWORD_TOO_WEAK = "PASSWORD_TOO_WEAK"  # noqa: S105 (a code, not a password)
    LOCAL_MANAGER_NOT_DELETABLE = "LOCAL_MANAGER_NOT_DELETABLE"
    # senders (guide VI)
    SENDER_EXISTS = "SENDER_EXISTS"
    NO_ACTIVE_SENDER = "NO_ACTIVE_SENDER"
    TECHNICAL_USER_INVALID = "TECHNICAL_USER_INVALID"
    TECHNICAL_USER_TAKEN = "TECHNICAL_USER_TAKEN"
    CHANNEL_EXISTS = "CHANNEL_EXISTS"
    CHANNEL_UNKNOWN = "CHANNEL_UNKNOWN"
    CHANNEL_REQUIRED = "CHANNEL_REQUIRED"
    PREFERRED_CHANNEL_INVALID = "PREFERRED_CHANNEL_INVALID"
    CERTIFICATE_MALFORMED = "CERTIFICATE_MALFORMED"
    SSH_KEY_INVALID = "SSH_KEY_INVALID"
    SSH_KEY_TOO_WEAK = "SSH_KEY_TOO_WEAK"
    CERTIFICATE_WEAK = "CERTIFICATE_WEAK"
    # signatures (keys/)
    SIGNATURE_MALFORMED = "SIGNATURE_MALFORMED"
    SIGNATURE_INVALID = "SIGNATURE_INVALID"
    SIGNER_NOT_REGISTERED = "SIGNER_NOT_REGISTERED"
    CERTIFICATE_EXPIRED = "CERTIFICATE_EXPIRED"
    CERTIFICATE_NOT_YET_VALID = "CERTIFICATE_NOT_YET_VALID"
    DIGEST_TOO_WEAK = "DIGEST_TOO_WEAK"
    CHAIN_UNTRUSTED = "CHAIN_UNTRUSTED"
    CERTIFICATE_REVOKED = "CERTIFICATE_REVOKED"
    SIGNATURE_MISSING = "SIGNATURE_MISSING"
    # batch files (gateway)
    FILE_NAME_INVALID = "FILE_NAME_INVALID"
    PATH_NOT_ALLOWED = "PATH_NOT_ALLOWED"
    FILE_ALREADY_RECEIVED = "FILE_ALREADY_RECEIVED"
    FILE_NOT_FOUND = "FILE_NOT_FOUND"
    UPLOAD_INCOMPLETE = "UPLOAD_INCOMPLETE"
    LOGIN_FAILED = "LOGIN_FAILED"
    TLS_REQUIRED = "TLS_REQUIRED"
    SENDER_BLOCKED = "SENDER_BLOCKED"
    CHANNEL_NOT_REGISTERED = "CHANNEL_NOT_REGISTERED"
    SENDER_NUMBER_MISMATCH = "SENDER_NUMBER_MISMATCH"
    ENVIRONMENT_INVALID = "ENVIRONMENT_INVALID"
    PRODUCTION_FILE_IN_TEST_FOLDER = "PRODUCTION_FILE_IN_TEST_FOLDER"
    TEST_FILE_IN_WRONG_FOLDER = "TEST_FILE_IN_WRONG_FOLDER"
    APPLICATION_CONTENT_MISMATCH = "APPLICATION_CONTENT_MISMATCH"
    GO_MISSING = "GO_MISSING"
    APPLICATION_NOT_AUTHORISED = "APPLICATION_NOT_AUTHORISED"
    FILE_TOO_LARGE = "FILE_TOO_LARGE"
    PARTS_INCOMPLETE = "PARTS_INCOMPLETE"
    FILE_DATE_INVALID = "FILE_DATE_INVALID"
    NAME_ALREADY_ACCEPTED = "NAME_ALREADY_ACCEPTED"
    XML_UNSAFE = "XML_UNSAFE"
    # web service
    ASSERTION_INVALID = "ASSERTION_INVALID"
    ASSERTION_REPLAYED = "ASSERTION_REPLAYED"
    TOKEN_INVALID = "TOKEN_INVALID"  # noqa: S105 (a code)
    # limits (docs/security.md)
    BODY_TOO_LARGE = "BODY_TOO_LARGE"
    TOO_MANY_CONNECTIONS = "TOO_MANY_CONNECTIONS"
    TOO_MANY_OPEN_FILES = "TOO_MANY_OPEN_FILES"
    TOO_MANY_LOGIN_TRIES = "TOO_MANY_LOGIN_TRIES"
    UPLOAD_IN_PROGRESS = "UPLOAD_IN_PROGRESS"
    PROCESSING_FAILED = "PROCESSING_FAILED"
    COMMAND_NOT_ALLOWED = "COMMAND_NOT_ALLOWED"
    ADDRESS_BANNED = "ADDRESS_BANNED"
    TOO_MANY_SESSIONS = "TOO_MANY_SESSIONS"


@dataclass(frozen=True)
class ErrorSpec:
    status: int
    description: str
    acrf_id: str | None = None


_SPECS: dict[ErrorCode, ErrorSpec] = {
    ErrorCode.VALIDATION_ERROR: ErrorSpec(422, "A field is missing or has the wrong form."),
    ErrorCode.NOT_FOUND: ErrorSpec(404, "No such resource."),
    ErrorCode.UNAUTHENTICATED: ErrorSpec(401, "No valid bearer token."),
    ErrorCode.FORBIDDEN: ErrorSpec(403, "Your roles do not allow this action here."),
    ErrorCode.INTERNAL_ERROR: ErrorSpec(500, "Unexpected failure; it was logged with a reference."),
    ErrorCode.CONFLICT: ErrorSpec(409, "A racing request changed the same thing first; read it again and retry."),
    ErrorCode.INVALID_NISS: ErrorSpec(422, "Not a valid NISS (national or bis number, check digits mod 97)."),
    ErrorCode.INVALID_ENTERPRISE_NUMBER: ErrorSpec(422, "Not a valid enterprise number (10 digits, mod 97)."),
    ErrorCode.INVALID_ONSS_NUMBER: ErrorSpec(422, "Not a valid ONSS number (9 digits, written 9999999-99)."),
    ErrorCode.EID_REQUIRED: ErrorSpec(403, "This procedure needs a login with eID (acr=eid)."),
    ErrorCode.ENTERPRISE_UNKNOWN: ErrorSpec(404, "The enterprise is not in the enterprise register."),
    ErrorCode.NOT_LEGAL_REPRESENTATIVE: ErrorSpec(
        403, "You do not hold a current legal function in this enterprise."),
    ErrorCode.LEGAL_REPRESENTATIVE_NAME_MISMATCH: ErrorSpec(
        422, "The name given does not match the register for this national number."),
    ErrorCode.ENTERPRISE_ALREADY_REGISTERED: ErrorSpec(409, "Cette entreprise est déjà enregistrée dans CSAM."),
    ErrorCode.ALREADY_MAIN_ACCESS_MANAGER: ErrorSpec(
        409, "Vous êtes déjà connu comme Gestionnaire d'Accès Principal pour cette entreprise."),
    ErrorCode.ENTERPRISE_NOT_REGISTERED: ErrorSpec(409, "The enterprise has no main access manager yet."),
    ErrorCode.CONFIRMATION_REQUIRED: ErrorSpec(422, "Tick « Oui, je confirme »: send \"confirm\": true."),
    ErrorCode.REQUEST_ALREADY_DECIDED: ErrorSpec(409, "This request was already approved or rejected."),
    ErrorCode.CO_MAIN_MANAGER_EXISTS: ErrorSpec(409, "This person is already a co main access manager."),
    ErrorCode.DOMAIN_KIND_UNKNOWN: ErrorSpec(422, "No such domain kind in the catalogue."),
    ErrorCode.DOMAIN_EXISTS: ErrorSpec(409, "The enterprise already has this domain."),
    ErrorCode.APPLICATION_UNKNOWN: ErrorSpec(422, "No such application code in the catalogue."),
    ErrorCode.APPLICATION_NOT_IN_DOMAIN: ErrorSpec(422, "The application is not offered in this domain."),
    ErrorCode.USERNAME_TAKEN: ErrorSpec(409, "This username is already used."),
    ErrorCode.USER_EXISTS: ErrorSpec(409, "This person is already a user of the domain."),
    ErrorCode.PASSWORD_TOO_WEAK: ErrorSpec(
        422, "Password: 10 to 128 characters with a lower-case letter, an upper-case letter and a digit."),
    ErrorCode.LOCAL_MANAGER_NOT_DELETABLE: ErrorSpec(
        409, "The domain's access manager cannot be deleted or blocked; change the access manager first."),
    ErrorCode.SENDER_EXISTS: ErrorSpec(409, "The domain already has an active sender."),
    ErrorCode.NO_ACTIVE_SENDER: ErrorSpec(404, "Il n'y a pas d'expéditeur actif pour cette qualité."),
    ErrorCode.TECHNICAL_USER_INVALID: ErrorSpec(
        422, "A technical user name starts with EXP followed by 3 to 27 letters, digits, '-' or '_'."),
    ErrorCode.TECHNICAL_USER_TAKEN: ErrorSpec(409, "This technical user name is already used."),
    ErrorCode.CHANNEL_EXISTS: ErrorSpec(409, "The sender already has this channel."),
    ErrorCode.CHANNEL_UNKNOWN: ErrorSpec(404, "The sender has no such channel."),
    ErrorCode.CHANNEL_REQUIRED: ErrorSpec(422, "A sender needs at least one channel."),
    ErrorCode.PREFERRED_CHANNEL_INVALID: ErrorSpec(
        422, "Every application needs exactly one preferred channel among the channels carrying it."),
    ErrorCode.CERTIFICATE_MALFORMED: ErrorSpec(422, "The certificate is not a readable X.509 certificate."),
    ErrorCode.SSH_KEY_INVALID: ErrorSpec(422, "The SSH public key is not a readable OpenSSH public key."),
    ErrorCode.SSH_KEY_TOO_WEAK: ErrorSpec(422, "RSA SSH keys need at least 2048 bits; DSA is refused."),
    ErrorCode.SIGNATURE_MALFORMED: ErrorSpec(400, "The FS file is not a readable CMS signature."),
    ErrorCode.SIGNATURE_INVALID: ErrorSpec(400, "The signature does not match the file content."),
    ErrorCode.SIGNER_NOT_REGISTERED: ErrorSpec(
        400, "The signing certificate is not one registered for this sender's channel.", "ACRF-153"),
    ErrorCode.CERTIFICATE_EXPIRED: ErrorSpec(400, "The signing certificate has expired."),
    ErrorCode.CERTIFICATE_NOT_YET_VALID: ErrorSpec(400, "The signing certificate is not valid yet."),
    ErrorCode.DIGEST_TOO_WEAK: ErrorSpec(400, "The signature uses SHA-1 or weaker; use SHA-256."),
    ErrorCode.CHAIN_UNTRUSTED: ErrorSpec(400, "The signing certificate does not chain to a trusted CA."),
    ErrorCode.CERTIFICATE_REVOKED: ErrorSpec(400, "The signing certificate is revoked."),
    ErrorCode.SIGNATURE_MISSING: ErrorSpec(400, "The FI file has no FS signature file (required outside S)."),
    ErrorCode.FILE_NAME_INVALID: ErrorSpec(
        400, "The file name does not follow PP.AAAA.SSSSSS.YYYYMMDD.NNNNN.E[.T[.n]]."),
    ErrorCode.PATH_NOT_ALLOWED: ErrorSpec(
        403, "Upload only into IN, INTEST, INTEST-S; read and delete only in OUT, OUTTEST, OUTTEST-S."),
    ErrorCode.FILE_ALREADY_RECEIVED: ErrorSpec(409, "A file with this name is already received and not processed."),
    ErrorCode.FILE_NOT_FOUND: ErrorSpec(404, "No such file."),
    ErrorCode.UPLOAD_INCOMPLETE: ErrorSpec(400, "The upload was interrupted; nothing was kept."),
    ErrorCode.LOGIN_FAILED: ErrorSpec(401, "Unknown technical user or wrong credentials."),
    ErrorCode.TLS_REQUIRED: ErrorSpec(
        403, "This channel needs TLS: send AUTH TLS before logging in (plain FTP only where the operator allows it)."),
    ErrorCode.SENDER_BLOCKED: ErrorSpec(403, "The sender or its technical user is blocked."),
    ErrorCode.CHANNEL_NOT_REGISTERED: ErrorSpec(403, "The sender has no such channel."),
    ErrorCode.SENDER_NUMBER_MISMATCH: ErrorSpec(
        400, "The sender number in the file name is not the logged-in sender's.", "ACRF-108"),
    ErrorCode.ENVIRONMENT_INVALID: ErrorSpec(400, "The environment letter must be R, T or S.", "ACRF-117"),
    ErrorCode.PRODUCTION_FILE_IN_TEST_FOLDER: ErrorSpec(
        400, "A production (R) file must be put in IN.", "ACRF-118"),
    ErrorCode.TEST_FILE_IN_WRONG_FOLDER: ErrorSpec(
        400, "A test (T) file goes in INTEST, a simulation (S) file in INTEST-S.", "ACRF-119"),
    ErrorCode.APPLICATION_CONTENT_MISMATCH: ErrorSpec(
        400, "Form/Identification in the XML does not name the file's application.", "ACRF-129"),
    ErrorCode.GO_MISSING: ErrorSpec(400, "Parts were received but no GO followed in time.", "ACRF-130"),
    ErrorCode.APPLICATION_NOT_AUTHORISED: ErrorSpec(
        403, "The sender may not send this application on this channel.", "ACRF-154"),
    ErrorCode.FILE_TOO_LARGE: ErrorSpec(413, "The file is larger than the application allows.", "ACRF-184"),
    ErrorCode.PARTS_INCOMPLETE: ErrorSpec(400, "The GO names parts that are missing or numbered wrongly."),
    ErrorCode.FILE_DATE_INVALID: ErrorSpec(
        400, "The date in the name is not a real date, is in the future or is too old."),
    ErrorCode.NAME_ALREADY_ACCEPTED: ErrorSpec(
        409, "A submission with this name was already accepted for this sender, date and environment."),
    ErrorCode.XML_UNSAFE: ErrorSpec(400, "The XML declares entities or a DTD; they are refused."),
    ErrorCode.ASSERTION_INVALID: ErrorSpec(
        401, "The client assertion is not a valid private_key_jwt for a sender's registered WS certificate."),
    ErrorCode.ASSERTION_REPLAYED: ErrorSpec(401, "This client assertion (jti) was already used."),
    ErrorCode.TOKEN_INVALID: ErrorSpec(401, "Unknown or expired web-service token."),
    ErrorCode.CERTIFICATE_WEAK: ErrorSpec(
        400, "The certificate cannot be a signer: key under RSA 2048 / EC P-256, key usage without "
        "digitalSignature or nonRepudiation, or a CA certificate."),
    ErrorCode.BODY_TOO_LARGE: ErrorSpec(413, "The request body is larger than this endpoint accepts."),
    ErrorCode.TOO_MANY_CONNECTIONS: ErrorSpec(
        429, "Too many open connections from this address (GGA_MAX_CONNECTIONS_PER_ADDRESS)."),
    ErrorCode.TOO_MANY_OPEN_FILES: ErrorSpec(429, "Too many files open in this session (GGA_SFTP_MAX_HANDLES)."),
    ErrorCode.TOO_MANY_LOGIN_TRIES: ErrorSpec(
        401, "Too many login attempts on this connection (GGA_MAX_LOGIN_TRIES); reconnect to try again."),
    ErrorCode.PROCESSING_FAILED: ErrorSpec(
        500, "The gateway could not process the submission in time (GGA_PROCESSING_GIVE_UP_H); send it again."),
    ErrorCode.UPLOAD_IN_PROGRESS: ErrorSpec(409, "A file with this name is being uploaded; wait for it to end."),
    ErrorCode.COMMAND_NOT_ALLOWED: ErrorSpec(
        403, "This command is not offered: files are created only by STOR/put under a batch name."),
    ErrorCode.ADDRESS_BANNED: ErrorSpec(
        403, "Too many failed logins from this address: refused for a while (GGA_DEFENDER_BAN_S)."),
    ErrorCode.TOO_MANY_SESSIONS: ErrorSpec(
        429, "This technical user has too many sessions open (GGA_MAX_SESSIONS_PER_SENDER)."),
}


def spec(code: ErrorCode) -> ErrorSpec:
    return _SPECS[code]


class GGAError(Exception):
    """A refusal the caller can act on: a stable code, a readable message and details."""

    def __init__(self, code: ErrorCode, message: str | None = None, details: dict[str, Any] | None = None):
        self.code = code
        self.message = message or spec(code).description
        self.details = details or {}
        super().__init__(f"{code}: {self.message}")

    @property
    def status(self) -> int:
        return spec(self.code).status

    def as_json(self) -> dict[str, Any]:
        return {"error": {"code": str(self.code), "message": self.message, "details": self.details}}


@dataclass
class ErrorCatalogue:
    """The documented table (``docs/errors.md``)."""

    rows: list[tuple[str, int, str, str]] = field(default_factory=list)

    @classmethod
    def build(cls) -> ErrorCatalogue:
        return cls([(str(c), s.status, s.acrf_id or "", s.description) for c, s in _SPECS.items()])

    def markdown(self) -> str:
        lines = [
            "# Error codes",
            "",
            "Generated from `kernel/errors.py` by `python -m kernel.errors > docs/errors.md`. The same code appears",
            "in the API error body, the transfer log and the ACRF acknowledgement (`ErrorID` is the ACRF number when",
            "the real channel has one, else the code).",
            "",
            "| code | HTTP | ACRF | meaning |",
            "|---|---|---|---|",
        ]
        lines += [f"| `{c}` | {s} | {a} | {d} |" for c, s, a, d in self.rows]
        return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(ErrorCatalogue.build().markdown(), end="")
