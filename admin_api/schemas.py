"""Request fields shared by several resources, validated with the identifiers' own error codes; answers shared
by several routes (a page of a list) and the catalogue's."""

from __future__ import annotations

import re
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, EmailStr, Field
from pydantic_core import PydanticCustomError

from kernel import identifiers
from kernel.errors import GGAError


def _checked(check, code: str):  # type: ignore[no-untyped-def]
    def run(value: str) -> str:
        try:
            return check(value)
        except GGAError as exc:
            raise PydanticCustomError(code, exc.message) from exc
    return run


def _phone(value: str) -> str:
    compact = re.sub(r"[\s./()\-]", "", value)
    if not re.fullmatch(r"\+?\d{6,20}", compact):
        raise PydanticCustomError("VALIDATION_ERROR", "phone: 6 to 20 digits, optionally starting with +")
    return compact


Niss = Annotated[str, AfterValidator(_checked(identifiers.niss, "INVALID_NISS"))]
EnterpriseNumber = Annotated[str, AfterValidator(_checked(identifiers.enterprise_number,
                                                          "INVALID_ENTERPRISE_NUMBER"))]
Phone = Annotated[str, AfterValidator(_phone)]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Language = Literal["fr", "nl", "de", "en"]


class ContactData(BaseModel):
    email: EmailStr
    phone: Phone


class DesignatedPerson(ContactData):
    """Another person designated as main access manager ("Autre personne")."""

    niss: Niss


ItemT = TypeVar("ItemT")


class PageOf(BaseModel, Generic[ItemT]):
    """One page of a list: ``total`` rows match, ``page`` counts from 1."""

    items: list[ItemT]
    total: int
    page: int
    page_size: int


class ApplicationView(BaseModel):
    """Application sécurisée of the catalogue, with the domain kinds that offer it."""

    code: str
    name_fr: str
    name_nl: str
    domains: list[str]


class CatalogueView(BaseModel):
    items: list[ApplicationView]
    domain_kinds: list[str]
