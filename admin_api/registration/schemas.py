from __future__ import annotations

from typing import Literal

from pydantic import StrictBool

from admin_api.schemas import Body, ContactData, DesignatedPerson, EnterpriseNumber, Name, Niss


class ManagerDesignation(Body):
    """``main_access_manager``: ``"self"`` or another person; ``contact``: the requester's own contact."""

    main_access_manager: Literal["self"] | DesignatedPerson
    contact: ContactData
    confirm: StrictBool = False  # JSON true: "yes" or "true" is no confirmation


class StandardRegistration(ManagerDesignation):
    enterprise_number: EnterpriseNumber


class LegalRepresentativeIdentity(Body):
    niss: Niss
    first_name: Name
    last_name: Name


class ExceptionalRegistration(StandardRegistration):
    legal_representative: LegalRepresentativeIdentity


class Rejection(Body):
    reason: Name
