from __future__ import annotations

import asyncio
from datetime import datetime

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from admin_api import audit
from admin_api.http import caller, db_session, services
from admin_api.identity import Caller
from admin_api.ops import transfers
from admin_api.ops.views import AuditRecordView, ReturnDelivered, TransferView
from admin_api.paging import PageRequest, page_request
from admin_api.policy import Action, authorize
from admin_api.schemas import PageOf
from kernel.errors import ErrorCode, GGAError
from store.database import Database

router = APIRouter(tags=["ops"])


@router.get("/audit", response_model=PageOf[AuditRecordView])
def read_audit(enterprise_number: str | None = None, actor: str | None = None, action: str | None = None,
               since: datetime | None = None, until: datetime | None = None,
               paging: PageRequest = Depends(page_request), who: Caller = Depends(caller),
               session: Session = Depends(db_session)) -> dict:
    authorize(session, who, Action.READ_AUDIT)
    return audit.search(session, paging, enterprise_number, actor, action, since, until).model_dump()


@router.get("/transfers", response_model=PageOf[TransferView])
def list_transfers(sender: str | None = Query(None, pattern=r"^\d{6}$"),
                   application: str | None = Query(None, pattern="^[A-Z]{4}$"),
                   environment: str | None = Query(None, pattern="^[RTS]$"),
                   result: str | None = Query(None, max_length=10), event: str | None = Query(None, max_length=12),
                   since: datetime | None = None, until: datetime | None = None,
                   paging: PageRequest = Depends(page_request), who: Caller = Depends(caller),
                   session: Session = Depends(db_session)) -> dict:
    authorize(session, who, Action.READ_TRANSFERS)
    return transfers.search(session, paging, sender=sender, application=application, environment=environment,
                            result=result, event=event, since=since, until=until).model_dump()


@router.get("/transfers/{transfer_id}", response_model=TransferView)
def read_transfer(transfer_id: int, who: Caller = Depends(caller), session: Session = Depends(db_session)) -> dict:
    authorize(session, who, Action.READ_TRANSFERS)
    return transfers.get(session, transfer_id)


@router.post("/returns", status_code=201, response_model=ReturnDelivered)
async def post_return(request: Request, sender_number: str = Query(pattern=r"^\d{6}$"),
                      application: str = Query(pattern="^[A-Z]{4}$"), environment: str = Query(pattern="^[RTS]$"),
                      type: str = Query("NOTI", pattern="^[A-Z]{4}$"), who: Caller = Depends(caller)) -> dict:
    """An application returns a file (body: its bytes) to a sender: named, zipped above the threshold, signed
    and delivered on the application's preferred channel."""
    svc = services(request)
    await asyncio.to_thread(_authorize, svc.db, who, Action.POST_RETURN)
    if svc.returns is None:
        raise GGAError(ErrorCode.INTERNAL_ERROR, "The file gateway does not run in this process.")
    content = await request.body()
    delivered = await asyncio.to_thread(svc.returns.deliver_return, sender_number, application, environment, type,
                                        content)
    return {"name": delivered.name, "channel": delivered.channel, "files": list(delivered.files)}


def _authorize(db: Database, who: Caller, action: Action) -> None:
    with db.session() as session:
        authorize(session, who, action)
