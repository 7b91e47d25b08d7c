"""One upload per name at a time, on every instance sharing the data folder, and whose it is.

The upload's data file lives in ``.partial/@<instance>/``; ``.partial/<name>`` is a second hard link to it. Making
that link is the atomic, exclusive claim on the name, and the data file it shares its inode with says which instance
streams it. A hard link, not a symbolic one: no inode is made or freed per upload (ext4 without a journal scans every
inode freed in the last minutes on each file it creates, so an inode freed per upload slowed every later upload).
At start an instance removes its own leftovers (a crash's) and nothing of another live instance. A claim nobody has
written to for longer than the idle timeout would allow is a dead instance's and may be taken over.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
import time
from collections.abc import Callable
from pathlib import Path

from kernel.errors import ErrorCode, GGAError

_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL


def owner_folder(owner: str) -> str:
    return "@" + re.sub(r"[^A-Za-z0-9_.-]", "_", owner)[:100]


class Reservation:
    def __init__(self, partial: Path, name: str, owner: str, stale_after_s: float):
        own = partial / owner_folder(owner)
        self.link = partial / name
        self.data = own / f"{secrets.token_hex(6)}.{name}"
        try:  # the instance's folder exists but for a home's first upload: made then, not tried every time
            self.fd = os.open(self.data, _NEW_FILE, 0o600)
        except FileNotFoundError:
            own.mkdir(exist_ok=True)
            self.fd = os.open(self.data, _NEW_FILE, 0o600)
        self.inode = os.fstat(self.fd).st_ino
        try:
            self._claim(stale_after_s)
        except BaseException:
            os.close(self.fd)
            self.data.unlink(missing_ok=True)
            raise

    def _claim(self, stale_after_s: float) -> None:
        try:
            os.link(self.data, self.link)
            return
        except FileExistsError:
            if inode(self.link) == self.inode:  # ours after all (a link retried over NFS may say EEXIST)
                return
            held_by = _identity(self.link)
            if held_by is None or not _stale(self.link, stale_after_s):
                raise GGAError(ErrorCode.UPLOAD_IN_PROGRESS, f"{self.link.name} is being uploaded; wait for that "
                               "upload to end.", {"file_name": self.link.name}) from None
        if _identity(self.link) == held_by:  # still the dead one's (another taker may have been quicker)
            with contextlib.suppress(FileNotFoundError):
                self.link.unlink()
        try:
            os.link(self.data, self.link)
        except FileExistsError:
            raise GGAError(ErrorCode.UPLOAD_IN_PROGRESS, details={"file_name": self.link.name}) from None

    def keep_as(self, destination: Path) -> None:
        """Hard-link the data under its final name, never replacing a file. The claim stays until ``release``,
        after the file is recorded: a crash in between leaves a claim its instance resolves at its next start."""
        try:
            os.link(self.data, destination)
        except FileExistsError:
            raise GGAError(ErrorCode.FILE_ALREADY_RECEIVED, details={"file_name": destination.name}) from None

    def release(self) -> None:
        """The claim first, then the data file: a crash in between leaves a data file its instance clears at its
        next start, never a claim without an owner."""
        if inode(self.link) == self.inode:  # ours, not a later upload's (our data file keeps the inode ours)
            with contextlib.suppress(FileNotFoundError):
                self.link.unlink()
        self.data.unlink(missing_ok=True)


def clear_leftovers(mailboxes: Path, owner: str, recorded: Callable[[Path], bool]) -> list[Path]:
    """At start: this instance's claims from before a crash. A file already linked into its folder stays if it was
    recorded (``recorded(path)``), else it goes with the half uploads; dangling claims go too. Returns what was
    removed, as ``<home>/<folder>/<name>`` (linked but not recorded) or ``<home>/.partial/<name>`` paths."""
    removed = []
    for partial in mailboxes.glob("*/*/.partial"):
        for data in (partial / owner_folder(owner)).glob("*"):
            name = data.name.split(".", 1)[-1]
            linked = [kept for kept in _linked(partial.parent, name, data) if not recorded(kept)]
            for kept in linked:
                kept.unlink(missing_ok=True)
            removed += linked or ([] if _linked(partial.parent, name, data) else [partial / name])
            if same_file(partial / name, data):
                (partial / name).unlink(missing_ok=True)
            data.unlink(missing_ok=True)
        for claim in partial.iterdir():
            if orphan_claim(claim):
                claim.unlink(missing_ok=True)
    return removed


def _linked(home: Path, name: str, data: Path) -> list[Path]:
    """The upload folder entries that are this very data file (linked by ``keep_as`` before the crash)."""
    found = []
    for folder in home.iterdir():
        candidate = folder / name
        with contextlib.suppress(OSError):
            if folder.name != ".partial" and candidate.samefile(data):
                found.append(candidate)
    return found


def inode(path: Path) -> int | None:
    try:
        return path.lstat().st_ino
    except OSError:
        return None


def same_file(a: Path, b: Path) -> bool:
    """Both exist and are one inode (a claim and its data file)."""
    found = inode(a)
    return found is not None and found == inode(b)


def _identity(path: Path) -> tuple[int, int] | None:
    """An inode number and its change time: a number freed and given to a new file meanwhile does not compare
    equal (every link or unlink changes the time)."""
    try:
        st = path.lstat()
    except OSError:
        return None
    return st.st_ino, st.st_ctime_ns


def orphan_claim(claim: Path) -> bool:
    """A claim no data file shares: no instance streams into it (a live claim always has its data file's link).
    Also a dangling symbolic link, as claims were made before 2026-11-30."""
    try:
        st = claim.lstat()
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(st.st_mode):
        return not claim.exists()
    return stat.S_ISREG(st.st_mode) and st.st_nlink == 1


def _stale(link: Path, stale_after_s: float) -> bool:
    """A claim nobody wrote to for long (its data file's last write), or one no data file shares any more."""
    try:
        return orphan_claim(link) or time.time() - link.stat().st_mtime > stale_after_s
    except FileNotFoundError:
        return True  # gone meanwhile
