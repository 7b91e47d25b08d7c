"""Where files live on disk: one jailed home per sender channel, application spools, the rejected archive."""

from __future__ import annotations

import contextlib
import os
import secrets
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


def write_set(folder: Path, files: list[tuple[str, bytes]]) -> None:
    """Several files made whole (each fsynced), renamed into place in order, then one fsync of the folder."""
    for tmp, target in _staged(folder, files):
        os.replace(tmp, target)
    fsync_dir(folder)


def _staged(folder: Path, files: list[tuple[str, bytes]]) -> list[tuple[Path, Path]]:
    """Each file written whole and fsynced under a temporary name: (temporary, final) paths. A failure (a full
    disk) removes the temporary files it made: they were left for good in an application's folder."""
    staged: list[tuple[Path, Path]] = []
    try:
        for name, data in files:
            tmp = folder / f".{name}.{secrets.token_hex(4)}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            staged.append((tmp, folder / name))
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
    except BaseException:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                tmp.unlink()
        raise
    return staged


def place(target_dir: Path, sources: list[Path], files: list[tuple[str, bytes]]) -> list[Path]:
    """Files renamed into ``target_dir`` (already-moved ones are found there) and new ``files`` written whole into
    it, then one fsync of it; returns where the sources are now."""
    target_dir.mkdir(parents=True, exist_ok=True)
    moved = []
    for source in sources:
        target = target_dir / source.name
        with contextlib.suppress(FileNotFoundError):  # moved already: a retry, or a worker whose lease ran out
            os.replace(source, target)               # moving it at the same moment (checking first left a race)
        moved.append(target)
    write_set(target_dir, files)  # its renames, then the one fsync of the folder
    return moved


def move_all(sources: list[Path], target_dir: Path) -> list[Path]:
    """Rename files into ``target_dir`` (already-moved ones are found there), then one fsync of it."""
    return place(target_dir, sources, [])
