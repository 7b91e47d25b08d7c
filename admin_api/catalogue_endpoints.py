from __future__ import annotations

from fastapi import APIRouter, Depends

from admin_api.paging import PageRequest, page_request
from admin_api.schemas import CatalogueView
from kernel.catalogue import APPLICATIONS, DOMAIN_KINDS

router = APIRouter(tags=["catalogue"])


@router.get("/applications", response_model=CatalogueView)
def list_applications(paging: PageRequest = Depends(page_request)) -> dict:
    """The catalogue: public, as the guide's application lists are."""
    applications = [{"code": a.code, "name_fr": a.name_fr, "name_nl": a.name_nl, "name_en": a.name_en,
                     "domains": list(a.domains)} for a in APPLICATIONS.values()]
    return paging.of(applications) | {"domain_kinds": list(DOMAIN_KINDS)}
