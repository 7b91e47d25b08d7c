"""SQLAlchemy models. Import this package to register every table on ``Base.metadata``."""

from store.models.base import Base
from store.models.defence import DefenderAddress, LiveSession
from store.models.people import (
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
from store.models.records import AuditRecord, OutboxMail
from store.models.senders import ChannelApplication, ChannelCertificate, Sender, SenderChannel
from store.models.transfers import (
    OutboxEvent,
    ReceivedFile,
    ServiceToken,
    Submission,
    TransferEvent,
    UsedAssertion,
)

__all__ = [
    "AuditRecord",
    "Base",
    "ChannelApplication",
    "ChannelCertificate",
    "CoMainManager",
    "DefenderAddress",
    "Domain",
    "DomainApplication",
    "Enterprise",
    "LegalFunction",
    "LiveSession",
    "OutboxEvent",
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
