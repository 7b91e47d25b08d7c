"""The client's two ways to fail, each with its exit code (0 is accepted)."""

from __future__ import annotations

import re

REJECTED = 1
TRANSPORT = 2


class TransportError(Exception):
    """Could not talk to the gateway, log in, or get an answer in time: exit 2."""


class Refused(Exception):
    """The gateway refused a file on upload (a name, folder or size rule): exit 1, like a rejected ACRF."""

    @property
    def code(self) -> str:
        """The gateway's error code (FILE_NAME_INVALID...), which every protocol's answer carries."""
        found = re.search(r"\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+):", str(self))
        return found.group(1) if found else ""
