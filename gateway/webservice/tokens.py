"""Issuing and checking web-service bearer tokens (kept in the database: any instance can check them)."""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from admin_api.database import Database
from admin_api.models import ServiceToken, UsedAssertion
from admin_api.sender.directory import SenderDirectory, SenderInfo
from gga.errors import ErrorCode, GGAError
from keys import assertions

SUBJECT_PREFIX = "self-service:expeditor:"
TOKEN_LIFETIME = 600


class WebServiceTokens:
    def __init__(self, db: Database, directory: SenderDirectory):
        self.db, self.directory = db, directory

    def exchange(self, assertion: str, audiences: list[str]) -> tuple[SenderInfo, str]:
        """client_credentials with a private_key_jwt assertion -> (sender, opaque bearer token)."""
        issuer = self._issuer(assertion)
        number = issuer.removeprefix(SUBJECT_PREFIX)
        sender = self.directory.by_number(number) if issuer.startswith(SUBJECT_PREFIX) else None
        channel = sender.channels.get("WS") if sender else None
        if sender is None or channel is None:
            raise GGAError(ErrorCode.ASSERTION_INVALID, f"iss must be {SUBJECT_PREFIX}<sender number> of a sender "
                           "with a Web Service channel.")
        if not sender.active:
            raise GGAError(ErrorCode.SENDER_BLOCKED)
        try:
            claims = assertions.verify(assertion, channel.certificates, audiences, issuer, time.time())
        except assertions.AssertionInvalid as exc:
            raise GGAError(ErrorCode.ASSERTION_INVALID, f"Client assertion refused: {exc}.") from exc
        self._use_once(str(claims["jti"]), int(claims["exp"]))
        token = secrets.token_urlsafe(32)
        with self.db.session() as session:
            session.add(ServiceToken(token_hash=_hash(token), sender_id=sender.id,
                                     expires_at=datetime.now(UTC) + timedelta(seconds=TOKEN_LIFETIME)))
        return sender, token

    @staticmethod
    def _issuer(assertion: str) -> str:
        try:
            return assertions.unverified_issuer(assertion)
        except assertions.AssertionInvalid as exc:
            raise GGAError(ErrorCode.ASSERTION_INVALID, str(exc)) from exc

    def _use_once(self, jti: str, exp: int) -> None:
        now = datetime.now(UTC)
        try:
            with self.db.session() as session:
                session.execute(delete(UsedAssertion).where(UsedAssertion.expires_at < now - timedelta(minutes=10)))
                session.add(UsedAssertion(jti=jti[:200], expires_at=datetime.fromtimestamp(exp, UTC)))
        except IntegrityError as exc:
            raise GGAError(ErrorCode.ASSERTION_REPLAYED, details={"jti": jti[:200]}) from exc

    def sender_for(self, token: str) -> SenderInfo:
        with self.db.session() as session:
            row = session.get(ServiceToken, _hash(token))
            valid = row is not None and _aware(row.expires_at) > datetime.now(UTC)
            sender_id = row.sender_id if row else None
        sender = self.directory.by_id(sender_id) if valid and sender_id else None
        if sender is None:
            raise GGAError(ErrorCode.TOKEN_INVALID)
        if not sender.active:
            raise GGAError(ErrorCode.SENDER_BLOCKED)
        return sender


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite hands back naive UTC
