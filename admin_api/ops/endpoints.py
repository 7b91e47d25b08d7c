from __future__ import annotations

import asyncio
from datetime import datetime

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy.orm import Session

from admin_api import audit
from admin_api.http import LANGUAGE, UNIT_OF_WORK, RowId, caller, services
from admin_api.identity import Caller
from admin_api.ops import defender, submissions, transfers
from admin_api.ops.views import AuditRecordView, ReturnDelivered, SubmissionDetail, SubmissionView, TransferView
from admin_api.paging import PageRequest, known_query_only, page_request
from admin_api.policy import Action, authorize
from admin_api.schemas import PageOf
from kernel.errors import ErrorCode, GGAError
from kernel.i18n import Language
from keys.issuing import gateway_signing_identity
from store.database import Database
from store.models.transfers import EVENTS, RESULTS

router = APIRouter(tags=["ops"])


@router.get("/audit", response_model=PageOf[AuditRecordView])
def read_audit(enterprise_number: str | None = None, actor: str | None = None, action: str | None = None,
               since: datetime | None = None, until: datetime | None = None,
               paging: PageRequest = Depends(page_request), who: Caller = Depends(caller),
               session: Session = UNIT_OF_WORK) -> dict:
    authorize(session, who, Action.READ_AUDIT)
    return audit.search(session, paging, enterprise_number, actor, action, since, until).model_dump()


@router.get("/transfers", response_model=PageOf[TransferView])
def list_transfers(sender: str | None = Query(None, pattern=r"^[0-9]{6}$"),
                   application: str | None = Query(None, pattern="^[A-Z]{4}$"),
                   environment: str | None = Query(None, pattern="^[RTS]$"),
                   result: str | None = Query(None, pattern=f"^({'|'.join(RESULTS)})$"),
                   event: str | None = Query(None, pattern=f"^({'|'.join(EVENTS)})$"),
                   since: datetime | None = None, until: datetime | None = None,
                   file_name: str | None = Query(None, max_length=128),
                   ticket: str | None = Query(None, max_length=13),
                   technical_user: str | None = Query(None, max_length=64),
                   paging: PageRequest = Depends(page_request), who: Caller = Depends(caller),
                   session: Session = UNIT_OF_WORK) -> dict:
    """The transfer log, newest first. ``ticket``: the submission's decision and every line naming one of its
    files (parts, GO, ACRF) for its sender."""
    authorize(session, who, Action.READ_TRANSFERS)
    return transfers.search(session, paging, sender=sender, application=application, environment=environment,
                            result=result, event=event, since=since, until=until, file_name=file_name,
                            ticket=ticket, technical_user=technical_user).model_dump()


@router.get("/transfers/{transfer_id}", response_model=TransferView)
def read_transfer(transfer_id: RowId, who: Caller = Depends(caller), session: Session = UNIT_OF_WORK) -> dict:
    authorize(session, who, Action.READ_TRANSFERS)
    return transfers.get(session, transfer_id)


@router.get("/submissions", response_model=PageOf[SubmissionView])
def list_submissions(status: str | None = Query(None, pattern="^(received|decided|accepted|rejected|retrying)$"),
                     sender: str | None = Query(None, pattern=r"^[0-9]{6}$"),
                     application: str | None = Query(None, pattern="^[A-Z]{4}$"),
                     paging: PageRequest = Depends(page_request), who: Caller = Depends(caller),
                     session: Session = UNIT_OF_WORK) -> dict:
    """Submissions newest first; ``status=retrying``: the ones whose processing failed and is being retried."""
    authorize(session, who, Action.READ_TRANSFERS)
    return submissions.search(session, paging, status=status, sender=sender, application=application).model_dump()


@router.get("/submissions/{ticket}", response_model=SubmissionDetail, dependencies=[Depends(known_query_only)])
def read_submission(ticket: str = Path(max_length=13), lang: Language = LANGUAGE, who: Caller = Depends(caller),
                    session: Session = UNIT_OF_WORK) -> SubmissionDetail:
    """One submission: its state, its ACRF and the errors it lists (each code's sentence in the caller's
    language, with the ACRF's number), its files and its lines of the transfer log in the order they were written."""
    return submissions.detail(session, who, ticket, lang)


@router.get("/gateway/certificate", response_class=Response,
            responses={200: {"content": {"application/x-pem-file": {}}}})
def gateway_certificate(request: Request) -> Response:
    """The certificate the gateway signs its return files (ACRF, NOTI...) with, for senders to verify them. No
    token: it is public."""
    pem = gateway_signing_identity(services(request).settings.resolved_data_dir).cert_pem()
    return Response(pem, media_type="application/x-pem-file")


@router.post("/returns", status_code=201, response_model=ReturnDelivered)
async def post_return(request: Request, sender_number: str = Query(pattern=r"^[0-9]{6}$"),
                      application: str = Query(pattern="^[A-Z]{4}$"), environment: str = Query(pattern="^[RTS]$"),
                      type: str = Query("NOTI", pattern="^[A-Z]{4}$"), who: Caller = Depends(caller)) -> dict:
    """An application returns a file (body: its bytes) to a sender: named, zipped above the threshold, signed
    and delivered on the application's preferred channel."""
    svc = services(request)
    await asyncio.to_thread(_authorize, svc.db, who, Action.POST_RETURN)
    if svc.returns is None:
        raise GGAError(ErrorCode.INTERNAL_ERROR, key="internal_error.no_gateway")
    content = await _bounded_body(request, svc.settings.return_max_mb << 20)
    delivered = await asyncio.to_thread(svc.returns.deliver_return, sender_number, application, environment, type,
                                        content)
    return {"name": delivered.name, "channel": delivered.channel, "files": list(delivered.files)}


async def _bounded_body(request: Request, limit: int) -> bytes:
    """The return file, refused (413) past ``GGA_RETURN_MAX_MB`` before it is read, or as soon as it goes over."""
    declared = request.headers.get("content-length", "")
    too_large = GGAError(ErrorCode.BODY_TOO_LARGE, details={"limit_mb": limit >> 20}, key="body_too_large.return")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _authorize(db: Database, who: Caller, action: Action) -> None:
    with db.read() as session:
        authorize(session, who, action)


router.include_router(defender.router)  # GET/DELETE /defender/bans
