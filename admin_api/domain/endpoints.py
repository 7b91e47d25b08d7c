from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from admin_api.enterprise.service import domain_view
from admin_api.enterprise.views import DomainView
from admin_api.http import LANGUAGE, UNIT_OF_WORK, RowId, caller, services, worded
from admin_api.identity import Caller
from admin_api.paging import PageRequest, known_query_only, page_request
from admin_api.policy import Action
from admin_api.schemas import PageOf
from admin_api.user import queries, service
from admin_api.user.schemas import USERNAME, BulkIn, ManagerIn, UserFilters, UserIn, UserPatch
from admin_api.user.views import BulkResult, ManagerView, UserView

router = APIRouter(prefix="/domains", tags=["domains and users"])
Username = Annotated[str, Path(**USERNAME, description="the user's username")]
CSV = {200: {"description": "The filtered users: UTF-8 with a BOM, a header row",
             "content": {"text/csv": {"schema": {"type": "string"}}}}}


NO_NUL = r"^[^\x00]*$"  # PostgreSQL refuses a NUL in a string: here, before a CSV export has started its answer


async def user_filters(last_name: str | None = Query(None, max_length=100, pattern=NO_NUL),
                       first_name: str | None = Query(None, max_length=100, pattern=NO_NUL),
                       username: str | None = Query(None, max_length=64, pattern=NO_NUL),
                       type: str | None = Query(None, pattern="^(GL|Co-GL|USER)$"),
                       niss: str | None = Query(None, max_length=20, pattern=NO_NUL),
                       status: str | None = Query(None, pattern="^(active|blocked)$"),
                       application: str | None = Query(None, max_length=4, pattern=NO_NUL)) -> UserFilters:
    return UserFilters(last_name=last_name, first_name=first_name, username=username, type=type, niss=niss,
                       status=status, application=application)


@router.get("/{domain_id}", response_model=DomainView)
def read_domain(domain_id: RowId, who: Caller = Depends(caller), session: Session = UNIT_OF_WORK) -> dict:
    domain, _ = service.authorize_domain(session, who, Action.MANAGE_USERS, domain_id)
    return domain_view(domain)


@router.put("/{domain_id}/local-manager", response_model=ManagerView)
def set_local_manager(domain_id: RowId, body: ManagerIn, who: Caller = Depends(caller),
                      session: Session = UNIT_OF_WORK, lang: str = LANGUAGE) -> dict:
    return worded(service.set_local_manager(session, who, domain_id, body), lang)


@router.post("/{domain_id}/co-local-managers", status_code=201, response_model=ManagerView)
def add_co_local_manager(domain_id: RowId, body: ManagerIn, who: Caller = Depends(caller),
                         session: Session = UNIT_OF_WORK, lang: str = LANGUAGE) -> dict:
    return worded(service.add_co_local_manager(session, who, domain_id, body), lang)


@router.delete("/{domain_id}/co-local-managers/{niss}", status_code=204, response_class=Response,
               responses={204: {"description": "Removed"}})
def remove_co_local_manager(domain_id: RowId, niss: str, who: Caller = Depends(caller),
                            session: Session = UNIT_OF_WORK) -> Response:
    service.remove_co_local_manager(session, who, domain_id, niss)
    return Response(status_code=204)


@router.get("/{domain_id}/users", response_model=PageOf[UserView])
def list_users(domain_id: RowId, filters: UserFilters = Depends(user_filters),
               paging: PageRequest = Depends(page_request), who: Caller = Depends(caller),
               session: Session = UNIT_OF_WORK) -> dict:
    domain, _ = service.authorize_domain(session, who, Action.MANAGE_USERS, domain_id)
    users, total = queries.page(session, queries.filtered(session, domain.id, filters), paging)
    return {"items": [service.user_view(u) for u in users], "total": total, "page": paging.page,
            "page_size": paging.page_size}


@router.get("/{domain_id}/users.csv", response_class=StreamingResponse, responses=CSV,
            dependencies=[Depends(known_query_only)])
def export_users(domain_id: RowId, request: Request, filters: UserFilters = Depends(user_filters),
                 who: Caller = Depends(caller), session: Session = UNIT_OF_WORK) -> StreamingResponse:
    domain, _ = service.authorize_domain(session, who, Action.MANAGE_USERS, domain_id)
    queries.filtered(session, domain.id, filters)  # refuse bad filters before the 200 goes out
    return queries.csv_download(services(request).db, domain.id, filters)


@router.post("/{domain_id}/users", status_code=201, response_model=UserView)
def create_user(domain_id: RowId, body: UserIn, request: Request, who: Caller = Depends(caller),
                session: Session = UNIT_OF_WORK) -> dict:
    return service.create_user(session, who, domain_id, body, services(request).passwords)


@router.get("/{domain_id}/users/{username}", response_model=UserView)
def read_user(domain_id: RowId, username: Username, who: Caller = Depends(caller),
              session: Session = UNIT_OF_WORK) -> dict:
    return service.read_user(session, who, domain_id, username)


@router.patch("/{domain_id}/users/{username}", response_model=UserView)
def update_user(domain_id: RowId, username: Username, body: UserPatch, who: Caller = Depends(caller),
                session: Session = UNIT_OF_WORK) -> dict:
    """Modifier les données d'un utilisateur: only the fields sent change (see the body's description)."""
    return service.update_user(session, who, domain_id, username, body)


@router.post("/{domain_id}/users/bulk", response_model=BulkResult)
def bulk(domain_id: RowId, body: BulkIn, who: Caller = Depends(caller), session: Session = UNIT_OF_WORK,
         lang: str = LANGUAGE) -> dict:
    return worded(service.bulk(session, who, domain_id, body.action, body.users, body.applications), lang)
