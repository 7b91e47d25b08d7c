"""Request bodies of the enterprise routes (``admin_api.enterprise.endpoints``)."""

from __future__ import annotations

from pydantic import Field

from admin_api.schemas import Body, ContactData, Name, Niss


class CoMainManagerIn(Body):
    niss: Niss
    contact: ContactData | None = None


class DomainIn(Body):
    name: Name  # the columns' sizes: longer was a 500 on PostgreSQL
    identifier: str = Field(min_length=1, max_length=40)
    applications: list[str] | None = None
