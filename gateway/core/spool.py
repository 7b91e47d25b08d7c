"""Where files live on disk: one jailed home per sender channel, application spools, the rejected archive."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from collections.abc import Sequence
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
    is put in it (on ext4 without a journal, a new entry lasts only once its folder is fsynced: a new mailbox
    could vanish with the files recorded in it)."""
    for parent in _made(path):
        fsync_dir(parent)


def _made(path: Path) -> list[Path]:
    """``mkdir -p``; returns the parents of the folders it made, to be fsynced."""
    missing = []
    while not path.is_dir():
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made meanwhile by another: its parent is fsynced here all the same
            folder.mkdir()
    return [folder.parent for folder in missing]


def fsync_dir(path: Path) -> None:
    """A folder's entries made durable (opened read-only and fsynced, as a file is)."""
    fsync_file(path)


def write_set(folder: Path, files: list[tuple[str, bytes]]) -> None:
    """Several files made whole (each fsynced), renamed into place in order, then one fsync of the folder."""
    placement = Placement()
    placement.write(folder, files)
    placement.finish()


def _staged(folder: Path, files: Sequence[tuple[str, bytes]]) -> list[tuple[Path, Path]]:
    """Each file written whole under a temporary name (not fsynced yet): (temporary, final) paths. A failure (a
    full disk) removes the temporary files it made: they were left for good in an application's folder."""
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
            finally:
                os.close(fd)
    except BaseException:
        _discard(staged)
        raise
    return staged


def _discard(staged: list[tuple[Path, Path]]) -> None:
    for tmp, _ in staged:
        with contextlib.suppress(OSError):
            tmp.unlink()


def fsync_file(path: Path) -> None:
    """A file's data and inode made durable, by its path (whoever wrote it)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Placement:
    """Files written and moved into several folders, made durable together by ``finish``: the new files and the
    moved files' new links fsynced (at once), the new files renamed into place in order, every folder that gained
    one (and the parents of the folders made) fsynced once, and only then the moved files' sources unlinked and
    their folders fsynced once. Until a source goes, its file has that durable name; once it goes, the new one is
    durable: at every moment a file has a durable name. A batch of submissions shares its folders' fsyncs (the
    return folder's, the applications' folder's, INTEST's). (Its files' fsyncs on a pool of threads, to let the
    journal commit them together, measured no faster: those threads took turns on the interpreter with the
    uploads'.)

    Not a rename: without a journal the two folders reach the disk independently (another upload's fsync of the
    source folder any moment), and a crash between could leave the file in neither. Each file is linked into the
    target and fsynced (its link count with it) before its source is unlinked: a source gone with no target was
    taken by another move (two submissions answering for one file), not lost: logged, and skipped."""

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []  # renamed in this order (a set's GO last)
        self._linked: list[Path] = []
        self._folders: dict[Path, None] = {}
        self._sources: list[Path] = []

    def write(self, folder: Path, files: Sequence[tuple[str, bytes]]) -> None:
        """New files written whole under temporary names, to be renamed into ``folder`` in order."""
        self._staged += _staged(folder, files)
        self._folders[folder] = None

    def move(self, target_dir: Path, sources: list[Path], files: Sequence[tuple[str, bytes]] = ()) -> list[Path]:
        """Sources linked into ``target_dir`` (made if missing; already-moved ones are found there) and new
        ``files`` written into it; returns where the sources will be. They are unlinked by ``finish``."""
        self._folders.update(dict.fromkeys(_made(target_dir)))
        moved = [_link_into(target_dir, source, self._linked) for source in sources]
        self.write(target_dir, files)
        self._sources += sources
        return moved

    def finish(self) -> None:
        try:
            for path in [tmp for tmp, _ in self._staged] + self._linked:
                fsync_file(path)
        except BaseException:
            _discard(self._staged)
            raise
        for tmp, target in self._staged:
            os.replace(tmp, target)
        for folder in self._folders:
            fsync_dir(folder)
        for source in self._sources:
            source.unlink(missing_ok=True)  # a worker whose lease ran out may be moving it at the same moment
        for folder in dict.fromkeys(source.parent for source in self._sources):
            fsync_dir(folder)
        self._staged, self._linked, self._folders, self._sources = [], [], {}, []


def place(target_dir: Path, sources: list[Path], files: list[tuple[str, bytes]]) -> list[Path]:
    """Files moved into ``target_dir`` (already-moved ones are found there) and new ``files`` written whole into
    it; returns where the sources are now, every step durable (``Placement``)."""
    placement = Placement()
    moved = placement.move(target_dir, sources, files)
    placement.finish()
    return moved


def _link_into(target_dir: Path, source: Path, linked: list[Path]) -> Path:
    """The source's new link in ``target_dir``; one made here is added to ``linked``, to be fsynced (the inode's
    new link count: else unlinking the source could free it under the target)."""
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
    linked.append(target)
    return target


def move_all(sources: list[Path], target_dir: Path) -> list[Path]:
    """Move files into ``target_dir`` durably (``place``; already-moved ones are found there)."""
    return place(target_dir, sources, [])
