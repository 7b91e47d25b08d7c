"""Reference numbers: 13 characters of [0-9A-Z] from the OS's CSPRNG (about 67 bits: unique and unguessable)."""

from __future__ import annotations

import secrets
import string

ALPHABET = string.digits + string.ascii_uppercase


def new_ticket() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(13))
