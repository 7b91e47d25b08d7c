from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from admin_api import audit
from admin_api.http import caller, db_session
from admin_api.identity import Caller
from admin_api.paging import PageRequest, page_request
from admin_api.policy import Action, authorize

router = APIRouter(tags=["ops"])


@router.get("/audit")
def read_audit(enterprise_number: str | None = None, actor: str | None = None, action: str | None = None,
               since: datetime | None = None, until: datetime | None = None,
               paging: PageRequest = Depends(page_request), who: Caller = Depends(caller),
               session: Session = Depends(db_session)) -> dict:
    authorize(session, who, Action.READ_AUDIT)
    return audit.search(session, paging, enterprise_number, actor, action, since, until).model_dump()
