"""People side of the guide: register extract, enterprises, their managers, domains and users."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kernel.clock import utcnow
from store.models.base import Base

NAME_KEY_LENGTH = 100  # users.last_name_key and first_name_key


def SortKey(length: int) -> String:
    """Byte-ordered text on PostgreSQL: one b-tree then serves both LIKE 'prefix%' and ORDER BY."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")  # type: ignore[return-value]


class Person(Base):
    """A natural person known to the enterprise register (or named by a request)."""

    __tablename__ = "persons"
    niss: Mapped[str] = mapped_column(String(11), primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))


class Enterprise(Base):
    """An enterprise of the register; *registered* in CSAM once it has a main access manager (GAP)."""

    __tablename__ = "enterprises"
    number: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")
    main_manager_niss: Mapped[str | None] = mapped_column(String(11))
    main_manager_email: Mapped[str | None] = mapped_column(String(254))
    main_manager_phone: Mapped[str | None] = mapped_column(String(40))
    registered_at: Mapped[datetime | None]

    legal_functions: Mapped[list[LegalFunction]] = relationship(back_populates="enterprise")
    co_main_managers: Mapped[list[CoMainManager]] = relationship(cascade="all, delete-orphan")
    domains: Mapped[list[Domain]] = relationship(back_populates="enterprise", order_by="Domain.id")


class LegalFunction(Base):
    """A legal function (Représentant Légal) held from ``start`` to ``end`` (None while it lasts)."""

    __tablename__ = "legal_functions"
    __table_args__ = (UniqueConstraint("enterprise_number", "niss", "function", "start"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_number: Mapped[str] = mapped_column(ForeignKey("enterprises.number"), index=True)
    niss: Mapped[str] = mapped_column(String(11), index=True)
    function: Mapped[str] = mapped_column(String(100))
    start: Mapped[date]
    end: Mapped[date | None]

    enterprise: Mapped[Enterprise] = relationship(back_populates="legal_functions")


class CoMainManager(Base):
    """Co-Gestionnaire d'Accès Principal, designated by the GAP."""

    __tablename__ = "co_main_managers"
    enterprise_number: Mapped[str] = mapped_column(ForeignKey("enterprises.number"), primary_key=True)
    niss: Mapped[str] = mapped_column(String(11), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RegistrationRequest(Base):
    """A request to designate a GAP: standard (done at once) or exceptional (ticket, signed PDF, operator)."""

    __tablename__ = "registration_requests"
    ticket: Mapped[str] = mapped_column(String(13), primary_key=True)
    procedure: Mapped[str] = mapped_column(String(12))  # standard | exceptional
    status: Mapped[str] = mapped_column(String(10), index=True)  # pending | approved | rejected
    enterprise_number: Mapped[str] = mapped_column(String(10), index=True)
    requester_niss: Mapped[str] = mapped_column(String(11))
    requester_first_name: Mapped[str] = mapped_column(String(100), default="")
    requester_last_name: Mapped[str] = mapped_column(String(100), default="")
    requester_email: Mapped[str] = mapped_column(String(254))
    requester_phone: Mapped[str] = mapped_column(String(40))
    manager_niss: Mapped[str] = mapped_column(String(11))
    manager_email: Mapped[str] = mapped_column(String(254))
    manager_phone: Mapped[str] = mapped_column(String(40))
    # the language the requester filled the form in: the registration's mails speak it
    language: Mapped[str] = mapped_column(String(2), default="fr", server_default="fr")
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(11))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]


class Domain(Base):
    """Domaine (old term: qualité), e.g. "Employeur ONSS" identified by its ONSS number."""

    __tablename__ = "domains"
    __table_args__ = (UniqueConstraint("enterprise_number", "name", "identifier"),
                      # an ONSS number is one employer's: the domain of one enterprise only
                      Index("uq_domains_onss_number", "identifier", unique=True,
                            sqlite_where=text("name = 'Employeur ONSS'"),
                            postgresql_where=text("name = 'Employeur ONSS'")))
    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_number: Mapped[str] = mapped_column(ForeignKey("enterprises.number"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    identifier: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    enterprise: Mapped[Enterprise] = relationship(back_populates="domains")
    applications: Mapped[list[DomainApplication]] = relationship(
        cascade="all, delete-orphan", order_by="DomainApplication.code")


class DomainApplication(Base):
    __tablename__ = "domain_applications"
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(4), primary_key=True)


class User(Base):
    """Utilisateur of a domain; ``type`` GL (the domain's access manager), Co-GL or USER."""

    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("domain_id", "niss"),
        Index("ix_users_domain_last", "domain_id", "last_name_key", "first_name_key", "id"),
        Index("ix_users_domain_first", "domain_id", "first_name_key"),
        Index("ix_users_domain_username", "domain_id", "username"),
        # filter + the list's order in one index, so the first page never sorts the whole domain
        Index("ix_users_domain_type", "domain_id", "type", "last_name_key", "first_name_key", "id"),
        Index("ix_users_domain_status", "domain_id", "status", "last_name_key", "first_name_key", "id"),
        # one access manager (GL) per domain, whatever races
        Index("uq_users_domain_gl", "domain_id", unique=True, sqlite_where=text("type = 'GL'"),
              postgresql_where=text("type = 'GL'")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    niss: Mapped[str] = mapped_column(String(11), index=True)
    username: Mapped[str] = mapped_column(SortKey(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100))
    # case- and accent-folded copies, indexed, for prefix filters and the list's order
    last_name_key: Mapped[str] = mapped_column(SortKey(NAME_KEY_LENGTH))
    first_name_key: Mapped[str] = mapped_column(SortKey(NAME_KEY_LENGTH))
    title: Mapped[str] = mapped_column(String(20), default="")
    language: Mapped[str] = mapped_column(String(2), default="fr")
    email: Mapped[str] = mapped_column(String(254))
    local_email: Mapped[str | None] = mapped_column(String(254))
    type: Mapped[str] = mapped_column(String(6))  # GL | Co-GL | USER
    status: Mapped[str] = mapped_column(String(8), default="active")  # active | blocked
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None]

    applications: Mapped[list[UserApplication]] = relationship(
        cascade="all, delete-orphan", order_by="UserApplication.code", lazy="selectin")


class UserApplication(Base):
    __tablename__ = "user_applications"
    __table_args__ = (Index("ix_user_applications_code", "code", "user_id"),)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(4), primary_key=True)
