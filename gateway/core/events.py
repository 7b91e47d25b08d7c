"""The event bus applications listen on: in process by default (an AMQP adapter can replace it)."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger("gga.events")


class EventBus(Protocol):
    def publish(self, topic: str, payload: dict[str, Any]) -> None: ...


class InProcessBus:
    """Calls subscribers in the publishing thread; keeps the last events for inspection."""

    def __init__(self, keep: int = 1000):
        self.subscribers: list[Callable[[str, dict[str, Any]], None]] = []
        self.recent: deque[tuple[str, dict[str, Any]]] = deque(maxlen=keep)

    def subscribe(self, callback: Callable[[str, dict[str, Any]], None]) -> None:
        self.subscribers.append(callback)

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        self.recent.append((topic, payload))
        for callback in self.subscribers:
            try:
                callback(topic, payload)
            except Exception:  # a subscriber's fault never loses the submission
                log.exception("subscriber failed on %s", topic)
