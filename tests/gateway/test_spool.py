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


def recorded_steps(monkeypatch) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """The durability-relevant calls the spool makes, in order: folder fsyncs, links, inode fsyncs, renames (as
    ``("replace", "<from> -> <to>")``), unlinks."""
    steps: list[tuple[str, str]] = []
    real_fsync_dir, real_link, real_unlink, real_open = spool.fsync_dir, spool.os.link, Path.unlink, spool.os.open
    real_replace = spool.os.replace
    opened: dict[int, str] = {}

    def fsync_dir(path: Path) -> None:
        steps.append(("fsync_dir", str(path)))
        real_fsync_dir(path)

    def link(src, dst) -> None:  # type: ignore[no-untyped-def]
        steps.append(("link", str(dst)))
        real_link(src, dst)

    def unlink(self, missing_ok=False) -> None:  # type: ignore[no-untyped-def]
        steps.append(("unlink", str(self)))
        real_unlink(self, missing_ok=missing_ok)

    def open_(path, flags, *args):  # type: ignore[no-untyped-def]
        fd = real_open(path, flags, *args)
        opened[fd] = str(path)
        return fd

    def replace(src, dst) -> None:  # type: ignore[no-untyped-def]
        steps.append(("replace", f"{src} -> {dst}"))
        real_replace(src, dst)

    real_fsync = spool.os.fsync
    monkeypatch.setattr(spool.os, "replace", replace)
    monkeypatch.setattr(spool, "fsync_dir", fsync_dir)
    monkeypatch.setattr(spool.os, "link", link)
    monkeypatch.setattr(spool.os, "open", open_)
    monkeypatch.setattr(spool.os, "fsync", lambda fd: (steps.append(("fsync", opened.get(fd, "?"))),
                                                      real_fsync(fd))[-1])
    monkeypatch.setattr(Path, "unlink", unlink)
    return steps


def test_a_move_gives_each_file_a_durable_name_at_every_step_and_new_folders_reach_their_parents(
        tmp_path: Path, monkeypatch):
    """On ext4 without a journal a new folder's entry lasts only once its parent is fsynced, and a rename's two
    folders reach the disk independently (another upload's fsync of the source folder any moment): the parts of an
    accepted submission could vanish after a crash while the database said where they were. Until its source is
    unlinked a file keeps that durable name, so everything new is made durable before the first source goes."""
    source_dir, target = tmp_path / "INTEST", tmp_path / "applications" / "DMFA" / "T" / "TICKET"
    source_dir.mkdir()
    sources = [source_dir / "FI.x", source_dir / "GO.x"]
    for s in sources:
        s.write_bytes(s.name.encode())
    steps = recorded_steps(monkeypatch)
    moved = spool.place(target, sources, [("manifest.json", b"{}")])
    assert [p.read_bytes() for p in moved] == [b"FI.x", b"GO.x"] and not any(s.exists() for s in sources)
    first_unlink = next(i for i, s in enumerate(steps) if s[0] == "unlink" and "INTEST" in s[1])
    for made in (target, *list(target.parents)[:3]):  # each new folder's parent fsynced before a source goes
        assert ("fsync_dir", str(made.parent)) in steps[:first_unlink], made
    for moved_file in moved:  # linked, its inode fsynced, the target folder fsynced: all before a source goes
        link = steps.index(("link", str(moved_file)))
        assert ("fsync", str(moved_file)) in steps[link:first_unlink]
    assert ("fsync_dir", str(target)) in steps[:first_unlink]
    last_unlink = max(i for i, s in enumerate(steps) if s[0] == "unlink" and "INTEST" in s[1])
    assert ("fsync_dir", str(source_dir)) in steps[last_unlink:]  # the sources' removal made durable too


def test_a_new_mailbox_is_fsynced_into_its_parents(tmp_path: Path, monkeypatch):
    steps = recorded_steps(monkeypatch)
    home = spool.Spool(tmp_path / "spool").home("123456", "SFTP")
    synced = {path for kind, path in steps if kind == "fsync_dir"}
    for folder in (home, home.parent, home.parent.parent, home.parent.parent.parent):
        assert str(folder.parent) in synced, folder


def test_a_batch_of_moves_shares_its_folders_fsyncs_and_no_source_goes_before_all_are_durable(
        tmp_path: Path, monkeypatch):
    """The intake carries out several submissions at once: their ticket folders' parent, the return folder and
    INTEST are fsynced once for the batch, and every file is durable in its new place before any source goes."""
    source_dir, out = tmp_path / "INTEST", tmp_path / "OUTTEST"
    source_dir.mkdir()
    out.mkdir()
    tickets = [tmp_path / "applications" / "DMFA" / "T" / f"TICKET{i}" for i in range(3)]
    sources = [[source_dir / f"FI.{i}", source_dir / f"GO.{i}"] for i in range(3)]
    for pair in sources:
        for source in pair:
            source.write_bytes(source.name.encode())
    steps = recorded_steps(monkeypatch)
    placement = spool.Placement()
    moved = []
    for i, (ticket, pair) in enumerate(zip(tickets, sources, strict=True)):
        placement.write(out, [(f"FO.{i}", b"acrf"), (f"GO.{i}", b"")])
        moved.append(placement.move(ticket, pair, [("manifest.json", b"{}")]))
    assert all(source.exists() for pair in sources for source in pair), "nothing goes before finish"
    placement.finish()

    assert [[p.read_bytes() for p in pair] for pair in moved] == [[f"FI.{i}".encode(), f"GO.{i}".encode()]
                                                                  for i in range(3)]
    assert sorted(p.name for p in out.iterdir()) == ["FO.0", "FO.1", "FO.2", "GO.0", "GO.1", "GO.2"]
    synced = [path for kind, path in steps if kind == "fsync_dir"]
    for shared in (tickets[0].parent, source_dir):
        assert synced.count(str(shared)) == 1, shared
    renamed = [i for i, (kind, what) in enumerate(steps) if kind == "replace" and what.endswith(str(out / "FO.0"))]
    go_renamed = [i for i, (kind, what) in enumerate(steps) if kind == "replace" and what.endswith(str(out / "GO.0"))]
    assert ("fsync_dir", str(out)) in steps[renamed[0]:go_renamed[0]], "the FOs durable before any GO appears"
    first_unlink = next(i for i, s in enumerate(steps) if s[0] == "unlink" and "INTEST" in s[1])
    durable = {path for _, path in steps[:first_unlink]}
    for ticket, pair in zip(tickets, moved, strict=True):
        assert {str(ticket), *map(str, pair)} <= durable
        assert any(path.startswith(str(ticket / ".manifest.json.")) for path in durable), "fsynced, then renamed"


def test_a_batch_whose_files_cannot_be_made_durable_keeps_its_sources_and_leaves_no_temporary(
        tmp_path: Path, monkeypatch):
    source_dir, target = tmp_path / "INTEST", tmp_path / "applications" / "TICKET"
    source_dir.mkdir()
    source = source_dir / "FI.x"
    source.write_bytes(b"data")
    placement = spool.Placement()
    placement.move(target, [source], [("manifest.json", b"{}")])
    monkeypatch.setattr(spool.os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(errno.EIO, "I/O error")))
    with pytest.raises(OSError, match="I/O error"):
        placement.finish()
    assert source.read_bytes() == b"data", "the source is the file's durable name: it stays"
    assert sorted(p.name for p in target.iterdir()) == ["FI.x"], "no manifest, no temporary file"


def test_folders_another_worker_made_are_made_durable_before_a_source_goes(tmp_path: Path, monkeypatch):
    """The ticket's parents exist already (another worker, or an attempt that failed, made them and may never
    have fsynced them into their parents): the move fsyncs them all the same, up to the folder it shares with
    the source, before the source goes."""
    data = tmp_path / "data"
    source_dir, target = data / "spool" / "INTEST", data / "applications" / "DMFA" / "T" / "TICKET"
    source_dir.mkdir(parents=True)
    target.parent.mkdir(parents=True)  # made by someone else
    source = source_dir / "FI.x"
    source.write_bytes(b"part")
    steps = recorded_steps(monkeypatch)
    spool.place(target, [source], [("manifest.json", b"{}")])
    first_unlink = next(i for i, s in enumerate(steps) if s[0] == "unlink" and "INTEST" in s[1])
    for folder in (target, target.parent, target.parent.parent, data / "applications", data):
        assert ("fsync_dir", str(folder)) in steps[:first_unlink], folder
    assert (target / "FI.x").read_bytes() == b"part"


def test_a_set_whose_rename_fails_leaves_no_temporary_file(tmp_path: Path, monkeypatch):
    real_replace, calls = spool.os.replace, []

    def failing(src, dst) -> None:  # type: ignore[no-untyped-def]
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(spool.os, "replace", failing)
    with pytest.raises(OSError, match="No space"):
        write_set(tmp_path, [("FO.x", b"data"), ("FS.x", b"sig"), ("GO.x", b"")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["FO.x"], "no hidden temporary left for good, no GO"


def test_a_part_replacing_another_of_its_name_is_never_renamed_across_folders(tmp_path: Path, monkeypatch):
    """A different file of the same name is in the target already: the source's wins, linked beside it and renamed
    within the target folder (a rename from INTEST could leave it in neither folder after a crash)."""
    source_dir, target = tmp_path / "INTEST", tmp_path / "TICKET"
    source_dir.mkdir()
    target.mkdir()
    (target / "FI.x").write_bytes(b"an older file")
    source = source_dir / "FI.x"
    source.write_bytes(b"the part")
    steps = recorded_steps(monkeypatch)
    (moved,) = spool.place(target, [source], [])
    assert moved.read_bytes() == b"the part" and not source.exists()
    assert [p.name for p in target.iterdir()] == ["FI.x"]
    assert not [what for kind, what in steps if kind == "replace" and what.startswith(str(source_dir))]
    first_unlink = next(i for i, s in enumerate(steps) if s[0] == "unlink" and "INTEST" in s[1])
    assert ("fsync", str(moved)) in steps[:first_unlink]
