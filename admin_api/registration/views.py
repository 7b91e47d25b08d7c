"""What the registration routes answer (``service.registration_result``, ``request_view``, ``manager_view``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class MainAccessManagerView(BaseModel):
    """Gestionnaire d'Accès Principal (GAP): ``name`` from the registry when the person is known there."""

    niss: str
    name: str | None
    email: str | None
    phone: str | None


class RegistrationResult(BaseModel):
    """Standard procedure done: the enterprise is activated in CSAM with its GAP."""

    ticket: str
    enterprise_number: str
    enterprise_name: str
    address: str
    main_access_manager: MainAccessManagerView
    message: str


class RequestView(BaseModel):
    """Demande d'enregistrement, found by its ticket; times in ISO 8601."""

    ticket: str
    procedure: Literal["standard", "exceptional"]
    status: Literal["pending", "approved", "rejected"]
    enterprise_number: str
    created_at: str
    decided_at: str | None
    reason: str | None
    document: str | None = Field(description="Path of the PDF to sign (exceptional procedure only)")


class ExceptionalRequestView(RequestView):
    """Exceptional procedure: where to post the signed form, and the guide's confirmation."""

    postal_address: list[str]
    message: str
