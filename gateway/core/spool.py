"""Where files live on disk: one jailed home per sender channel, application spools, the rejected archive."""

from __future__ import annotations

import os
import secrets
import string
from pathlib import Path

from gateway.naming import ALL_FOLDERS, RETURN_FOLDERS

PARTIAL = ".partial"  # uploads in progress; never listed, never processed


class Spool:
    def __init__(self, root: Path):
        self.root = root

    def home(self, sender_number: str, channel: str) -> Path:
        home = self.root / "mailboxes" / sender_number / channel
        if not (home / PARTIAL).is_dir():
            for folder in (*ALL_FOLDERS, PARTIAL):
                (home / folder).mkdir(parents=True, exist_ok=True)
        return home

    def return_folder(self, sender_number: str, channel: str, environment: str) -> Path:
        return self.home(sender_number, channel) / RETURN_FOLDERS[environment]

    def application_folder(self, application: str, environment: str, ticket: str) -> Path:
        return self.root.parent / "applications" / application / environment / ticket

    def rejected_folder(self, sender_number: str, ticket: str) -> Path:
        return self.root / "rejected" / sender_number / ticket

    def cancelled_folder(self, sender_number: str) -> Path:
        return self.root / "cancelled" / sender_number


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_durably(path: Path, data: bytes) -> None:
    """Temp file, fsync, rename, fsync the folder: the file is there whole or not at all."""
    tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def move_durably(source: Path, target_dir: Path) -> Path:
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / source.name
    os.replace(source, target)
    fsync_dir(target_dir)
    return target


def sequence() -> str:
    """5 characters of 0-9A-Z, not all zeros, for names the gateway makes."""
    alphabet = string.digits + string.ascii_uppercase
    while True:
        value = "".join(secrets.choice(alphabet) for _ in range(5))
        if value != "00000":
            return value
