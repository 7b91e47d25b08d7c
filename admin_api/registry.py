"""The enterprise register extract (BCE/KBO) the service trusts: import and legal-representative look-ups."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kernel import identifiers
from store.models import Enterprise, LegalFunction, Person


class RegistryPerson(BaseModel):
    niss: str
    first_name: str
    last_name: str


class RegistryFunction(BaseModel):
    niss: str
    function: str
    start: date
    end: date | None = None


class RegistryEnterprise(BaseModel):
    number: str
    name: str
    address: str = ""
    legal_representatives: list[RegistryFunction] = []


class RegistryExtract(BaseModel):
    persons: list[RegistryPerson] = []
    enterprises: list[RegistryEnterprise] = []


def import_extract(session: Session, data: dict[str, Any]) -> dict[str, int]:
    """Load persons, enterprises and legal functions; running it twice changes nothing."""
    extract = RegistryExtract.model_validate(data)
    counts = {"persons": 0, "enterprises": 0, "legal_functions": 0}
    for p in extract.persons:
        niss = identifiers.niss(p.niss, "persons.niss")
        person = session.get(Person, niss) or Person(niss=niss)
        person.first_name, person.last_name = p.first_name, p.last_name
        session.add(person)
        counts["persons"] += 1
    for e in extract.enterprises:
        number = identifiers.enterprise_number(e.number, "enterprises.number")
        enterprise = session.get(Enterprise, number) or Enterprise(number=number)
        enterprise.name, enterprise.address = e.name, e.address
        session.add(enterprise)
        session.flush()
        counts["enterprises"] += 1
        for f in e.legal_representatives:
            counts["legal_functions"] += _upsert_function(session, number, f)
    session.flush()
    return counts


def _upsert_function(session: Session, number: str, f: RegistryFunction) -> int:
    niss = identifiers.niss(f.niss, "legal_representatives.niss")
    row = session.scalar(select(LegalFunction).where(
        LegalFunction.enterprise_number == number, LegalFunction.niss == niss,
        LegalFunction.function == f.function, LegalFunction.start == f.start))
    if row is None:
        row = LegalFunction(enterprise_number=number, niss=niss, function=f.function, start=f.start)
    row.end = f.end
    session.add(row)
    return 1


def is_current_legal_representative(session: Session, enterprise_number: str, niss: str,
                                    today: date | None = None) -> bool:
    """Only a function valid *today* counts (the guide: "reconnue par la BCE et valable actuellement")."""
    today = today or date.today()
    return session.scalar(select(LegalFunction.id).where(
        LegalFunction.enterprise_number == enterprise_number, LegalFunction.niss == niss,
        LegalFunction.start <= today, or_(LegalFunction.end.is_(None), LegalFunction.end >= today),
    ).limit(1)) is not None


def person_name(session: Session, niss: str | None) -> str | None:
    person = session.get(Person, niss) if niss else None
    return f"{person.first_name} {person.last_name}" if person else None
