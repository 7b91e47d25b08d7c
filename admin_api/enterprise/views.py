"""What the enterprise routes answer (``service.read``, ``co_view``, ``domain_view``)."""

from __future__ import annotations

from pydantic import BaseModel

from admin_api.registration.views import MainAccessManagerView


class CoMainManagerView(MainAccessManagerView):
    """Co-Gestionnaire d'Accès Principal: the same fields as the GAP."""


class DomainView(BaseModel):
    """Domaine of an enterprise (its kind in ``name``) with the applications it offers."""

    id: int
    enterprise_number: str
    name: str
    identifier: str
    applications: list[str]
    created_at: str


class EnterpriseView(BaseModel):
    """Entreprise: ``main_access_manager`` is null until it is registered."""

    enterprise_number: str
    name: str
    address: str
    registered: bool
    registered_at: str | None
    main_access_manager: MainAccessManagerView | None
    co_main_access_managers: list[CoMainManagerView]
    domains: list[DomainView]
