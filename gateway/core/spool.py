"""Where files live on disk: one jailed home per sender channel, application spools, the rejected archive."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
from collections.abc import Collection, Sequence
from pathlib import Path

from gateway.naming import ALL_FOLDERS, RETURN_FOLDERS
from kernel import mailboxes

log = logging.getLogger("gga.spool")
PARTIAL = ".partial"  # uploads in progress; never listed, never processed
_TEMPORARY = re.compile(r"\..+\.[0-9a-f]{8}\.tmp")  # a file being placed (``_temporary``); a crash may leave one


def _temporary(folder: Path, name: str) -> Path:
    """The hidden name a file is written or linked under before it is renamed to ``name`` (never listed)."""
    return folder / f".{name}.{secrets.token_hex(4)}.tmp"


def is_temporary(name: str) -> bool:
    return _TEMPORARY.fullmatch(name) is not None


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
            tmp = _temporary(folder, name)
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
    """Files written and moved into several folders, made durable together by ``finish``; at every moment each file
    has a durable name. A batch of submissions shares its folders' fsyncs (the return folder's, the applications'
    folders', INTEST's). In ``finish``, in this order:

    1. the new files written whole under temporary names (only now: a crash leaves as few behind as it can), each
       fsynced, and so is each moved file's new link (its inode's link count: else unlinking the source could free
       it under the target);
    2. every set's files but its last renamed into place and their folders fsynced, then each set's last file (an
       ACRF's GO): a client, even after a crash, never finds a GO without its FO and FS;
    3. every folder that gained an entry fsynced, with the target folders' parents up to the folder they share
       with their sources: whoever made a folder (another worker, an attempt that failed before its fsync), it is
       durable before anything leaves its source;
    4. only then the sources unlinked and their folders fsynced. Until a source goes, its file has that durable
       name; once it goes, the new one is durable.

    Not a rename: without a journal the two folders reach the disk independently (another upload's fsync of the
    source folder any moment), and a crash between could leave the file in neither. A source gone with no target
    was taken by another move (two submissions answering for one file), not lost: logged, and skipped. (The files'
    fsyncs on a pool of threads, so the journal commits them together, measured no faster: those threads took
    turns on the interpreter with the uploads'.)"""

    def __init__(self) -> None:
        self._sets: list[tuple[object, Path, list[tuple[str, bytes]]]] = []  # (whose, folder, files)
        self._linked: list[Path] = []
        self._folders: dict[Path, None] = {}
        self._sources: list[tuple[object, Path]] = []

    def write(self, folder: Path, files: Sequence[tuple[str, bytes]], whose: object = None) -> None:
        """New files to be written whole into ``folder`` and appear there in this order. ``whose``: what ``drop``
        names to leave them out."""
        if files:
            self._sets.append((whose, folder, list(files)))
        self._folders[folder] = None

    def move(self, target_dir: Path, sources: list[Path], files: Sequence[tuple[str, bytes]] = (),
             whose: object = None) -> list[Path]:
        """Sources linked into ``target_dir`` (made if missing; already-moved ones are found there) and new
        ``files`` written into it; returns where the sources will be. They are unlinked by ``finish``."""
        made = _made(target_dir)
        shared = Path(os.path.commonpath([target_dir, sources[0]])) if sources else None
        self._folders.update(dict.fromkeys(made if shared is None else _up_to(target_dir, shared)))
        moved = [_link_into(target_dir, source, self._linked) for source in sources]
        self.write(target_dir, files, whose)
        self._sources += [(whose, source) for source in sources]
        return moved

    def drop(self, whose: Collection[object]) -> None:
        """Their new files never written and their sources left where they are (their new links stay: second
        names of the same files, which whoever moves them next finds in place)."""
        self._sets = [entry for entry in self._sets if entry[0] not in whose]
        self._sources = [entry for entry in self._sources if entry[0] not in whose]

    def finish(self) -> None:
        pending: list[tuple[Path, Path]] = []
        try:
            staged = []
            for _, folder, files in self._sets:
                staged.append(_staged(folder, files))
                pending += staged[-1]
            for path in [tmp for tmp, _ in pending] + self._linked:
                fsync_file(path)
            early = [pair for pairs in staged for pair in pairs[:-1]]
            if early:
                self._rename(early, pending)
                for folder in dict.fromkeys(target.parent for _, target in early):
                    fsync_dir(folder)
            self._rename([pairs[-1] for pairs in staged], pending)
        except BaseException:
            _discard(pending)  # not left for good in an application's or a return folder
            raise
        for folder in self._folders:
            fsync_dir(folder)
        for _, source in self._sources:
            source.unlink(missing_ok=True)  # a worker whose lease ran out may be moving it at the same moment
        for folder in dict.fromkeys(source.parent for _, source in self._sources):
            fsync_dir(folder)
        self._sets, self._linked, self._folders, self._sources = [], [], {}, []

    @staticmethod
    def _rename(pairs: list[tuple[Path, Path]], pending: list[tuple[Path, Path]]) -> None:
        for tmp, target in pairs:
            os.replace(tmp, target)
            pending.remove((tmp, target))


def _up_to(target_dir: Path, shared: Path) -> list[Path]:
    """The folders whose entries lead from ``shared`` to ``target_dir``: its parents up to ``shared``, included."""
    folders = []
    for parent in target_dir.parents:
        folders.append(parent)
        if parent == shared:
            return folders
    return folders


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
            if not os.path.samefile(source, target):  # another file of that name there: the source's wins
                # linked beside it and renamed over it within the target folder (a rename across folders could
                # leave it in neither after a crash); its source is unlinked only once the folder is fsynced
                beside = _temporary(target_dir, source.name)
                os.link(source, beside)
                os.replace(beside, target)
                linked.append(target)
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
