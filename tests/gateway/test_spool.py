"""The spool's writes: a set of files made whole under temporary names, then renamed into place."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from gateway.core import spool
from gateway.core.spool import write_set


def test_a_set_that_cannot_be_written_whole_leaves_nothing_behind(tmp_path: Path, monkeypatch):
    """A full disk at the second file: the first one's temporary file stayed, for good in an application's
    folder (retention never looks there)."""
    real_write, calls = spool.os.write, []

    def full_disk(fd: int, data) -> int:  # type: ignore[no-untyped-def]
        calls.append(fd)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(spool.os, "write", full_disk)
    with pytest.raises(OSError, match="No space"):
        write_set(tmp_path, [("manifest.json", b"{}"), ("FO.x", b"data"), ("GO.x", b"")])
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    write_set(tmp_path, [("manifest.json", b"{}"), ("GO.x", b"")])  # and the next try writes the set
    assert sorted(p.name for p in tmp_path.iterdir()) == ["GO.x", "manifest.json"]
