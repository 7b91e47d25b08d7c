from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_api import audit
from admin_api.identity import Caller
from admin_api.policy import Action, Role, authorize, domain_ids_managed_by
from admin_api.registration.service import manager_view
from admin_api.registry import person_name
from admin_api.schemas import ContactData
from kernel import catalogue, identifiers
from kernel.errors import ErrorCode, GGAError
from store.models import CoMainManager, Domain, DomainApplication, Enterprise


def get_enterprise(session: Session, number: str, *, lock: bool = False) -> Enterprise:
    """``lock``: the row locked until the transaction ends (PostgreSQL; SQLite's write turn is taken at BEGIN), for
    a change that checks the GAP, whom a racing designation may be changing."""
    number = identifiers.enterprise_number(number)
    enterprise = session.get(Enterprise, number, with_for_update=lock or None)
    if enterprise is None:
        raise GGAError(ErrorCode.NOT_FOUND, details={"enterprise_number": number}, key="not_found.enterprise")
    return enterprise


def read(session: Session, caller: Caller, number: str) -> dict[str, Any]:
    enterprise = get_enterprise(session, number)
    roles = authorize(session, caller, Action.READ_ENTERPRISE, enterprise.number)
    return {
        "enterprise_number": enterprise.number, "name": enterprise.name, "address": enterprise.address,
        "registered": enterprise.main_manager_niss is not None,
        "registered_at": enterprise.registered_at.isoformat() if enterprise.registered_at else None,
        "main_access_manager": manager_view(session, enterprise) if enterprise.main_manager_niss else None,
        "co_main_access_managers": [co_view(session, c) for c in enterprise.co_main_managers],
        "domains": _visible_domains(session, caller, enterprise, roles),
    }


def co_view(session: Session, c: CoMainManager) -> dict[str, Any]:
    return {"niss": c.niss, "name": person_name(session, c.niss), "email": c.email, "phone": c.phone}


def add_co_main_manager(session: Session, caller: Caller, number: str, niss: str,
                        contact: ContactData | None) -> dict[str, Any]:
    # locked, as a designation locks it: the GAP read here is not being changed meanwhile (a designation racing this
    # made the new GAP a co-GAP of their own enterprise too)
    enterprise = get_enterprise(session, number, lock=True)
    authorize(session, caller, Action.MANAGE_CO_MAIN_MANAGERS, enterprise.number)
    if niss == enterprise.main_manager_niss:  # "already a co main access manager" was not true of them
        raise GGAError(ErrorCode.CO_MAIN_MANAGER_EXISTS, details={"niss": niss}, key="co_gap.is_gap")
    if session.get(CoMainManager, (enterprise.number, niss)):
        raise GGAError(ErrorCode.CO_MAIN_MANAGER_EXISTS, details={"niss": niss})
    co = CoMainManager(enterprise_number=enterprise.number, niss=niss,
                       email=contact.email if contact else None, phone=contact.phone if contact else None)
    session.add(co)
    session.flush()
    audit.record(session, caller, "enterprise.co_main_manager.added", f"enterprise:{enterprise.number}",
                 enterprise.number, after={"niss": niss})
    return co_view(session, co)


def remove_co_main_manager(session: Session, caller: Caller, number: str, niss: str) -> None:
    enterprise = get_enterprise(session, number)
    authorize(session, caller, Action.MANAGE_CO_MAIN_MANAGERS, enterprise.number)
    co = session.get(CoMainManager, (enterprise.number, identifiers.niss(niss)))
    if co is None:
        raise GGAError(ErrorCode.NOT_FOUND, details={"niss": niss}, key="not_found.co_main_manager")
    session.delete(co)
    audit.record(session, caller, "enterprise.co_main_manager.removed", f"enterprise:{enterprise.number}",
                 enterprise.number, before={"niss": co.niss})


def domain_view(d: Domain) -> dict[str, Any]:
    return {"id": d.id, "enterprise_number": d.enterprise_number, "name": d.name, "identifier": d.identifier,
            "applications": [a.code for a in d.applications], "created_at": d.created_at.isoformat()}


def list_domains(session: Session, caller: Caller, number: str) -> list[dict[str, Any]]:
    enterprise = get_enterprise(session, number)
    roles = authorize(session, caller, Action.LIST_DOMAINS, enterprise.number)
    return _visible_domains(session, caller, enterprise, roles)


def _visible_domains(session: Session, caller: Caller, enterprise: Enterprise, roles: set[Role]
                     ) -> list[dict[str, Any]]:
    """Every domain for the GAP, co-GAPs, the legal representative and platform roles; a GL or Co-GL sees only
    the domains they manage, even when they are a plain user of another domain."""
    if roles - {Role.LOCAL_MANAGER, Role.CO_LOCAL_MANAGER, Role.USER} or not caller.niss:
        return [domain_view(d) for d in enterprise.domains]
    managed = domain_ids_managed_by(session, caller.niss, enterprise.number)
    return [domain_view(d) for d in enterprise.domains if d.id in managed]


def create_domain(session: Session, caller: Caller, number: str, name: str, identifier: str,
                  applications: list[str] | None) -> dict[str, Any]:
    enterprise = get_enterprise(session, number)
    authorize(session, caller, Action.CREATE_DOMAIN, enterprise.number)
    if name not in catalogue.DOMAIN_KINDS:
        raise GGAError(ErrorCode.DOMAIN_KIND_UNKNOWN, details={"field": "name"}, key="domain_kind_unknown",
                       params={"kinds": catalogue.DOMAIN_KINDS})
    if name == catalogue.EMPLOYER_ONSS:
        identifier = identifiers.onss_number(identifier)
    offered = catalogue.applications_of_domain(name)
    catalogue.require_known(applications or [])
    chosen = offered if applications is None else sorted(set(applications))
    outside = [c for c in chosen if c not in offered]
    if outside:
        raise GGAError(ErrorCode.APPLICATION_NOT_IN_DOMAIN, details={"applications": outside},
                       key="application_not_in_domain")
    if not chosen:  # no user or sender could ever be given an application there
        raise GGAError(ErrorCode.VALIDATION_ERROR, details={"field": "applications"}, key="domain.applications_needed")
    if any(d.name == name and d.identifier == identifier for d in enterprise.domains):
        raise GGAError(ErrorCode.DOMAIN_EXISTS, details={"name": name, "identifier": identifier})
    if name == catalogue.EMPLOYER_ONSS and session.scalar(select(Domain.id).where(  # another employer's number
            Domain.name == name, Domain.identifier == identifier)) is not None:  # ("this enterprise has it" was false)
        raise GGAError(ErrorCode.DOMAIN_EXISTS, details={"name": name, "identifier": identifier},
                       key="domain.onss_taken")
    domain = Domain(enterprise_number=enterprise.number, name=name, identifier=identifier,
                    applications=[DomainApplication(code=c) for c in chosen])
    session.add(domain)
    session.flush()
    audit.record(session, caller, "domain.created", f"domain:{domain.id}", enterprise.number,
                 after=domain_view(domain))
    return domain_view(domain)
