from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from sqlalchemy.orm import Session

from admin_api.enterprise import service
from admin_api.enterprise.schemas import CoMainManagerIn, DomainIn
from admin_api.enterprise.views import CoMainManagerView, DomainView, EnterpriseView
from admin_api.http import LANGUAGE, UNIT_OF_WORK, caller
from admin_api.identity import Caller
from admin_api.paging import PageRequest, page_request
from admin_api.registration import service as registration
from admin_api.registration.schemas import ManagerDesignation
from admin_api.registration.views import MainAccessManagerView
from admin_api.schemas import PageOf

router = APIRouter(prefix="/enterprises", tags=["enterprises"])


@router.get("/{number}", response_model=EnterpriseView)
def read_enterprise(number: str, who: Caller = Depends(caller), session: Session = UNIT_OF_WORK) -> dict:
    return service.read(session, who, number)


@router.put("/{number}/main-access-manager", response_model=MainAccessManagerView)
def change_main_manager(number: str, body: ManagerDesignation, who: Caller = Depends(caller),
                        session: Session = UNIT_OF_WORK, lang: str = LANGUAGE) -> dict:
    enterprise = service.get_enterprise(session, number)
    return registration.change_main_manager(session, who, enterprise.number, body, lang)


@router.post("/{number}/co-main-managers", status_code=201, response_model=CoMainManagerView)
def add_co_main_manager(number: str, body: CoMainManagerIn, who: Caller = Depends(caller),
                        session: Session = UNIT_OF_WORK) -> dict:
    return service.add_co_main_manager(session, who, number, body.niss, body.contact)


@router.delete("/{number}/co-main-managers/{niss}", status_code=204, response_class=Response,
               responses={204: {"description": "Removed"}})
def remove_co_main_manager(number: str, niss: str, who: Caller = Depends(caller),
                           session: Session = UNIT_OF_WORK) -> Response:
    service.remove_co_main_manager(session, who, number, niss)
    return Response(status_code=204)


@router.get("/{number}/domains", response_model=PageOf[DomainView])
def list_domains(number: str, paging: PageRequest = Depends(page_request), who: Caller = Depends(caller),
                 session: Session = UNIT_OF_WORK) -> dict:
    return paging.of(service.list_domains(session, who, number))


@router.post("/{number}/domains", status_code=201, response_model=DomainView)
def create_domain(number: str, body: DomainIn, who: Caller = Depends(caller),
                  session: Session = UNIT_OF_WORK) -> dict:
    return service.create_domain(session, who, number, body.name, body.identifier, body.applications)
