from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, EmailStr, Field

from admin_api.schemas import Language, Name, Phone

ChannelType = Literal["FTP", "SFTP", "WS"]


class SenderContact(BaseModel):
    """Personne de contact pour les échanges de messages structurés."""

    last_name: Name
    first_name: Name
    title: str = Field(min_length=1, max_length=20)
    function: Name
    language: Language
    phone: Phone
    fax: Phone | None = None
    mobile: Phone | None = None
    emails: list[EmailStr] = Field(min_length=1, max_length=3)


class ChannelApplicationIn(BaseModel):
    code: str = Field(min_length=4, max_length=4)
    preferred: bool | None = None  # may be left out when only one channel carries the application


class ChannelIn(BaseModel):
    type: ChannelType
    certificate: str = Field(min_length=1, description="PEM, or base64 of the DER (.cer)")
    ssh_public_key: str | None = Field(default=None, description="SFTP: one OpenSSH public key line")
    applications: list[ChannelApplicationIn] = []
    plain_ftp: bool = Field(default=False, description="FTP without TLS (Router connections only)")


class SenderIn(BaseModel):
    contact: SenderContact
    technical_user: str
    password: str
    channels: list[ChannelIn] = Field(min_length=1)


class SenderPatch(BaseModel):
    contact: SenderContact | None = None
    password: str | None = None
    status: Literal["active", "blocked"] | None = None
    technical_user_status: Literal["active", "blocked"] | None = None


class ChannelPatch(BaseModel):
    """Change one channel: certificate rollover, new SSH key, applications, plain FTP."""

    type: ChannelType | None = None  # when the channel is not named in the path
    add_certificate: str | None = None
    remove_certificate: str | None = Field(default=None, description="SHA-256 fingerprint (hex) of the one to drop")
    ssh_public_key: str | None = None
    applications: list[ChannelApplicationIn] | None = None
    plain_ftp: bool | None = None
