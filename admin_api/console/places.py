"""Where a person has something to manage: the console's home page reads it (the policy still decides each action)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, union
from sqlalchemy.orm import Session

from store.models import CoMainManager, Domain, Enterprise, Person, User

DEV_PEOPLE_SHOWN = 500  # the development sign-in's list; any other NISS can be typed


@dataclass(frozen=True)
class Place:
    """An enterprise (GAP, co-GAP) or a domain (GL, co-GL) the person manages; ``role`` is a policy role."""

    role: str
    enterprise_number: str
    enterprise_name: str
    domain_id: int | None = None
    domain_name: str = ""
    domain_identifier: str = ""


def places_of(session: Session, niss: str) -> list[Place]:
    found = [Place("main_manager", e.number, e.name)
             for e in session.scalars(select(Enterprise).where(Enterprise.main_manager_niss == niss))]
    found += [Place("co_main_manager", e.number, e.name) for e in session.scalars(
        select(Enterprise).join(CoMainManager).where(CoMainManager.niss == niss))]
    rows = session.execute(select(User.type, Domain, Enterprise.name).join(Domain, Domain.id == User.domain_id)
                           .join(Enterprise).where(User.niss == niss, User.status == "active",
                                                   User.type.in_(("GL", "Co-GL"))).order_by(Domain.id))
    found += [Place("local_manager" if kind == "GL" else "co_local_manager", d.enterprise_number, name, d.id,
                    d.name, d.identifier) for kind, d, name in rows]
    return found


def name_of(session: Session, niss: str) -> str:
    """First and last name from the register or a user row; the NISS when the person is unknown."""
    person = session.get(Person, niss)
    if person is not None:
        return f"{person.first_name} {person.last_name}"
    user = session.scalars(select(User).where(User.niss == niss).limit(1)).first()
    return f"{user.first_name} {user.last_name}" if user else ""


def known_people(session: Session) -> list[tuple[str, str]]:
    """(NISS, name) of the register's persons, the GAPs, co-GAPs and the domains' users, for the dev sign-in."""
    nisses = union(select(Person.niss), select(Enterprise.main_manager_niss).where(
        Enterprise.main_manager_niss.is_not(None)), select(CoMainManager.niss), select(User.niss)).subquery()
    chosen = list(session.scalars(select(nisses.c[0]).order_by(nisses.c[0]).limit(DEV_PEOPLE_SHOWN)))
    return sorted(((n, name_of(session, n)) for n in chosen), key=lambda p: (p[1] == "", p[1], p[0]))
