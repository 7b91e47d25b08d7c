from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from admin_api.http import LANGUAGE, UNIT_OF_WORK, RowId, caller, services, worded
from admin_api.identity import Caller
from admin_api.sender import service
from admin_api.sender.schemas import ChannelIn, ChannelPatch, ChannelType, SenderIn, SenderPatch
from admin_api.sender.views import SenderChanged, SenderView
from kernel.catalogue import APPLICATIONS
from kernel.errors import ErrorCode, GGAError

router = APIRouter(prefix="/domains/{domain_id}/sender", tags=["senders"])


class ChannelChanges(BaseModel):
    """What a channel PATCH changed in the applications (empty lists when it named none)."""

    added: list[str]
    removed: list[str]
    preferred_channel: dict[str, ChannelType] = Field(
        description="Applications whose preferred channel changed, with the new one")


class ChannelChanged(SenderChanged):
    changes: ChannelChanges


@router.get("", response_model=SenderView)
def read_sender(domain_id: RowId, who: Caller = Depends(caller), session: Session = UNIT_OF_WORK,
                lang: str = LANGUAGE) -> dict:
    return _said(service.read(session, who, domain_id), None, lang)


@router.post("", status_code=201, response_model=SenderChanged)
def create_sender(domain_id: RowId, body: SenderIn, request: Request, who: Caller = Depends(caller),
                  session: Session = UNIT_OF_WORK, lang: str = LANGUAGE) -> dict:
    view = service.create(session, who, domain_id, body, services(request).passwords)
    return _said(view, "sender.created", lang)


@router.patch("", response_model=SenderChanged)
def update_sender(domain_id: RowId, body: SenderPatch, request: Request, who: Caller = Depends(caller),
                  session: Session = UNIT_OF_WORK, lang: str = LANGUAGE) -> dict:
    view = service.update(session, who, domain_id, body, services(request).passwords)
    return _said(view, "sender.updated", lang)


@router.delete("", status_code=204, response_class=Response, responses={204: {"description": "Deleted"}})
def delete_sender(domain_id: RowId, request: Request, who: Caller = Depends(caller),
                  session: Session = UNIT_OF_WORK) -> Response:
    service.delete(session, who, domain_id, services(request).settings.spool_dir)
    return Response(status_code=204)


@router.post("/channels", status_code=201, response_model=SenderChanged)
def add_channel(domain_id: RowId, body: ChannelIn, who: Caller = Depends(caller),
                session: Session = UNIT_OF_WORK, lang: str = LANGUAGE) -> dict:
    return _said(service.add_channel(session, who, domain_id, body), "channel.added", lang)


@router.patch("/channels/{channel_type}", response_model=ChannelChanged)
def update_channel(domain_id: RowId, channel_type: ChannelType, body: ChannelPatch, who: Caller = Depends(caller),
                   session: Session = UNIT_OF_WORK, lang: str = LANGUAGE) -> dict:
    view = service.update_channel(session, who, domain_id, channel_type, body)
    return _said(view, "channel.updated", lang)


@router.patch("/channels", response_model=ChannelChanged)
def update_channel_named_in_body(domain_id: RowId, body: ChannelPatch, who: Caller = Depends(caller),
                                 session: Session = UNIT_OF_WORK,
                                 lang: str = LANGUAGE) -> dict:
    if body.type is None:
        raise GGAError(ErrorCode.VALIDATION_ERROR, details={"field": "type"}, key="validation.channel_type")
    view = service.update_channel(session, who, domain_id, body.type, body)
    return _said(view, "channel.updated", lang)


@router.delete("/channels/{channel_type}", response_model=SenderChanged)
def remove_channel(domain_id: RowId, channel_type: ChannelType, request: Request, who: Caller = Depends(caller),
                   session: Session = UNIT_OF_WORK, lang: str = LANGUAGE) -> dict:
    view = service.remove_channel(session, who, domain_id, channel_type, services(request).settings.spool_dir)
    return _said(view, "channel.removed", lang)


def _said(view: dict, message: str | None, lang: str) -> dict:
    """The route's confirmation, and the applications named in the caller's language (the service names them in
    French, the guide's)."""
    for app in [*view.get("applications", []), *(a for c in view.get("channels", []) for a in c["applications"])]:
        app["name"] = APPLICATIONS[app["code"]].name_in(lang)
    return worded(view | {"message": message}, lang) if message else view
