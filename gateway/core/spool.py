"""Where files live on disk: one jailed home per sender channel, application spools, the rejected archive."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from pathlib import Path

from gateway.naming import ALL_FOLDERS, RETURN_FOLDERS
from kernel import mailboxes

log = logging.getLogger("gga.spool")
PARTIAL = ".partial"  # uploads in progress; never listed, never processed


class Spool:
    def __init__(self, root: Path):
        self.root = root

    def home(self, sender_number: str, channel: str) -> Path:
        home = mailboxes.home(self.root, sender_number, channel)
        if not (home / PARTIAL).is_dir():
            for folder in (*ALL_FOLDERS, PARTIAL):  # .partial last: it says the home is whole
                make_dirs(home / folder)
        return home

    def return_folder(self, sender_number: str, channel: str, environment: str) -> Path:
        return self.home(sender_number, channel) / RETURN_FOLDERS[environment]

    def application_folder(self, application: str, environment: str, ticket: str) -> Path:
        return self.root.parent / "applications" / application / environment / ticket

    def rejected_folder(self, sender_number: str, ticket: str) -> Path:
        return self.root / "rejected" / sender_number / ticket

    def cancelled_folder(self, sender_number: str) -> Path:
        return self.root / "cancelled" / sender_number


def make_dirs(path: Path) -> None:
    """``mkdir -p`` whose folders survive a crash: each one made here is fsynced into its parent before anything
    is put in it (on ext4 without a journal, a new entry lasts only once its folder is fsynced: an application's
    ticket folder, or a new mailbox, could vanish with the files recorded in it)."""
    missing = []
    while not path.is_dir():
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made meanwhile by another: its parent is fsynced here all the same
            folder.mkdir()
    for folder in missing:
        fsync_dir(folder.parent)


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
    """Files moved into ``target_dir`` (already-moved ones are found there) and new ``files`` written whole into
    it; returns where the sources are now, every step durable.

    Not a rename: without a journal the two folders reach the disk independently (another upload's fsync of the
    source folder any moment), and a crash between could leave the file in neither. Each file is linked into the
    target and fsynced (its link count with it), the target folder fsynced, and only then the sources unlinked and
    their folders fsynced: at every moment the file has a durable name, so a source gone with no target was
    taken by another move (two submissions answering for one file), not lost: logged, and skipped."""
    make_dirs(target_dir)
    moved = [_link_into(target_dir, source) for source in sources]
    write_set(target_dir, files)  # the new files, then the one fsync of the folder for them and the links
    for source in sources:
        source.unlink(missing_ok=True)  # a worker whose lease ran out may be moving it at the same moment
    for folder in {source.parent for source in sources}:
        fsync_dir(folder)
    return moved


def _link_into(target_dir: Path, source: Path) -> Path:
    target = target_dir / source.name
    try:
        os.link(source, target)
    except FileExistsError:  # linked already (a retry, or a racing worker that may unlink the source any moment)
        with contextlib.suppress(FileNotFoundError):
            if not os.path.samefile(source, target):
                os.replace(source, target)  # another file of that name there: the source's wins, as a move did
        return target
    except FileNotFoundError:
        if not target.exists():
            log.warning("%s: gone before it could be moved into %s (another move took it)", source, target_dir)
        return target  # moved already (a retry, a racing worker), and the source unlinked
    fd = os.open(target, os.O_RDONLY)
    try:
        os.fsync(fd)  # the inode's new link count: else unlinking the source could free it under the target
    finally:
        os.close(fd)
    return target


def move_all(sources: list[Path], target_dir: Path) -> list[Path]:
    """Move files into ``target_dir`` durably (``place``; already-moved ones are found there)."""
    return place(target_dir, sources, [])
