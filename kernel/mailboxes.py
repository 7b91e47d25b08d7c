"""Where a sender channel's mailbox lives under the spool, and its return folders: reference data for the gateway,
which fills them, and for the admin API, which does not remove a channel while return files wait in it."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

RETURN_FOLDERS = {"R": "OUT", "T": "OUTTEST", "S": "OUTTEST-S"}


def home(spool_dir: Path, sender_number: str, channel: str) -> Path:
    return spool_dir / "mailboxes" / sender_number / channel


def returns_waiting(spool_dir: Path, sender_number: str, channel: str) -> list[str]:
    """``<folder>/<name>`` of the return files not yet picked up from one channel's mailbox."""
    waiting: list[str] = []
    for folder in RETURN_FOLDERS.values():
        with (contextlib.suppress(FileNotFoundError, NotADirectoryError),
              os.scandir(home(spool_dir, sender_number, channel) / folder) as entries):
            waiting += [f"{folder}/{e.name}" for e in entries if e.is_file() and not e.name.startswith(".")]
    return sorted(waiting)
