"""SENDER.json: who sends (the demo's ``<data>/demo/sender.json``) and where to (``endpoints``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from gga.client.errors import TransportError

CHANNELS = ("sftp", "ftps", "ws")


@dataclass(frozen=True)
class SenderProfile:
    path: Path
    sender_number: str
    technical_user: str
    password: str | None
    ssh_private_key: Path | None
    certificate: Path | None
    certificate_key: Path | None
    endpoints: dict[str, str]

    @classmethod
    def load(cls, path: Path) -> SenderProfile:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(path.resolve(), str(data["sender_number"]), data["technical_user"], data.get("password"),
                       _path(data.get("ssh_private_key")), _path(data.get("certificate")),
                       _path(data.get("certificate_key")), dict(data.get("endpoints") or {}))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise TransportError(f"{path}: not a readable SENDER.json ({exc!r})") from exc

    def can_use(self, channel: str) -> bool:
        """The credentials and the endpoint a channel needs are all there."""
        if channel == "sftp":
            return "sftp" in self.endpoints and (self.ssh_private_key is not None or bool(self.password))
        if channel == "ftps":
            return "ftp" in self.endpoints and bool(self.password)
        return "http" in self.endpoints and self.certificate is not None and self.certificate_key is not None

    def endpoint(self, key: str) -> tuple[str, int]:
        """``host:port`` of ``sftp`` or ``ftp``."""
        if key not in self.endpoints:
            raise TransportError(f"{self.path}: no endpoints.{key}")
        host, _, port = self.endpoints[key].rpartition(":")
        return host.strip("[]"), int(port)

    @property
    def http(self) -> str:
        if "http" not in self.endpoints:
            raise TransportError(f"{self.path}: no endpoints.http")
        return self.endpoints["http"].rstrip("/")

    @property
    def folder(self) -> Path:
        """Where pinned server keys are kept (trust on first use), next to SENDER.json."""
        return self.path.parent


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None
