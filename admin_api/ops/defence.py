"""The defender seen from the admin API: its bans (list, lift) and the admin API's own 401s, counted into the same
rows as the gateway's failed logins (``store.models.defence``; the admin API never imports the gateway)."""

from __future__ import annotations

import ipaddress
import logging
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from admin_api import audit
from admin_api.identity import Caller
from admin_api.policy import Action, authorize
from kernel.clock import utcnow
from kernel.errors import ErrorCode, GGAError
from kernel.settings import Settings
from store.database import Database
from store.models import DefenderAddress, TransferEvent
from store.models.defence import allowed_networks, banned_until, count_failure, is_allowed

log = logging.getLogger("gga.defender")


class BanView(BaseModel):
    address: str
    banned_at: datetime | None
    banned_until: datetime


class BanList(BaseModel):
    items: list[BanView]


def bans(session: Session) -> BanList:
    rows = session.scalars(select(DefenderAddress).where(DefenderAddress.banned_until > utcnow())
                           .order_by(DefenderAddress.banned_until.desc()))
    return BanList(items=[BanView(address=r.address, banned_at=r.banned_at, banned_until=r.banned_until)
                          for r in rows if r.banned_until is not None])


def lift(session: Session, caller: Caller, address: str) -> None:
    """Lift the ban of ``address`` (and forget its failures), for the ops role; 404 when it is not banned. Audited
    (``defender.lift``): an address let back in is a security decision someone made."""
    authorize(session, caller, Action.MANAGE_DEFENDER)
    try:
        address = str(ipaddress.ip_address(address))
    except ValueError as exc:
        raise GGAError(ErrorCode.VALIDATION_ERROR, details={"field": "address"}, key="validation.ip_address") from exc
    if banned_until(session, address, utcnow()) is None:
        raise GGAError(ErrorCode.NOT_FOUND, details={"address": address}, key="not_found.ban")
    session.execute(delete(DefenderAddress).where(DefenderAddress.address == address))
    audit.record(session, caller, "defender.lift", f"address:{address}")
    log.warning("ban lifted address=%s by=%s", address, caller.label)


def refuse_if_banned(db: Database, settings: Settings, address: str) -> None:
    """``ADDRESS_BANNED`` (403) for a token presented from a banned address, before the token is looked at."""
    if is_allowed(address, allowed_networks(settings.defender_allow)):
        return
    with db.read() as session:
        until = banned_until(session, address, utcnow())
    if until is not None:
        raise GGAError(ErrorCode.ADDRESS_BANNED, details={"address": address}, key="address_banned",
                       params={"until": f"{until:%Y-%m-%dT%H:%M:%SZ}"})


def failed(db: Database, settings: Settings, address: str) -> None:
    """Count a 401; past the limit the address is banned (logged, and a ``ban`` row in the transfer log)."""
    s = settings
    if s.defender_max_failures <= 0 or is_allowed(address, allowed_networks(s.defender_allow)):
        return
    with db.session() as session:
        until = count_failure(session, address, utcnow(), s.defender_max_failures, s.defender_window_s,
                              s.defender_ban_s)
        if until is not None:
            session.add(TransferEvent(event="ban", result="ok", protocol="API", remote_address=address,
                                      error_code=str(ErrorCode.ADDRESS_BANNED)))
    if until is not None:
        log.warning("ban address=%s protocol=API until=%s: %d failed logins within %d s", address,
                    f"{until:%Y-%m-%dT%H:%M:%SZ}", s.defender_max_failures, s.defender_window_s)
