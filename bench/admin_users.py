"""Benchmark (not a test): user lists and CSV export with 100,000 users in one domain.

    .venv/bin/python bench/admin_users.py                      # SQLite under a temp folder
    GGA_DATABASE_URL=postgresql+psycopg://root@127.0.0.1:5432/test .venv/bin/python bench/admin_users.py

Seeds an enterprise, its GAP and one domain with N users (argon2 hashes are left out of the seed: the list does not
read them), then times filtered list calls through the ASGI app in process (auth, policy, query, JSON) and a full
CSV export. Prints p50/p99 per filter and overall; goals: p99 < 50 ms, CSV < 2 s (docs/performance.md).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, insert, make_url, text

from admin_api.app import build_services, create_app
from admin_api.user.queries import fold
from kernel.settings import Settings
from store.database import Database, upgrade
from store.models import User, UserApplication
from tests import factories
from tests.admin_api.world import make_world

LAST = ["Dubois", "Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens", "Wouters",
        "De Smet", "Lambert", "Dupont", "Martin", "Simon", "Laurent", "Leclercq", "Renard", "Élias", "Öztürk"]
FIRST = ["Marie", "Jan", "Luc", "Anne", "Élodie", "Pieter", "Sofie", "Thomas", "Nina", "Karim", "Zoé", "Lucas"]
APPS = ["DMFA", "DIMN", "WECH", "AOAT", "ZIMA", "DUCN", "PUBL"]


def database(url: str | None) -> tuple[str, callable]:
    if url and url.startswith("postgresql"):
        server = make_url(url)
        name = f"gga_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))

        def drop() -> None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        return server.set(database=name).render_as_string(hide_password=False), drop
    folder = tempfile.mkdtemp()
    return f"sqlite:///{folder}/bench.db", lambda: None


def seed(db: Database, domain_id: int, count: int) -> None:
    rng = random.Random(7)
    users, apps = [], []
    for i in range(count):
        last, first = rng.choice(LAST) + f" {i % 997}", rng.choice(FIRST)
        users.append({"id": 1_000_000 + i, "domain_id": domain_id, "niss": factories.niss(1950 + i % 50, 1 + i % 12,
                      1 + i % 28, i % 997 + 1), "username": f"bench{i:06d}", "last_name": last,
                      "first_name": first, "last_name_key": fold(last), "first_name_key": fold(first),
                      "email": f"u{i}@bench.be", "type": "USER", "status": "blocked" if i % 17 == 0 else "active",
                      "title": "", "language": "fr"})
        apps += [{"user_id": 1_000_000 + i, "code": c} for c in rng.sample(APPS, k=1 + i % 3)]
    with db.engine.begin() as conn:
        for start in range(0, len(users), 5000):
            conn.execute(insert(User), users[start:start + 5000])
        for start in range(0, len(apps), 10000):
            conn.execute(insert(UserApplication), apps[start:start + 10000])
    # steady state: what autovacuum (PostgreSQL) / PRAGMA optimize (SQLite) reach after a bulk load
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if db.engine.dialect.name == "postgresql" else "ANALYZE"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    url, drop = database(os.environ.get("GGA_DATABASE_URL"))
    try:
        run(url, args.users, args.repeat)
    finally:
        drop()


def run(url: str, count: int, repeat: int) -> None:
    upgrade(url)
    db = Database(url)
    settings = Settings(data_dir=Path(tempfile.mkdtemp()), database_url=url, dev_issuer=True,
                        argon2_time_cost=1, argon2_memory_cost=1024, argon2_parallelism=1)
    client = TestClient(create_app(build_services(settings, db=db, dev_issuer=True)))

    from tests.conftest import Tokens

    auth = Tokens(settings)
    world = make_world(db, client, auth)
    t0 = time.perf_counter()
    seed(db, world.domain, count)
    print(f"database: {db.engine.dialect.name}; seeded {count} users in {time.perf_counter() - t0:.1f} s")
    headers = auth(world.gl)
    some_niss = factories.niss(1950 + 1234 % 50, 1 + 1234 % 12, 1 + 1234 % 28, 1234 % 997 + 1)
    cases = {
        "no filter, page 1": {},
        "last_name prefix": {"last_name": "dub"},
        "first_name prefix": {"first_name": "élo"},
        "username prefix": {"username": "bench0123"},
        "type": {"type": "GL"},
        "status": {"status": "blocked"},
        "niss": {"niss": some_niss},
        "application": {"application": "DUCN"},
        "last_name + application": {"last_name": "peeters 1", "application": "DMFA"},
        "deep page (page 1000)": {"page": 1000, "page_size": 50},
    }
    all_times = []
    print(f"{'filter':28} {'p50 ms':>8} {'p99 ms':>8} {'total':>8}")
    for name, params in cases.items():
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            response = client.get(f"/api/v1/domains/{world.domain}/users", headers=headers, params=params)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, response.text
        all_times += times
        times.sort()
        print(f"{name:28} {statistics.median(times):8.1f} {times[int(len(times) * 0.99) - 1]:8.1f} "
              f"{response.json()['total']:8}")
    all_times.sort()
    print(f"{'ALL':28} {statistics.median(all_times):8.1f} {all_times[int(len(all_times) * 0.99) - 1]:8.1f}")
    start = time.perf_counter()
    response = client.get(f"/api/v1/domains/{world.domain}/users.csv", headers=headers)
    size, rows = len(response.content), response.content.count(b"\n") - 1
    print(f"CSV export: {rows} rows, {size / 1e6:.1f} MB in "
          f"{time.perf_counter() - start:.2f} s")
    db.dispose()


if __name__ == "__main__":
    main()
