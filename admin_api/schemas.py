"""Request bodies' common rules (blank fields, contract section 2) and fields shared by several resources,
validated with the identifiers' own error codes; answers shared by several routes (a page of a list) and the
catalogue's."""

from __future__ import annotations

import re
import unicodedata
from enum import Enum
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from kernel import identifiers
from kernel.errors import GGAError


def blank(value: Any) -> bool:
    """What a form sends for a field left empty."""
    return value is None or (isinstance(value, str) and not value.strip())


class Body(BaseModel):
    """A create's body: an optional field sent as ``""`` or ``null`` is absent, so its default applies; a
    required one sent so is missing (422)."""

    @model_validator(mode="before")
    @classmethod
    def _blank_is_absent(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {k: v for k, v in data.items() if not (k in cls.model_fields and blank(v))}


class Blank(Enum):
    """What ``""`` or ``null`` means for a field of a PATCH."""

    CLEARS = "clears the field"
    ASKS_NOTHING = "an instruction (add_..., remove_...) left blank is absent"


T = TypeVar("T")
Clearable = Annotated[T | None, Blank.CLEARS]
Instruction = Annotated[T | None, Blank.ASKS_NOTHING]


class PatchBody(Body):
    """A PATCH's body: an absent field is unchanged (read ``model_fields_set``); ``""`` or ``null`` clears a
    ``Clearable`` field, is absent for an ``Instruction`` and is refused (422) for a field the resource needs. A
    field the resource does not let change is refused (422): ignored, the caller believed it changed."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _blank_is_absent(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        kept, refused = {}, []
        for name, value in data.items():
            field = cls.model_fields.get(name)
            if field is None or not blank(value):
                kept[name] = value
            elif Blank.CLEARS in field.metadata:
                kept[name] = None
            elif Blank.ASKS_NOTHING not in field.metadata:
                refused.append(InitErrorDetails(type="missing", loc=(name,), input=value))
        if refused:
            raise ValidationError.from_exception_data(cls.__name__, refused)
        return kept


def _checked(check, code: str):  # type: ignore[no-untyped-def]
    def run(value: str) -> str:
        try:
            return check(value)
        except GGAError as exc:
            raise PydanticCustomError(code, exc.message) from exc
    return run


def _phone(value: str) -> str:
    compact = re.sub(r"[\s./()\-]", "", value)
    if not re.fullmatch(r"\+?[0-9]{6,20}", compact):  # ASCII digits: \d took full-width and Arabic ones
        raise PydanticCustomError("VALIDATION_ERROR", "phone: 6 to 20 digits, optionally starting with +")
    return compact


Niss = Annotated[str, AfterValidator(_checked(identifiers.niss, "INVALID_NISS"))]
EnterpriseNumber = Annotated[str, AfterValidator(_checked(identifiers.enterprise_number,
                                                          "INVALID_ENTERPRISE_NUMBER"))]
Phone = Annotated[str, AfterValidator(_phone)]
# control characters (NUL, line breaks, tabs), line and paragraph separators, and invisible format characters (a
# right-to-left override, a zero-width space) in a name people read: stored and echoed as sent, a NUL came out of the
# CSV export as a space; what names are written or pasted with stays: the zero-width joiners of some scripts, the
# left-to-right and right-to-left marks around Arabic or Hebrew, a soft hyphen
_UNSEEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
_JOINERS = frozenset("\u200c\u200d\u200e\u200f\u00ad")


def _printable(value: str) -> str:
    for char in value:
        if unicodedata.category(char) in _UNSEEN and char not in _JOINERS:
            raise PydanticCustomError("printable", "no control or invisible character (here U+{code})",
                                      {"code": f"{ord(char):04X}"})
    return value


Printable = AfterValidator(_printable)  # after the length limits, so their errors stay the strings' own
Name = Annotated[str, Field(min_length=1, max_length=100), Printable]
Language = Literal["fr", "nl", "de", "en"]


class ContactData(Body):
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
    name_en: str
    domains: list[str]


class CatalogueView(PageOf[ApplicationView]):
    domain_kinds: list[str]
