"""Reference numbers the product makes: tickets (13 characters of [0-9A-Z], about 67 bits from the OS's CSPRNG:
unique and unguessable) and the 5-character sequence of the batch names the gateway writes."""

from __future__ import annotations

import secrets
import string

ALPHABET = string.digits + string.ascii_uppercase


def new_ticket() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(13))


def new_sequence() -> str:
    """``NNNNN`` of a batch name: 5 characters of 0-9A-Z, not all zeros."""
    while True:
        value = "".join(secrets.choice(ALPHABET) for _ in range(5))
        if value != "00000":
            return value
