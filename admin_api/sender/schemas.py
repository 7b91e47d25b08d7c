from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import EmailStr, Field

from admin_api.schemas import Body, Clearable, Instruction, Language, Name, PatchBody, Phone, Printable

ChannelType = Literal["FTP", "SFTP", "WS"]
Title = Annotated[str, Field(min_length=1, max_length=20), Printable]
Emails = Annotated[list[EmailStr], Field(min_length=1, max_length=3)]
Codes = Annotated[list[str], Field(max_length=100)]


class SenderContact(Body):
    """Personne de contact pour les échanges de messages structurés."""

    last_name: Name
    first_name: Name
    title: Title
    function: Name
    language: Language
    phone: Phone
    fax: Phone | None = None
    mobile: Phone | None = None
    emails: Emails


class ContactPatch(PatchBody):
    """The contact's fields to change; ``fax`` and ``mobile`` may be cleared, the others are needed."""

    last_name: Name | None = None
    first_name: Name | None = None
    title: Title | None = None
    function: Name | None = None
    language: Language | None = None
    phone: Phone | None = None
    fax: Clearable[Phone] = None
    mobile: Clearable[Phone] = None
    emails: Emails | None = None


class ChannelApplicationIn(Body):
    code: str = Field(min_length=4, max_length=4)
    preferred: bool | None = None  # may be left out when only one channel carries the application


class ChannelIn(Body):
    type: ChannelType
    certificate: str = Field(min_length=1, description="PEM, or base64 of the DER (.cer)")
    ssh_public_key: str | None = Field(default=None, description="SFTP: one OpenSSH public key line")
    applications: list[ChannelApplicationIn] = Field(default_factory=list)
    plain_ftp: bool = Field(default=False, description="FTP without TLS (Router connections only)")


class SenderIn(Body):
    contact: SenderContact
    technical_user: str
    password: str
    channels: list[ChannelIn] = Field(min_length=1)


class SenderPatch(PatchBody):
    """Only the fields sent change; ``contact`` names only the contact's fields that change."""

    contact: ContactPatch | None = None
    password: str | None = None
    status: Literal["active", "blocked"] | None = None
    technical_user_status: Literal["active", "blocked"] | None = None


class ChannelPatch(PatchBody):
    """Change one channel, only in what the body names: certificate rollover, SSH key, applications, plain FTP."""

    type: Instruction[ChannelType] = Field(default=None, description="When the channel is not named in the path")
    add_certificate: Instruction[str] = Field(default=None, description="PEM, or base64 of the DER (.cer)")
    remove_certificate: Instruction[str] = Field(default=None,
                                                 description="SHA-256 fingerprint (hex) of the one to drop")
    ssh_public_key: Clearable[str] = Field(
        default=None, description="SFTP: the new key; it cannot be cleared (the other channels have none)")
    plain_ftp: bool | None = None
    add_applications: Instruction[Codes] = Field(default=None, description="Codes the channel starts carrying")
    remove_applications: Instruction[Codes] = Field(
        default=None, description="Codes the channel stops carrying; where one was preferred here, the preference "
        "moves to another channel carrying it (SFTP, FTP, WS order), and with none the request is refused (409)")
    preferred_for: Instruction[Codes] = Field(
        default=None, description="Codes this channel becomes the preferred channel of (it carries or adds them)")
    applications: Instruction[list[Any]] = Field(
        default=None, deprecated=True, description="Refused (422): use add_applications, remove_applications and "
        "preferred_for, which change only what they name")
