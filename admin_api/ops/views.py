"""What the ops routes answer (``audit._view``, ``transfers.view``, a submission and its detail, a delivered return
file)."""

from __future__ import annotations

from datetime import datetime
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


class ReceivedFileView(BaseModel):
    """A file of a submission as the gateway received it (``status``: received, submitted, cancelled, refused,
    superseded; ``error_code`` when it was refused)."""

    name: str
    kind: str
    folder: str
    part: int | None
    size: int
    sha256: str | None
    status: str
    error_code: str | None
    received_at: datetime


class FindingView(BaseModel):
    """An error of the decision: the gateway's ``code``, the number the ACRF gives it (``error_id``), the file
    concerned, the code's sentence in the caller's language and what exactly was wrong (as recorded)."""

    code: str
    error_id: str
    file_name: str | None
    message: str
    detail: str


class SubmissionDetail(BaseModel):
    """One submission: its facts, its ACRF, the errors the ACRF lists, its files and its lines of the transfer log
    (in the order they were written; ``more_log`` when there were more than the ones given)."""

    submission: SubmissionView
    acrf: str | None
    errors: list[FindingView]
    files: list[ReceivedFileView]
    log: list[TransferView]
    more_log: bool
