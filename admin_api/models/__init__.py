"""SQLAlchemy models. Import this package to register every table on ``Base.metadata``."""

from admin_api.models.base import Base
from admin_api.models.people import (
    CoMainManager,
    Domain,
    DomainApplication,
    Enterprise,
    LegalFunction,
    Person,
    RegistrationRequest,
    User,
    UserApplication,
)
from admin_api.models.records import AuditRecord, OutboxMail

__all__ = [
    "AuditRecord",
    "Base",
    "CoMainManager",
    "Domain",
    "DomainApplication",
    "Enterprise",
    "LegalFunction",
    "OutboxMail",
    "Person",
    "RegistrationRequest",
    "User",
    "UserApplication",
]
