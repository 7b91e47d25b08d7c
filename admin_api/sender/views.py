"""What the sender routes answer (``service.sender_view``, ``channel_view``); times in ISO 8601."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from admin_api.schemas import Language
from admin_api.sender.schemas import ChannelType


class SenderContactView(BaseModel):
    """Personne de contact, as given."""

    last_name: str
    first_name: str
    title: str
    function: str
    language: Language
    phone: str
    fax: str | None = None
    mobile: str | None = None
    emails: list[str]


class CertificateView(BaseModel):
    """Certificat as the guide's confirmation screen shows it (``keys.certificates.CertificateInfo``)."""

    owner: str
    company: str
    issuer: str
    expires: str
    not_before: str
    serial_decimal: str
    serial_hex: str
    fingerprint_sha256: str
    weaknesses: list[str] = Field(default=[], description="Why this certificate could no longer be registered "
                                  "(weak key, key usage, CA); it still signs until its rollover")


class SshKeyView(BaseModel):
    """Clé publique SSH of the SFTP channel."""

    loaded: bool
    fingerprint: str | None
    key: str


class ChannelApplicationView(BaseModel):
    code: str
    name: str
    preferred: bool = Field(description="This channel is the application's canal préférentiel")


class ChannelView(BaseModel):
    """Canal: FTP goes through the Router, SFTP and WS through the Internet."""

    type: ChannelType
    connection_type: Literal["Router", "Internet"]
    plain_ftp: bool
    ssh_public_key: SshKeyView | None
    certificate: CertificateView | None = Field(description="The certificate that expires last")
    certificates: list[CertificateView]
    applications: list[ChannelApplicationView]


class SenderApplicationView(BaseModel):
    """An application the sender uses, the channels that carry it and the preferred one."""

    code: str
    name: str
    channels: list[ChannelType]
    preferred_channel: ChannelType | None


class TechnicalUserView(BaseModel):
    """Utilisateur technique (``EXP...``)."""

    name: str
    status: Literal["active", "blocked"]


class SenderView(BaseModel):
    """Expéditeur of a domain."""

    sender_number: str
    domain_id: int
    status: Literal["active", "blocked"]
    contact: SenderContactView
    technical_user: TechnicalUserView
    channels: list[ChannelView]
    applications: list[SenderApplicationView]
    created_at: str


class SenderChanged(SenderView):
    """The sender after a change, with the confirmation in the caller's language."""

    message: str
