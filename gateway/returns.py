"""Return files (ACRF, NOTI...): named by the gateway, zipped above the threshold, signed, delivered with their GO
in the return folder of the application's preferred channel."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime

from gateway.core.spool import Placement, Spool, write_set
from gateway.core.translog import TransferLog
from gateway.naming import BatchName
from kernel.catalogue import APPLICATIONS
from kernel.errors import ErrorCode, GGAError
from kernel.tickets import new_sequence
from keys.cms import fs_file, sign_detached
from keys.issuing import Issued
from store.directory import SenderInfo

GATEWAY_SENDER = "999999"
ACKNOWLEDGEMENT = "ACRF"  # the gateway's own answer to a GO: never an application's return


def check_application_return(application: str, kind: str, content: bytes) -> None:
    """What an application may return to a sender (``POST /api/v1/returns``): for an application of the catalogue,
    a file with content, of any type but ACRF (a client takes an FO.ACRF signed by the gateway for the answer to
    one of its GOs: a forged "accepted" for a GO never sent, or rejected)."""
    if application not in APPLICATIONS:
        raise GGAError(ErrorCode.APPLICATION_UNKNOWN, details={"application": application})
    if kind == ACKNOWLEDGEMENT:
        raise GGAError(ErrorCode.VALIDATION_ERROR, "ACRF files are the gateway's own acknowledgements of a GO; an "
                       "application returns files of other types (NOTI...).", {"field": "type"})
    if not content:
        raise GGAError(ErrorCode.VALIDATION_ERROR, "A return file has content: the body is empty.",
                       {"field": "body"})


@dataclass(frozen=True)
class Delivered:
    name: str  # the FO (or CO) name
    channel: str
    files: tuple[str, ...]
    log_fields: dict = field(default_factory=dict, compare=False)  # the delivery's transfer-log row


class ReturnDelivery:
    def __init__(self, spool: Spool, identity: Issued, translog: TransferLog, zip_threshold: int):
        self.spool, self.identity, self.translog, self.zip_threshold = spool, identity, translog, zip_threshold

    def channel_for(self, sender: SenderInfo, application: str, fallback: str) -> str:
        """The application's preferred channel; the channel the files came on when it has none (an application the
        sender may not send); a channel the sender still has when that one was removed since."""
        chosen = sender.preferred_channel(application) or fallback
        return chosen if chosen in sender.channels or not sender.channels else next(iter(sender.channels))

    def deliver(self, sender: SenderInfo, code: str, environment: str, content: bytes, channel: str,
                application: str | None = None, name: BatchName | None = None, *, logged: bool = True,
                placement: Placement | None = None, whose: object = None) -> Delivered:
        """Write FO (or CO), FS, then GO. With ``name`` given, delivering twice rewrites the same files. With
        ``logged=False`` the caller writes the log row (``Delivered.log_fields``) in its own transaction. With
        ``placement``, the files are written and made durable by its ``finish`` (with the other files of a batch)."""
        folder = self.spool.return_folder(sender.number, channel, environment)
        fo = name or self._free_name(folder, code, environment)
        out, payload = fo, content
        if len(content) > self.zip_threshold:
            out, payload = fo.with_kind("CO"), _zip(str(fo), content)
        signature = fs_file(sign_detached(payload, self.identity.certificate, self.identity.key))
        go = out.with_kind("GO")
        # the GO last: a client that sees it finds the whole set
        files = [(str(out), payload), (str(out.with_kind("FS")), signature), (str(go), b"")]
        if placement is None:
            write_set(folder, files)
        else:
            placement.write(folder, files, whose)
        line = {"protocol": channel, "sender_number": sender.number, "technical_user": sender.technical_user,
                "file_name": str(out), "size": len(payload), "application": application or code,
                "environment": environment, "channel": channel}
        if logged:
            self.translog.record("delivery", "ok", **line)
        return Delivered(str(out), channel, (str(out), str(out.with_kind("FS")), str(go)), line)

    @staticmethod
    def _free_name(folder, code: str, environment: str) -> BatchName:  # type: ignore[no-untyped-def]
        day = datetime.now(UTC).strftime("%Y%m%d")
        while True:
            fo = BatchName("FO", code, GATEWAY_SENDER, day, new_sequence(), environment)
            if not (folder / str(fo)).exists() and not (folder / str(fo.with_kind("CO"))).exists():
                return fo


def _zip(inner_name: str, content: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(inner_name, content)
    return buffer.getvalue()
