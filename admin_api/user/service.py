"""Rules for a domain's users and access managers (guide IV and V)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_api import audit
from admin_api.identity import Caller
from admin_api.policy import RULES, Action, Role, authorize
from admin_api.user.queries import fold
from admin_api.user.schemas import ManagerIn, UserIn, UserPatch
from kernel import catalogue, identifiers
from kernel.clock import utcnow
from kernel.errors import ErrorCode, GGAError
from keys.passwords import PasswordPolicy, Passwords
from store.models import Domain, User, UserApplication

PASSWORD_POLICY = PasswordPolicy()


def get_domain(session: Session, domain_id: int) -> Domain:
    domain = session.get(Domain, domain_id)
    if domain is None:
        raise GGAError(ErrorCode.NOT_FOUND, details={"domain_id": domain_id}, key="not_found.domain")
    return domain


def authorize_domain(session: Session, caller: Caller, action: Action, domain_id: int) -> tuple[Domain, set[Role]]:
    domain = get_domain(session, domain_id)
    return domain, authorize(session, caller, action, domain.enterprise_number, domain.id)


def user_view(u: User) -> dict[str, Any]:
    return {"id": u.id, "domain_id": u.domain_id, "niss": u.niss, "username": u.username, "last_name": u.last_name,
            "first_name": u.first_name, "title": u.title, "language": u.language, "email": u.email,
            "local_email": u.local_email, "type": u.type, "status": u.status,
            "applications": [a.code for a in u.applications], "created_at": u.created_at.isoformat(),
            "updated_at": u.updated_at.isoformat() if u.updated_at else None}


def _audit_view(u: User) -> dict[str, Any]:
    return {k: v for k, v in user_view(u).items() if k not in ("created_at", "updated_at")}


def check_applications(domain: Domain, codes: list[str]) -> list[str]:
    """A user (or sender) only gets applications of their domain."""
    catalogue.require_known(codes)
    wanted = sorted({c.upper() for c in codes})
    offered = {a.code for a in domain.applications}
    outside = [c for c in wanted if c not in offered]
    if outside:
        raise GGAError(ErrorCode.APPLICATION_NOT_IN_DOMAIN, details={"applications": outside, "domain_id": domain.id},
                       key="application_not_in_domain")
    return wanted


def _in_domain(session: Session, domain_id: int, niss: str) -> User | None:
    return session.scalar(select(User).where(User.domain_id == domain_id, User.niss == niss))


def _named(session: Session, domain: Domain, username: str) -> User:
    user = session.scalar(select(User).where(User.domain_id == domain.id, User.username == username))
    if user is None:
        raise GGAError(ErrorCode.NOT_FOUND, details={"username": username}, key="not_found.user")
    return user


def _manages_managers(roles: set[Role]) -> bool:
    """A co-manager (Co-GL) manages users, not the domain's managers (GL, Co-GL)."""
    return bool(roles & RULES[Action.MANAGE_CO_LOCAL_MANAGERS])


def _new_user(session: Session, domain: Domain, body: UserIn | ManagerIn, user_type: str,
              passwords: Passwords | None, password: str | None) -> User:
    if session.scalar(select(User.id).where(User.username == body.username)) is not None:
        raise GGAError(ErrorCode.USERNAME_TAKEN, details={"username": body.username})
    if password is not None and not PASSWORD_POLICY.acceptable(password):
        raise GGAError(ErrorCode.PASSWORD_TOO_WEAK, details={"field": "password"})
    assert body.username and body.last_name and body.first_name and body.email
    user = User(domain_id=domain.id, niss=body.niss, username=body.username, last_name=body.last_name,
                first_name=body.first_name, last_name_key=fold(body.last_name), first_name_key=fold(body.first_name),
                title=body.title, language=body.language, email=str(body.email),
                local_email=str(body.local_email) if body.local_email else None, type=user_type, status="active",
                password_hash=passwords.hash(password) if passwords and password else None,
                applications=[UserApplication(code=c) for c in check_applications(domain, body.applications)])
    session.add(user)
    session.flush()
    return user


def create_user(session: Session, caller: Caller, domain_id: int, body: UserIn, passwords: Passwords) -> dict:
    """Création d'un utilisateur (type USER), with a password stored only as an argon2id hash."""
    domain, _ = authorize_domain(session, caller, Action.MANAGE_USERS, domain_id)
    if _in_domain(session, domain.id, body.niss) is not None:
        raise GGAError(ErrorCode.USER_EXISTS, details={"niss": body.niss})
    if body.password is None:
        raise GGAError(ErrorCode.VALIDATION_ERROR, details={"missing": ["password"]}, key="password_required")
    user = _new_user(session, domain, body, "USER", passwords, body.password)
    audit.record(session, caller, "user.created", f"user:{user.id}", domain.enterprise_number,
                 after=_audit_view(user))
    return user_view(user)


def read_user(session: Session, caller: Caller, domain_id: int, username: str) -> dict:
    domain, _ = authorize_domain(session, caller, Action.MANAGE_USERS, domain_id)
    return user_view(_named(session, domain, username))


def update_user(session: Session, caller: Caller, domain_id: int, username: str, body: UserPatch) -> dict:
    """Modifier les données d'un utilisateur: only the fields sent; audited when something changed. A manager's
    data (GL, Co-GL) are changed by those who manage managers, as for blocking them."""
    domain, roles = authorize_domain(session, caller, Action.MANAGE_USERS, domain_id)
    user = _named(session, domain, username)
    if user.type in ("GL", "Co-GL") and not _manages_managers(roles):
        action = Action.MANAGE_CO_LOCAL_MANAGERS
        raise GGAError(ErrorCode.FORBIDDEN, details={"action": str(action), "roles": sorted(roles)},
                       key=f"forbidden.{action}")
    before = _audit_view(user)
    for name, value in body.model_dump(mode="json", exclude_unset=True).items():
        setattr(user, name, "" if value is None and name == "title" else value)  # a cleared title is empty
    user.last_name_key, user.first_name_key = fold(user.last_name), fold(user.first_name)
    after = _audit_view(user)
    if after != before:
        user.updated_at = utcnow()
        audit.record(session, caller, "user.updated", f"user:{user.id}", domain.enterprise_number, before, after)
    session.flush()
    return user_view(user)


def _manager(session: Session, domain: Domain, body: ManagerIn, user_type: str) -> tuple[User, dict | None]:
    """The person as GL/Co-GL: an existing user of the domain is promoted, a new one is created."""
    user = _in_domain(session, domain.id, body.niss)
    if user is None:
        missing = [f for f in ("username", "last_name", "first_name", "email") if not getattr(body, f)]
        if missing:
            raise GGAError(ErrorCode.VALIDATION_ERROR, details={"missing": missing}, key="validation.required",
                           params={"fields": missing})
        return _new_user(session, domain, body, user_type, None, None), None
    if user.type == user_type:  # nothing would change: said so, not confirmed as a change
        raise GGAError(ErrorCode.USER_EXISTS, details={"niss": body.niss, "type": user_type},
                       key="already_local_manager" if user_type == "GL" else "already_co_local_manager")
    if user.status != "active":  # guide V.c: unblocking is its own confirmed action, never a side effect
        raise GGAError(ErrorCode.USER_EXISTS, details={"niss": body.niss, "status": user.status},
                       key="manager_blocked")
    before = _audit_view(user)
    user.type, user.updated_at = user_type, utcnow()
    return user, before


def set_local_manager(session: Session, caller: Caller, domain_id: int, body: ManagerIn) -> dict:
    """Changer de gestionnaire local: the previous GL stays in the domain as a USER. ``message`` is the
    confirmation's key (the route words it): designated when the domain had no GL, changed otherwise."""
    domain, _ = authorize_domain(session, caller, Action.SET_LOCAL_MANAGER, domain_id)
    session.execute(select(Domain.id).where(Domain.id == domain.id).with_for_update())  # racing PUTs: in turn
    managers = list(session.scalars(select(User).where(User.domain_id == domain.id, User.type == "GL")))
    had_manager = bool(managers)
    for previous in (m for m in managers if m.niss != body.niss):
        previous.type, previous.updated_at = "USER", utcnow()
        audit.record(session, caller, "user.local_manager.replaced", f"user:{previous.id}",
                     domain.enterprise_number, before={"type": "GL"}, after={"type": "USER"})
    session.flush()  # the old GL is a USER before the new one becomes GL (one GL per domain, checked per row)
    user, before = _manager(session, domain, body, "GL")
    audit.record(session, caller, "domain.local_manager.set", f"user:{user.id}", domain.enterprise_number,
                 before, _audit_view(user))
    return user_view(user) | {"message": "local_manager.changed" if had_manager else "local_manager.designated"}


def add_co_local_manager(session: Session, caller: Caller, domain_id: int, body: ManagerIn) -> dict:
    domain, _ = authorize_domain(session, caller, Action.MANAGE_CO_LOCAL_MANAGERS, domain_id)
    existing = _in_domain(session, domain.id, body.niss)
    if existing is not None and existing.type == "GL":
        raise GGAError(ErrorCode.USER_EXISTS, details={"niss": body.niss}, key="user_is_local_manager")
    user, before = _manager(session, domain, body, "Co-GL")
    audit.record(session, caller, "domain.co_local_manager.added", f"user:{user.id}", domain.enterprise_number,
                 before, _audit_view(user))
    return user_view(user) | {"message": "co_local_manager.designated"}  # the key; the route words it


def remove_co_local_manager(session: Session, caller: Caller, domain_id: int, niss: str) -> None:
    domain, _ = authorize_domain(session, caller, Action.MANAGE_CO_LOCAL_MANAGERS, domain_id)
    user = _in_domain(session, domain.id, identifiers.niss(niss))  # written as the person wrote it, as elsewhere
    if user is None or user.type != "Co-GL":
        raise GGAError(ErrorCode.NOT_FOUND, details={"niss": niss}, key="not_found.co_local_manager")
    audit.record(session, caller, "domain.co_local_manager.removed", f"user:{user.id}", domain.enterprise_number,
                 before=_audit_view(user))
    session.delete(user)


def bulk(session: Session, caller: Caller, domain_id: int, action: str, usernames: list[str],
         applications: list[str]) -> dict:
    """One action on many users; each user's outcome is reported (done, unchanged, refused, not_found)."""
    domain, roles = authorize_domain(session, caller, Action.MANAGE_USERS, domain_id)
    codes = check_applications(domain, applications) if action.endswith("_applications") else []
    if action.endswith("_applications") and not codes:
        raise GGAError(ErrorCode.VALIDATION_ERROR, details={"field": "applications"}, key="validation.applications")
    users = {u.username: u for u in session.scalars(select(User).where(
        User.domain_id == domain.id, User.username.in_(usernames)))}
    may_manage_managers = _manages_managers(roles)
    results = []
    for name in dict.fromkeys(usernames):
        user = users.get(name)
        if user is None:
            results.append({"username": name, "result": "not_found", "code": str(ErrorCode.NOT_FOUND)})
            continue
        results.append({"username": name} | _apply(session, caller, domain, user, action, codes,
                                                    may_manage_managers))
    summary = {k: sum(1 for r in results if r["result"] == k) for k in ("done", "unchanged", "refused", "not_found")}
    return {"action": action, "message": _bulk_message(action, summary), "summary": summary,
            "results": results}


def _bulk_message(action: str, summary: dict[str, int]) -> str | tuple[str, dict] | None:
    """The guide's confirmation when every user is as asked; when some were left as they were (refused, not
    found), a sentence that says how many: the guide's "a réussi" would claim them all."""
    left = summary["refused"] + summary["not_found"]
    if not summary["done"]:
        return None
    if left:
        return "bulk.partial", {"done": summary["done"], "left": left}
    return f"bulk.{action}"


def _apply(session: Session, caller: Caller, domain: Domain, user: User, action: str, codes: list[str],
           may_manage_managers: bool) -> dict[str, Any]:
    if user.type == "GL" and action in ("block", "delete"):
        return {"result": "refused", "code": str(ErrorCode.LOCAL_MANAGER_NOT_DELETABLE)}
    if user.type in ("GL", "Co-GL") and not may_manage_managers:  # a manager's applications too, one's own included
        return {"result": "refused", "code": str(ErrorCode.FORBIDDEN)}
    before = _audit_view(user)
    changed = _change(session, user, action, codes)
    if changed:
        audit.record(session, caller, f"user.{action}", f"user:{user.id}", domain.enterprise_number, before,
                     None if action == "delete" else _audit_view(user))
    return {"result": "done" if changed else "unchanged"}


def _change(session: Session, user: User, action: str, codes: list[str]) -> bool:
    if action == "delete":
        session.delete(user)
        return True
    if action in ("block", "unblock"):
        status = "blocked" if action == "block" else "active"
        changed = user.status != status
        user.status = status
    else:
        held = {a.code for a in user.applications}
        if action == "add_applications":
            new = [c for c in codes if c not in held]
            user.applications.extend(UserApplication(code=c) for c in new)
            changed = bool(new)
        else:
            keep = [a for a in user.applications if a.code not in codes]
            changed = len(keep) != len(user.applications)
            user.applications = keep
    if changed:
        user.updated_at = utcnow()
    return changed
