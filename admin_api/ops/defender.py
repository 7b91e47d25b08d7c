"""Routes of the defender for the ops role: the addresses banned now, and lifting a ban."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Response
from sqlalchemy.orm import Session

from admin_api.http import UNIT_OF_WORK, caller
from admin_api.identity import Caller
from admin_api.ops import defence
from admin_api.paging import PageRequest, page_request
from admin_api.policy import Action, authorize
from admin_api.schemas import PageOf

router = APIRouter(tags=["ops"])


@router.get("/defender/bans", response_model=PageOf[defence.BanView])
def list_bans(paging: PageRequest = Depends(page_request), who: Caller = Depends(caller),
              session: Session = UNIT_OF_WORK) -> dict:
    """Remote addresses refused on every protocol for too many failed logins, the latest ban first."""
    authorize(session, who, Action.MANAGE_DEFENDER)
    return paging.of(defence.bans(session).items)


@router.delete("/defender/bans/{address}", status_code=204, response_class=Response)
def lift_ban(address: str = Path(max_length=45), who: Caller = Depends(caller),
             session: Session = UNIT_OF_WORK) -> Response:
    """Lift a ban now (its failed logins are forgotten too)."""
    defence.lift(session, who, address)
    return Response(status_code=204)
