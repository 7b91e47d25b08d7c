"""The gateway's one window on senders: read-only snapshots of what a login, a check or a delivery needs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from sqlalchemy import Row, Select, bindparam, select

from keys.certificates import stored_certificate
from store.database import Database
from store.models import ChannelApplication, ChannelCertificate, Sender, SenderChannel


@dataclass(frozen=True)
class ChannelInfo:
    type: str
    ssh_public_key: str | None
    certificates: tuple[x509.Certificate, ...]
    applications: frozenset[str]
    preferred: frozenset[str]
    plain_ftp: bool


@dataclass(frozen=True)
class SenderInfo:
    id: int
    number: str
    domain_id: int
    technical_user: str
    password_hash: str
    active: bool  # neither the sender nor its technical user is blocked
    channels: dict[str, ChannelInfo]
    language: str = "fr"  # the contact person's: ACRF error descriptions speak it

    def preferred_channel(self, application: str) -> str | None:
        return next((t for t, c in self.channels.items() if application in c.preferred), None)

    def may_send(self, channel: str, application: str) -> bool:
        info = self.channels.get(channel)
        return info is not None and application in info.applications


class SenderDirectory:
    CACHED = 4096  # snapshots kept (by sender id); past that the cache starts again

    def __init__(self, db: Database):
        self.db = db
        self._snapshots: dict[int, tuple[int, SenderInfo]] = {}  # id -> (revision it was read at, snapshot)

    def by_technical_user(self, name: str) -> SenderInfo | None:
        return self._one(_BY_TECHNICAL_USER, name.lower())

    def by_number(self, number: str) -> SenderInfo | None:
        return self._one(_BY_NUMBER, number)

    def by_id(self, sender_id: int) -> SenderInfo | None:
        return self._one(_BY_ID, sender_id)

    def of_submission(self, sender_id: int) -> SenderInfo | None:
        """``by_id`` for a submission's sender, deleted ones too (inactive): a GO recorded before its sender was
        deleted is still answered (SENDER_BLOCKED), never left undecided for ever."""
        return self._one(_BY_ID_ANY, sender_id)

    def active_among(self, sender_ids: set[int]) -> set[tuple[int, str]]:
        """(sender, channel) of these senders that may still work: the sender neither blocked nor deleted, the
        channel still registered. One query for every live session."""
        if not sender_ids:
            return set()
        with self.db.read() as session:
            return {(row[0], row[1]) for row in session.execute(select(Sender.id, SenderChannel.type).join(
                SenderChannel, SenderChannel.sender_id == Sender.id).where(
                Sender.id.in_(sender_ids), Sender.status == "active", Sender.technical_user_status == "active"))}

    def number_of(self, name: str) -> str | None:
        """The sender number of a technical user (deleted ones too): one indexed read, known user or not."""
        with self.db.read() as session:
            return session.scalar(select(Sender.number).where(Sender.technical_user_key == name.lower()))

    def password_hash_of(self, name: str) -> tuple[int, str] | None:
        """(id, hash) for a password login: the same one indexed read whether or not the user exists, so a wrong
        password costs a known user what it costs an unknown one (the full snapshot comes after the check)."""
        with self.db.read() as session:
            row = session.execute(select(Sender.id, Sender.password_hash).where(
                Sender.technical_user_key == name.lower(), Sender.status != "deleted")).first()
            return (row[0], row[1]) if row else None

    def replace_password_hash(self, sender_id: int, password_hash: str) -> None:
        """After a successful login with outdated argon2 parameters (the one write the gateway makes here)."""
        with self.db.session() as session:
            sender = session.get(Sender, sender_id)
            if sender is not None:
                sender.password_hash = password_hash

    def _one(self, sender: Select, key: str | int) -> SenderInfo | None:
        """The snapshot from plain rows (no ORM objects: it is read for every submission and login). The sender's
        row is read every time; its channels, certificates and applications only when its revision moved since
        the last read (the database bumps it on any change of them: a block, a removed certificate or application
        counts for the very next submission)."""
        with self.db.read() as session:
            s = session.execute(sender, {"key": key}).first()
            if s is None:
                return None
            cached = self._snapshots.get(s.id)
            if cached is not None and cached[0] == s.revision:
                return cached[1]
            channels = session.execute(_CHANNELS, {"sender": s.id}).all()
            ids = [c.id for c in channels]
            certificates = session.execute(_CERTIFICATES, {"ids": ids}).all() if ids else []
            applications = session.execute(_APPLICATIONS, {"ids": ids}).all() if ids else []
        info = _snapshot(s, channels, certificates, applications)
        if len(self._snapshots) >= self.CACHED:
            self._snapshots.clear()
        # read after the sender's row: never older than the revision it is kept under
        self._snapshots[s.id] = (s.revision, info)
        return info

    def any_plain_ftp(self) -> bool:
        """May some sender use FTP without TLS? Where none may, the FTP listener refuses USER before AUTH TLS (the
        password never travels in clear). One EXISTS query per plain-text USER."""
        with self.db.read() as session:
            return bool(session.scalar(select(select(Sender.id).where(
                Sender.status != "deleted", Sender.channels.any(type="FTP", plain_ftp=True)).exists())))


# The snapshot's statements, built once on the tables: no expression building or ORM compile step per read.
_S, _C = Sender.__table__.c, SenderChannel.__table__.c
_CERT, _APP = ChannelCertificate.__table__.c, ChannelApplication.__table__.c
_ANY_SENDER = select(_S.id, _S.number, _S.domain_id, _S.technical_user, _S.password_hash, _S.status,
                     _S.technical_user_status, _S.contact, _S.revision)
_SENDER = _ANY_SENDER.where(_S.status != "deleted")
_BY_TECHNICAL_USER = _SENDER.where(_S.technical_user_key == bindparam("key"))
_BY_NUMBER = _SENDER.where(_S.number == bindparam("key"))
_BY_ID = _SENDER.where(_S.id == bindparam("key"))
_BY_ID_ANY = _ANY_SENDER.where(_S.id == bindparam("key"))
_CHANNELS = select(_C.id, _C.type, _C.ssh_public_key, _C.plain_ftp).where(
    _C.sender_id == bindparam("sender")).order_by(_C.type)
_CERTIFICATES = select(_CERT.channel_id, _CERT.pem).where(
    _CERT.channel_id.in_(bindparam("ids", expanding=True))).order_by(_CERT.id)
_APPLICATIONS = select(_APP.channel_id, _APP.code, _APP.preferred).where(
    _APP.channel_id.in_(bindparam("ids", expanding=True)))


def _snapshot(s: Row, channels: Sequence[Row], certificates: Sequence[Row], applications: Sequence[Row]) -> SenderInfo:
    def info(c: Row) -> ChannelInfo:
        apps = [a for a in applications if a.channel_id == c.id]
        return ChannelInfo(
            type=c.type, ssh_public_key=c.ssh_public_key,
            certificates=tuple(stored_certificate(x.pem) for x in certificates if x.channel_id == c.id),
            applications=frozenset(a.code for a in apps), preferred=frozenset(a.code for a in apps if a.preferred),
            plain_ftp=c.plain_ftp)

    return SenderInfo(s.id, s.number, s.domain_id, s.technical_user, s.password_hash,
                      s.status == "active" and s.technical_user_status == "active",
                      {c.type: info(c) for c in channels}, str((s.contact or {}).get("language") or "fr"))
