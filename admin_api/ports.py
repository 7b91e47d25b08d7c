"""What the admin API needs from the rest of the product, as typed ports the composition root (``gga``) fills.

The admin API never imports the gateway: where an application posts a return file for a sender, the route calls
``ReturnsPort`` and the gateway's implementation names, signs and delivers it.
"""

from __future__ import annotations

from typing import Protocol


class DeliveredReturn(Protocol):
    @property
    def name(self) -> str: ...  # the FO (or CO) name

    @property
    def channel(self) -> str: ...

    @property
    def files(self) -> tuple[str, ...]: ...


class ReturnsPort(Protocol):
    def deliver_return(self, sender_number: str, application: str, environment: str, kind: str,
                       content: bytes) -> DeliveredReturn:
        """Blocking (signing, fsync, database): call it from a worker thread. Raises ``GGAError``
        (``NOT_FOUND`` for an unknown sender, ``APPLICATION_NOT_AUTHORISED`` when no channel carries it)."""
        ...
