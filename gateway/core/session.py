"""A technical user's session, whatever the protocol: who, on which channel, from where, with which home."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from store.directory import SenderInfo


@dataclass(frozen=True)
class GatewaySession:
    sender: SenderInfo
    channel: str  # the sender's channel: SFTP, FTP or WS
    protocol: str  # what the log shows: SFTP, FTP, FTPS, WS
    remote: str
    home: Path

    def log_fields(self) -> dict[str, str]:
        return {"sender_number": self.sender.number, "technical_user": self.sender.technical_user,
                "remote_address": self.remote}
