"""``gga serve --workers``: a worker that dies is started again, but one that keeps dying ends the service (exit 1)
instead of being respawned every second forever."""

from __future__ import annotations

from gga.serve import Supervisor
from kernel.settings import Settings


class Dead:
    pid, exitcode = 4242, 3

    def is_alive(self) -> bool:
        return False


def test_a_dead_worker_is_restarted_then_a_crash_loop_stops(tmp_path, monkeypatch):
    supervisor = Supervisor(Settings(data_dir=tmp_path, workers=2), demo=False)
    monkeypatch.setattr(Supervisor, "RESTART_PAUSE_S", 0)
    spawned: list[int] = []
    monkeypatch.setattr(supervisor, "_spawn", lambda index: spawned.append(index) or Dead())
    supervisor.workers = [Dead(), Dead()]
    rounds = [supervisor._restart_dead() for _ in range(10)]
    assert rounds[:5] == [True] * 5 and rounds[5] is False  # 10 restarts allowed in the window, the 11th refused
    assert spawned == [0, 1] * 5
