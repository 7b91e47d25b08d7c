"""The one way in for every protocol: password, SSH key, or a certificate-signed assertion (web service).

Each login is decided here with the same refusal rules and logged here exactly once. Everything is blocking
(argon2, database, the mailbox folders): front ends call it from a worker thread.
"""

from __future__ import annotations

import base64
import hmac
import time

from gateway.core.defender import Defender, address_of
from gateway.core.limits import RefusalBursts
from gateway.core.session import GatewaySession
from gateway.core.spool import Spool
from gateway.core.tokens import ServiceTokens
from gateway.core.translog import TransferLog
from kernel.errors import ErrorCode, GGAError
from keys import assertions
from keys.cms import VerificationPolicy
from keys.passwords import Passwords
from store.directory import SenderDirectory, SenderInfo

WS_SUBJECT_PREFIX = "self-service:expeditor:"  # iss = sub of a web-service client assertion, then the number
# refusals the defender counts: a wrong credential, not a right one refused for another reason (blocked sender...)
COUNTED = frozenset({ErrorCode.LOGIN_FAILED, ErrorCode.ASSERTION_INVALID})


class Authenticator:
    def __init__(self, directory: SenderDirectory, passwords: Passwords, spool: Spool, translog: TransferLog,
                 tokens: ServiceTokens, defender: Defender, policy: VerificationPolicy | None = None):
        self.directory, self.passwords, self.spool = directory, passwords, spool
        self.translog, self.tokens, self.defender = translog, tokens, defender
        self.policy = policy  # the FS signatures' trust store and CRLs: a client assertion's certificate meets them
        self.banned_bursts = RefusalBursts()  # a banned address's flood is a few log rows, not one per attempt
        self.bearer_bursts = RefusalBursts()  # a client calling on with a refused token: the same

    # -- the three ways to log in ----------------------------------------------------------------------------
    def password(self, user: str, password: str, channel: str, protocol: str, remote: str, *,
                 secure: bool = True) -> GatewaySession:
        """A wrong password costs a known user exactly what it costs an unknown one. ``secure``: the connection is
        encrypted (plain FTP is not, and is allowed only on channels marked ``plain_ftp``). A banned address is
        refused first, without a hash check (``ADDRESS_BANNED``)."""
        self.check_address(user, protocol, remote, "password")
        found = self.directory.password_hash_of(user)  # one read and one hash check, known user or not
        if not self.passwords.verify(found[1] if found else None, password) or found is None:
            raise self.refused(user, protocol, remote, "password", ErrorCode.LOGIN_FAILED)
        sender = self.directory.by_id(found[0])
        refusal = _refusal(sender, channel)
        if refusal is None and sender is not None and not secure and not sender.channels[channel].plain_ftp:
            refusal = ErrorCode.TLS_REQUIRED
        if refusal is not None or sender is None:
            raise self.refused(user, protocol, remote, "password", refusal or ErrorCode.LOGIN_FAILED)
        if self.passwords.needs_rehash(sender.password_hash):
            self.directory.replace_password_hash(sender.id, self.passwords.hash(password))
        return self.accepted(sender, channel, protocol, remote, "password")

    def public_key(self, user: str, key_blob: bytes, channel: str) -> SenderInfo | None:
        """Is this SSH key the one registered for the user's channel, and may the user log in? Not logged: SSH
        clients probe several keys; the front end logs the outcome with ``accepted`` or ``refused``."""
        sender = self.directory.by_technical_user(user)
        registered = sender.channels.get(channel) if sender else None
        blob = _ssh_blob(registered.ssh_public_key) if registered and registered.ssh_public_key else b"\0"
        matches = hmac.compare_digest(blob, key_blob)
        return sender if matches and _refusal(sender, channel) is None else None

    def assertion(self, assertion: str, audiences: list[str], remote: str) -> tuple[GatewaySession, str]:
        """OAuth2 client credentials with a ``private_key_jwt`` assertion (RFC 7523) signed by a certificate of
        the sender's Web Service channel -> (session, opaque bearer token)."""
        issuer, sender = "-", None
        self.check_address("-", "WS", remote, "private_key_jwt")
        try:
            issuer = _issuer(assertion)
            number = issuer.removeprefix(WS_SUBJECT_PREFIX)
            sender = self.directory.by_number(number) if issuer.startswith(WS_SUBJECT_PREFIX) else None
            refusal = _refusal(sender, "WS", unknown=ErrorCode.ASSERTION_INVALID)
            if refusal is not None or sender is None:
                raise GGAError(refusal or ErrorCode.ASSERTION_INVALID)
            try:
                claims = assertions.verify(assertion, sender.channels["WS"].certificates, audiences, issuer,
                                           time.time(), self.policy)
            except assertions.AssertionInvalid as exc:
                raise GGAError(ErrorCode.ASSERTION_INVALID, f"Client assertion refused: {exc}.") from exc
            self.tokens.use_once(str(claims["jti"]), int(claims["exp"]))
        except GGAError as err:
            self.refused(sender.technical_user if sender else "-", "WS", remote, "private_key_jwt", err.code,
                         issuer=issuer[:200])
            raise _answer_for_assertion(err) from err
        return self.accepted(sender, "WS", "WS", remote, "private_key_jwt"), self.tokens.issue(sender.id)

    def bearer(self, token: str, remote: str) -> GatewaySession:
        """A web-service request's token (issued by ``assertion``): its sender's session, not logged per call. A
        banned address is refused with it too (a token got before the ban lasts its 10 minutes otherwise). A refusal
        (an unknown or expired token, or its sender blocked or its channel removed since) is logged as a login's,
        once per burst of one user's calls with one code (``refused_unlogged`` counts the calls in between)."""
        self.check_address("-", "WS", remote, "bearer")
        sender_id = self.tokens.sender_id(token)
        sender = self.directory.by_id(sender_id) if sender_id is not None else None
        refusal = _refusal(sender, "WS", unknown=ErrorCode.TOKEN_INVALID)
        if refusal is not None or sender is None:
            code = refusal or ErrorCode.TOKEN_INVALID
            user = sender.technical_user if sender else "-"
            self._refused_in_bursts(self.bearer_bursts, f"{user} {address_of(remote)} {code}", user, "WS", remote,
                                    "bearer", code)
            raise GGAError(code)
        return self.session(sender, "WS", "WS", remote)

    # -- outcomes, logged once -------------------------------------------------------------------------------
    def session(self, sender: SenderInfo, channel: str, protocol: str, remote: str) -> GatewaySession:
        return GatewaySession(sender, channel, protocol, remote, self.spool.home(sender.number, channel))

    def accepted(self, sender: SenderInfo, channel: str, protocol: str, remote: str, method: str) -> GatewaySession:
        session = self.session(sender, channel, protocol, remote)
        self.log_accepted(session, method)
        return session

    def log_accepted(self, session: GatewaySession, method: str) -> None:
        self.translog.record("login", "ok", protocol=session.protocol, method=method, **session.log_fields())

    def check_address(self, user: str, protocol: str, remote: str, method: str) -> None:
        """Raise ``ADDRESS_BANNED`` (logged) while the defender bans the remote address."""
        try:
            self.defender.check(remote)
        except GGAError as err:
            self._refused_in_bursts(self.banned_bursts, address_of(remote), user, protocol, remote, method, err.code)
            raise

    def _refused_in_bursts(self, bursts: RefusalBursts, key: str, user: str, protocol: str, remote: str,
                           method: str, code: ErrorCode) -> None:
        """A refusal a client may repeat in a loop, logged once per burst of ``key`` (``refused_unlogged`` counts
        the ones in between)."""
        unlogged = bursts.refused(key)
        if unlogged is not None:
            self.translog.record("login", "refused", protocol=protocol, error_code=str(code), technical_user=user[:64],
                                 remote_address=remote, method=method, refused_unlogged=unlogged,
                                 **self._whose(user))

    def refused(self, user: str, protocol: str, remote: str, method: str, code: ErrorCode,
                **details: str) -> GGAError:
        """Log a refused login (a wrong credential also counts for the defender); returns the error for the front
        end to raise or translate."""
        self.translog.record("login", "refused", protocol=protocol, error_code=str(code), technical_user=user[:64],
                             remote_address=remote, method=method, **self._whose(user), **details)
        if code in COUNTED and self.defender.failed(remote, protocol) is not None:
            self.translog.record("ban", "ok", protocol=protocol, error_code=str(ErrorCode.ADDRESS_BANNED),
                                 remote_address=remote, technical_user=user[:64])
        return GGAError(code)


    def _whose(self, user: str) -> dict[str, str]:
        """The sender a refused login names, for the log's sender filter (a blocked sender's, a wrong password for a
        known user's...); nothing for an unknown name. Read for every refusal alike, so the time of a refusal does
        not tell a known name from an unknown one."""
        number = self.directory.number_of(user) if user and user != "-" else None
        return {"sender_number": number} if number is not None else {}


def _refusal(sender: SenderInfo | None, channel: str, unknown: ErrorCode = ErrorCode.LOGIN_FAILED) -> ErrorCode | None:
    """The rules every login shares, whatever the credential."""
    if sender is None:
        return unknown
    if not sender.active:
        return ErrorCode.SENDER_BLOCKED
    if channel not in sender.channels:
        return ErrorCode.CHANNEL_NOT_REGISTERED
    return None


def _answer_for_assertion(err: GGAError) -> GGAError:
    """What the token endpoint tells a caller who has not proven who they are: an unknown sender number and a
    sender without a Web Service channel look the same (the log keeps the precise code)."""
    return GGAError(ErrorCode.ASSERTION_INVALID) if err.code == ErrorCode.CHANNEL_NOT_REGISTERED else err


def _issuer(assertion: str) -> str:
    try:
        return assertions.unverified_issuer(assertion)
    except assertions.AssertionInvalid as exc:
        raise GGAError(ErrorCode.ASSERTION_INVALID, str(exc)) from exc


def _ssh_blob(openssh_line: str) -> bytes:
    return base64.b64decode(openssh_line.split()[1])
