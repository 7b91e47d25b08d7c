"""Retention removes what is older than the settings, and nothing else; one instance at a time runs it."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from prometheus_client import REGISTRY
from sqlalchemy import func, select

from gateway.retention import exclusive, run_exclusive, run_retention
from kernel.clock import utcnow
from store.models import Sender, ServiceToken, TransferEvent, UsedAssertion
from tests import factories

DAY = 86400


def make(path: Path, age_s: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    stamp = time.time() - age_s
    os.utime(path, (stamp, stamp))
    return path


def age(path: Path, age_s: float) -> None:
    stamp = time.time() - age_s
    os.utime(path, (stamp, stamp), follow_symlinks=False)


def test_files_older_than_the_settings_go_and_nothing_else(db, settings, caplog):
    spool = settings.spool_dir
    home = spool / "mailboxes" / "123456" / "SFTP"
    old_return = [make(home / folder / f"ACRF.{folder}", 31 * DAY) for folder in ("OUT", "OUTTEST", "OUTTEST-S")]
    young_return = make(home / "OUT" / "NOTI.young", 29 * DAY)
    old_upload = make(home / "IN" / "FI.old", 400 * DAY)  # not a return folder: processing's, never retention's
    old_rejected = make(spool / "rejected" / "123456" / "T1" / "FI.x", 91 * DAY)
    age(old_rejected.parent, 91 * DAY)
    young_rejected = make(spool / "rejected" / "123456" / "T2" / "FI.y", 89 * DAY)
    old_cancelled = make(spool / "cancelled" / "123456" / "FI.z", 91 * DAY)
    young_cancelled = make(spool / "cancelled" / "123456" / "FI.w", 10 * DAY)
    applications = make(settings.resolved_data_dir / "applications" / "DMFA" / "R" / "T3" / "FI.a", 999 * DAY)

    before = REGISTRY.get_sample_value("gga_retention_purged_total", {"kind": "returns"}) or 0
    with caplog.at_level("INFO", logger="gga.retention"):
        counts = run_retention(db, spool, settings)
    # the JSON line's fields are its record's context (passed outside it, the line had neither)
    assert {"kind": "returns", "count": 3} in [getattr(r, "context", None) for r in caplog.records]

    assert {k: counts[k] for k in ("returns", "rejected", "cancelled")} == {"returns": 3, "rejected": 1,
                                                                           "cancelled": 1}
    assert not any(p.exists() for p in (*old_return, old_rejected, old_cancelled))
    assert not old_rejected.parent.exists()  # the emptied ticket folder goes too
    assert all(p.exists() for p in (young_return, old_upload, young_rejected, young_cancelled, applications))
    assert (home / "OUT").is_dir() and (spool / "cancelled" / "123456").is_dir()
    assert REGISTRY.get_sample_value("gga_retention_purged_total", {"kind": "returns"}) == before + 3


def test_orphan_partial_files_go_live_uploads_stay(db, settings):
    settings.idle_timeout_s = 300
    partial = settings.spool_dir / "mailboxes" / "123456" / "SFTP" / ".partial"
    own = partial / "@host-8022"
    # a dead instance's upload: claimed, nobody wrote for more than twice the idle timeout
    dead = make(own / "aaaa.FI.dead", 601)
    os.link(dead, partial / "FI.dead")  # the claim: a second name of the data file
    # a live upload: claimed and written to a moment ago
    live = make(own / "bbbb.FI.live", 5)
    os.link(live, partial / "FI.live")
    # data whose claim is gone (the claim was released or taken over), old
    unclaimed = make(own / "cccc.FI.gone", 700)
    # old claims whose data file is gone: one made as claims are, one as a symbolic link (as before 2026-11-30);
    # and a fresh data file whose claim is about to be made
    make(partial / "FI.orphan", 700)
    os.symlink("@host-8022/dddd.FI.dangling", partial / "FI.dangling")
    age(partial / "FI.dangling", 700)
    fresh = make(own / "eeee.FI.fresh", 0)

    counts = run_retention(db, settings.spool_dir, settings)

    assert counts["partial"] == 2
    assert not dead.exists() and not os.path.lexists(partial / "FI.dead") and not unclaimed.exists()
    assert not os.path.lexists(partial / "FI.dangling") and not (partial / "FI.orphan").exists()
    assert live.exists() and (partial / "FI.live").samefile(live) and fresh.exists()


def test_rows_older_than_the_settings_go_and_nothing_else(db, settings):
    now = utcnow()
    with db.session() as session:
        sender = factories.bare_sender(session)
        for days, name in ((401, "old"), (399, "young")):
            session.add(TransferEvent(at=now - timedelta(days=days), event="upload", protocol="SFTP", result="ok",
                                      file_name=name))
        session.add_all([UsedAssertion(jti="expired", expires_at=now - timedelta(seconds=1)),
                         UsedAssertion(jti="valid", expires_at=now + timedelta(minutes=5)),
                         ServiceToken(token_hash="a" * 64, sender_id=sender.id, expires_at=now - timedelta(seconds=1)),
                         ServiceToken(token_hash="b" * 64, sender_id=sender.id, expires_at=now + timedelta(hours=1))])

    counts = run_retention(db, settings.spool_dir, settings, now)

    assert {k: counts[k] for k in ("transfer_log", "used_assertions", "service_tokens")} == {
        "transfer_log": 1, "used_assertions": 1, "service_tokens": 1}
    with db.read() as session:
        assert session.scalars(select(TransferEvent.file_name)).all() == ["young"]
        assert session.scalars(select(UsedAssertion.jti)).all() == ["valid"]
        assert session.scalars(select(ServiceToken.token_hash)).all() == ["b" * 64]
        assert session.scalar(select(func.count()).select_from(Sender)) == 1


def test_published_events_and_sent_or_given_up_mails_go_with_the_transfer_log_and_pending_ones_stay(db, settings):
    """Nothing deleted them: a row per accepted submission and per mail, for ever."""
    from store.models import OutboxEvent, OutboxMail

    now = utcnow()
    old, young = now - timedelta(days=401), now - timedelta(days=1)
    with db.session() as session:
        session.add_all([
            OutboxEvent(routing_key="k", message_id="published long ago", body={}, created_at=old, published_at=old),
            OutboxEvent(routing_key="k", message_id="published lately", body={}, created_at=old, published_at=young),
            OutboxEvent(routing_key="k", message_id="never published", body={}, created_at=old),
            OutboxMail(recipient="a@a.be", subject="sent long ago", body="", created_at=old, sent_at=old),
            OutboxMail(recipient="a@a.be", subject="given up long ago", body="", created_at=old),
            OutboxMail(recipient="a@a.be", subject="sent lately", body="", created_at=young, sent_at=young),
            OutboxMail(recipient="a@a.be", subject="still trying", body="", created_at=now)])

    counts = run_retention(db, settings.spool_dir, settings, now)

    assert (counts["outbox_events"], counts["outbox_mails"]) == (1, 2)
    with db.read() as session:
        assert sorted(session.scalars(select(OutboxEvent.message_id))) == ["never published", "published lately"]
        assert sorted(session.scalars(select(OutboxMail.subject))) == ["sent lately", "still trying"]


def test_one_instance_at_a_time(db, settings, caplog):
    caplog.set_level(logging.INFO, logger="gga.retention")
    with exclusive(db) as first:
        assert first
        with exclusive(db) as second:  # another instance (another connection / open file) meanwhile
            assert not second
        assert run_exclusive(db, settings.spool_dir, settings) is None
    assert run_exclusive(db, settings.spool_dir, settings) is not None
    assert any("retention purged 0 returns" in r.getMessage() for r in caplog.records)


def test_files_a_crash_left_half_placed_go_once_old(db, settings):
    # a process killed while it placed an ACRF (its files written under hidden names, not yet renamed) leaves them
    # behind; the next rounds remove them once no placement can still be at work on them, and nothing else
    home = settings.spool_dir / "mailboxes" / "123456" / "SFTP"
    ticket = settings.resolved_data_dir / "applications" / "DMFA" / "T" / "T9"
    for folder in (home / "OUTTEST", ticket):
        folder.mkdir(parents=True)
        script = ("import os, sys; from pathlib import Path; from gateway.core import spool\n"
                  "os.replace = lambda *a: os._exit(9)  # killed between writing and renaming\n"
                  f"spool.write_set(Path({str(folder)!r}), [('FO.ACRF.1', b'<FO/>'), ('GO.ACRF.1', b'')])\n")
        assert subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).parents[2]).returncode == 9
    left = sorted(p for folder in (home / "OUTTEST", ticket) for p in folder.iterdir())
    assert len(left) == 4 and all(p.name.startswith(".") and p.name.endswith(".tmp") for p in left)
    kept = [make(home / "OUTTEST" / "FO.ACRF.0", 2 * 3600), make(ticket / "FI.x", 2 * 3600),
            make(home / "IN" / ".FI.y.0123abcd.tmp", 2 * 3600)]  # an upload folder is processing's, never this

    assert run_retention(db, settings.spool_dir, settings)["temporaries"] == 0  # young: may be a live placement
    assert all(p.exists() for p in left)
    for path in left:
        age(path, 2 * 3600)
    assert run_retention(db, settings.spool_dir, settings)["temporaries"] == 4
    assert not any(p.exists() for p in left) and all(p.exists() for p in kept)
