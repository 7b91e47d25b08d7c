from __future__ import annotations

from fastapi import APIRouter, Depends

from admin_api.paging import known_query_only
from admin_api.schemas import CatalogueView
from kernel.catalogue import APPLICATIONS, DOMAIN_KINDS

router = APIRouter(tags=["catalogue"])


@router.get("/applications", response_model=CatalogueView, dependencies=[Depends(known_query_only)])
def list_applications() -> dict:
    """The catalogue: public, as the guide's application lists are."""
    return {"items": [{"code": a.code, "name_fr": a.name_fr, "name_nl": a.name_nl, "name_en": a.name_en,
                       "domains": list(a.domains)} for a in APPLICATIONS.values()],
            "domain_kinds": list(DOMAIN_KINDS)}
