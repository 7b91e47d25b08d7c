"""Password hashing with argon2id (argon2-cffi); hashes are re-made when the parameters change.

Each check takes ``memory_cost`` KiB while it runs: at most ``at_once`` run together (the others wait), so a flood of
logins costs time, not memory (GGA_PASSWORD_CHECKS_AT_ONCE).
"""

from __future__ import annotations

import re
import secrets
import threading
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


@dataclass
class PasswordPolicy:
    """10 to 128 characters with a lower-case letter, an upper-case letter and a digit."""

    min_length: int = 10
    max_length: int = 128

    def acceptable(self, password: str) -> bool:
        return (self.min_length <= len(password) <= self.max_length and re.search(r"[a-z]", password) is not None
                and re.search(r"[A-Z]", password) is not None and re.search(r"\d", password) is not None)


class Passwords:
    def __init__(self, time_cost: int = 3, memory_cost: int = 65536, parallelism: int = 4, at_once: int = 4):
        self.hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
        self._slots = threading.BoundedSemaphore(max(1, at_once))
        # verifying against a hash of a random secret costs what a real check costs (no user enumeration)
        self._dummy = self.hasher.hash(secrets.token_hex(16))

    def hash(self, password: str) -> str:
        with self._slots:
            return self.hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when it matches; with no stored hash, spends the same time and says False."""
        try:
            with self._slots:
                return self.hasher.verify(stored_hash or self._dummy, password) and stored_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        return self.hasher.check_needs_rehash(stored_hash)
