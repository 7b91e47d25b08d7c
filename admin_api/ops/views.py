"""What the ops routes answer (``audit._view``, ``transfers.view``, a delivered return file)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class AuditRecordView(BaseModel):
    """One entry of the audit trail: the state ``before`` and ``after`` the change, as recorded."""

    id: int
    at: str
    actor: str
    action: str
    target: str
    enterprise_number: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class TransferView(BaseModel):
    """One event of the transfer log (login, upload, download, submission, delivery...)."""

    id: int
    at: str
    event: str
    protocol: str
    sender_number: str | None
    technical_user: str | None
    remote_address: str | None
    file_name: str | None
    application: str | None
    environment: str | None
    size: int | None
    sha256: str | None
    duration_ms: int | None
    result: str
    error_code: str | None
    details: dict[str, Any] | None


class ReturnDelivered(BaseModel):
    """A return file delivered: its name, the channel used and the files written."""

    name: str
    channel: str
    files: list[str]


class SubmissionView(BaseModel):
    """A submission (one GO): its state, and for pending ones the retries of leased processing."""

    id: int
    ticket: str
    sender_number: str
    go: str
    application: str
    environment: str
    channel: str
    status: str
    retrying: bool
    attempts: int
    last_error: str | None
    next_attempt_at: str | None
    lease_owner: str | None
    errors: list[str]
    acrf: str | None
    created_at: str
    processed_at: str | None
