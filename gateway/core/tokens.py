"""Web-service bearer tokens and used client assertions, kept in the database so every instance can check them.

Only storage lives here; who may log in is the authenticator's (``gateway/core/auth.py``).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from kernel.clock import UTC, utcnow
from kernel.errors import ErrorCode, GGAError
from store.database import Database
from store.models import ServiceToken, UsedAssertion

TOKEN_LIFETIME = 600  # seconds


class ServiceTokens:
    def __init__(self, db: Database):
        self.db = db

    def issue(self, sender_id: int) -> str:
        """A new opaque bearer token; only its SHA-256 is stored."""
        token = secrets.token_urlsafe(32)
        with self.db.session() as session:
            session.add(ServiceToken(token_hash=_hash(token), sender_id=sender_id,
                                     expires_at=utcnow() + timedelta(seconds=TOKEN_LIFETIME)))
        return token

    def use_once(self, jti: str, exp: int) -> None:
        """Remember an assertion's ``jti`` until it would have expired; a second use is ASSERTION_REPLAYED. One
        longer than the column is refused (cut, two different ones were taken for a replay)."""
        if len(jti) > 200:
            raise GGAError(ErrorCode.ASSERTION_INVALID, "Client assertion refused: jti longer than 200 characters.")
        try:
            with self.db.session() as session:
                stale = utcnow() - timedelta(minutes=10)
                session.execute(delete(UsedAssertion).where(UsedAssertion.expires_at < stale))
                session.add(UsedAssertion(jti=jti[:200], expires_at=datetime.fromtimestamp(exp, UTC)))
        except IntegrityError as exc:
            raise GGAError(ErrorCode.ASSERTION_REPLAYED, details={"jti": jti[:200]}) from exc

    def sender_id(self, token: str) -> int | None:
        """The sender a valid (known, unexpired) token was issued to."""
        with self.db.read() as session:
            row = session.get(ServiceToken, _hash(token))
            return row.sender_id if row is not None and row.expires_at > utcnow() else None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
