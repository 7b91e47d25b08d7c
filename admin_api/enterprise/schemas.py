"""Request bodies of the enterprise routes (``admin_api.enterprise.endpoints``)."""

from __future__ import annotations

from admin_api.schemas import Body, ContactData, Niss


class CoMainManagerIn(Body):
    niss: Niss
    contact: ContactData | None = None


class DomainIn(Body):
    name: str
    identifier: str
    applications: list[str] | None = None
