from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from admin_api.schemas import Body, Clearable, Language, Name, Niss, PatchBody, Printable

USERNAME = {"min_length": 3, "max_length": 64, "pattern": r"^[A-Za-z0-9._@-]+$"}
Title = Annotated[str, Field(max_length=20), Printable]  # the guide's "Titre" (M., Mme): optional, short
BulkAction = Literal["add_applications", "remove_applications", "block", "unblock", "delete"]


class UserIn(Body):
    """Création d'un utilisateur."""

    niss: Niss
    username: str = Field(**USERNAME)
    password: str | None = None
    last_name: Name
    first_name: Name
    title: Title = ""
    language: Language = "fr"
    email: EmailStr
    local_email: EmailStr | None = None
    applications: list[str] = Field(default_factory=list)


class ManagerIn(Body):
    """Désignation d'un gestionnaire local (GL) ou co-gestionnaire (Co-GL) by NISS.

    When the person is already a user of the domain only ``niss`` is needed; otherwise the identification data.
    """

    niss: Niss
    username: str | None = Field(default=None, **USERNAME)
    last_name: Name | None = None
    first_name: Name | None = None
    title: Title = ""
    language: Language = "fr"
    email: EmailStr | None = None
    local_email: EmailStr | None = None
    applications: list[str] = Field(default_factory=list)


class UserPatch(PatchBody):
    """Modifier les données d'un utilisateur: the identification data of the guide's form (Nom, Prénom, Titre,
    Choix linguistique, Adresse e-mail utilisateur, Adresse e-mail locale), checked as at creation. Only the fields
    sent change; ``title`` and ``local_email`` sent blank are cleared. The username and the NISS identify the
    person and stay; applications change through the bulk actions (guide V.b), the status by blocking (V.c), the
    type by designation (IV); naming another field is refused (422)."""

    model_config = ConfigDict(extra="forbid")

    last_name: Name | None = None
    first_name: Name | None = None
    title: Clearable[Title] = None
    language: Language | None = None
    email: EmailStr | None = None
    local_email: Clearable[EmailStr] = None


class BulkIn(Body):
    action: BulkAction
    users: list[str] = Field(min_length=1, max_length=1000)
    applications: list[str] = Field(default_factory=list)


class UserFilters(BaseModel):
    """The guide's search criteria: Nom, Prénom, Nom d'utilisateur, Type, NISS, Statut, Applications sécurisées."""

    last_name: str | None = None
    first_name: str | None = None
    username: str | None = None
    type: Literal["GL", "Co-GL", "USER"] | None = None
    niss: str | None = None
    status: Literal["active", "blocked"] | None = None
    application: str | None = None
