"""``gga serve --workers``: a worker that dies is started again, after a pause that doubles while it keeps dying
young (up to a minute), and never given up: a database away for a while must not end a service that runs
unattended (its healthy workers go on meanwhile)."""

from __future__ import annotations

import types

import gga.serve
from gga.serve import Supervisor
from kernel.settings import Settings


class Dead:
    pid, exitcode = 4242, 3

    def is_alive(self) -> bool:
        return False


class Alive(Dead):
    def is_alive(self) -> bool:
        return True


def test_a_worker_that_keeps_dying_is_started_again_less_and_less_often_and_never_given_up(tmp_path, monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(gga.serve, "time", types.SimpleNamespace(monotonic=lambda: clock[0]))
    supervisor = Supervisor(Settings(data_dir=tmp_path, workers=2), demo=False)
    spawned: list[tuple[int, float]] = []

    def spawn(index: int) -> Dead:
        spawned.append((index, clock[0]))
        supervisor._started[index] = clock[0]
        return Dead() if index == 0 else Alive()  # worker 0 dies at every start; worker 1 starts well

    monkeypatch.setattr(supervisor, "_spawn", spawn)
    supervisor.workers = [Dead(), Alive()]
    for _ in range(4000):  # 2,000 s of the supervisor's loop, every half second
        supervisor._restart_dead()
        clock[0] += 0.5
    starts = [at for index, at in spawned if index == 0]
    pauses = [b - a for a, b in zip([0.0, *starts], starts, strict=False)]
    assert pauses[:7] == [1.0, 2.5, 4.5, 8.5, 16.5, 32.5, 60.5]  # 1, 2, 4... s after each death (half-second ticks)
    assert set(pauses[7:]) == {60.5} and len(starts) > 35  # at most a minute apart, and still tried at the end
    assert all(index == 0 for index, _ in spawned)  # the healthy worker is left alone

    clock[0] += 1000  # worker 0 now runs long before it dies again: its next pause is the shortest again
    supervisor._started[0] = clock[0] - 600
    supervisor.workers[0] = Dead()
    supervisor._due.pop(0, None)
    supervisor._restart_dead()
    assert supervisor._pause[0] == 1.0
