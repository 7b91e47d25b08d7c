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
from admin_api.models.senders import ChannelApplication, ChannelCertificate, Sender, SenderChannel
from admin_api.models.transfers import ReceivedFile, ServiceToken, Submission, TransferEvent, UsedAssertion

__all__ = [
    "AuditRecord",
    "Base",
    "ChannelApplication",
    "ChannelCertificate",
    "CoMainManager",
    "Domain",
    "DomainApplication",
    "Enterprise",
    "LegalFunction",
    "OutboxMail",
    "Person",
    "ReceivedFile",
    "RegistrationRequest",
    "Sender",
    "SenderChannel",
    "ServiceToken",
    "Submission",
    "TransferEvent",
    "UsedAssertion",
    "User",
    "UserApplication",
]
