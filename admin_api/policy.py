"""Who may do what: the guide's roles x the admin actions, in one table, checked by every route.

Roles are computed *in the context* of the enterprise (and domain) being acted on, so a GAP of enterprise A holds
no role at all in enterprise B: the tenant scoping cannot be forgotten by a route.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_api.identity import Caller
from admin_api.registry import is_current_legal_representative
from kernel.errors import ErrorCode, GGAError
from store.models import CoMainManager, Domain, Enterprise, User


class Role(StrEnum):
    LEGAL_REPRESENTATIVE = "legal_representative"  # Représentant Légal (LR)
    MAIN_MANAGER = "main_manager"  # Gestionnaire d'Accès Principal (GAP)
    CO_MAIN_MANAGER = "co_main_manager"  # Co-GAP
    LOCAL_MANAGER = "local_manager"  # Gestionnaire d'Accès / Gestionnaire local (GL)
    CO_LOCAL_MANAGER = "co_local_manager"  # Co-GL
    USER = "user"  # Utilisateur (USER)
    OPERATOR = "operator"  # contact centre
    OPS = "ops"  # monitoring


class Action(StrEnum):
    REGISTER_ENTERPRISE = "register_enterprise"
    CHANGE_MAIN_MANAGER = "change_main_manager"
    DECIDE_REGISTRATION = "decide_registration"
    READ_ENTERPRISE = "read_enterprise"
    MANAGE_CO_MAIN_MANAGERS = "manage_co_main_managers"
    LIST_DOMAINS = "list_domains"
    CREATE_DOMAIN = "create_domain"
    SET_LOCAL_MANAGER = "set_local_manager"
    MANAGE_CO_LOCAL_MANAGERS = "manage_co_local_managers"
    MANAGE_USERS = "manage_users"
    READ_SENDER = "read_sender"
    MANAGE_SENDER = "manage_sender"
    READ_TRANSFERS = "read_transfers"
    READ_AUDIT = "read_audit"
    POST_RETURN = "post_return"
    MANAGE_DEFENDER = "manage_defender"


R = Role
MANAGERS_OF_DOMAIN = frozenset({R.MAIN_MANAGER, R.CO_MAIN_MANAGER, R.LOCAL_MANAGER, R.CO_LOCAL_MANAGER})

RULES: dict[Action, frozenset[Role]] = {
    Action.REGISTER_ENTERPRISE: frozenset({R.LEGAL_REPRESENTATIVE}),
    Action.CHANGE_MAIN_MANAGER: frozenset({R.LEGAL_REPRESENTATIVE}),
    Action.DECIDE_REGISTRATION: frozenset({R.OPERATOR}),
    Action.READ_ENTERPRISE: MANAGERS_OF_DOMAIN | {R.LEGAL_REPRESENTATIVE, R.OPERATOR},
    # the guide: "le GAP peut désigner un ou plusieurs Co-Gestionnaires d'Accès Principaux"
    Action.MANAGE_CO_MAIN_MANAGERS: frozenset({R.MAIN_MANAGER}),
    Action.LIST_DOMAINS: MANAGERS_OF_DOMAIN,
    Action.CREATE_DOMAIN: frozenset({R.MAIN_MANAGER, R.CO_MAIN_MANAGER}),
    # guide IV: the GAP (and the co-GAPs helping them) designate each domain's access manager
    Action.SET_LOCAL_MANAGER: frozenset({R.MAIN_MANAGER, R.CO_MAIN_MANAGER}),
    Action.MANAGE_CO_LOCAL_MANAGERS: frozenset({R.MAIN_MANAGER, R.CO_MAIN_MANAGER, R.LOCAL_MANAGER}),
    # guide V, footnote 4: one must be access manager of the domain to manage its users
    Action.MANAGE_USERS: MANAGERS_OF_DOMAIN,
    Action.READ_SENDER: MANAGERS_OF_DOMAIN,
    Action.MANAGE_SENDER: MANAGERS_OF_DOMAIN,
    Action.READ_TRANSFERS: frozenset({R.OPS}),
    Action.READ_AUDIT: frozenset({R.OPS}),
    Action.POST_RETURN: frozenset({R.OPS}),
    Action.MANAGE_DEFENDER: frozenset({R.OPS}),
}


def roles_in(session: Session, caller: Caller, enterprise_number: str | None = None,
             domain_id: int | None = None) -> set[Role]:
    """The caller's roles where the action takes place (platform roles hold everywhere)."""
    roles = {Role(r) for r in caller.platform_roles}
    if caller.niss is None or enterprise_number is None:
        return roles
    niss = caller.niss
    enterprise = session.get(Enterprise, enterprise_number)
    if enterprise is None:
        return roles
    if is_current_legal_representative(session, enterprise_number, niss):
        roles.add(Role.LEGAL_REPRESENTATIVE)
    if enterprise.main_manager_niss == niss:
        roles.add(Role.MAIN_MANAGER)
    if session.get(CoMainManager, (enterprise_number, niss)) is not None:
        roles.add(Role.CO_MAIN_MANAGER)
    roles |= _domain_roles(session, niss, enterprise_number, domain_id)
    return roles


_USER_TYPE_ROLE = {"GL": Role.LOCAL_MANAGER, "Co-GL": Role.CO_LOCAL_MANAGER, "USER": Role.USER}


def _domain_roles(session: Session, niss: str, enterprise_number: str, domain_id: int | None) -> set[Role]:
    query = select(User.type).join(Domain, Domain.id == User.domain_id).where(
        User.niss == niss, User.status == "active", Domain.enterprise_number == enterprise_number)
    if domain_id is not None:
        query = query.where(User.domain_id == domain_id)
    return {_USER_TYPE_ROLE[t] for t in session.scalars(query)}


def authorize(session: Session, caller: Caller, action: Action, enterprise_number: str | None = None,
              domain_id: int | None = None) -> set[Role]:
    """Raise UNAUTHENTICATED / FORBIDDEN unless one of the caller's roles here allows ``action``."""
    if caller.niss is None and not caller.platform_roles:
        raise GGAError(ErrorCode.UNAUTHENTICATED)
    roles = roles_in(session, caller, enterprise_number, domain_id)
    if not roles & RULES[action]:
        raise GGAError(ErrorCode.FORBIDDEN, details={"action": str(action), "roles": sorted(roles)},
                       key=f"forbidden.{action}")  # says in words what is not allowed, in the caller's language
    return roles


def domain_ids_managed_by(session: Session, niss: str, enterprise_number: str) -> set[int]:
    """Domains where the caller is GL or Co-GL (the GAP and co-GAPs manage every domain)."""
    return set(session.scalars(select(User.domain_id).join(Domain, Domain.id == User.domain_id).where(
        User.niss == niss, User.status == "active", User.type.in_(("GL", "Co-GL")),
        Domain.enterprise_number == enterprise_number)))


__all__ = ["RULES", "Action", "Role", "authorize", "domain_ids_managed_by", "roles_in"]
