"""One authentication entry point for every protocol: password, SSH key, or a certificate-signed token."""

from __future__ import annotations

import base64
import hmac

from admin_api.sender.directory import SenderDirectory, SenderInfo
from gateway.core.session import GatewaySession
from gateway.core.spool import Spool
from gateway.core.translog import TransferLog
from gga.errors import ErrorCode
from keys.passwords import Passwords


class Authenticator:
    def __init__(self, directory: SenderDirectory, passwords: Passwords, spool: Spool, translog: TransferLog):
        self.directory = directory
        self.passwords = passwords
        self.spool = spool
        self.translog = translog

    def session(self, sender: SenderInfo, channel: str, protocol: str, remote: str) -> GatewaySession:
        return GatewaySession(sender, channel, protocol, remote, self.spool.home(sender.number, channel))

    def _refusal(self, sender: SenderInfo | None, channel: str) -> ErrorCode | None:
        if sender is None:
            return ErrorCode.LOGIN_FAILED
        if not sender.active:
            return ErrorCode.SENDER_BLOCKED
        if channel not in sender.channels:
            return ErrorCode.CHANNEL_NOT_REGISTERED
        return None

    def password(self, user: str, password: str, channel: str, protocol: str, remote: str) -> GatewaySession | None:
        """Blocking (argon2): run it off the event loop. Unknown users cost the same as known ones."""
        sender = self.directory.by_technical_user(user)
        matches = self.passwords.verify(sender.password_hash if sender else None, password)
        refusal = self._refusal(sender, channel) or (None if matches else ErrorCode.LOGIN_FAILED)
        if refusal is None and sender is not None and self.passwords.needs_rehash(sender.password_hash):
            self.directory.replace_password_hash(sender.id, self.passwords.hash(password))
        return self._outcome(user, sender, channel, protocol, remote, refusal, "password")

    def public_key(self, user: str, key_blob: bytes, channel: str) -> SenderInfo | None:
        """Is this SSH key the one registered for the user's channel (and may the user log in)?"""
        sender = self.directory.by_technical_user(user)
        registered = sender.channels.get(channel) if sender else None
        blob = _ssh_blob(registered.ssh_public_key) if registered and registered.ssh_public_key else b"\0"
        matches = hmac.compare_digest(blob, key_blob)
        return sender if matches and self._refusal(sender, channel) is None else None

    def accepted(self, sender: SenderInfo, channel: str, protocol: str, remote: str, method: str) -> GatewaySession:
        session = self.session(sender, channel, protocol, remote)
        self.translog.record("login", "ok", protocol=protocol, method=method, **session.log_fields())
        return session

    def refused(self, user: str, protocol: str, remote: str, method: str, code: ErrorCode) -> None:
        self.translog.record("login", "refused", protocol=protocol, error_code=str(code), technical_user=user[:64],
                             remote_address=remote, method=method)

    def _outcome(self, user: str, sender: SenderInfo | None, channel: str, protocol: str, remote: str,
                 refusal: ErrorCode | None, method: str) -> GatewaySession | None:
        if refusal is not None or sender is None:
            self.refused(user, protocol, remote, method, refusal or ErrorCode.LOGIN_FAILED)
            return None
        return self.accepted(sender, channel, protocol, remote, method)


def _ssh_blob(openssh_line: str) -> bytes:
    return base64.b64decode(openssh_line.split()[1])
