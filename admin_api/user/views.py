"""What the domain's user routes answer (``service.user_view``, ``service.bulk``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from admin_api.schemas import Language
from admin_api.user.schemas import BulkAction


class UserView(BaseModel):
    """Utilisateur of a domain; ``type`` GL is its Gestionnaire d'Accès, Co-GL a co-gestionnaire."""

    id: int
    domain_id: int
    niss: str
    username: str
    last_name: str
    first_name: str
    title: str
    language: Language
    email: str
    local_email: str | None
    type: Literal["GL", "Co-GL", "USER"]
    status: Literal["active", "blocked"]
    applications: list[str]
    created_at: str
    updated_at: str | None


class ManagerView(UserView):
    """A (co-)Gestionnaire d'Accès just designated, with the guide's confirmation."""

    message: str


class BulkSummary(BaseModel):
    """How many users had each outcome."""

    done: int
    unchanged: int
    refused: int
    not_found: int


class BulkApplied(BaseModel):
    username: str
    result: Literal["done", "unchanged"]


class BulkRefused(BaseModel):
    username: str
    result: Literal["refused", "not_found"]
    code: str = Field(description="Error code: why this user was left as is")


BulkOutcome = Annotated[BulkApplied | BulkRefused, Field(discriminator="result")]


class BulkResult(BaseModel):
    """One action on many users; ``message`` is the guide's confirmation when at least one was done."""

    action: BulkAction
    message: str | None
    summary: BulkSummary
    results: list[BulkOutcome]
